"""One connection's request pipeline: answers in request order however the
bytes arrive, a command that waits holding back the ones behind it, flow
control when the client does not read, and the connection's end in every
case (a reply that does not encode, a close signal, a TLS handshake that
never finishes, the client leaving while a command waits)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import pytest
import pytest_asyncio
import trustme

from fakemongo import FakeMongo
from fakemongo import _connection as connection_module
from fakemongo._connection import Connection, _CloseConnection
from fakemongo._dispatch import COMMANDS, CommandSpec, Context
from fakemongo._errors import CommandError, ErrorCode
from mongotor.wire import Framer, OpMsg, encode_op_msg

_HEADER = struct.Struct("<iiii")


def _request(request_id: int, name: str, **fields: Any) -> bytes:
    return encode_op_msg(request_id, {name: 1, **fields, "$db": "admin"})


class Client:
    """A raw client connection that reads whole replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def reply(self) -> tuple[int, dict[str, Any]]:
        """The next reply: (responseTo, body)."""
        header = await asyncio.wait_for(self.reader.readexactly(16), 10)
        rest = await asyncio.wait_for(self.reader.readexactly(_HEADER.unpack(header)[0] - 16), 10)
        framer = Framer()
        framer.feed(header + rest)
        message = framer.next_message()
        assert isinstance(message, OpMsg)
        return message.response_to, dict(message.body)  # type: ignore[arg-type]

    async def closed_by_server(self) -> bool:
        try:
            return await asyncio.wait_for(self.reader.read(1), 10) == b""
        except ConnectionResetError:
            return True


@pytest_asyncio.fixture
async def client(server: FakeMongo) -> AsyncIterator[Client]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    yield Client(reader, writer)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


@pytest_asyncio.fixture
async def slow_reader(server: FakeMongo) -> AsyncIterator[Client]:
    """A client with a small receive buffer: large replies back up in the
    server's transport instead of in the kernel."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (server.host, server.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    yield Client(reader, writer)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Any], None]:
    """Register a test-only command for this test."""

    def add(name: str, handler: Any) -> None:
        monkeypatch.setitem(COMMANDS, name, CommandSpec(name, handler, requires_auth=False))

    return add


class Gate:
    """A command that waits until the test opens the gate: ``wait`` records
    its start and end in ``events``, and so does ``note``, which does not wait."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.started = asyncio.Event()
        self.open = asyncio.Event()
        self.cancelled = asyncio.Event()

    def wait(self, ctx: Context, body: dict[str, Any]) -> Awaitable[dict[str, Any]]:
        self.events.append("wait started")
        self.started.set()
        return self._finish(body)

    async def _finish(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            await self.open.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        self.events.append("wait finished")
        reply: dict[str, Any] = {"waited": True}
        if "big" in body:
            reply["data"] = "x" * body["big"]
        return reply

    def note(self, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
        self.events.append(f"note {body['note']}")
        return {}


@pytest.fixture
def gate(register: Callable[[str, Any], None]) -> Gate:
    g = Gate()
    register("wait", g.wait)
    register("note", g.note)
    return g


def _the_connection(server: FakeMongo) -> Connection:
    [connection] = server._connections
    return connection


# ---------------------------------------------------------------- order


@pytest.mark.asyncio
async def test_pipelined_requests_in_one_chunk_are_answered_in_order(client: Client) -> None:
    client.writer.write(b"".join(_request(i, "ping") for i in range(1, 51)))
    replies = [await client.reply() for _ in range(50)]
    assert replies == [(i, {"ok": 1.0}) for i in range(1, 51)]


@pytest.mark.asyncio
async def test_requests_split_anywhere_are_answered(client: Client) -> None:
    data = b"".join(_request(i, "ping") for i in range(1, 4))
    for start in range(0, len(data), 7):  # chunks that cut headers and bodies
        client.writer.write(data[start : start + 7])
        await client.writer.drain()
    assert [await client.reply() for _ in range(3)] == [(i, {"ok": 1.0}) for i in (1, 2, 3)]


@pytest.mark.asyncio
async def test_a_waiting_command_holds_back_the_requests_behind_it(
    server: FakeMongo, client: Client, gate: Gate
) -> None:
    # mongod answers a connection's requests one at a time, in order: those
    # sent behind a command that waits (an awaitData getMore, say) run after it.
    client.writer.write(
        _request(1, "note", note=1) + _request(2, "wait") + _request(3, "note", note=3)
    )
    await asyncio.wait_for(gate.started.wait(), 10)
    assert await client.reply() == (1, {"ok": 1.0})
    assert gate.events == ["note 1", "wait started"]
    # Bytes that reach the connection while the command waits (with TLS,
    # those decrypted along with the end of the handshake) wait too.
    _the_connection(server).data_received(_request(4, "note", note=4))
    assert gate.events == ["note 1", "wait started"]
    gate.open.set()
    assert await client.reply() == (2, {"waited": True, "ok": 1.0})
    assert await client.reply() == (3, {"ok": 1.0})
    assert await client.reply() == (4, {"ok": 1.0})
    assert gate.events == ["note 1", "wait started", "wait finished", "note 3", "note 4"]
    # The connection reads again.
    client.writer.write(_request(5, "ping"))
    assert await client.reply() == (5, {"ok": 1.0})


@pytest.mark.asyncio
async def test_a_waiting_command_gets_the_error_of_what_it_awaited(
    client: Client, register: Callable[[str, Any], None]
) -> None:
    async def fail_later(future: asyncio.Future[None]) -> dict[str, Any]:
        await future
        return {}  # pragma: no cover - the future fails

    def handler(ctx: Context, body: dict[str, Any]) -> Awaitable[dict[str, Any]]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(
            future.set_exception, CommandError(ErrorCode.BadValue, "failed while waiting")
        )
        return fail_later(future)

    register("failLater", handler)
    client.writer.write(_request(1, "failLater") + _request(2, "ping"))
    assert await client.reply() == (
        1,
        {"ok": 0.0, "errmsg": "failed while waiting", "code": 2, "codeName": "BadValue"},
    )
    assert await client.reply() == (2, {"ok": 1.0})


@pytest.mark.asyncio
async def test_what_a_command_awaits_starts_inside_a_task(
    client: Client, register: Callable[[str, Any], None]
) -> None:
    # The connection runs a command's first step outside any task; what a
    # handler returns to await must still find itself in one (asyncio.timeout
    # refuses to run anywhere else), as an awaitData getMore's does.
    async def bounded() -> dict[str, Any]:
        async with asyncio.timeout(10):
            await asyncio.sleep(0)
            task = asyncio.current_task()
        return {"inTask": task is not None}

    register("bounded", lambda ctx, body: bounded())
    client.writer.write(_request(1, "bounded") + _request(2, "ping"))
    assert await client.reply() == (1, {"inTask": True, "ok": 1.0})
    assert await client.reply() == (2, {"ok": 1.0})


@pytest.mark.asyncio
async def test_an_unacknowledged_waiting_command_gets_no_reply(client: Client, gate: Gate) -> None:
    # moreToCome: the client reads no reply, even from a command that waited.
    client.writer.write(
        encode_op_msg(1, {"wait": 1, "$db": "admin"}, flags=2) + _request(2, "note", note=2)
    )
    await asyncio.wait_for(gate.started.wait(), 10)
    gate.open.set()
    assert await client.reply() == (2, {"ok": 1.0})
    assert gate.events == ["wait started", "wait finished", "note 2"]


# ---------------------------------------------------------------- flow control


@pytest.mark.asyncio
async def test_a_client_that_does_not_read_stops_the_reading_of_its_requests(
    slow_reader: Client, gate: Gate
) -> None:
    client = slow_reader
    # Replies far larger than the socket buffers: the connection stops reading
    # requests while replies wait to be sent, and goes on once they are.
    size = 8_000_000
    big = [encode_op_msg(i, {"wait": 1, "big": size, "$db": "admin"}) for i in (1, 2)]
    client.writer.write(big[0] + big[1] + _request(3, "note", note=3))
    await asyncio.wait_for(gate.started.wait(), 10)
    gate.open.set()  # the first reply is sent from the task the wait needed
    for request_id in (1, 2):
        response_to, body = await client.reply()
        assert (response_to, len(body["data"])) == (request_id, size)
    assert await client.reply() == (3, {"ok": 1.0})
    assert gate.events == [
        "wait started",
        "wait finished",
        "wait started",
        "wait finished",
        "note 3",
    ]


@pytest.mark.asyncio
async def test_pipelined_large_replies_are_all_sent(
    slow_reader: Client, register: Callable[[str, Any], None]
) -> None:
    client = slow_reader
    size = 8_000_000
    register("big", lambda ctx, body: {"data": "y" * size})
    client.writer.write(b"".join(_request(i, "big") for i in (1, 2, 3)) + _request(4, "ping"))
    for request_id in (1, 2, 3):
        response_to, body = await client.reply()
        assert (response_to, len(body["data"])) == (request_id, size)
    assert await client.reply() == (4, {"ok": 1.0})


# ---------------------------------------------------------------- the end


@pytest.mark.asyncio
async def test_a_client_leaving_while_its_command_waits_cancels_the_command(
    server: FakeMongo, client: Client, gate: Gate
) -> None:
    # A streaming hello or an awaitData getMore need not run out its time
    # for a client that has gone.
    client.writer.write(_request(1, "wait"))
    await asyncio.wait_for(gate.started.wait(), 10)
    client.writer.close()
    await asyncio.wait_for(gate.cancelled.wait(), 10)
    await asyncio.wait_for(server.wait_connections_closed(), 10)
    assert server.statistics()["connections"] == 0
    assert gate.events == ["wait started"]


@pytest.mark.asyncio
async def test_reading_ahead_behind_a_waiting_command_is_bounded(
    server: FakeMongo, client: Client, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection_module, "_READ_AHEAD", 1000)
    paused = asyncio.Event()
    pause_reading = Connection._pause_reading

    def record(self: Connection) -> None:
        pause_reading(self)
        paused.set()

    monkeypatch.setattr(Connection, "_pause_reading", record)
    client.writer.write(_request(1, "wait"))
    await asyncio.wait_for(gate.started.wait(), 10)
    # Far more than the read-ahead behind it: the connection stops reading
    # (the rest waits in the socket buffers) and reads on after the command.
    notes = [_request(i, "note", note=i, pad="p" * 500) for i in range(2, 202)]
    client.writer.write(b"".join(notes))
    await asyncio.wait_for(paused.wait(), 10)
    gate.open.set()
    assert await client.reply() == (1, {"waited": True, "ok": 1.0})
    assert [await client.reply() for _ in notes] == [(i, {"ok": 1.0}) for i in range(2, 202)]
    assert gate.events == ["wait started", "wait finished"] + [f"note {i}" for i in range(2, 202)]


@pytest.mark.asyncio
async def test_stop_cancels_a_waiting_command(
    server: FakeMongo, client: Client, gate: Gate
) -> None:
    client.writer.write(_request(1, "wait"))
    await asyncio.wait_for(gate.started.wait(), 10)
    await server.stop()
    assert gate.cancelled.is_set()
    assert await client.closed_by_server()


async def _arrive_then_abort(connection: Connection, request: bytes) -> asyncio.Task[None]:
    """Deliver ``request`` as the loop does (in a callback, outside any
    task), then abort the connection as stop() does, in the same loop turn:
    before the task of the command that waits has taken its first step."""
    loop = asyncio.get_running_loop()
    started: asyncio.Future[asyncio.Task[None]] = loop.create_future()

    def arrive_and_abort() -> None:
        connection.data_received(request)
        task = connection._task
        assert task is not None
        connection.abort()
        started.set_result(task)

    loop.call_soon(arrive_and_abort)
    return await started


@pytest.mark.asyncio
@pytest.mark.parametrize("returns", ["coroutine", "future"])
async def test_stop_in_the_turn_a_waiting_command_arrives(
    server: FakeMongo, client: Client, register: Callable[[str, Any], None], returns: str
) -> None:
    # A replica set member killed under load: a request that must wait (a
    # w: "majority" write) arrives in the same loop turn as stop(), whose
    # abort() cancels the command's task before its first step. The
    # connection must still report closed, or stop() would wait forever,
    # and what the handler returned must not be left unawaited.
    loop = asyncio.get_running_loop()
    awaited: list[Any] = []

    async def wait_for(future: asyncio.Future[dict[str, Any]]) -> dict[str, Any]:
        return await future  # pragma: no cover - the server stops first

    def handler(ctx: Context, body: dict[str, Any]) -> Awaitable[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        awaited.append(wait_for(future) if returns == "coroutine" else future)
        return awaited[-1]  # type: ignore[no-any-return]

    register("hang", handler)
    client.writer.write(_request(1, "ping"))
    assert await client.reply() == (1, {"ok": 1.0})
    connection = _the_connection(server)
    task = await _arrive_then_abort(connection, _request(2, "hang"))
    async with asyncio.timeout(10):
        await server.stop()
    assert connection.closed.done()
    assert task.cancelled()
    assert server.statistics()["connections"] == 0
    if returns == "coroutine":
        assert inspect.getcoroutinestate(awaited[0]) == inspect.CORO_CLOSED
    assert await client.closed_by_server()


@pytest.mark.asyncio
@pytest.mark.parametrize("waits", [False, True])
async def test_a_reply_that_does_not_encode_ends_only_that_connection(
    server: FakeMongo,
    client: Client,
    register: Callable[[str, Any], None],
    caplog: pytest.LogCaptureFixture,
    waits: bool,
) -> None:
    async def later() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"unencodable": object()}

    register("broken", lambda ctx, body: later() if waits else {"unencodable": object()})
    with caplog.at_level(logging.ERROR, logger="fakemongo.connection"):
        client.writer.write(_request(1, "broken"))
        assert await client.closed_by_server()
    assert "internal error answering a request" in caplog.text
    reader, writer = await asyncio.open_connection(server.host, server.port)
    other = Client(reader, writer)
    writer.write(_request(2, "ping"))
    assert await other.reply() == (2, {"ok": 1.0})
    writer.close()
    await writer.wait_closed()


@pytest.mark.asyncio
async def test_a_command_that_waits_can_close_the_connection(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A fail point's blockConnection then closeConnection: the dispatcher
    # raises the close signal after waiting; the client gets no reply.
    async def waits_then_closes() -> dict[str, Any]:
        await asyncio.sleep(0)
        raise _CloseConnection("closeConnection after a wait")

    def dispatch(ctx: Context, body: dict[str, Any]) -> Coroutine[Any, Any, dict[str, Any]]:
        return waits_then_closes()

    monkeypatch.setattr(connection_module, "dispatch", dispatch)
    with caplog.at_level(logging.INFO, logger="fakemongo.connection"):
        client.writer.write(_request(1, "ping"))
        assert await client.closed_by_server()
    assert "closeConnection after a wait" in caplog.text


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tls") / "server.pem"
    trustme.CA().issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path)


@pytest.mark.asyncio
async def test_stop_closes_a_connection_in_its_tls_handshake(
    tls_cert: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = asyncio.Event()
    connection_made = Connection.connection_made

    def record(self: Connection, transport: asyncio.BaseTransport) -> None:
        connection_made(self, transport)
        made.set()

    monkeypatch.setattr(Connection, "connection_made", record)
    server = FakeMongo(tls_certfile=tls_cert)
    await server.start()
    try:
        # A client that connects and never says hello: the handshake waits.
        reader, writer = await asyncio.open_connection(server.host, server.port)
        await asyncio.wait_for(made.wait(), 10)
        [connection] = server._connections
    finally:
        await server.stop()
    assert connection.closed.done()
    assert server.statistics()["total_connections"] == 0  # never served
    assert await Client(reader, writer).closed_by_server()
    writer.close()


@pytest.mark.asyncio
async def test_stop_in_the_turn_a_tls_client_connects(
    tls_cert: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The connection's abort() (what stop() does to each connection) comes
    # before its TLS handshake's task has run at all: the socket still closes
    # and the connection still reports closed, so stop() returns.
    aborted: list[Connection] = []
    connection_made = Connection.connection_made

    def abort_at_once(self: Connection, transport: asyncio.BaseTransport) -> None:
        connection_made(self, transport)
        self.abort()
        aborted.append(self)

    monkeypatch.setattr(Connection, "connection_made", abort_at_once)
    server = FakeMongo(tls_certfile=tls_cert)
    await server.start()
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        assert await Client(reader, writer).closed_by_server()
        [connection] = aborted
        async with asyncio.timeout(10):
            await connection.closed
    finally:
        async with asyncio.timeout(10):
            await server.stop()
    assert server.statistics()["connections"] == 0
    writer.close()


@pytest.mark.asyncio
async def test_stop_in_the_turn_a_waiting_command_arrives_over_tls(
    tls_cert: str, register: Callable[[str, Any], None]
) -> None:
    # As test_stop_in_the_turn_a_waiting_command_arrives, through TLS: the
    # client's connection_lost() comes a loop turn later (through the TLS
    # layer), after the command's task has ended.
    loop = asyncio.get_running_loop()
    register("hang", lambda ctx, body: loop.create_future())
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    server = FakeMongo(tls_certfile=tls_cert)
    await server.start()
    reader, writer = await asyncio.open_connection(server.host, server.port, ssl=context)
    try:
        client = Client(reader, writer)
        writer.write(_request(1, "ping"))
        assert await client.reply() == (1, {"ok": 1.0})
        connection = _the_connection(server)
        task = await _arrive_then_abort(connection, _request(2, "hang"))
    finally:
        async with asyncio.timeout(10):
            await server.stop()
    assert connection.closed.done()
    assert task.cancelled()
    assert server.statistics()["connections"] == 0
    writer.close()


@pytest.mark.asyncio
async def test_tls_requests_sent_with_the_handshake_are_answered(tls_cert: str) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    async with FakeMongo(tls_certfile=tls_cert) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port, ssl=context)
        client = Client(reader, writer)
        writer.write(b"".join(_request(i, "ping") for i in (1, 2, 3)))
        assert [await client.reply() for _ in range(3)] == [(i, {"ok": 1.0}) for i in (1, 2, 3)]
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()
