"""The find cursor: chained options before iteration, the find command, limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from mongotor.pool import ReadPreference

from ._concerns import ReadConcern
from ._cursor import CommandCursor, DocumentT
from ._executor import Executor, OperationKind, Request
from ._specs import KeySpec, key_document, projection_document

__all__ = ["Cursor"]

# The chained options find() also takes as keyword arguments.
_OPTIONS = frozenset(
    {
        "sort",
        "skip",
        "limit",
        "batch_size",
        "hint",
        "max_time_ms",
        "max_await_time_ms",
        "collation",
        "comment",
        "allow_disk_use",
        "no_cursor_timeout",
        "tailable",
        "await_data",
        "min",
        "max",
        "let",
        "return_key",
        "show_record_id",
        "allow_partial_results",
    }
)


class Cursor(CommandCursor[DocumentT]):
    """The cursor :meth:`Client.find <mongotor.client.Client.find>` returns.

    Chain :meth:`sort`, :meth:`skip`, :meth:`limit`, :meth:`batch_size`,
    :meth:`projection`, :meth:`hint`, :meth:`max_time_ms`, :meth:`collation`,
    :meth:`comment`, :meth:`allow_disk_use` (and the rest) before iterating; each
    returns the cursor. Once iteration started they raise
    :class:`~mongotor.errors.InvalidOperationError`. A negative limit asks for a
    single batch of at most that many documents (the server closes the cursor).
    """

    def __init__(
        self,
        executor: Executor,
        database: str,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        read_preference: ReadPreference,
        read_concern: ReadConcern,
        projection: Mapping[str, Any] | Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(executor, database, collection, None)
        self._filter: Mapping[str, Any] = {} if filter is None else filter
        self._read_preference = read_preference
        self._read_concern = read_concern
        self._spec: dict[str, Any] = {}
        self._limit = 0
        self._tailable = False
        if projection is not None:
            self.projection(projection)
        for name, value in options.items():
            if name not in _OPTIONS:
                raise TypeError(f"find() got an unexpected keyword argument {name!r}")
            if value is not None:
                getattr(self, name)(value)

    # -- chained options ----------------------------------------------------------------------

    def _set(self, name: str, value: Any) -> Self:
        self._check_unstarted()
        if value is None:
            self._spec.pop(name, None)
        else:
            self._spec[name] = value
        return self

    def sort(self, key_or_list: KeySpec, direction: Any = None) -> Self:
        """Sort by ``key_or_list`` (a name with ``direction``, pairs, or a document)."""
        return self._set("sort", key_document(key_or_list, direction))

    def skip(self, skip: int) -> Self:
        """Skip the first ``skip`` documents."""
        if skip < 0:
            raise ValueError("skip must be non-negative")
        return self._set("skip", skip or None)

    def limit(self, limit: int) -> Self:
        """Return at most ``abs(limit)`` documents (0: no limit; negative: one batch)."""
        self._check_unstarted()
        self._limit = limit
        return self

    def batch_size(self, batch_size: int) -> Self:
        """Ask for batches of ``batch_size`` documents (0: the server's default)."""
        if batch_size < 0:
            raise ValueError("batch_size must be non-negative")
        self._check_unstarted()
        self._batch_size = batch_size
        return self

    def projection(self, projection: Mapping[str, Any] | Iterable[str] | None) -> Self:
        """Return only these fields (a projection document or a list of names)."""
        return self._set("projection", projection_document(projection))

    def hint(self, index: KeySpec | None) -> Self:
        """Use this index (its name, or its keys)."""
        value = index if index is None or isinstance(index, str) else key_document(index)
        return self._set("hint", value)

    def max_time_ms(self, max_time_ms: int | None) -> Self:
        """Let the server spend at most this long (``maxTimeMS``); raises
        :class:`~mongotor.errors.ExecutionTimeout` past it."""
        return self._set("maxTimeMS", max_time_ms)

    def max_await_time_ms(self, max_await_time_ms: int | None) -> Self:
        """How long a tailable ``await_data`` cursor's getMore waits for new data."""
        self._check_unstarted()
        self._max_await_time_ms = max_await_time_ms
        return self

    def collation(self, collation: Mapping[str, Any] | None) -> Self:
        """Compare strings by this collation."""
        return self._set("collation", collation)

    def comment(self, comment: Any) -> Self:
        """Attach a comment (shown in the profiler and logs; also on getMore)."""
        self._set("comment", comment)
        self._comment = comment
        return self

    def allow_disk_use(self, allow_disk_use: bool) -> Self:
        """Let a large sort spill to disk."""
        return self._set("allowDiskUse", allow_disk_use)

    def no_cursor_timeout(self, no_cursor_timeout: bool = True) -> Self:
        """Keep the server cursor open while idle (the 2012 ``timeout=False``)."""
        return self._set("noCursorTimeout", True if no_cursor_timeout else None)

    def tailable(self, tailable: bool = True) -> Self:
        """Keep the cursor open at the end of a capped collection."""
        self._set("tailable", True if tailable else None)
        self._tailable = tailable
        return self

    def await_data(self, await_data: bool = True) -> Self:
        """With :meth:`tailable`: let getMore wait for new data."""
        return self._set("awaitData", True if await_data else None)

    def min(self, spec: KeySpec) -> Self:
        """The inclusive lower bound of the hinted index."""
        return self._set("min", key_document(spec))

    def max(self, spec: KeySpec) -> Self:
        """The exclusive upper bound of the hinted index."""
        return self._set("max", key_document(spec))

    def let(self, let: Mapping[str, Any]) -> Self:
        """Variables for ``$expr`` in the filter."""
        return self._set("let", let)

    def return_key(self, return_key: bool = True) -> Self:
        """Return only the index keys."""
        return self._set("returnKey", return_key)

    def show_record_id(self, show_record_id: bool = True) -> Self:
        """Add each document's ``$recordId``."""
        return self._set("showRecordId", show_record_id)

    def allow_partial_results(self, allow_partial_results: bool = True) -> Self:
        """On a sharded cluster, return what the available shards have."""
        return self._set("allowPartialResults", allow_partial_results)

    def where(self, code: str) -> Self:
        """Add a ``$where`` clause (JavaScript) to the filter."""
        self._check_unstarted()
        self._filter = {**self._filter, "$where": code}
        return self

    # -- the command -----------------------------------------------------------------------------

    def to_command(self) -> dict[str, Any]:
        """The find command this cursor sends."""
        command: dict[str, Any] = {"find": self._collection, "filter": self._filter}
        command.update(self._spec)
        limit, batch_size = abs(self._limit), self._batch_size
        if limit:
            command["limit"] = limit
            if self._limit < 0:
                command["singleBatch"] = True
            elif batch_size:
                batch_size = min(batch_size, limit)
        if batch_size:
            command["batchSize"] = batch_size
        if self._read_concern.level is not None:
            command["readConcern"] = self._read_concern.to_document()
        return command

    def _first_request(self) -> Request:
        return Request(
            self._database,
            self.to_command(),
            OperationKind.READ,
            read_preference=self._read_preference,
            retryable=True,
            session=self._session,
        )

    def _next_batch_size(self) -> int:
        if self._limit > 0:
            remaining = self._limit - self._retrieved
            return min(self._batch_size, remaining) if self._batch_size else remaining
        return self._batch_size

    def _ends_at_empty_batch(self) -> bool:
        return self._tailable and "awaitData" not in self._spec

    def _on_documents(self, count: int) -> None:
        if self._limit and self._retrieved >= abs(self._limit):
            excess = self._retrieved - abs(self._limit)
            for _ in range(excess):
                self._buffer.pop()
            if self._id:
                self._exhaust()

    async def explain(self, verbosity: str = "queryPlanner") -> Mapping[str, Any]:
        """The server's plan for this query (``explain``)."""
        reply = await self._executor.execute(
            Request(
                self._database,
                {"explain": self.to_command(), "verbosity": verbosity},
                OperationKind.READ,
                read_preference=self._read_preference,
                retryable=True,
            )
        )
        return reply.document

    def clone(self) -> Cursor[DocumentT]:
        """A new, unstarted cursor with the same query and options."""
        twin: Cursor[DocumentT] = Cursor(
            self._executor,
            self._database,
            self._collection,
            self._filter,
            read_preference=self._read_preference,
            read_concern=self._read_concern,
        )
        twin._spec = dict(self._spec)
        twin._limit, twin._batch_size = self._limit, self._batch_size
        twin._tailable, twin._comment = self._tailable, self._comment
        twin._max_await_time_ms = self._max_await_time_ms
        return twin
