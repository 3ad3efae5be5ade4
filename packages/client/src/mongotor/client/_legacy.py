"""The 2012 library's collection methods, with ``await`` instead of callbacks.

``safe=True`` is write concern ``w: 1``, ``safe=False`` an unacknowledged write
(OP_MSG ``moreToCome``: nothing is read back, and the result is ``None``). The
replies are the documents the 2012 library handed its callbacks (``n``,
``updatedExisting``, ``upserted``, ``ok``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mongotor.errors import BulkWriteError
from mongotor.pool import ReadPreference, ReadPreferenceMode

from ._concerns import ACKNOWLEDGED, UNACKNOWLEDGED, WriteConcern
from ._cursor import DocumentT
from ._errors_from import write_error
from ._group import group_pipeline
from ._reads import ReadsMixin
from ._write_models import check_document

__all__ = ["LegacyMixin"]


def _safe(safe: bool) -> WriteConcern:
    return ACKNOWLEDGED if safe else UNACKNOWLEDGED


class LegacyMixin(ReadsMixin[DocumentT]):
    """insert, remove, update, count, group and map_reduce as the 2012 library had
    them (find, find_one, distinct and aggregate are shared with the modern API)."""

    async def insert(
        self,
        doc_or_docs: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        safe: bool = True,
        check_keys: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Insert one document or several; return the ``_id`` (or the list of them).

        ``check_keys`` refuses keys starting with ``$`` or containing ``.``
        (:class:`~mongotor.errors.EncodingError`). A duplicate key raises
        :class:`~mongotor.errors.DuplicateKeyError`, which is the 2012
        ``IntegrityError``; a batch stops at its first error (``continue_on_error``
        keeps going), raising that document's error.
        """
        concern = _safe(safe)
        if isinstance(doc_or_docs, Mapping):
            result = await self.insert_one(
                doc_or_docs, write_concern=concern, check_keys=check_keys
            )
            return result.inserted_id
        ordered = not kwargs.pop("continue_on_error", False)
        try:
            many = await self.insert_many(
                doc_or_docs, ordered=ordered, write_concern=concern, check_keys=check_keys, **kwargs
            )
        except BulkWriteError as exc:
            errors = exc.write_errors
            if not errors:
                raise
            raise write_error(errors[0], exc.address) from exc
        return many.inserted_ids

    async def remove(
        self, spec_or_id: Any = None, safe: bool = True, multi: bool = True, **kwargs: Any
    ) -> Mapping[str, Any] | None:
        """Remove the documents matching ``spec_or_id`` (a filter or an ``_id``;
        ``None``: all of them; ``multi=False``: only the first). Returns ``{"n":
        removed, "ok": 1.0}``, or ``None`` when ``safe=False``."""
        spec = {} if spec_or_id is None else spec_or_id
        if not isinstance(spec, Mapping):
            spec = {"_id": spec}
        delete = self.delete_many if multi else self.delete_one
        result = await delete(spec, write_concern=_safe(safe), **kwargs)
        if not result.acknowledged:
            return None
        return {"n": result.deleted_count, "ok": 1.0}

    async def update(
        self,
        spec: Any,
        document: Mapping[str, Any],
        upsert: bool = False,
        safe: bool = True,
        multi: bool = False,
        **kwargs: Any,
    ) -> Mapping[str, Any] | None:
        """Update the documents matching ``spec`` (a filter, or an ``_id`` as
        :meth:`remove` and :meth:`find_one` take): with operators (``$set``...) it
        is an update (of every match with ``multi``), otherwise a replacement.
        Returns ``{"n", "nModified", "updatedExisting", "upserted"?, "ok"}``, or
        ``None`` when ``safe=False``."""
        if not isinstance(spec, Mapping):
            spec = {"_id": spec}
        check_document("document", document)
        concern = _safe(safe)
        first = next(iter(document), "")
        if first.startswith("$"):
            update = self.update_many if multi else self.update_one
            result = await update(spec, document, upsert=upsert, write_concern=concern, **kwargs)
        else:
            result = await self.replace_one(
                spec, document, upsert=upsert, write_concern=concern, **kwargs
            )
        if not result.acknowledged:
            return None
        reply: dict[str, Any] = {
            "n": result.raw_result.get("n", 0),
            "nModified": result.modified_count,
            "updatedExisting": result.matched_count > 0,
            "ok": 1.0,
        }
        if result.upserted_id is not None:
            reply["upserted"] = result.upserted_id
        return reply

    async def count(self, spec: Mapping[str, Any] | None = None, **kwargs: Any) -> int:
        """How many documents match ``spec`` (all when ``None``): the ``count``
        command, with ``skip``, ``limit``, ``hint`` and ``max_time_ms`` as given."""
        command: dict[str, Any] = {"count": self._name}
        if spec:
            command["query"] = spec
        names = {"skip": "skip", "limit": "limit", "hint": "hint", "max_time_ms": "maxTimeMS"}
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"count() got an unexpected keyword argument {name!r}")
            command[names[name]] = value
        reply = await self._read_command(command)
        return int(reply["n"])

    async def group(
        self,
        key: Mapping[str, Any] | Sequence[str] | None,
        condition: Mapping[str, Any] | None,
        initial: Mapping[str, Any],
        reduce: str | Mapping[str, Any],
        finalize: str | None = None,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
    ) -> list[DocumentT]:
        """The 2012 ``group``, run as an aggregation when its reduce can be expressed
        with accumulators (see :mod:`the translation <mongotor.client._group>`);
        otherwise :class:`~mongotor.errors.InterfaceError` points to :meth:`aggregate`."""
        pipeline = group_pipeline(key, condition, initial, reduce, finalize)
        return await self.aggregate(pipeline, read_preference)

    async def map_reduce(
        self,
        map: str,
        reduce: str,
        out: str | Mapping[str, Any],
        *,
        full_response: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Run the ``mapReduce`` command (deprecated since MongoDB 5.0, still in
        8.0; servers without it answer CommandNotFound). ``out`` names the output
        collection, or is ``{"inline": 1}``. Returns the output
        :class:`~mongotor.client.Client`, the inline results, or with
        ``full_response`` the whole reply. ``kwargs`` are the command's options
        (``query``, ``sort``, ``limit``, ``finalize``, ``scope``...)."""
        command: dict[str, Any] = {"mapReduce": self._name, "map": map, "reduce": reduce}
        command["out"] = {"replace": out} if isinstance(out, str) else out
        command.update(kwargs)
        inline = isinstance(out, Mapping) and "inline" in out
        if inline:
            reply = await self._read_command(command, with_read_concern=False)
        else:
            reply = await self._write_command(command, retryable=False)
        if full_response:
            return reply
        if inline:
            return list(reply["results"])
        result = reply["result"]
        return self._database[result["collection"] if isinstance(result, Mapping) else result]

    async def inline_map_reduce(self, map: str, reduce: str, **kwargs: Any) -> list[Any]:
        """:meth:`map_reduce` with the results returned inline."""
        results: list[Any] = await self.map_reduce(map, reduce, {"inline": 1}, **kwargs)
        return results
