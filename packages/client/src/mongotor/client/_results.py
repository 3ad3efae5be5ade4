"""The results of writes (CRUD spec, "Write Results"; PyMongo's names).

Each says whether the write was ``acknowledged``; the counts of an
unacknowledged write are unknown and reading them raises
:class:`~mongotor.errors.InvalidOperationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mongotor.errors import InvalidOperationError

__all__ = [
    "BulkWriteResult",
    "DeleteResult",
    "InsertManyResult",
    "InsertOneResult",
    "UpdateResult",
]


class _WriteResult:
    __slots__ = ("_acknowledged",)

    def __init__(self, acknowledged: bool) -> None:
        self._acknowledged = acknowledged

    @property
    def acknowledged(self) -> bool:
        """Whether the server acknowledged the write (false for ``w: 0``)."""
        return self._acknowledged

    def _check(self, what: str) -> None:
        if not self._acknowledged:
            raise InvalidOperationError(
                f"{what} is unknown for an unacknowledged write (write concern w: 0)"
            )


class InsertOneResult(_WriteResult):
    """``inserted_id``: the ``_id`` of the document (added client-side if it had none)."""

    __slots__ = ("_inserted_id",)

    def __init__(self, inserted_id: Any, acknowledged: bool) -> None:
        self._inserted_id = inserted_id
        super().__init__(acknowledged)

    @property
    def inserted_id(self) -> Any:
        """The inserted document's ``_id`` (known even when unacknowledged)."""
        return self._inserted_id

    def __repr__(self) -> str:
        return f"InsertOneResult({self._inserted_id!r}, acknowledged={self._acknowledged})"


class InsertManyResult(_WriteResult):
    """``inserted_ids``: the ``_id`` of every document, in the order given."""

    __slots__ = ("_inserted_ids",)

    def __init__(self, inserted_ids: list[Any], acknowledged: bool) -> None:
        self._inserted_ids = inserted_ids
        super().__init__(acknowledged)

    @property
    def inserted_ids(self) -> list[Any]:
        """The documents' ``_id`` values, in order."""
        return self._inserted_ids

    def __repr__(self) -> str:
        return f"InsertManyResult({len(self._inserted_ids)} ids, acknowledged={self._acknowledged})"


class UpdateResult(_WriteResult):
    """The outcome of update_one / update_many / replace_one: ``matched_count``,
    ``modified_count``, ``upserted_id`` and ``raw_result`` (the reply)."""

    __slots__ = ("_raw",)

    def __init__(self, raw_result: Mapping[str, Any], acknowledged: bool) -> None:
        self._raw = raw_result
        super().__init__(acknowledged)

    @property
    def raw_result(self) -> Mapping[str, Any]:
        """The server's reply (``{}`` when unacknowledged)."""
        return self._raw

    @property
    def matched_count(self) -> int:
        """Documents that matched the filter (an upsert's new document not included)."""
        self._check("matched_count")
        n = int(self._raw.get("n", 0))
        return n - (1 if self.upserted_id is not None else 0)

    @property
    def modified_count(self) -> int:
        """Documents actually changed."""
        self._check("modified_count")
        return int(self._raw.get("nModified", 0))

    @property
    def upserted_id(self) -> Any:
        """The ``_id`` of the document an upsert inserted, or ``None``."""
        self._check("upserted_id")
        upserted = self._raw.get("upserted")
        if isinstance(upserted, list) and upserted:
            return upserted[0].get("_id")
        return None

    def __repr__(self) -> str:
        return f"UpdateResult({dict(self._raw)!r}, acknowledged={self._acknowledged})"


class DeleteResult(_WriteResult):
    """The outcome of delete_one / delete_many: ``deleted_count`` and ``raw_result``."""

    __slots__ = ("_raw",)

    def __init__(self, raw_result: Mapping[str, Any], acknowledged: bool) -> None:
        self._raw = raw_result
        super().__init__(acknowledged)

    @property
    def raw_result(self) -> Mapping[str, Any]:
        """The server's reply (``{}`` when unacknowledged)."""
        return self._raw

    @property
    def deleted_count(self) -> int:
        """Documents deleted."""
        self._check("deleted_count")
        return int(self._raw.get("n", 0))

    def __repr__(self) -> str:
        return f"DeleteResult({dict(self._raw)!r}, acknowledged={self._acknowledged})"


class BulkWriteResult(_WriteResult):
    """The outcome of bulk_write: the counts, ``upserted_ids`` (index in the
    request list -> ``_id``) and ``bulk_api_result`` (PyMongo's summary document:
    ``nInserted``, ``nUpserted``, ``nMatched``, ``nModified``, ``nRemoved``,
    ``upserted``, ``writeErrors``, ``writeConcernErrors``)."""

    __slots__ = ("_bulk",)

    def __init__(self, bulk_api_result: Mapping[str, Any], acknowledged: bool) -> None:
        self._bulk = bulk_api_result
        super().__init__(acknowledged)

    @property
    def bulk_api_result(self) -> Mapping[str, Any]:
        """The summary document."""
        return self._bulk

    def _count(self, key: str, what: str) -> int:
        self._check(what)
        return int(self._bulk[key])

    @property
    def inserted_count(self) -> int:
        """Documents inserted."""
        return self._count("nInserted", "inserted_count")

    @property
    def matched_count(self) -> int:
        """Documents matched by updates and replacements."""
        return self._count("nMatched", "matched_count")

    @property
    def modified_count(self) -> int:
        """Documents changed by updates and replacements."""
        return self._count("nModified", "modified_count")

    @property
    def deleted_count(self) -> int:
        """Documents deleted."""
        return self._count("nRemoved", "deleted_count")

    @property
    def upserted_count(self) -> int:
        """Documents inserted by upserts."""
        return self._count("nUpserted", "upserted_count")

    @property
    def upserted_ids(self) -> dict[int, Any]:
        """Request index -> ``_id`` of each upserted document."""
        self._check("upserted_ids")
        return {item["index"]: item["_id"] for item in self._bulk["upserted"]}

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._bulk.items() if k.startswith("n")}
        return f"BulkWriteResult({shown!r}, acknowledged={self._acknowledged})"
