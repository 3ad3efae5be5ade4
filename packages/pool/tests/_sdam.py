"""Test doubles and tools for the topology shell: an event log a test can wait
on, monitors whose hello replies the test scripts, pools of fake connections,
and a wire-level server whose answers a test scripts (for what fakemongo does
not do: exhaust streaming, failing hellos, servers without ``helloOk``)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from _mongotor_pool_tests__fakes import FakeFactory  # loaded by conftest
from bson import Int64, ObjectId

from mongotor.pool import (
    ConnectionSettings,
    MonitorSettings,
    Pool,
    PoolOptions,
    ServerDescription,
    parse_hello,
    unknown_server,
)
from mongotor.wire import NEED_DATA, Framer, OpMsg, OpMsgFlags, encode_op_msg


class EventLog:
    """A listener that keeps every event, and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._arrived = asyncio.Event()

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        self._arrived.set()

    def of(self, *kinds: type) -> list[Any]:
        return [event for event in self.events if isinstance(event, kinds)]

    def names(self, *kinds: type) -> list[str]:
        return [type(event).__name__ for event in (self.of(*kinds) if kinds else self.events)]

    async def wait_for(
        self, predicate: Callable[[list[Any]], bool], *, within: float = 10.0
    ) -> None:
        """Return once ``predicate(events)`` holds; fail after ``within`` seconds."""
        async with asyncio.timeout(within):
            while not predicate(self.events):
                self._arrived.clear()
                await self._arrived.wait()

    async def next(self, kind: type, *, after: int | None = None, within: float = 10.0) -> Any:
        """The first event of ``kind`` at index ``after`` or later (default: a new one)."""
        start = len(self.events) if after is None else after

        def found(events: list[Any]) -> bool:
            return any(isinstance(event, kind) for event in events[start:])

        await self.wait_for(found, within=within)
        return next(event for event in self.events[start:] if isinstance(event, kind))


class FakeMonitor:
    """A monitor that checks nothing: the test hands it hello replies."""

    def __init__(
        self,
        address: str,
        settings: ConnectionSettings,
        monitor_settings: MonitorSettings,
        *,
        report: Callable[[ServerDescription, BaseException | None], None],
        listeners: Iterable[Any],
    ) -> None:
        self.address = address
        self.settings = settings
        self.monitor_settings = monitor_settings
        self.report = report
        self.started = self.closed = False
        self.requests = self.cancels = 0
        self.clock_ms = 0.0

    def start(self) -> None:
        self.started = True

    def request_check(self) -> None:
        self.requests += 1

    def cancel_check(self) -> None:
        self.cancels += 1

    async def close(self) -> None:
        self.closed = True

    def reply(self, hello: dict[str, Any], *, rtt_ms: float = 1.0) -> ServerDescription:
        """Report a successful check that got ``hello``."""
        self.clock_ms += 1000
        description = parse_hello(
            self.address, hello, round_trip_time_ms=rtt_ms, last_update_time_ms=self.clock_ms
        )
        self.report(description, None)
        return description

    def fail(self, error: BaseException) -> None:
        """Report a failed check."""
        self.report(unknown_server(self.address, error=str(error)), error)


class FakeMonitors:
    """The monitor factory: the latest monitor made for each address."""

    def __init__(self) -> None:
        self.made: list[FakeMonitor] = []

    def __call__(self, address: str, *args: Any, **kwargs: Any) -> FakeMonitor:
        monitor = FakeMonitor(address, *args, **kwargs)
        self.made.append(monitor)
        return monitor

    def __getitem__(self, address: str) -> FakeMonitor:
        return next(m for m in reversed(self.made) if m.address == address)


class FakePools:
    """The pool factory: pools of fake connections, one FakeFactory each."""

    def __init__(self) -> None:
        self.factories: dict[str, FakeFactory] = {}
        self.pools: dict[str, Pool[Any]] = {}

    def __call__(
        self,
        address: str,
        settings: ConnectionSettings,
        options: PoolOptions,
        *,
        listeners: Iterable[Any],
        on_background_error: Callable[[BaseException], object],
    ) -> Pool[Any]:
        factory = self.factories[address] = FakeFactory()
        pool = self.pools[address] = Pool(
            address, factory, options, listeners=listeners, on_background_error=on_background_error
        )
        return pool


def hello_reply(**fields: Any) -> dict[str, Any]:
    """An ``ok: 1`` hello reply of a MongoDB 8.0 server, with ``fields`` added."""
    return {"ok": 1, "minWireVersion": 0, "maxWireVersion": 25, **fields}


def member(name: str, hosts: Iterable[str], **fields: Any) -> dict[str, Any]:
    """A replica set member's hello: ``name`` is its address, ``fields`` say what it is."""
    return hello_reply(setName="rs", hosts=list(hosts), me=name, setVersion=1, **fields)


# A script answers each request: a list of (reply, moreToCome) to send, or None
# to close the connection.
Script = Callable[[dict[str, Any], int], list[tuple[dict[str, Any], bool]] | None]


class ScriptedServer:
    """A TCP server speaking OP_MSG whose replies ``script(request, n)`` decides;
    ``n`` counts the requests on that connection from 0 (0 is the handshake).
    ``requests`` keeps (body, flags) of every request received."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[tuple[dict[str, Any], OpMsgFlags]] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._ids = itertools.count(1000)
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        framer = Framer()
        count = 0
        try:
            while data := await reader.read(65536):
                framer.feed(data)
                while (message := framer.next_message()) is not NEED_DATA:
                    assert isinstance(message, OpMsg)
                    body = dict(message.body)  # type: ignore[call-overload]
                    self.requests.append((body, message.flags))
                    replies = self.script(body, count)
                    count += 1
                    if replies is None:
                        writer.close()
                        return
                    previous = message.request_id
                    for document, more in replies:
                        request_id = next(self._ids)
                        flags = OpMsgFlags.MORE_TO_COME if more else OpMsgFlags.NONE
                        writer.write(
                            encode_op_msg(request_id, document, response_to=previous, flags=flags)
                        )
                        previous = request_id
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def topology_version(process_id: ObjectId, counter: int = 0) -> dict[str, Any]:
    return {"processId": process_id, "counter": Int64(counter)}
