"""The collection's reads (CRUD spec): find, counts, distinct, aggregate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mongotor.errors import InterfaceError
from mongotor.pool import ReadPreference, ReadPreferenceMode

from ._collection import CollectionBase
from ._concerns import read_preference_from
from ._cursor import CommandCursor, DocumentT
from ._executor import OperationKind, Request
from ._find import Cursor
from ._specs import key_document, present

__all__ = ["ReadsMixin"]

# Aggregation stages that write: the pipeline goes to the primary and is not retried.
_WRITE_STAGES = frozenset({"$out", "$merge"})


def _id_filter(filter: Any) -> Mapping[str, Any]:
    """A filter from itself, ``None`` (everything) or an ``_id`` value (the 2012 ``spec_or_id``)."""
    if filter is None:
        return {}
    if isinstance(filter, Mapping):
        return filter
    return {"_id": filter}


class ReadsMixin(CollectionBase[DocumentT]):
    """find, find_one, count_documents, estimated_document_count, distinct, aggregate."""

    def find(
        self,
        filter: Any = None,
        projection: Mapping[str, Any] | Iterable[str] | None = None,
        skip: int = 0,
        limit: int = 0,
        *,
        spec: Any = None,
        fields: Mapping[str, Any] | Iterable[str] | None = None,
        timeout: bool = True,
        snapshot: bool = False,
        max_scan: int | None = None,
        slave_okay: bool = False,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        **options: Any,
    ) -> Cursor[DocumentT]:
        """A :class:`~mongotor.client.Cursor` over the documents matching ``filter``.

        Both vocabularies are accepted: PyMongo's (``filter``, ``projection``,
        ``sort``, ``batch_size``, ``no_cursor_timeout``, ``max_time_ms``,
        ``collation``, ``hint``, ``comment``, ``allow_disk_use``, ``tailable``,
        ``await_data``...) and the 2012 library's (``spec``, ``fields``,
        ``timeout=False``, ``slave_okay``, ``snapshot``). ``snapshot`` (removed in
        MongoDB 4.0) is served by its equivalent, a hint of the ``_id`` index;
        ``max_scan`` (removed in 4.2) has none and raises
        :class:`~mongotor.errors.InterfaceError`. Nothing is sent until the cursor
        is iterated or awaited (awaiting returns a list).
        """
        if spec is not None:
            filter = spec
        if fields is not None:
            projection = fields
        if max_scan is not None:
            raise InterfaceError(
                "max_scan was removed in MongoDB 4.2 and has no equivalent; bound the "
                "query with max_time_ms or limit instead"
            )
        if snapshot:
            options.setdefault("hint", {"_id": 1})
        if not timeout:
            options["no_cursor_timeout"] = True
        if read_preference is not None:
            preference = read_preference_from(read_preference)
        elif slave_okay:
            preference = ReadPreference(ReadPreferenceMode.SECONDARY_PREFERRED)
        else:
            preference = self._options.read_preference
        return Cursor(
            self._executor,
            self._database.name,
            self._name,
            _id_filter(filter),
            read_preference=preference,
            read_concern=self._options.read_concern,
            projection=projection,
            skip=skip or None,
            limit=limit or None,
            **options,
        )

    async def find_one(self, filter: Any = None, *args: Any, **kwargs: Any) -> DocumentT | None:
        """The first document matching ``filter`` (a filter, or an ``_id`` value as the
        2012 ``spec_or_id``), or ``None``. Takes find()'s options."""
        if args or kwargs:
            kwargs.pop("limit", None)
            cursor = self.find(_id_filter(filter), *args, **kwargs)
        else:  # the common case, without find()'s vocabulary handling
            cursor = Cursor(
                self._executor,
                self._database.name,
                self._name,
                _id_filter(filter),
                read_preference=self._options.read_preference,
                read_concern=self._options.read_concern,
            )
        for document in await cursor.limit(-1).to_list(1):
            return document
        return None

    async def count_documents(
        self,
        filter: Mapping[str, Any],
        *,
        skip: int | None = None,
        limit: int | None = None,
        max_time_ms: int | None = None,
        collation: Mapping[str, Any] | None = None,
        hint: str | Mapping[str, Any] | None = None,
        comment: Any = None,
    ) -> int:
        """How many documents match ``filter`` (an aggregation: exact, uses the
        filter's indexes)."""
        pipeline: list[dict[str, Any]] = [{"$match": filter}]
        if skip:
            pipeline.append({"$skip": skip})
        if limit:
            pipeline.append({"$limit": limit})
        pipeline.append({"$group": {"_id": 1, "n": {"$sum": 1}}})
        command: dict[str, Any] = {"aggregate": self._name, "pipeline": pipeline, "cursor": {}}
        command.update(
            present(
                maxTimeMS=max_time_ms,
                collation=collation,
                hint=hint,
                comment=comment,
            )
        )
        reply = await self._read_command(command)
        batch = reply["cursor"]["firstBatch"]
        return int(batch[0]["n"]) if batch else 0

    async def estimated_document_count(
        self, *, max_time_ms: int | None = None, comment: Any = None
    ) -> int:
        """The collection's document count from its metadata (the ``count`` command
        without a filter: fast, possibly approximate after an unclean shutdown)."""
        command: dict[str, Any] = {"count": self._name}
        if max_time_ms is not None:
            command["maxTimeMS"] = max_time_ms
        if comment is not None:
            command["comment"] = comment
        reply = await self._read_command(command)
        return int(reply["n"])

    async def distinct(
        self,
        key: str,
        filter: Mapping[str, Any] | None = None,
        *,
        collation: Mapping[str, Any] | None = None,
        max_time_ms: int | None = None,
        hint: str | Mapping[str, Any] | None = None,
        comment: Any = None,
    ) -> list[Any]:
        """The distinct values of ``key`` among the documents matching ``filter``."""
        command: dict[str, Any] = {"distinct": self._name, "key": key}
        if filter is not None:
            command["query"] = filter
        command.update(
            present(
                collation=collation,
                maxTimeMS=max_time_ms,
                hint=hint,
                comment=comment,
            )
        )
        reply = await self._read_command(command)
        return list(reply["values"])

    def aggregate(
        self,
        pipeline: Sequence[Mapping[str, Any]],
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        *,
        allow_disk_use: bool | None = None,
        batch_size: int | None = None,
        max_time_ms: int | None = None,
        max_await_time_ms: int | None = None,
        collation: Mapping[str, Any] | None = None,
        hint: str | Mapping[str, Any] | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
    ) -> CommandCursor[DocumentT]:
        """A cursor over the pipeline's results (sent at the first iteration;
        awaiting the cursor returns a list). A pipeline ending in ``$out`` or
        ``$merge`` runs on the primary with the write concern and is not retried."""
        pipeline = list(pipeline)
        writes = bool(pipeline) and next(iter(pipeline[-1]), "") in _WRITE_STAGES
        cursor: dict[str, Any] = {} if batch_size is None else {"batchSize": batch_size}
        command: dict[str, Any] = {"aggregate": self._name, "pipeline": pipeline, "cursor": cursor}
        command.update(
            present(
                allowDiskUse=allow_disk_use,
                maxTimeMS=max_time_ms,
                collation=collation,
                hint=hint if hint is None or isinstance(hint, str) else key_document(hint),
                comment=comment,
                let=let,
            )
        )
        if self._options.read_concern.level is not None:
            command["readConcern"] = self._options.read_concern.to_document()
        if writes:
            concern = self._options.write_concern
            if not concern.is_server_default:
                command["writeConcern"] = concern.to_document()
            request = Request(self._database.name, command, OperationKind.WRITE)
        else:
            preference = (
                self._options.read_preference
                if read_preference is None
                else read_preference_from(read_preference)
            )
            request = Request(
                self._database.name,
                command,
                OperationKind.READ,
                read_preference=preference,
                retryable=True,
            )
        return CommandCursor(
            self._executor,
            self._database.name,
            self._name,
            request,
            batch_size=batch_size or 0,
            max_await_time_ms=max_await_time_ms,
            comment=comment,
        )
