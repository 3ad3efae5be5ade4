"""The connection's receive path: bytes read into the Framer's buffers
(asyncio.BufferedProtocol), replies matched undecoded, and the frame-level round
trip. A fake transport records writes; replies are written through get_buffer /
buffer_updated as a transport reading with recv_into does."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
import pytest_asyncio

from fakemongo import FakeMongo
from mongotor.pool import Connection, NetworkError, NetworkTimeout, open_connection
from mongotor.wire import (
    RECEIVE_BUFFER_SIZE,
    CompressorId,
    OpMsg,
    OpMsgFlags,
    compress_message,
    decode_message,
    encode_op_msg,
)

Run = Callable[[Coroutine[Any, Any, Any]], Any]


class FakeTransport(asyncio.Transport):
    def __init__(self, protocol: Connection) -> None:
        super().__init__()
        self.protocol = protocol
        self.written: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    abort = close


def connect() -> tuple[Connection, FakeTransport]:
    connection = Connection("db:27017", connection_id=3)
    transport = FakeTransport(connection)
    connection.connection_made(transport)
    return connection, transport


def receive(connection: Connection, data: bytes, chunk: int = RECEIVE_BUFFER_SIZE) -> None:
    """What the event loop does with ``data`` arriving: recv_into the buffer the
    protocol gives, then buffer_updated, until all of it is read."""
    pos = 0
    while pos < len(data):
        buffer = connection.get_buffer(-1)
        n = min(len(buffer), chunk, len(data) - pos)
        buffer[:n] = data[pos : pos + n]
        pos += n
        connection.buffer_updated(n)


async def started(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coroutine)
    await asyncio.sleep(0)
    return task


def request_id_of(transport: FakeTransport) -> int:
    return decode_message(transport.written[-1]).request_id


def test_replies_read_into_buffers_small_and_large(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        small = await started(connection.command("app", {"ping": 1}))
        small_reply = encode_op_msg(9, {"ok": 1.0}, response_to=request_id_of(transport))
        large = await started(connection.command("app", {"find": "c"}))
        body = {"ok": 1.0, "pad": "x" * (3 * RECEIVE_BUFFER_SIZE)}
        large_reply = encode_op_msg(10, body, response_to=request_id_of(transport))
        receive(connection, small_reply + large_reply, chunk=50_000)
        assert await small == {"ok": 1.0}
        assert await large == body
        assert not connection.closed

    run_virtual(main())


def test_roundtrip_frame_returns_the_reply_undecoded(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        request = encode_op_msg(41, {"ping": 1, "$db": "admin"})
        task = await started(connection.roundtrip_frame(request, 41))
        assert transport.written == [request]
        reply = encode_op_msg(7, {"ok": 1.0}, response_to=41)
        receive(connection, reply)
        frame = await task
        assert bytes(frame) == reply
        # roundtrip is the same, decoded.
        task = await started(connection.roundtrip(request, 41))
        receive(connection, reply)
        assert await task == OpMsg({"ok": 1.0}, [], request_id=7, response_to=41)

    run_virtual(main())


def test_a_reply_that_does_not_decode_closes(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        task = await started(connection.roundtrip(encode_op_msg(5, {"ping": 1}), 5))
        # Framed correctly, but its body is not BSON (a document's last byte not NUL).
        bad = struct.pack("<iiiiIb", 26, 8, 5, 2013, 0, 0) + b"\x05\x00\x00\x00\x01"
        receive(connection, bad)
        with pytest.raises(NetworkError, match="invalid message"):
            await task
        assert connection.closed

    run_virtual(main())


def test_a_bad_declared_length_read_into_a_buffer_closes(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        task = await started(connection.roundtrip(encode_op_msg(5, {"ping": 1}), 5))
        receive(connection, struct.pack("<i", 3))
        with pytest.raises(NetworkError, match="invalid message"):
            await task
        assert connection.closed

    run_virtual(main())


def test_exhaust_through_compressed_replies(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("admin", {"hello": 1}, exhaust_allowed=True))
        more = int(OpMsgFlags.MORE_TO_COME)
        first = encode_op_msg(
            100, {"ok": 1, "n": 1}, response_to=request_id_of(transport), flags=more
        )
        receive(connection, compress_message(first, CompressorId.ZLIB))
        assert await task == {"ok": 1, "n": 1}
        assert connection.more_to_come
        last = encode_op_msg(101, {"ok": 1, "n": 2}, response_to=100)
        receive(connection, compress_message(last, CompressorId.ZLIB))
        assert await connection.next_reply() == {"ok": 1, "n": 2}
        assert not connection.more_to_come

    run_virtual(main())


def test_a_streamed_reply_that_does_not_decode_closes(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("admin", {"hello": 1}, exhaust_allowed=True))
        more = int(OpMsgFlags.MORE_TO_COME)
        first = encode_op_msg(100, {"ok": 1}, response_to=request_id_of(transport), flags=more)
        receive(connection, first)
        await task
        reader = await started(connection.next_reply())
        bad = struct.pack("<iiiiIb", 26, 101, 100, 2013, 0, 0) + b"\x05\x00\x00\x00\x01"
        receive(connection, bad)
        with pytest.raises(NetworkError, match="invalid message"):
            await reader
        assert connection.closed

    run_virtual(main())


# -- a real socket: the event loop reads into the connection's buffers -----------------


@pytest_asyncio.fixture
async def open_server() -> AsyncIterator[FakeMongo]:
    async with FakeMongo() as server:
        yield server


@pytest.mark.asyncio
async def test_a_large_reply_over_a_socket(open_server: FakeMongo) -> None:
    connection = await open_connection(open_server.address)
    try:
        documents = [{"_id": i, "pad": "x" * 1000} for i in range(500)]
        await connection.command("db", {"insert": "c", "documents": documents}, check=True)
        found = await connection.command("db", {"find": "c", "batchSize": 500}, check=True)
        assert found["cursor"]["firstBatch"] == documents
        frame = await connection.roundtrip_frame(
            encode_op_msg(77, {"find": "c", "batchSize": 500, "$db": "db"}), 77
        )
        assert len(frame) > RECEIVE_BUFFER_SIZE
        reply = decode_message(frame)
        assert isinstance(reply, OpMsg)
        assert isinstance(reply.body, dict)
        assert reply.body["cursor"]["firstBatch"] == documents
    finally:
        connection.close()
        await connection.wait_closed()


def test_roundtrip_frame_timeout_and_cancellation_close(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        deadline = asyncio.get_running_loop().time() + 0.5
        with pytest.raises(NetworkTimeout):
            await connection.roundtrip_frame(encode_op_msg(5, {"ping": 1}), 5, deadline=deadline)
        assert connection.closed
        connection, _ = connect()
        task = await started(connection.roundtrip_frame(encode_op_msg(6, {"ping": 1}), 6))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connection.closed
        with pytest.raises(NetworkError, match="cancelled"):
            await connection.roundtrip_frame(encode_op_msg(7, {"ping": 1}), 7)

    run_virtual(main())
