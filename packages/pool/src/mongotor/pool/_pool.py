"""The connection pool of one server (CMAP: Connection Monitoring and Pooling).

The event loop is the pool's lock: every decision (who gets which connection,
whether to open another, what is perished) is one synchronous step,
:meth:`Pool._assign`, run under no ``await``, as httpcore's
``_assign_requests_to_connections``. The waiting happens outside it: a
check-out awaits one Future in a fair FIFO wait queue, bounded by
``waitQueueTimeoutMS`` through a ``loop.call_at`` timer; a connection is
established in a task of its own, which hands the connection to the request
that caused it (or to the pool, if that request gave up), so a cancelled
check-out wastes nothing and leaks nothing.

States (CMAP): *paused* (initial; after :meth:`Pool.clear`), *ready*
(:meth:`Pool.ready`, after a successful server check), *closed*. Generations
mark connections stale on clear. ``minPoolSize`` is kept in the background
while ready; ``maxConnecting`` caps concurrent establishments; idle connections
past ``maxIdleTimeMS`` are closed by a timer and on check-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from asyncio import get_running_loop
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Generic

from ._connect import open_connection
from ._connection import Connection
from ._connection_errors import PoolClearedError, PoolClosedError, TooManyConnections
from ._pool_events import (
    CheckOutFailedReason,
    ConnectionCheckedIn,
    ConnectionCheckedOut,
    ConnectionCheckOutFailed,
    ConnectionCheckOutStarted,
    ConnectionClosed,
    ConnectionClosedReason,
    ConnectionCreated,
    ConnectionReady,
    PoolCleared,
    PoolClosed,
    PoolCreated,
    PoolEvent,
    PoolListener,
    PoolReady,
    emit,
)
from ._pool_events import logger as events_logger
from ._pool_types import C, ConnectionFactory, PoolState, PoolStatistics
from ._settings import ConnectionSettings, PoolOptions

__all__ = ["Pool", "create_pool"]

logger = logging.getLogger(__name__)

# The states tested on every check-out and check-in, as module constants: on
# CPython 3.11 reading a member off its Enum class runs Python code (~0.1 us).
_READY = PoolState.READY
_CLOSED = PoolState.CLOSED
_DEBUG = logging.DEBUG


class _Waiter(Generic[C]):
    """One check-out in the wait queue."""

    __slots__ = ("establishing", "future", "timer")

    def __init__(self, future: asyncio.Future[C]) -> None:
        self.future = future
        self.timer: asyncio.TimerHandle | None = None
        self.establishing: _Establishing[C] | None = None

    def stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class _Establishing(Generic[C]):
    """A connection being established (CMAP "pending"), and who asked for it."""

    __slots__ = ("created", "generation", "id", "owner", "task")
    task: asyncio.Task[C]  # set as soon as the task exists

    def __init__(self, connection_id: int, generation: int, created: float) -> None:
        self.id = connection_id
        self.generation = generation
        self.created = created
        self.owner: _Waiter[C] | None = None


class Pool(Generic[C]):
    """The connections to the server at ``address``.

    ``connect`` opens one established connection (see :func:`create_pool` for
    the real one). ``listeners`` receive every CMAP event. ``on_background_error``
    is called with the error of a connection the pool opened on its own (for
    ``minPoolSize``): the topology hands it to SDAM's error handling, which may
    clear the pool.

    Use from one event loop; a pool used from another raises ``RuntimeError``.
    """

    def __init__(
        self,
        address: str,
        connect: ConnectionFactory[C],
        options: PoolOptions | None = None,
        *,
        listeners: Iterable[PoolListener] = (),
        on_background_error: Callable[[BaseException], object] | None = None,
    ) -> None:
        self.address = address
        self.options = options or PoolOptions()
        self._connect = connect
        self._listeners = tuple(listeners)
        self._on_background_error = on_background_error
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state = PoolState.PAUSED
        self._generation = 0
        self._next_id = 1
        # (connection, when it became available); the right end is the newest.
        self._available: deque[tuple[C, float]] = deque()
        self._in_use: dict[int, C] = {}
        self._establishing: dict[int, _Establishing[C]] = {}
        self._waiters: deque[_Waiter[C]] = deque()
        self._assign_handle: asyncio.Handle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        # Background population stops after a failure, until the next success or ready().
        self._populate = True
        self._cleared_because: str | None = None
        self._emit(PoolCreated(address, self.options.non_default()))

    # -- state ---------------------------------------------------------------------

    @property
    def state(self) -> PoolState:
        """The pool's :class:`PoolState`."""
        return self._state

    @property
    def generation(self) -> int:
        """The pool generation: incremented by every :meth:`clear`."""
        return self._generation

    def statistics(self) -> PoolStatistics:
        """A :class:`PoolStatistics` snapshot."""
        return PoolStatistics(
            address=self.address,
            state=self._state,
            generation=self._generation,
            active=len(self._in_use),
            idle=len(self._available),
            pending=len(self._establishing),
            total=self._total,
            waiting=len(self._waiters),
            max_pool_size=self.options.max_pool_size,
            min_pool_size=self.options.min_pool_size,
            max_connecting=self.options.max_connecting,
        )

    def __repr__(self) -> str:
        limit = self.options.max_pool_size or "unlimited"
        return (
            f"<Pool {self.address} {self._state.value} generation={self._generation} "
            f"active={len(self._in_use)} idle={len(self._available)} "
            f"pending={len(self._establishing)} waiting={len(self._waiters)} "
            f"max_pool_size={limit}>"
        )

    # -- CMAP operations --------------------------------------------------------------

    def ready(self) -> None:
        """Mark a paused pool ready (a no-op when ready or closed): check-outs
        and ``minPoolSize`` population may proceed."""
        if self._state is not PoolState.PAUSED:
            return
        self._state = PoolState.READY
        self._populate = True
        self._cleared_because = None
        self._emit(PoolReady(self.address))
        self._assign()

    def clear(self, *, interrupt_in_use: bool = False, cause: object = None) -> None:
        """Mark every connection stale and pause the pool (CMAP "Clearing a
        connection pool"): idle connections close now, queued check-outs fail with
        :class:`PoolClearedError`, in-use connections close when checked in.

        ``interrupt_in_use`` also closes the in-use connections and the ones
        being established now (their operations fail with
        :class:`PoolClearedError`). ``cause`` (an error or text) goes into
        the errors of later check-outs. A no-op on a closed pool.
        """
        if self._state is PoolState.CLOSED:
            return
        self._generation += 1
        was_ready = self._state is PoolState.READY
        self._state = PoolState.PAUSED
        if cause is not None:
            self._cleared_because = str(cause)
        if was_ready:
            self._emit(PoolCleared(self.address, interrupt_in_use))
        self._stop_timers()
        while self._available:
            connection, _ = self._available.popleft()
            self._close(connection, ConnectionClosedReason.STALE)
        self._fail_waiters(lambda: PoolClearedError.paused(self.address, self._cleared_because))
        if interrupt_in_use:
            # CMAP: interrupt what belongs to the generation before this clear;
            # on one event loop, nothing can be newer.
            for connection in list(self._in_use.values()):
                connection.abort(PoolClearedError.interrupted(self.address))
            for establishing in self._establishing.values():
                establishing.task.cancel()

    async def close(self) -> None:
        """Close the pool (CMAP "Closing a connection pool"): idle connections
        close now, in-use ones when checked in, establishments are cancelled,
        queued and later check-outs fail with :class:`PoolClosedError`.
        Returns once the cancelled establishments have ended. Idempotent."""
        if self._state is PoolState.CLOSED:
            return
        self._state = PoolState.CLOSED
        self._stop_timers()
        while self._available:
            connection, _ = self._available.popleft()
            self._close(connection, ConnectionClosedReason.POOL_CLOSED)
        self._fail_waiters(lambda: PoolClosedError(self.address))
        tasks = [establishing.task for establishing in self._establishing.values()]
        for task in tasks:
            task.cancel()
        self._emit(PoolClosed(self.address))
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def checkout(self, *, deadline: float | None = None) -> C:
        """An established connection for exclusive use; give it back with
        :meth:`checkin` (or use :meth:`connection`).

        Waits in FIFO order until ``waitQueueTimeoutMS`` or ``deadline`` (a
        ``loop.time()``), whichever comes first. Raises
        :class:`TooManyConnections` on timeout, :class:`PoolClearedError`
        (paused, or cleared while waiting; retryable), :class:`PoolClosedError`,
        or the error that establishing a new connection raised. Cancellation
        leaves nothing behind: a connection assigned meanwhile returns to the pool.
        """
        loop = get_running_loop()
        if loop is not self._loop:
            self._bind_loop()
        # Events on the hot path are only built when someone would see them.
        observed = bool(self._listeners) or events_logger.isEnabledFor(_DEBUG)
        if (
            not observed
            and self._state is _READY
            and self._available
            and not self._waiters
            and not self.options.max_idle_time_ms
        ):
            # The common case, unobserved: the newest idle connection, nobody
            # ahead, no clock to read (nothing idles out, no event has a duration).
            connection = self._available[-1][0]
            if connection.generation == self._generation and not connection.closed:
                self._available.pop()
                self._in_use[connection.id] = connection
                return connection
        started = loop.time()
        if observed:
            self._emit(ConnectionCheckOutStarted(self.address))
        if self._state is not _READY:
            error: Exception = (
                PoolClosedError(self.address)
                if self._state is PoolState.CLOSED
                else PoolClearedError.paused(self.address, self._cleared_because)
            )
            self._check_out_failed(started, error)
            raise error
        if self._available and not self._waiters:
            # Decided at once: an idle connection and nobody ahead.
            connection_or_none = self._take_available(started)
            if connection_or_none is not None:
                self._in_use[connection_or_none.id] = connection_or_none
                if observed:
                    self._emit(
                        ConnectionCheckedOut(
                            self.address, connection_or_none.id, loop.time() - started
                        )
                    )
                return connection_or_none
        waiter: _Waiter[C] = _Waiter(loop.create_future())
        self._waiters.append(waiter)
        self._assign()
        future = waiter.future
        try:
            # Awaiting a future _assign already completed does not suspend; its
            # timer, if any, is stopped below.
            limit = self._wait_limit(started, deadline)
            if limit is not None:
                waiter.timer = loop.call_at(limit, self._expire, waiter, limit - started)
            connection = await future
        except asyncio.CancelledError:
            self._abandon(waiter)
            self._check_out_failed(started, None)
            raise
        except Exception as exc:
            self._check_out_failed(started, exc)
            raise
        finally:
            waiter.stop_timer()
        if observed:
            self._emit(ConnectionCheckedOut(self.address, connection.id, loop.time() - started))
        return connection

    def checkin(self, connection: C) -> None:
        """Give back a checked-out connection. It returns to the pool unless it is
        closed, stale, or the pool is closed; then it is closed. Raises
        ``ValueError`` for a connection not checked out of this pool."""
        if self._in_use.get(connection.id) is not connection:
            raise ValueError(f"connection {connection.id} is not checked out of {self!r}")
        del self._in_use[connection.id]
        if self._listeners or events_logger.isEnabledFor(_DEBUG):
            self._emit(ConnectionCheckedIn(self.address, connection.id))
        options = self.options
        if (
            self._state is _READY
            and not options.max_idle_time_ms
            and connection.generation == self._generation
            and not connection.closed
        ):
            # _release's common case, inline: back to the idle list, no clock read.
            self._available.append((connection, 0.0))
        else:
            self._release(connection)
        if self._waiters or options.min_pool_size or options.max_idle_time_ms:
            # Otherwise there is nobody to serve, nothing to top up or reap.
            self._assign()

    @contextlib.asynccontextmanager
    async def connection(self, *, deadline: float | None = None) -> AsyncIterator[C]:
        """``async with pool.connection() as conn:`` checks out and always checks
        in (CMAP "withConnection"). A connection an error or a cancellation
        closed is discarded at check-in."""
        connection = await self.checkout(deadline=deadline)
        try:
            yield connection
        finally:
            self.checkin(connection)

    # -- the decision step ---------------------------------------------------------------

    def _assign(self) -> None:
        """Serve the wait queue in order, then top up to ``minPoolSize``."""
        if self._assign_handle is not None:
            self._assign_handle.cancel()
            self._assign_handle = None
        if self._state is not _READY:
            return
        waiters = self._waiters
        while waiters:
            waiter = waiters[0]
            if waiter.future.done():
                waiters.popleft()  # cancelled while queued
                continue
            connection = self._take_available(self._time())
            if connection is not None:
                waiters.popleft()
                waiter.stop_timer()
                self._in_use[connection.id] = connection
                waiter.future.set_result(connection)
            elif self._can_establish():
                waiters.popleft()
                waiter.stop_timer()
                self._start_establishing(waiter)
            else:
                break  # FIFO: nobody behind the head is served before it
        min_pool_size = self.options.min_pool_size
        while min_pool_size and self._populate and self._total < min_pool_size:
            if not self._can_establish():
                break
            self._start_establishing(None)
        self._schedule_idle_reaping()

    def _schedule_assign(self) -> None:
        # After an establishment ends, decide on the next loop iteration, so that
        # establishments ending together are all seen before anyone opens another.
        if self._assign_handle is None:
            self._assign_handle = self._bind_loop().call_soon(self._assign)

    @property
    def _total(self) -> int:
        return len(self._available) + len(self._in_use) + len(self._establishing)

    def _can_establish(self) -> bool:
        limit = self.options.max_pool_size
        return len(self._establishing) < self.options.max_connecting and (
            not limit or self._total < limit
        )

    def _take_available(self, now: float) -> C | None:
        while self._available:
            connection, since = self._available.pop()
            reason = self._perished(connection, now - since)
            if reason is None:
                return connection
            self._close(connection, reason)
        return None

    def _perished(self, connection: C, idle: float) -> ConnectionClosedReason | None:
        if connection.generation != self._generation:
            return ConnectionClosedReason.STALE
        if connection.closed:
            return ConnectionClosedReason.ERROR
        max_idle = self.options.max_idle_time_ms
        if max_idle and idle * 1000 >= max_idle:
            return ConnectionClosedReason.IDLE
        return None

    def _release(self, connection: C) -> None:
        """A connection comes back: to the idle list, or closed."""
        if self._state is _CLOSED:
            self._close(connection, ConnectionClosedReason.POOL_CLOSED)
            return
        reason = self._perished(connection, 0.0)
        if reason is not None:
            self._close(connection, reason)
        else:
            # The time is read only to idle connections out (maxIdleTimeMS).
            since = self._time() if self.options.max_idle_time_ms else 0.0
            self._available.append((connection, since))

    def _close(
        self, connection: C, reason: ConnectionClosedReason, error: BaseException | None = None
    ) -> None:
        connection.close()
        self._emit(ConnectionClosed(self.address, connection.id, reason, error))

    # -- establishing --------------------------------------------------------------------

    def _start_establishing(self, owner: _Waiter[C] | None) -> None:
        establishing: _Establishing[C] = _Establishing(
            self._next_id, self._generation, self._time()
        )
        self._next_id += 1
        establishing.owner = owner
        if owner is not None:
            owner.establishing = establishing
        task = self._bind_loop().create_task(
            self._open(establishing),
            name=f"mongotor-pool-connect-{self.address}-{establishing.id}",
        )
        task.add_done_callback(functools.partial(self._established, establishing))
        establishing.task = task
        self._establishing[establishing.id] = establishing
        # Before the task runs: nothing is established yet.
        self._emit(ConnectionCreated(self.address, establishing.id))

    async def _open(self, establishing: _Establishing[C]) -> C:
        return await self._connect(
            self.address, connection_id=establishing.id, generation=establishing.generation
        )

    def _established(self, establishing: _Establishing[C], task: asyncio.Task[C]) -> None:
        """An establishment task ended: hand out its connection, or report why not."""
        closing = self._state is PoolState.CLOSED
        if task.cancelled():
            # close(), or clear(interrupt_in_use=True): the pool's own cancellation
            # (perhaps before the task even started).
            self._end_establishing(
                establishing,
                ConnectionClosedReason.POOL_CLOSED if closing else ConnectionClosedReason.STALE,
                PoolClosedError(self.address)
                if closing
                else PoolClearedError.interrupted(self.address),
            )
            return
        error = task.exception()
        if error is not None:
            owner = establishing.owner
            self._end_establishing(establishing, ConnectionClosedReason.ERROR, error)
            if owner is None or owner.future.cancelled():
                self._background_error(error)
            return
        connection = task.result()
        if closing or establishing.generation != self._generation:
            connection.close()
            self._end_establishing(
                establishing,
                ConnectionClosedReason.POOL_CLOSED if closing else ConnectionClosedReason.STALE,
                PoolClosedError(self.address)
                if closing
                else PoolClearedError.paused(self.address, self._cleared_because),
            )
            return
        self._establishing.pop(establishing.id)
        now = self._time()
        self._emit(ConnectionReady(self.address, establishing.id, now - establishing.created))
        self._populate = True
        owner = establishing.owner
        if owner is not None and not owner.future.done():
            self._in_use[establishing.id] = connection
            owner.future.set_result(connection)
        else:
            self._available.append((connection, now))
        self._schedule_assign()

    def _end_establishing(
        self,
        establishing: _Establishing[C],
        reason: ConnectionClosedReason,
        error: BaseException,
    ) -> None:
        """An establishment failed or was abandoned: report it, tell its owner."""
        self._establishing.pop(establishing.id, None)
        shown = error if reason is ConnectionClosedReason.ERROR else None
        self._emit(ConnectionClosed(self.address, establishing.id, reason, shown))
        owner = establishing.owner
        if owner is not None and not owner.future.done():
            owner.future.set_exception(error)
        self._schedule_assign()

    def _background_error(self, error: BaseException) -> None:
        self._populate = False
        if self._on_background_error is None:
            logger.warning("background connection to %s failed: %s", self.address, error)
            return
        try:
            self._on_background_error(error)
        except Exception:
            logger.exception("the background error handler of %r failed", self)

    # -- waiting -----------------------------------------------------------------------

    def _wait_limit(self, started: float, deadline: float | None) -> float | None:
        timeout_ms = self.options.wait_queue_timeout_ms
        limit = started + timeout_ms / 1000 if timeout_ms else None
        if deadline is not None and (limit is None or deadline < limit):
            return deadline
        return limit

    def _expire(self, waiter: _Waiter[C], allowed: float) -> None:
        waiter.timer = None
        if waiter.future.done():
            return
        error = TooManyConnections(
            address=self.address,
            max_pool_size=self.options.max_pool_size,
            in_use=len(self._in_use),
            pending=len(self._establishing),
            waiting=len(self._waiters),
            timeout_ms=round(allowed * 1000, 3),
        )
        self._waiters.remove(waiter)
        waiter.future.set_exception(error)

    def _abandon(self, waiter: _Waiter[C]) -> None:
        """A check-out was cancelled: give back whatever it was given."""
        future = waiter.future
        if future.cancelled():
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            if waiter.establishing is not None:
                # Its connection goes to the pool when established.
                waiter.establishing.owner = None
            return
        if future.exception() is None:
            connection = future.result()
            del self._in_use[connection.id]
            self._release(connection)
            self._assign()

    def _fail_waiters(self, make_error: Callable[[], Exception]) -> None:
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            waiter.stop_timer()
            if not waiter.future.done():
                waiter.future.set_exception(make_error())

    def _check_out_failed(self, started: float, error: Exception | None) -> None:
        if error is None:
            reason = CheckOutFailedReason.CANCELLED
        elif isinstance(error, TooManyConnections):
            reason = CheckOutFailedReason.TIMEOUT
        elif isinstance(error, PoolClosedError):
            reason = CheckOutFailedReason.POOL_CLOSED
        else:
            reason = CheckOutFailedReason.CONNECTION_ERROR
        duration = self._time() - started
        self._emit(ConnectionCheckOutFailed(self.address, reason, duration, error))

    # -- timers and plumbing -----------------------------------------------------------------

    def _schedule_idle_reaping(self) -> None:
        max_idle = self.options.max_idle_time_ms
        if not max_idle or self._idle_timer is not None or not self._available:
            return
        when = self._available[0][1] + max_idle / 1000
        self._idle_timer = self._bind_loop().call_at(when, self._reap_idle, when)

    def _reap_idle(self, when: float) -> None:
        self._idle_timer = None
        # The loop may run a timer a clock tick early: it is due at ``when``.
        now = max(self._time(), when)
        max_idle = self.options.max_idle_time_ms / 1000
        while self._available and now - self._available[0][1] >= max_idle:
            connection, _ = self._available.popleft()
            self._close(connection, ConnectionClosedReason.IDLE)
        self._assign()

    def _stop_timers(self) -> None:
        for handle in (self._assign_handle, self._idle_timer):
            if handle is not None:
                handle.cancel()
        self._assign_handle = self._idle_timer = None

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError(f"{self!r} belongs to another event loop")
        return loop

    def _time(self) -> float:
        return (self._loop or self._bind_loop()).time()

    def _emit(self, event: PoolEvent) -> None:
        emit(event, self._listeners)


def create_pool(
    address: str,
    settings: ConnectionSettings | None = None,
    options: PoolOptions | None = None,
    *,
    listeners: Iterable[PoolListener] = (),
    on_background_error: Callable[[BaseException], object] | None = None,
) -> Pool[Connection]:
    """A :class:`Pool` of real connections to ``address`` opened with ``settings``
    (by :func:`~mongotor.pool.open_connection`)."""
    connect = functools.partial(open_connection, settings=settings or ConnectionSettings())
    return Pool(
        address, connect, options, listeners=listeners, on_background_error=on_background_error
    )
