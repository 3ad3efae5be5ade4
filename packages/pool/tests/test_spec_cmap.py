"""The CMAP specification's pool tests (connection_monitoring/*.json, cmap-format).

Runner rules (cmap-format/README): a pool with the test's ``poolOptions``; each
operation runs on the main task or is queued to a named "thread" (a task);
``error`` is what the main thread must raise; ``events`` must MATCH the events
emitted, less those in ``ignore``, in order (42 and "42" match any value).

The connections are test doubles (CMAP allows mocks for pool tests), so the
"integration" cases run too: their ``failPoint`` (block or fail the hello of
connections with the test's appName) is applied by the fake factory. Everything
runs on a virtual clock, so the cases' waits and blocked handshakes take no time.
Errors during background population go through SDAM's real error handling,
which decides whether the pool is cleared.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from mongotor.pool import (
    CheckOutFailedReason,
    ConnectionCheckedIn,
    ConnectionCheckedOut,
    ConnectionCheckOutFailed,
    ConnectionCheckOutStarted,
    ConnectionClosed,
    ConnectionCreated,
    ConnectionReady,
    Pool,
    PoolCleared,
    PoolClosed,
    PoolClosedError,
    PoolCreated,
    PoolEvent,
    PoolOptions,
    PoolReady,
    TooManyConnections,
    TopologySettings,
    as_application_error,
    handle_application_error,
    initial_topology,
    parse_hello,
    update_topology,
)

# Cases deliberately not passed: id -> the exact reason (strict expected failures).
KNOWN_GAPS: dict[str, str] = {}

ADDRESS = "localhost:27017"
EVENT_TYPES: dict[str, type[Any]] = {
    "ConnectionPoolCreated": PoolCreated,
    "ConnectionPoolReady": PoolReady,
    "ConnectionPoolCleared": PoolCleared,
    "ConnectionPoolClosed": PoolClosed,
    "ConnectionCreated": ConnectionCreated,
    "ConnectionReady": ConnectionReady,
    "ConnectionClosed": ConnectionClosed,
    "ConnectionCheckOutStarted": ConnectionCheckOutStarted,
    "ConnectionCheckOutFailed": ConnectionCheckOutFailed,
    "ConnectionCheckedOut": ConnectionCheckedOut,
    "ConnectionCheckedIn": ConnectionCheckedIn,
}
TYPE_NAMES = {cls: name for name, cls in EVENT_TYPES.items()}
ERROR_TYPES: dict[str, type[Exception]] = {
    "WaitQueueTimeoutError": TooManyConnections,
    "PoolClosedError": PoolClosedError,
}
# Generous: on the virtual clock a wait costs nothing until it times out.
DEFAULT_EVENT_TIMEOUT = 10.0


def as_json(event: PoolEvent) -> dict[str, Any]:
    """The event in the tests' vocabulary."""
    document: dict[str, Any] = {"type": TYPE_NAMES[type(event)], "address": event.address}
    for attribute, key in (
        ("connection_id", "connectionId"),
        ("duration", "duration"),
        ("options", "options"),
        ("interrupt_in_use_connections", "interruptInUseConnections"),
    ):
        if hasattr(event, attribute):
            document[key] = getattr(event, attribute)
    reason = getattr(event, "reason", None)
    if reason is not None:
        document["reason"] = reason.value
    return document


def matches(actual: Any, expected: Any) -> bool:
    """The runner's MATCH: expected is a subset of actual; 42 / "42" match anything."""
    if expected in (42, "42") and not isinstance(expected, bool):
        return actual is not None
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            index < len(actual) and matches(actual[index], value)
            for index, value in enumerate(expected)
        )
    return type(actual) is type(expected) and bool(actual == expected)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("_m_s", "_ms")


class Thread:
    """A named task that runs the operations queued to it, one after another."""

    def __init__(self, name: str) -> None:
        self.queue: asyncio.Queue[Callable[[], Coroutine[Any, Any, None]] | None] = asyncio.Queue()
        self.error: BaseException | None = None
        self.task = asyncio.create_task(self._run(), name=f"cmap-{name}")

    async def _run(self) -> None:
        while (operation := await self.queue.get()) is not None:
            if self.error is None:
                try:
                    await operation()
                except Exception as exc:
                    self.error = exc

    async def finish(self) -> None:
        self.queue.put_nowait(None)
        await self.task
        if self.error is not None:
            raise self.error


class Runner:
    def __init__(self, case: dict[str, Any], fakes: Any) -> None:
        options = dict(case.get("poolOptions", {}))
        app_name = options.pop("appName", None)
        options.pop("backgroundThreadIntervalMS", None)  # the pool has no background thread
        self.events: list[PoolEvent] = []
        self.changed = asyncio.Event()
        self.factory = fakes.FakeFactory(app_name, fakes.FailPoint(case.get("failPoint")))
        self.pool: Pool[Any] = Pool(
            ADDRESS,
            self.factory,
            PoolOptions(**{snake(name): value for name, value in options.items()}),
            listeners=[self.record],
            on_background_error=self.sdam,
        )
        self.threads: dict[str, Thread] = {}
        self.labels: dict[str, Any] = {}
        # A known standalone, for SDAM's verdict on background errors.
        topology = initial_topology(TopologySettings(seeds=(ADDRESS,), direct_connection=True))
        reply = {"ok": 1, "isWritablePrimary": True, "minWireVersion": 0, "maxWireVersion": 25}
        server = parse_hello(ADDRESS, reply, round_trip_time_ms=1.0, last_update_time_ms=0.0)
        self.topology = update_topology(topology, server)

    def record(self, event: PoolEvent) -> None:
        self.events.append(event)
        self.changed.set()

    def sdam(self, error: BaseException) -> None:
        application_error = as_application_error(error)
        assert application_error is not None
        outcome = handle_application_error(
            self.topology, application_error, pool_generation=self.pool.generation
        )
        self.topology = outcome.topology
        if outcome.clear_pool:
            self.pool.clear(cause=error)

    async def run(self, operations: list[dict[str, Any]]) -> BaseException | None:
        try:
            for operation in operations:
                thread = operation.get("thread")
                step = self.step(operation)
                if thread is None:
                    await step()
                else:
                    self.threads[thread].queue.put_nowait(step)
        except Exception as exc:
            return exc
        finally:
            for thread in self.threads.values():
                thread.task.cancel()
            await asyncio.gather(*(t.task for t in self.threads.values()), return_exceptions=True)
            await self.pool.close()
        return None

    def step(self, operation: dict[str, Any]) -> Callable[[], Coroutine[Any, Any, None]]:
        name = operation["name"]

        async def run() -> None:
            if name == "start":
                self.threads[operation["target"]] = Thread(operation["target"])
            elif name == "wait":
                await asyncio.sleep(operation["ms"] / 1000)
            elif name == "waitForThread":
                await self.threads[operation["target"]].finish()
            elif name == "waitForEvent":
                timeout = operation.get("timeout", DEFAULT_EVENT_TIMEOUT * 1000) / 1000
                async with asyncio.timeout(timeout):
                    await self.wait_for(EVENT_TYPES[operation["event"]], operation["count"])
            elif name == "checkOut":
                connection = await self.pool.checkout()
                if "label" in operation:
                    self.labels[operation["label"]] = connection
            elif name == "checkIn":
                self.pool.checkin(self.labels[operation["connection"]])
            elif name == "clear":
                self.pool.clear(interrupt_in_use=operation.get("interruptInUseConnections", False))
            elif name == "close":
                await self.pool.close()
            else:
                assert name == "ready", name
                self.pool.ready()

        return run

    async def wait_for(self, event_type: type[Any], count: int) -> None:
        while sum(isinstance(e, event_type) for e in self.events) < count:
            self.changed.clear()
            await self.changed.wait()


def check(case: dict[str, Any], events: list[PoolEvent], error: BaseException | None) -> None:
    expected_error = case.get("error")
    if expected_error is None:
        if error is not None:
            raise error
    else:
        assert isinstance(error, ERROR_TYPES[expected_error["type"]]), repr(error)
        assert str(error).lower().startswith(expected_error["message"].lower()), str(error)
    ignore = set(case.get("ignore", ()))
    actual = [as_json(e) for e in events if TYPE_NAMES[type(e)] not in ignore]
    for index, expected in enumerate(case.get("events", ())):
        assert index < len(actual), f"event {index} missing: {expected}; got {actual}"
        assert matches(actual[index], expected), f"event {index}: {actual[index]} !~ {expected}"


def test_cmap_spec(cmap_case: dict[str, Any], run_virtual: Any, fakes: Any) -> None:
    async def main() -> tuple[list[PoolEvent], BaseException | None]:
        runner = Runner(cmap_case, fakes)
        error = await runner.run(cmap_case["operations"])
        return runner.events, error

    events, error = run_virtual(main())
    check(cmap_case, events, error)


def test_matches_follows_the_runner_rules() -> None:
    assert matches({"a": 1, "b": [1, 2]}, {"a": 42, "b": [1]})
    assert not matches({"a": None}, {"a": 42})
    assert not matches({}, {"a": 1})
    assert not matches([1], [1, 2])
    assert not matches(1, True)
    assert not matches({"reason": "stale"}, {"reason": "idle"})
    assert matches(CheckOutFailedReason.TIMEOUT.value, "timeout")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("maxPoolSize", "max_pool_size"), ("waitQueueTimeoutMS", "wait_queue_timeout_ms")],
)
def test_pool_option_names(name: str, expected: str) -> None:
    assert snake(name) == expected
