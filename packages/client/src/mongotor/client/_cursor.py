"""Server cursors: the first batch, getMore streaming, and killCursors.

A :class:`CommandCursor` runs a command that opens a cursor (aggregate,
listIndexes, listCollections; :class:`~mongotor.client.Cursor` adds find's
options) at the first iteration, then streams ``getMore`` batches from the
server that opened it. The server cursor is killed (``killCursors``) when the
cursor is closed or leaves an ``async with`` block early, when an iteration is
cancelled mid-request, and when the cursor is garbage collected while the
server still holds it (abandoned). Awaiting a cursor returns all its remaining
documents as a list (the 2012 library's ``find``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Generator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from bson import Int64

from mongotor.errors import CursorNotFound, InvalidOperationError

from ._executor import Executor, OperationKind, Request
from ._sessions import ImplicitSession

if TYPE_CHECKING:
    from mongotor.pool import ReadPreference

__all__ = ["CommandCursor", "DocumentT"]

logger = logging.getLogger(__name__)

DocumentT = TypeVar("DocumentT", bound=Mapping[str, Any])

# Kills of abandoned cursors in flight: referenced so they are not collected.
_BACKGROUND: set[asyncio.Task[None]] = set()


async def _kill(executor: Executor, request: Request) -> None:
    try:
        await executor.execute(request)
    except Exception as exc:  # a best effort: the server times the cursor out anyway
        logger.debug("killCursors failed: %r", exc)
    finally:
        assert request.session is not None  # every kill request carries its cursor's
        request.session.release()


def _kill_in_background(
    loop: asyncio.AbstractEventLoop, executor: Executor, request: Request
) -> None:
    task = loop.create_task(_kill(executor, request), name="mongotor-kill-cursor")
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


class CommandCursor(Generic[DocumentT]):
    """A cursor over the results of a command that returns one.

    Iterate with ``async for``, or take a list with :meth:`to_list` (or by
    awaiting the cursor). ``async with`` closes it on the way out. Raises what the
    command raises (:mod:`mongotor.errors`), at the first iteration.
    """

    def __init__(
        self,
        executor: Executor,
        database: str,
        collection: str,
        request: Request | None,
        *,
        batch_size: int = 0,
        max_await_time_ms: int | None = None,
        comment: Any = None,
    ) -> None:
        self._executor = executor
        self._database = database
        self._collection = collection
        self._request = request
        self._batch_size = batch_size
        self._max_await_time_ms = max_await_time_ms
        self._comment = comment
        self._buffer: deque[DocumentT] = deque()
        self._id: int | None = None  # None: not started; 0: the server has no cursor
        self._address: str | None = None
        self._retrieved = 0
        self._killed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session = ImplicitSession()

    # -- state -------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the cursor's command has been sent."""
        return self._id is not None or self._killed

    @property
    def alive(self) -> bool:
        """Whether more documents may come: not started, documents buffered, or
        a server cursor still open."""
        if self._killed:
            return bool(self._buffer)
        return self._id is None or self._id != 0 or bool(self._buffer)

    @property
    def cursor_id(self) -> int | None:
        """The server's cursor id (0 once exhausted, ``None`` before the first batch)."""
        return self._id

    @property
    def address(self) -> str | None:
        """The server the cursor lives on (``None`` before the first batch)."""
        return self._address

    @property
    def retrieved(self) -> int:
        """How many documents the server has sent so far."""
        return self._retrieved

    @property
    def namespace(self) -> str:
        """``database.collection`` as the cursor's replies name it."""
        return f"{self._database}.{self._collection}"

    def __repr__(self) -> str:
        state = "not started" if self._id is None else f"id={self._id}"
        return (
            f"<{type(self).__name__} {self.namespace} {state} buffered={len(self._buffer)} "
            f"retrieved={self._retrieved}{' killed' if self._killed else ''}>"
        )

    # -- iteration ------------------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> DocumentT:
        if self._buffer:
            return self._buffer.popleft()
        if await self._refill():
            return self._buffer.popleft()
        raise StopAsyncIteration

    async def next(self) -> DocumentT:
        """The next document; raises ``StopAsyncIteration`` when there is none."""
        return await self.__anext__()

    async def to_list(self, length: int | None = None) -> list[DocumentT]:
        """The remaining documents (at most ``length`` of them) as a list."""
        if length is not None and length < 0:
            raise ValueError("length must be non-negative")
        documents: list[DocumentT] = []
        buffer = self._buffer
        while length is None or len(documents) < length:
            if not buffer and not await self._refill():
                break
            take = len(buffer) if length is None else length - len(documents)
            if take >= len(buffer):
                # A whole batch (always, without a length): moved in one C call,
                # not one Python step per document.
                documents.extend(buffer)
                buffer.clear()
            else:
                documents.extend(buffer.popleft() for _ in range(take))
        return documents

    def __await__(self) -> Generator[Any, None, list[DocumentT]]:
        return self.to_list().__await__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Discard buffered documents and kill the server cursor, if any. Idempotent."""
        self._buffer.clear()
        if self._killed:
            return
        self._killed = True
        request = self._kill_request()
        self._id = 0
        if request is None:
            self._session.release()
        else:
            await _kill(self._executor, request)

    # -- what subclasses build --------------------------------------------------------------------

    def _first_request(self) -> Request:
        assert self._request is not None
        return dataclasses.replace(self._request, session=self._session)

    def _next_batch_size(self) -> int:
        """The batchSize of the next getMore (0: the server's choice)."""
        return self._batch_size

    def _ends_at_empty_batch(self) -> bool:
        """Whether an empty getMore batch ends this iteration though the server
        cursor lives on (a tailable cursor that does not await data)."""
        return False

    def _on_documents(self, count: int) -> None:
        """Called with each batch's size (a find cursor counts towards its limit)."""

    # -- the protocol --------------------------------------------------------------------------------

    async def _refill(self) -> bool:
        """Fetch until a batch brings documents; whether any came."""
        while not self._buffer:
            if self._killed:
                return False
            if self._id is None:
                self._loop = asyncio.get_running_loop()
                await self._run(self._first_request(), "firstBatch")
            elif self._id == 0:
                return False
            else:
                await self._run(self._get_more_request(), "nextBatch")
                if not self._buffer and self._ends_at_empty_batch():
                    return False
        return True

    async def _run(self, request: Request, field: str) -> None:
        try:
            reply = await self._executor.execute(request)
        except asyncio.CancelledError:
            # The reply was never read: the server cursor may have moved on.
            self._abandon()
            raise
        except CursorNotFound:
            self._killed, self._id = True, 0  # nothing left on the server to kill
            self._session.release()
            raise
        except BaseException:
            if self._id is None:
                self._session.release()
            else:
                self._abandon()
            raise
        cursor = reply.document["cursor"]
        self._address = reply.address
        self._id = int(cursor["id"])
        if not self._id:
            self._session.release()
        namespace = cursor.get("ns")
        if isinstance(namespace, str) and "." in namespace:
            self._database, self._collection = namespace.split(".", 1)
        batch = cursor[field]
        self._retrieved += len(batch)
        self._buffer.extend(batch)
        self._on_documents(len(batch))

    def _get_more_request(self) -> Request:
        assert self._id
        command: dict[str, Any] = {"getMore": Int64(self._id), "collection": self._collection}
        batch_size = self._next_batch_size()
        if batch_size:
            command["batchSize"] = batch_size
        if self._max_await_time_ms is not None:
            command["maxTimeMS"] = self._max_await_time_ms
        if self._comment is not None:
            command["comment"] = self._comment
        return Request(
            self._database,
            command,
            OperationKind.READ,
            address=self._address,
            session=self._session,
        )

    def _kill_request(self) -> Request | None:
        if not self._id:
            return None
        return Request(
            self._database,
            {"killCursors": self._collection, "cursors": [Int64(self._id)]},
            OperationKind.COMMAND,
            address=self._address,
            session=self._session,
        )

    def _exhaust(self) -> None:
        """The cursor has all it needs (a find's limit): kill the server cursor."""
        request = self._kill_request()
        self._id = 0
        # Called with a live cursor only.
        assert request is not None
        assert self._loop is not None
        _kill_in_background(self._loop, self._executor, request)

    def _abandon(self) -> None:
        request = self._kill_request()
        self._killed = True
        self._id = 0
        loop = self._loop
        if request is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(_kill_in_background, loop, self._executor, request)
        else:
            self._session.discard()

    def __del__(self) -> None:
        if self._id and not self._killed:
            self._abandon()

    # -- shared checks -------------------------------------------------------------------------------

    def _check_unstarted(self) -> None:
        if self.started:
            raise InvalidOperationError("cannot set cursor options after iteration has started")

    @property
    def read_preference(self) -> ReadPreference:
        """The read preference of the cursor's command."""
        return self._first_request().read_preference
