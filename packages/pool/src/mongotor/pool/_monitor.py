"""One monitor per server: the heartbeat task of SDAM's Server Monitoring spec.

A :class:`Monitor` checks its server with ``hello`` on a dedicated,
unauthenticated connection (server-monitoring.md, "Servers are monitored with
dedicated sockets") and reports each outcome, a :class:`ServerDescription` and
the error if the check failed, to the topology, which decides what it means.

- The first check on a new connection is the handshake ("Clients update the
  topology from each handshake").
- Polling protocol: a check, then a sleep of ``heartbeatFrequencyMS``, cut
  short by :meth:`Monitor.request_check` but never below
  ``minHeartbeatFrequencyMS`` since the previous check ended.
- Streaming protocol (a server whose replies carry ``topologyVersion``, unless
  ``serverMonitoringMode`` is ``poll``, or ``auto`` on a FaaS platform): an
  awaitable hello with ``topologyVersion``, ``maxAwaitTimeMS`` =
  ``heartbeatFrequencyMS`` and OP_MSG's exhaustAllowed flag; each reply is
  processed, and the next check begins at once (reading the next streamed reply
  when the server set moreToCome). A second connection then measures the round
  trip time every ``heartbeatFrequencyMS`` ("Measuring RTT").
- Errors ("Network or command error during server check"): the connection is
  closed, the RTT samples dropped, and the failure reported (the topology marks
  the server Unknown and clears its pool). After a network error on a server
  that was known, the next check runs at once.
- :meth:`Monitor.cancel_check` aborts a check in progress (SDAM "Network error
  when reading or writing"); its outcome is not reported.

Heartbeat events go to the listeners (see ``_sdam_events``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from bson import Int64

from ._connect import open_connection
from ._connection import Connection
from ._connection_errors import NetworkError, as_application_error
from ._hello import parse_hello
from ._options import ConnectionOptions, ServerMonitoringMode
from ._sdam_events import (
    ServerHeartbeatFailed,
    ServerHeartbeatStarted,
    ServerHeartbeatSucceeded,
    TopologyListener,
    emit,
)
from ._server_description import (
    ServerDescription,
    TopologyVersion,
    average_round_trip_time,
    unknown_server,
)
from ._settings import DEFAULT_CONNECT_TIMEOUT_MS, ConnectionSettings
from ._topology_description import DEFAULT_HEARTBEAT_FREQUENCY_MS, MIN_HEARTBEAT_FREQUENCY_MS

__all__ = [
    "DEFAULT_RESCAN_SRV_INTERVAL_MS",
    "CheckReporter",
    "Monitor",
    "MonitorFactory",
    "MonitorSettings",
    "RoundTripTimes",
    "ServerMonitor",
    "faas_platform",
]

logger = logging.getLogger(__name__)

# Polling SRV Records, "rescanSRVIntervalMS": at least 60 seconds.
DEFAULT_RESCAN_SRV_INTERVAL_MS: Final = 60_000
# server-monitoring.md, "Measuring RTT": the minimum RTT is over the last 10 samples.
_MIN_RTT_SAMPLES: Final = 10


def faas_platform(environ: Mapping[str, str] | None = None) -> str | None:
    """The FaaS platform the process runs on, by the Handshake spec's rules
    ("client.env", "FaaS"), or ``None``: ``"aws.lambda"``, ``"azure.func"``,
    ``"gcp.func"`` or ``"vercel"``. Variables of two platforms mean none, except
    Vercel's with AWS Lambda's (Vercel runs on Lambda)."""
    env = os.environ if environ is None else environ
    found = []
    if env.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_") or env.get(
        "AWS_LAMBDA_RUNTIME_API"
    ):
        found.append("aws.lambda")
    if env.get("FUNCTIONS_WORKER_RUNTIME"):
        found.append("azure.func")
    if env.get("K_SERVICE") or env.get("FUNCTION_NAME"):
        found.append("gcp.func")
    if env.get("VERCEL"):
        found.append("vercel")
    if found == ["aws.lambda", "vercel"]:
        return "vercel"
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    """How servers (and, for ``mongodb+srv://``, DNS) are watched.

    ``heartbeat_frequency_ms``: between checks, and the awaitable hello's
    ``maxAwaitTimeMS``. ``connect_timeout_ms``: bounds connecting and each
    polling hello (``None``: no limit); an awaitable hello gets it plus the
    heartbeat. ``mode``: ``serverMonitoringMode``.
    ``min_heartbeat_frequency_ms`` (500, server-monitoring.md) and
    ``rescan_srv_interval_ms`` (60 s, Polling SRV Records) are the specs'
    floors, not options: only test suites lower them, as the unified test
    format allows. Raises ``ValueError`` for a value below 1 ms or an unknown
    mode.
    """

    heartbeat_frequency_ms: int = DEFAULT_HEARTBEAT_FREQUENCY_MS
    connect_timeout_ms: int | None = DEFAULT_CONNECT_TIMEOUT_MS
    mode: ServerMonitoringMode = ServerMonitoringMode.AUTO
    min_heartbeat_frequency_ms: int = MIN_HEARTBEAT_FREQUENCY_MS
    rescan_srv_interval_ms: int = DEFAULT_RESCAN_SRV_INTERVAL_MS

    def __post_init__(self) -> None:
        # Accept the option's text ("poll") as well as the enumeration.
        object.__setattr__(self, "mode", ServerMonitoringMode(self.mode))
        for name in (
            "heartbeat_frequency_ms",
            "min_heartbeat_frequency_ms",
            "rescan_srv_interval_ms",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    @classmethod
    def from_options(cls, options: ConnectionOptions) -> MonitorSettings:
        """The settings a (resolved) connection string gives, defaults for the rest."""
        return cls(
            heartbeat_frequency_ms=options.heartbeat_frequency_ms or DEFAULT_HEARTBEAT_FREQUENCY_MS,
            connect_timeout_ms=DEFAULT_CONNECT_TIMEOUT_MS
            if options.connect_timeout_ms is None
            else options.connect_timeout_ms or None,
            mode=options.server_monitoring_mode or ServerMonitoringMode.AUTO,
        )

    @property
    def streaming_enabled(self) -> bool:
        """Whether the streaming protocol may be used (server-monitoring.md,
        "Streaming disabled"): mode ``stream``, or ``auto`` outside FaaS."""
        if self.mode is ServerMonitoringMode.AUTO:
            return faas_platform() is None
        return self.mode is ServerMonitoringMode.STREAM


class RoundTripTimes:
    """A server's round trip times: the moving average (Server Selection,
    "Calculation of Average Round Trip Times") and the minimum of the last 10
    samples, 0 until there are two (server-monitoring.md, "Measuring RTT")."""

    def __init__(self) -> None:
        self.average: float | None = None
        self._recent: deque[float] = deque(maxlen=_MIN_RTT_SAMPLES)

    @property
    def minimum(self) -> float:
        """The least recent sample, in milliseconds (0 with fewer than two)."""
        return min(self._recent) if len(self._recent) >= 2 else 0.0

    def add(self, sample_ms: float) -> None:
        """Record one measurement, in milliseconds."""
        self.average = average_round_trip_time(self.average, sample_ms)
        self._recent.append(sample_ms)

    def reset(self) -> None:
        """Forget every sample (after a failed check)."""
        self.average = None
        self._recent.clear()


#: How a monitor reports a check: the new description, and the error if it failed.
CheckReporter = Callable[[ServerDescription, BaseException | None], None]


class ServerMonitor(Protocol):
    """What a topology needs of a server's monitor (:class:`Monitor`, or a test double)."""

    def start(self) -> None: ...

    def request_check(self) -> None: ...

    def cancel_check(self) -> None: ...

    async def close(self) -> None: ...


class MonitorFactory(Protocol):
    """Makes the monitor of the server at ``address`` (the :class:`Monitor`
    constructor is one)."""

    def __call__(
        self,
        address: str,
        settings: ConnectionSettings,
        monitor_settings: MonitorSettings,
        *,
        report: CheckReporter,
        listeners: Iterable[TopologyListener],
    ) -> ServerMonitor: ...


class _CheckCancelled(Exception):
    """The topology cancelled the check in progress: nothing is reported."""


class Monitor:
    """The heartbeat of the server at ``address``.

    ``settings`` are the client's connection settings; the monitor's own
    connections drop the credential (monitors never authenticate) and use
    ``connect_timeout_ms`` as their socket timeout. ``report`` receives each
    check's outcome. :meth:`start` begins monitoring in a task of the running
    loop; :meth:`close` ends it. ``repr()`` tells what the monitor is doing.
    """

    def __init__(
        self,
        address: str,
        settings: ConnectionSettings,
        monitor_settings: MonitorSettings,
        *,
        report: CheckReporter,
        listeners: Iterable[TopologyListener] = (),
    ) -> None:
        self.address = address
        self.settings = monitor_settings
        self._connection_settings = dataclasses.replace(
            settings, credential=None, socket_timeout_ms=monitor_settings.connect_timeout_ms
        )
        self._report = report
        self._listeners = tuple(listeners)
        self._streaming = monitor_settings.streaming_enabled
        self._description = ServerDescription(address)
        self._rtt = RoundTripTimes()
        self._rtt_monitor: _RttMonitor | None = None
        self._connection: Connection | None = None
        self._hello = "isMaster"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._checking = False
        self._cancelled = False
        self._closed = False
        self._last_check_ended = 0.0
        self.checks = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else "checking" if self._checking else "waiting"
        if self._task is None and not self._closed:
            state = "not started"
        protocol = "streaming" if self._rtt_monitor is not None else "polling"
        return (
            f"<Monitor {self.address} {state} {protocol} checks={self.checks} "
            f"server={self._description.type.value}>"
        )

    # -- control -----------------------------------------------------------------

    def start(self) -> None:
        """Begin monitoring (idempotent; a no-op once closed). Needs a running loop."""
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"mongotor-monitor-{self.address}"
            )

    def request_check(self) -> None:
        """Check as soon as allowed (server-monitoring.md, "Requesting an immediate
        check"): ignored while a check is in progress; otherwise the sleep ends,
        but never less than ``min_heartbeat_frequency_ms`` after the last check."""
        if not self._checking:
            self._wake.set()

    def cancel_check(self) -> None:
        """Abort the check in progress and close its connection (SDAM, "Network
        error when reading or writing"); the aborted check reports nothing.
        A connection still being opened is left to finish."""
        if self._checking and self._connection is not None:
            self._cancelled = True
            self._connection.abort(
                NetworkError(f"the check of {self.address} was cancelled", address=self.address)
            )

    async def close(self) -> None:
        """Stop monitoring: cancel the task (interrupting any check, streaming
        reads included) and close the connections. Idempotent."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._close_connection()
        if self._rtt_monitor is not None:
            await self._rtt_monitor.close()

    # -- the loop (server-monitoring.md, "Monitor thread") --------------------------------

    async def _run(self) -> None:
        while True:
            previous = self._description
            try:
                description, error = await self._check(previous)
            except _CheckCancelled:
                await self._wait()
                continue
            self._description = description
            try:
                self._report(description, error)
            except Exception:
                logger.exception("reporting the check of %s failed", self.address)
            streamable = description.is_available and description.topology_version is not None
            if self._streaming and streamable:
                self._start_rtt_monitor()
            streaming_now = self._connection is not None and self._connection.more_to_come
            # "Network or command error during server check", step 4: retry a
            # network error at once if the server was known.
            retry = isinstance(error, NetworkError) and previous.is_available
            if (self._streaming and (streamable or streaming_now)) or retry:
                continue
            await self._wait()

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.settings.heartbeat_frequency_ms / 1000):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()
        # "minHeartbeatFrequencyMS": never sooner than this after the last check.
        floor = self._last_check_ended + self.settings.min_heartbeat_frequency_ms / 1000
        if (remaining := floor - loop.time()) > 0:
            await asyncio.sleep(remaining)

    async def _check(
        self, previous: ServerDescription
    ) -> tuple[ServerDescription, BaseException | None]:
        loop = asyncio.get_running_loop()
        self._checking, self._cancelled = True, False
        self.checks += 1
        connection = self._connection
        awaited = (
            self._streaming
            and connection is not None
            and not connection.closed
            and (connection.more_to_come or previous.topology_version is not None)
        )
        emit(ServerHeartbeatStarted(self.address, awaited), self._listeners)
        started = loop.time()
        try:
            reply, sample_ms = await self._call_hello(previous.topology_version, awaited)
        except Exception as exc:
            duration = loop.time() - started
            emit(ServerHeartbeatFailed(self.address, duration, exc, awaited), self._listeners)
            self._close_connection()
            self._rtt.reset()
            if self._cancelled:
                raise _CheckCancelled from exc
            application = as_application_error(exc)
            reason = application.describe() if application is not None else repr(exc)
            return unknown_server(self.address, error=reason), exc
        finally:
            self._checking = False
            self._last_check_ended = loop.time()
        duration = loop.time() - started
        if sample_ms is not None:
            # "Measuring RTT": from the handshake and polling hellos, never from
            # awaited replies.
            self._rtt.add(sample_ms)
        description = parse_hello(
            self.address,
            reply,
            round_trip_time_ms=self._rtt.average,
            min_round_trip_time_ms=self._rtt.minimum,
            last_update_time_ms=loop.time() * 1000,
        )
        emit(ServerHeartbeatSucceeded(self.address, duration, reply, awaited), self._listeners)
        return description, None

    async def _call_hello(
        self, topology_version: TopologyVersion | None, awaited: bool
    ) -> tuple[Mapping[str, Any], float | None]:
        """One hello: the reply, and the RTT sample it gives (``None`` if awaited)."""
        loop = asyncio.get_running_loop()
        connection = self._connection
        if connection is None or connection.closed:
            connection = await open_connection(self.address, settings=self._connection_settings)
            self._connection = connection
            self._hello = _hello_name(connection)
            assert connection.handshake is not None
            return connection.handshake.reply, _handshake_rtt(connection)
        if awaited:
            # "Socket timeout": connectTimeoutMS + heartbeatFrequencyMS.
            deadline = self._deadline(self.settings.heartbeat_frequency_ms)
            if connection.more_to_come:
                return await connection.next_reply(deadline=deadline, check=True), None
            assert topology_version is not None
            command = {
                self._hello: 1,
                "topologyVersion": {
                    "processId": topology_version.process_id,
                    "counter": Int64(topology_version.counter),
                },
                "maxAwaitTimeMS": Int64(self.settings.heartbeat_frequency_ms),
            }
            reply = await connection.command(
                "admin", command, deadline=deadline, check=True, exhaust_allowed=True
            )
            return reply, None
        sent = loop.time()
        reply = await connection.command(
            "admin", {self._hello: 1}, deadline=self._deadline(0), check=True
        )
        return reply, (loop.time() - sent) * 1000

    def _deadline(self, extra_ms: int) -> float | None:
        timeout_ms = self.settings.connect_timeout_ms
        if not timeout_ms:
            return None
        return asyncio.get_running_loop().time() + (timeout_ms + extra_ms) / 1000

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _start_rtt_monitor(self) -> None:
        if self._rtt_monitor is None:
            self._rtt_monitor = _RttMonitor(
                self.address, self._connection_settings, self.settings, self._rtt
            )
            self._rtt_monitor.start()


def _hello_name(connection: Connection) -> str:
    # server-monitoring.md, "Monitoring": hello once the handshake said helloOk.
    assert connection.handshake is not None
    return "hello" if connection.handshake.hello_ok else "isMaster"


def _handshake_rtt(connection: Connection) -> float:
    # "Measuring RTT": the handshake's hello duration (not the TCP/TLS set-up).
    assert connection.handshake is not None
    sample = connection.handshake.description.round_trip_time_ms
    assert sample is not None  # a handshake that succeeded has a known server
    return sample


class _RttMonitor:
    """The streaming protocol's RTT task (server-monitoring.md, "RTT thread"): a
    hello every heartbeat on its own connection, samples into the monitor's
    :class:`RoundTripTimes`. Its errors only close its connection: they never
    change the topology, and it publishes no events."""

    def __init__(
        self,
        address: str,
        settings: ConnectionSettings,
        monitor_settings: MonitorSettings,
        rtt: RoundTripTimes,
    ) -> None:
        self.address = address
        self._settings = settings
        self._monitor_settings = monitor_settings
        self._rtt = rtt
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"mongotor-rtt-{self.address}"
        )

    async def close(self) -> None:
        assert self._task is not None  # started as soon as made
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        connection: Connection | None = None
        hello = "isMaster"
        timeout_ms = self._monitor_settings.connect_timeout_ms
        try:
            while True:
                try:
                    if connection is None or connection.closed:
                        connection = await open_connection(self.address, settings=self._settings)
                        hello = _hello_name(connection)
                        sample = _handshake_rtt(connection)
                    else:
                        sent = loop.time()
                        deadline = sent + timeout_ms / 1000 if timeout_ms else None
                        await connection.command("admin", {hello: 1}, deadline=deadline, check=True)
                        sample = (loop.time() - sent) * 1000
                    self._rtt.add(sample)
                except Exception as exc:
                    logger.debug("RTT check of %s failed: %s", self.address, exc)
                    if connection is not None:
                        connection.close()
                    connection = None
                await asyncio.sleep(self._monitor_settings.heartbeat_frequency_ms / 1000)
        finally:
            if connection is not None:
                connection.close()
