"""The pool beyond the CMAP spec tests: cancellation at every point, statistics,
the wait queue's fields, idle reaping, interruption, listeners, options. Test
doubles for connections; the virtual clock for time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from mongotor.pool import (
    CheckOutFailedReason,
    ConflictingOptionsError,
    ConnectionCheckOutFailed,
    ConnectionClosed,
    ConnectionClosedReason,
    ConnectionReady,
    InvalidOptionValueError,
    NetworkError,
    Pool,
    PoolClearedError,
    PoolClosedError,
    PoolEvent,
    PoolOptions,
    PoolState,
    TooManyConnections,
    create_pool,
    parse_uri,
)

Run = Callable[[Coroutine[Any, Any, Any]], Any]
ADDRESS = "db:27017"


class Recorder:
    def __init__(self) -> None:
        self.events: list[PoolEvent] = []

    def __call__(self, event: PoolEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


def make_pool(fakes: Any, **options: Any) -> tuple[Pool[Any], Any, Recorder]:
    factory = fakes.FakeFactory()
    recorder = Recorder()
    pool: Pool[Any] = Pool(ADDRESS, factory, PoolOptions(**options), listeners=[recorder])
    return pool, factory, recorder


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_checkout_checkin_and_statistics(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, factory, _ = make_pool(fakes, max_pool_size=5)
        assert pool.state is PoolState.PAUSED
        pool.ready()
        first = await pool.checkout()
        async with pool.connection() as second:
            stats = pool.statistics()
            assert (stats.active, stats.idle, stats.pending, stats.total) == (2, 0, 0, 2)
            assert (stats.max_pool_size, stats.min_pool_size, stats.max_connecting) == (5, 0, 2)
            assert repr(pool) == (
                "<Pool db:27017 ready generation=0 active=2 idle=0 pending=0 waiting=0 "
                "max_pool_size=5>"
            )
        pool.checkin(first)
        stats = pool.statistics()
        assert (stats.active, stats.idle, stats.state) == (0, 2, PoolState.READY)
        # LIFO: the most recently returned connection goes out first.
        assert await pool.checkout() is first
        assert second is factory.opened[1]
        await pool.close()
        assert "unlimited" in repr(Pool(ADDRESS, factory, PoolOptions(max_pool_size=0)))

    run_virtual(main())


def test_checkin_of_a_stranger_is_refused(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, _ = make_pool(fakes)
        pool.ready()
        connection = await pool.checkout()
        pool.checkin(connection)
        with pytest.raises(ValueError, match="not checked out"):
            pool.checkin(connection)
        with pytest.raises(ValueError, match="not checked out"):
            pool.checkin(fakes.FakeConnection(ADDRESS, 1, 0))

    run_virtual(main())


def test_wait_queue_timeout_has_the_numbers(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, recorder = make_pool(fakes, max_pool_size=2, wait_queue_timeout_ms=50)
        pool.ready()
        held = [await pool.checkout(), await pool.checkout()]
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(TooManyConnections) as caught:
            await pool.checkout()
        error = caught.value
        assert loop.time() - start == pytest.approx(0.05)
        assert (error.max_pool_size, error.in_use, error.pending, error.waiting) == (2, 2, 0, 1)
        assert (error.timeout_ms, error.timeout, error.address) == (50, 0.05, ADDRESS)
        assert str(error) == (
            "Timed out while checking out a connection from connection pool for db:27017 "
            "after 50 ms: 2 in use and 0 being established (maxPoolSize 2), 1 waiting"
        )
        assert error.retryable
        assert not error.remote
        failed = recorder.of(ConnectionCheckOutFailed)[-1]
        assert failed.reason is CheckOutFailedReason.TIMEOUT
        assert failed.duration == pytest.approx(0.05)
        assert pool.statistics().waiting == 0
        for connection in held:
            pool.checkin(connection)

    run_virtual(main())


def test_deadline_caps_the_wait(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, _ = make_pool(fakes, max_pool_size=1, wait_queue_timeout_ms=5000)
        pool.ready()
        held = await pool.checkout()
        loop = asyncio.get_running_loop()
        with pytest.raises(TooManyConnections, match="after 10 ms"):
            await pool.checkout(deadline=loop.time() + 0.01)
        # Without waitQueueTimeoutMS the deadline alone applies; later ones do not.
        with pytest.raises(TooManyConnections, match="after 20 ms"):
            await pool.checkout(deadline=loop.time() + 0.02)
        unlimited, _, _ = make_pool(fakes, max_pool_size=1)
        unlimited.ready()
        await unlimited.checkout()
        with pytest.raises(TooManyConnections, match="after 10 ms"):
            await unlimited.checkout(deadline=loop.time() + 0.01)
        task = asyncio.ensure_future(pool.checkout(deadline=loop.time() + 60))
        await settle()
        pool.checkin(held)
        assert await task is held

    run_virtual(main())


def test_cancel_while_queued(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, recorder = make_pool(fakes, max_pool_size=1)
        pool.ready()
        held = await pool.checkout()
        waiting = asyncio.ensure_future(pool.checkout())
        behind = asyncio.ensure_future(pool.checkout())
        await settle()
        assert pool.statistics().waiting == 2
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert pool.statistics().waiting == 1
        failed = recorder.of(ConnectionCheckOutFailed)[-1]
        assert failed.reason is CheckOutFailedReason.CANCELLED
        pool.checkin(held)
        assert await behind is held

    run_virtual(main())


def test_cancel_after_a_connection_was_assigned(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, _ = make_pool(fakes, max_pool_size=1)
        pool.ready()
        held = await pool.checkout()
        waiting = asyncio.ensure_future(pool.checkout())
        await settle()
        pool.checkin(held)  # assigned to the waiter...
        waiting.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiting
        stats = pool.statistics()
        assert (stats.active, stats.idle) == (0, 1)
        assert await pool.checkout() is held

    run_virtual(main())


def test_cancel_a_queued_request_that_was_then_cleared(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, _ = make_pool(fakes, max_pool_size=1)
        pool.ready()
        held = await pool.checkout()
        waiting = asyncio.ensure_future(pool.checkout())
        await settle()
        pool.clear()  # fails the waiter...
        waiting.cancel()  # ...cancelled before it runs: the error is dropped quietly
        with pytest.raises(asyncio.CancelledError):
            await waiting
        pool.checkin(held)

    run_virtual(main())


def test_cancel_while_establishing_keeps_the_connection(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, factory, recorder = make_pool(fakes)
        factory.gate = asyncio.Event()
        pool.ready()
        task = asyncio.ensure_future(pool.checkout())
        await settle()
        assert pool.statistics().pending == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        factory.gate.set()
        await settle()
        stats = pool.statistics()
        assert (stats.pending, stats.idle, stats.active) == (0, 1, 0)
        assert len(recorder.of(ConnectionReady)) == 1

    run_virtual(main())


def test_establishment_errors(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, factory, recorder = make_pool(fakes)
        pool.ready()
        error = NetworkError("refused", address=ADDRESS)
        factory.errors.append(error)
        with pytest.raises(NetworkError) as caught:
            await pool.checkout()
        assert caught.value is error
        closed = recorder.of(ConnectionClosed)[-1]
        assert (closed.reason, closed.error) == (ConnectionClosedReason.ERROR, error)
        failed = recorder.of(ConnectionCheckOutFailed)[-1]
        assert failed.reason is CheckOutFailedReason.CONNECTION_ERROR
        assert pool.statistics().total == 0
        # The pool is usable again.
        pool.checkin(await pool.checkout())

    run_virtual(main())


def test_an_abandoned_establishment_that_fails_is_a_background_error(
    run_virtual: Run, fakes: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        pool, factory, _ = make_pool(fakes)
        factory.gate = asyncio.Event()
        factory.errors.append(NetworkError("refused", address=ADDRESS))
        pool.ready()
        task = asyncio.ensure_future(pool.checkout())
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        factory.gate.set()
        await settle()

    with caplog.at_level(logging.WARNING, logger="mongotor.pool"):
        run_virtual(main())
    assert "background connection to db:27017 failed: refused" in caplog.text


def test_min_pool_size_and_background_errors(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        errors: list[BaseException] = []
        factory = fakes.FakeFactory()
        pool: Pool[Any] = Pool(
            ADDRESS,
            factory,
            PoolOptions(min_pool_size=3, max_connecting=1),
            on_background_error=errors.append,
        )
        failure = NetworkError("refused", address=ADDRESS)
        factory.errors.append(failure)
        pool.ready()
        await settle()
        # One failure stops the population, until a success (or ready()).
        assert errors == [failure]
        assert pool.statistics().total == 0
        pool.checkin(await pool.checkout())
        await settle()
        assert pool.statistics().total == 3

    run_virtual(main())


def test_background_error_handler_that_raises(
    run_virtual: Run, fakes: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(error: BaseException) -> None:
        raise RuntimeError("handler broke")

    async def main() -> None:
        factory = fakes.FakeFactory()
        factory.errors.append(NetworkError("refused", address=ADDRESS))
        pool: Pool[Any] = Pool(
            ADDRESS, factory, PoolOptions(min_pool_size=1), on_background_error=broken
        )
        pool.ready()
        await settle()

    with caplog.at_level(logging.ERROR, logger="mongotor.pool"):
        run_virtual(main())
    assert "background error handler" in caplog.text


def test_listener_errors_are_logged_not_raised(
    run_virtual: Run, fakes: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: PoolEvent) -> None:
        raise RuntimeError("listener broke")

    async def main() -> None:
        pool: Pool[Any] = Pool(ADDRESS, fakes.FakeFactory(), listeners=[broken])
        pool.ready()
        pool.checkin(await pool.checkout())

    with caplog.at_level(logging.DEBUG, logger="mongotor.pool"):
        run_virtual(main())
    assert "listener" in caplog.text
    assert "PoolReady(address='db:27017')" in caplog.text


def test_idle_connections_are_reaped_and_replaced(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, factory, recorder = make_pool(fakes, max_idle_time_ms=100, min_pool_size=1)
        pool.ready()
        await settle()
        first = factory.opened[0]
        await asyncio.sleep(0.1)
        await settle()
        idle = recorder.of(ConnectionClosed)
        assert [(c.connection_id, c.reason) for c in idle] == [(1, ConnectionClosedReason.IDLE)]
        assert first.closed
        assert pool.statistics().idle == 1  # minPoolSize put another one in its place
        # A connection in use does not idle; one returned starts its clock again.
        connection = await pool.checkout()
        await asyncio.sleep(0.5)
        pool.checkin(connection)
        await asyncio.sleep(0.05)
        assert not connection.closed
        await pool.close()

    run_virtual(main())


def test_perished_connections_are_skipped_at_checkout(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, recorder = make_pool(fakes)
        pool.ready()
        a, b = await pool.checkout(), await pool.checkout()
        pool.checkin(a)
        pool.checkin(b)
        b.closed = True  # broke while idle
        got = await pool.checkout()
        assert got is a
        assert recorder.of(ConnectionClosed)[-1].reason is ConnectionClosedReason.ERROR

    run_virtual(main())


def test_when_every_idle_connection_perished_a_new_one_is_opened(
    run_virtual: Run, fakes: Any
) -> None:
    async def main() -> None:
        # No listener: the events of the quick path are not even built.
        pool: Pool[Any] = Pool(ADDRESS, fakes.FakeFactory(), PoolOptions())
        pool.ready()
        a = await pool.checkout()
        pool.checkin(a)
        a.closed = True  # broke while idle
        got = await pool.checkout()
        assert got is not a
        assert got.id == 2
        assert pool.statistics().total == 1

    run_virtual(main())


def test_checkin_of_a_broken_connection_discards_it(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, recorder = make_pool(fakes)
        pool.ready()
        connection = await pool.checkout()
        connection.close()
        pool.checkin(connection)
        closed = recorder.of(ConnectionClosed)[-1]
        assert closed.reason is ConnectionClosedReason.ERROR
        assert pool.statistics().total == 0

    run_virtual(main())


def test_clear_interrupts_in_use_connections(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, _, recorder = make_pool(fakes)
        pool.ready()
        old = await pool.checkout()
        pool.clear(interrupt_in_use=True, cause=NetworkError("monitor timeout", address=ADDRESS))
        assert isinstance(old.abort_error, PoolClearedError)
        assert "interrupted due to server monitor timeout" in str(old.abort_error)
        with pytest.raises(PoolClearedError) as caught:
            await pool.checkout()
        assert "was cleared because another operation failed with: monitor timeout" in str(
            caught.value
        )
        assert caught.value.retryable
        assert caught.value.has_label("RetryableError")
        pool.ready()
        fresh = await pool.checkout()
        pool.clear(interrupt_in_use=True)
        assert not old.closed or fresh.closed  # both generations interrupted
        pool.checkin(old)
        pool.checkin(fresh)
        reasons = [c.reason for c in recorder.of(ConnectionClosed)]
        assert reasons == [ConnectionClosedReason.STALE, ConnectionClosedReason.STALE]

    run_virtual(main())


def test_clear_lets_pending_establishments_finish_stale(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, factory, recorder = make_pool(fakes)
        factory.gate = asyncio.Event()
        pool.ready()
        task = asyncio.ensure_future(pool.checkout())
        await settle()
        pool.clear()
        pool.ready()
        factory.gate.set()
        with pytest.raises(PoolClearedError):
            await task
        assert factory.opened[0].closed
        assert recorder.of(ConnectionClosed)[-1].reason is ConnectionClosedReason.STALE

    run_virtual(main())


def test_close_ends_establishments_and_later_checkouts(run_virtual: Run, fakes: Any) -> None:
    async def main() -> None:
        pool, factory, recorder = make_pool(fakes)
        factory.gate = asyncio.Event()
        pool.ready()
        task = asyncio.ensure_future(pool.checkout())
        await settle()
        await pool.close()
        await pool.close()
        with pytest.raises(PoolClosedError):
            await task
        closed = recorder.of(ConnectionClosed)[-1]
        assert closed.reason is ConnectionClosedReason.POOL_CLOSED
        with pytest.raises(PoolClosedError) as caught:
            await pool.checkout()
        assert not caught.value.retryable
        pool.ready()  # a closed pool stays closed
        pool.clear()
        assert pool.state is PoolState.CLOSED

    run_virtual(main())


def test_establishment_finishing_after_close(run_virtual: Run, fakes: Any) -> None:
    class Stubborn:
        """A factory that finishes even when cancelled."""

        def __init__(self) -> None:
            self.gate = asyncio.Event()
            self.made: list[Any] = []

        async def __call__(self, address: str, *, connection_id: int, generation: int) -> Any:
            with contextlib.suppress(asyncio.CancelledError):
                await self.gate.wait()
            connection = fakes.FakeConnection(address, connection_id, generation)
            self.made.append(connection)
            return connection

    async def main() -> None:
        factory = Stubborn()
        pool: Pool[Any] = Pool(ADDRESS, factory)
        pool.ready()
        task = asyncio.ensure_future(pool.checkout())
        await settle()
        await pool.close()
        with pytest.raises(PoolClosedError):
            await task
        assert factory.made[0].closed

    run_virtual(main())


def test_a_pool_belongs_to_one_loop(fakes: Any) -> None:
    pool: Pool[Any] = Pool(ADDRESS, fakes.FakeFactory())

    async def use() -> None:
        pool.ready()
        pool.checkin(await pool.checkout())

    asyncio.run(use())
    with pytest.raises(RuntimeError, match="another event loop"):
        asyncio.run(use())


def test_pool_options() -> None:
    assert PoolOptions().non_default() == {}
    options = PoolOptions(max_pool_size=50, min_pool_size=5, max_idle_time_ms=100)
    assert options.non_default() == {"maxPoolSize": 50, "minPoolSize": 5, "maxIdleTimeMS": 100}
    with pytest.raises(InvalidOptionValueError, match="maxConnecting cannot be 0"):
        PoolOptions(max_connecting=0)
    with pytest.raises(InvalidOptionValueError, match="maxPoolSize cannot be -1"):
        PoolOptions(max_pool_size=-1)
    with pytest.raises(ConflictingOptionsError, match="exceeds maxPoolSize"):
        PoolOptions(max_pool_size=1, min_pool_size=2)
    assert PoolOptions(max_pool_size=0, min_pool_size=2).min_pool_size == 2
    parsed = parse_uri("mongodb://h/?maxPoolSize=7&maxConnecting=3&waitQueueTimeoutMS=9")
    assert PoolOptions.from_options(parsed) == PoolOptions(
        max_pool_size=7, max_connecting=3, wait_queue_timeout_ms=9
    )


def test_create_pool_uses_open_connection(run_virtual: Run) -> None:
    async def main() -> None:
        pool = create_pool("127.0.0.1:9")
        assert pool.address == "127.0.0.1:9"
        await pool.close()

    run_virtual(main())


def test_races_within_one_loop_iteration(run_virtual: Run, fakes: Any) -> None:
    """A check-out cancelled in the same iteration as the event that would serve it."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        pool, _, _ = make_pool(fakes, max_pool_size=1, wait_queue_timeout_ms=50)
        pool.ready()
        held = await pool.checkout()
        # Cancelled, then a connection returns before the task runs: it stays idle.
        waiting = asyncio.ensure_future(pool.checkout())
        await settle()
        waiting.cancel()
        pool.checkin(held)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert pool.statistics().idle == 1
        held = await pool.checkout()
        # Cancelled in the timer phase just before its wait queue timeout fires.
        waiting = asyncio.ensure_future(pool.checkout())
        loop.call_at(loop.time() + 0.05, waiting.cancel)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # Cancelled, then the pool is cleared before the task runs.
        waiting = asyncio.ensure_future(pool.checkout())
        await settle()
        waiting.cancel()
        pool.clear()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        pool.checkin(held)

    run_virtual(main())


def test_idle_connections_are_closed_at_checkout_too(
    run_virtual: Run, fakes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        pool, _, recorder = make_pool(fakes, max_idle_time_ms=10)
        monkeypatch.setattr(pool, "_schedule_idle_reaping", lambda: None)
        pool.ready()
        first = await pool.checkout()
        pool.checkin(first)
        await asyncio.sleep(0.05)
        second = await pool.checkout()
        assert second is not first
        assert recorder.of(ConnectionClosed)[-1].reason is ConnectionClosedReason.IDLE

    run_virtual(main())


@pytest.mark.parametrize("max_idle_time_ms", [0, 60_000])
def test_an_unobserved_pool_hands_out_its_newest_idle_connection(
    run_virtual: Run, fakes: Any, max_idle_time_ms: int
) -> None:
    # No listener and no DEBUG logging: check-out and check-in build no events;
    # without maxIdleTimeMS they read no clock either. The outcome is the same.
    async def main() -> None:
        factory = fakes.FakeFactory()
        pool: Pool[Any] = Pool(ADDRESS, factory, PoolOptions(max_idle_time_ms=max_idle_time_ms))
        pool.ready()
        first, second = await pool.checkout(), await pool.checkout()
        pool.checkin(first)
        pool.checkin(second)
        assert await pool.checkout() is second  # the newest idle one (CMAP: LIFO)
        assert await pool.checkout() is first
        stats = pool.statistics()
        assert (stats.active, stats.idle, stats.total) == (2, 0, 2)
        pool.checkin(first)
        first.closed = True  # broke while idle: not handed out again
        third = await pool.checkout()
        assert third is not first
        assert first not in (second, third)
        assert pool.statistics().total == 2

    run_virtual(main())
