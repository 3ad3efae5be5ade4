"""The server monitor on real sockets: fakemongo for the polling and the
awaitable-hello protocols, and a scripted wire server for what fakemongo does
not do (exhaust streaming, failing hellos, servers without ``helloOk``).
Tests wait on heartbeat events, never on the clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio
from bson import ObjectId

from fakemongo import FakeMongo
from mongotor.pool import (
    CommandError,
    Connection,
    ConnectionSettings,
    Monitor,
    MonitorSettings,
    NetworkError,
    RoundTripTimes,
    ServerDescription,
    ServerHeartbeatFailed,
    ServerHeartbeatStarted,
    ServerHeartbeatSucceeded,
    ServerMonitoringMode,
    ServerType,
    faas_platform,
    parse_uri,
)
from mongotor.wire import OpMsgFlags

FAST = {"min_heartbeat_frequency_ms": 5, "connect_timeout_ms": 2000}


class Reports:
    """The report callback: keeps (description, error) and lets a test wait."""

    def __init__(self) -> None:
        self.items: list[tuple[ServerDescription, BaseException | None]] = []
        self._arrived = asyncio.Event()

    def __call__(self, description: ServerDescription, error: BaseException | None) -> None:
        self.items.append((description, error))
        self._arrived.set()

    async def count(self, n: int, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while len(self.items) < n:
                self._arrived.clear()
                await self._arrived.wait()


def make(address: str, sdam: ModuleType, **settings: Any) -> tuple[Monitor, Reports, Any]:
    reports, log = Reports(), sdam.EventLog()
    monitor = Monitor(
        address,
        ConnectionSettings(),
        MonitorSettings(**{**FAST, **settings}),
        report=reports,
        listeners=[log],
    )
    return monitor, reports, log


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeMongo]:
    async with FakeMongo() as running:
        yield running


@pytest.mark.asyncio
async def test_polling(server: FakeMongo, sdam: ModuleType) -> None:
    monitor, reports, log = make(
        server.address, sdam, heartbeat_frequency_ms=60_000, mode="poll", connect_timeout_ms=None
    )
    assert repr(monitor).startswith(f"<Monitor {server.address} not started polling")
    monitor.start()
    monitor.start()  # idempotent
    await reports.count(1)
    first, error = reports.items[0]
    assert error is None
    assert first.type is ServerType.STANDALONE
    assert first.min_round_trip_time_ms == 0.0  # fewer than two samples
    # The next check would be a minute away: a requested one comes at once.
    monitor.request_check()
    await reports.count(2)
    second, _ = reports.items[1]
    assert second.round_trip_time_ms is not None
    assert first.round_trip_time_ms is not None
    assert second.min_round_trip_time_ms > 0
    started = log.of(ServerHeartbeatStarted)
    succeeded = log.of(ServerHeartbeatSucceeded)
    assert [e.awaited for e in started] == [False, False]
    assert [e.awaited for e in succeeded] == [False, False]
    assert succeeded[1].reply["isWritablePrimary"] is True  # "hello", after helloOk
    assert "waiting polling checks=2" in repr(monitor)
    await monitor.close()
    await monitor.close()
    assert "closed" in repr(monitor)
    monitor.start()  # no-op once closed
    assert len(reports.items) == 2
    never_started, _, _ = make(server.address, sdam)
    await never_started.close()
    assert "closed" in repr(never_started)


@pytest.mark.asyncio
async def test_requests_during_a_check_are_ignored_and_checks_are_spaced(
    server: FakeMongo, sdam: ModuleType
) -> None:
    reports, log = Reports(), sdam.EventLog()
    started: list[float] = []

    def request_during_check(event: Any) -> None:
        if isinstance(event, ServerHeartbeatStarted):
            started.append(asyncio.get_running_loop().time())
            monitor.request_check()

    monitor = Monitor(
        server.address,
        ConnectionSettings(),
        MonitorSettings(heartbeat_frequency_ms=60_000, min_heartbeat_frequency_ms=200, mode="poll"),
        report=reports,
        listeners=[request_during_check, log],
    )
    monitor.start()
    await reports.count(1)
    # The request made while checking was ignored: nothing wakes the monitor.
    assert not monitor._wake.is_set()
    monitor.request_check()
    await reports.count(2)
    # "minHeartbeatFrequencyMS": the requested check waited out the floor.
    assert started[1] - started[0] >= 0.2
    await monitor.close()


@pytest.mark.asyncio
async def test_streaming_with_awaitable_hello(
    server: FakeMongo, sdam: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []
    original = Connection.command

    async def command(self: Connection, db: str, body: Any, **options: Any) -> Any:
        calls.append((dict(body), options))
        return await original(self, db, body, **options)

    monkeypatch.setattr(Connection, "command", command)
    monitor, reports, log = make(server.address, sdam, heartbeat_frequency_ms=100, mode="stream")
    monitor.start()
    await reports.count(4)
    await monitor.close()
    awaited = [e.awaited for e in log.of(ServerHeartbeatStarted)]
    assert awaited[:3] == [False, True, True]  # the handshake, then awaitable hellos
    streaming = [(body, options) for body, options in calls if "topologyVersion" in body]
    body, options = streaming[0]
    assert body["maxAwaitTimeMS"] == 100
    assert body["topologyVersion"]["counter"] == 0
    assert options["exhaust_allowed"] is True
    # The RTT monitor measures on its own connection with plain hellos.
    assert any(set(body) == {"hello"} for body, _ in calls)
    assert all(description.type is ServerType.STANDALONE for description, _ in reports.items)
    assert "streaming" in repr(monitor)


@pytest.mark.asyncio
async def test_exhaust_replies_are_read_without_asking(sdam: ModuleType) -> None:
    process = ObjectId()
    awaitables = 0

    def script(body: dict[str, Any], n: int) -> list[tuple[dict[str, Any], bool]] | None:
        nonlocal awaitables
        reply = sdam.hello_reply(
            isWritablePrimary=True, helloOk=True, topologyVersion=sdam.topology_version(process)
        )
        if "topologyVersion" not in body:
            return [(reply, False)]
        awaitables += 1
        if awaitables == 1:  # stream two replies for one request
            return [(reply, True), (reply, False)]
        if awaitables == 2:
            return [(reply, False)]
        return []  # hold the third: the monitor waits, streaming

    async with sdam.ScriptedServer(script) as scripted:
        monitor, reports, log = make(
            scripted.address, sdam, heartbeat_frequency_ms=10_000, mode="stream"
        )
        monitor.start()
        await reports.count(4)
        await log.wait_for(lambda events: len(log.of(ServerHeartbeatStarted)) >= 5)
        await monitor.close()
    hellos = [(body, flags) for body, flags in scripted.requests if "topologyVersion" in body]
    # Four reports from three requests: the second streamed reply came unasked.
    assert len(hellos) == 3
    assert all(flags & OpMsgFlags.EXHAUST_ALLOWED for _, flags in hellos)
    assert [e.awaited for e in log.of(ServerHeartbeatSucceeded)][:4] == [False, True, True, True]


@pytest.mark.asyncio
async def test_a_failing_hello_is_reported_then_checked_again(sdam: ModuleType) -> None:
    def script(body: dict[str, Any], n: int) -> list[tuple[dict[str, Any], bool]] | None:
        if n == 0:
            return [(sdam.hello_reply(ismaster=True), False)]  # no helloOk: legacy hello
        return [({"ok": 0, "errmsg": "not now", "code": 91}, False)]

    async with sdam.ScriptedServer(script) as scripted:
        monitor, reports, log = make(scripted.address, sdam, heartbeat_frequency_ms=60_000)
        monitor.start()
        await reports.count(1)
        monitor.request_check()
        await reports.count(2)
        description, error = reports.items[1]
        assert isinstance(error, CommandError)
        assert description.type is ServerType.UNKNOWN
        assert description.error == "command error: not now (code 91)"
        failed = log.of(ServerHeartbeatFailed)
        assert failed[0].error is error
        # A command error is not retried at once: the next check waits for a request.
        monitor.request_check()
        await reports.count(3)
        assert scripted.connections == 2  # a failed check closes its connection
        await monitor.close()
    # Without helloOk the monitor keeps to the legacy hello, and never streams.
    assert [next(iter(body)) for body, _ in scripted.requests][1] == "isMaster"
    assert "polling" in repr(monitor)


@pytest.mark.asyncio
async def test_network_errors_retry_at_once_when_the_server_was_known(
    sdam: ModuleType,
) -> None:
    server = await FakeMongo().start()
    monitor, reports, _ = make(server.address, sdam, heartbeat_frequency_ms=60_000, mode="poll")
    monitor.start()
    await reports.count(1)
    await server.stop()
    monitor.request_check()
    # The check fails on the dead connection; being known, the server is
    # retried at once (no request, no heartbeat), and fails to connect.
    await reports.count(3)
    (_, closed), (_, refused) = reports.items[1:]
    assert isinstance(closed, NetworkError)
    assert isinstance(refused, NetworkError)
    assert reports.items[2][0].error is not None
    assert reports.items[2][0].error.startswith("network error: cannot connect")
    restarted = await FakeMongo(port=server.port).start()
    try:
        monitor.request_check()
        await reports.count(4)
        assert reports.items[3][0].type is ServerType.STANDALONE
    finally:
        await monitor.close()
        await restarted.stop()


@pytest.mark.asyncio
async def test_cancel_check_reports_nothing(server: FakeMongo, sdam: ModuleType) -> None:
    monitor, reports, log = make(server.address, sdam, heartbeat_frequency_ms=5_000, mode="stream")
    monitor.cancel_check()  # nothing in progress: nothing to cancel
    monitor.start()
    await reports.count(1)
    await log.wait_for(lambda events: any(getattr(e, "awaited", False) for e in events))
    failed_at = len(log.events)
    monitor.cancel_check()  # the awaitable hello in progress
    failure = await log.next(ServerHeartbeatFailed, after=failed_at)
    assert "cancelled" in str(failure.error)
    assert len(reports.items) == 1
    # The monitor waits, then (asked) checks on a new connection.
    monitor.request_check()
    await reports.count(2)
    assert reports.items[1][1] is None
    await monitor.close()


@pytest.mark.asyncio
async def test_a_failing_report_is_logged(
    server: FakeMongo, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = asyncio.Event(), asyncio.Event()

    def report(description: ServerDescription, error: BaseException | None) -> None:
        if not first.is_set():
            first.set()
            raise RuntimeError("listener bug")
        second.set()

    monitor = Monitor(
        server.address,
        ConnectionSettings(),
        MonitorSettings(**FAST, heartbeat_frequency_ms=60_000, mode="poll"),
        report=report,
    )
    with caplog.at_level(logging.ERROR, logger="mongotor.pool._monitor"):
        monitor.start()
        async with asyncio.timeout(10):
            await first.wait()
            monitor.request_check()  # the monitor lives on
            await second.wait()
    await monitor.close()
    assert "reporting the check of" in caplog.text


class Counted(logging.Handler):
    """Counts the log records containing ``text``; a test can wait for them."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.count = 0
        self.arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.count += 1
            self.arrived.set()

    async def at_least(self, n: int) -> None:
        async with asyncio.timeout(10):
            while self.count < n:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.mark.asyncio
async def test_the_rtt_monitor_survives_errors(sdam: ModuleType) -> None:
    server = await FakeMongo().start()
    monitor, reports, _ = make(server.address, sdam, heartbeat_frequency_ms=50, mode="stream")
    rtt_failures = Counted("RTT check of")
    logger = logging.getLogger("mongotor.pool._monitor")
    logger.addHandler(rtt_failures)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    monitor.start()
    await reports.count(3)
    rtt = monitor._rtt_monitor
    assert rtt is not None
    await server.stop()
    # Both the monitor and the RTT task fail to reach the server and keep trying:
    # the RTT task's hello fails, then its reconnections.
    try:
        await rtt_failures.at_least(2)
    finally:
        logger.removeHandler(rtt_failures)
        logger.setLevel(level)
    restarted = await FakeMongo(port=server.port).start()
    try:
        count = len(reports.items)
        monitor.request_check()
        await reports.count(count + 2)
        assert reports.items[-1][0].type is ServerType.STANDALONE
    finally:
        await monitor.close()
        await restarted.stop()


def test_faas_detection() -> None:
    assert faas_platform({}) is None
    assert faas_platform({"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}) == "aws.lambda"
    assert faas_platform({"AWS_EXECUTION_ENV": "EC2"}) is None
    assert faas_platform({"AWS_LAMBDA_RUNTIME_API": "x"}) == "aws.lambda"
    assert faas_platform({"FUNCTIONS_WORKER_RUNTIME": "python"}) == "azure.func"
    assert faas_platform({"K_SERVICE": "s"}) == "gcp.func"
    assert faas_platform({"FUNCTION_NAME": "f"}) == "gcp.func"
    assert faas_platform({"VERCEL": "1", "AWS_LAMBDA_RUNTIME_API": "x"}) == "vercel"
    assert faas_platform({"VERCEL": "1", "K_SERVICE": "s"}) is None
    assert faas_platform() is None  # this test process is no FaaS


def test_monitor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MonitorSettings().streaming_enabled
    assert not MonitorSettings(mode=ServerMonitoringMode.POLL).streaming_enabled
    assert MonitorSettings(mode=ServerMonitoringMode.STREAM).streaming_enabled
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "x")
    assert not MonitorSettings().streaming_enabled  # auto: poll on FaaS
    assert MonitorSettings(mode=ServerMonitoringMode.STREAM).streaming_enabled
    with pytest.raises(ValueError, match="min_heartbeat_frequency_ms must be at least 1"):
        MonitorSettings(min_heartbeat_frequency_ms=0)
    settings = MonitorSettings.from_options(parse_uri("mongodb://a/"))
    assert settings == MonitorSettings()
    settings = MonitorSettings.from_options(
        parse_uri("mongodb://a/?connectTimeoutMS=0&heartbeatFrequencyMS=600")
    )
    assert settings.connect_timeout_ms is None
    assert settings.heartbeat_frequency_ms == 600


def test_round_trip_times() -> None:
    times = RoundTripTimes()
    assert times.average is None
    assert times.minimum == 0.0
    times.add(10.0)
    assert times.average == 10.0
    assert times.minimum == 0.0  # fewer than two samples
    times.add(20.0)
    assert times.average == pytest.approx(12.0)
    assert times.minimum == 10.0
    for sample in range(11, 21):
        times.add(float(sample))
    assert times.minimum == 11.0  # only the last 10 samples count
    times.reset()
    assert times.average is None
    assert times.minimum == 0.0
