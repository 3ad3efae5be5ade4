"""The connection protocol, driven directly: a fake transport records what is
written, and replies are fed to ``data_received``. Runs on the virtual clock,
so deadlines expire without waiting."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from mongotor.pool import (
    CommandError,
    Connection,
    ConnectionState,
    NetworkError,
    NetworkTimeout,
    parse_handshake,
)
from mongotor.pool import _connection as connection_module
from mongotor.wire import (
    DocumentSequence,
    OpCode,
    OpMsg,
    OpMsgFlags,
    decode_message,
    encode_op_msg,
    encode_op_reply,
)

Run = Callable[[Coroutine[Any, Any, Any]], Any]


class FakeTransport(asyncio.Transport):
    def __init__(self, protocol: Connection) -> None:
        super().__init__()
        self.protocol = protocol
        self.written: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closed = True
        asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.aborted = True
        asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closed or self.aborted


def connect(**options: Any) -> tuple[Connection, FakeTransport]:
    connection = Connection("db:27017", connection_id=3, generation=2, **options)
    transport = FakeTransport(connection)
    connection.connection_made(transport)
    return connection, transport


def last_request(transport: FakeTransport) -> OpMsg:
    message = decode_message(transport.written[-1])
    assert isinstance(message, OpMsg)
    return message


def reply(transport: FakeTransport, body: dict[str, Any], **options: Any) -> bytes:
    return encode_op_msg(99, body, response_to=last_request(transport).request_id, **options)


async def started(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coroutine)
    await asyncio.sleep(0)
    return task


HANDSHAKE = {"ok": 1, "maxWireVersion": 21, "maxMessageSizeBytes": 1000, "compression": ["zlib"]}


def handshake(compressors: tuple[str, ...] = ("zlib",)) -> Any:
    return parse_handshake(
        "db:27017", HANDSHAKE, requested_compressors=compressors, round_trip_time_ms=1, now_ms=0
    )


def test_command_round_trip(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        assert connection.state is ConnectionState.CONNECTING
        task = await started(connection.command("app", {"ping": 1}))
        request = last_request(transport)
        assert request.body == {"ping": 1, "$db": "app"}
        assert request.flags == OpMsgFlags.NONE
        data = reply(transport, {"ok": 1.0, "n": 2})
        connection.data_received(data[:5])
        await asyncio.sleep(0)
        assert not task.done()
        connection.data_received(data[5:])
        assert await task == {"ok": 1.0, "n": 2}
        assert not connection.closed

    run_virtual(main())


def test_replies_to_several_requests_in_one_chunk(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        first = await started(connection.command("app", {"ping": 1}))
        first_reply = reply(transport, {"ok": 1.0, "n": 1})
        second = await started(connection.command("app", {"ping": 2}))
        second_reply = reply(transport, {"ok": 1.0, "n": 2})
        third = await started(connection.command("app", {"ping": 3}))
        third_reply = reply(transport, {"ok": 1.0, "n": 3})
        # Two whole replies and the start of a third arrive together, out of order.
        connection.data_received(second_reply + first_reply + third_reply[:7])
        assert await first == {"ok": 1.0, "n": 1}
        assert await second == {"ok": 1.0, "n": 2}
        assert not third.done()
        connection.data_received(third_reply[7:])
        assert await third == {"ok": 1.0, "n": 3}

    run_virtual(main())


def test_document_sequences_are_sent(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        documents = DocumentSequence("documents", [{"a": 1}])
        task = await started(connection.command("app", {"insert": "c"}, sequences=[documents]))
        assert last_request(transport).sequences[0].documents == [{"a": 1}]
        connection.data_received(reply(transport, {"ok": 1}))
        await task

    run_virtual(main())


def test_check_raises_command_errors(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("app", {"find": "c"}, check=True))
        failure = {
            "ok": 0,
            "errmsg": "not primary",
            "code": 10107,
            "codeName": "NotWritablePrimary",
            "errorLabels": ["RetryableWriteError", 7],
        }
        connection.data_received(reply(transport, failure))
        with pytest.raises(CommandError) as caught:
            await task
        error = caught.value
        assert (error.code, error.code_name, error.address) == (
            10107,
            "NotWritablePrimary",
            "db:27017",
        )
        assert error.labels == {"RetryableWriteError"}
        assert error.established is False
        assert error.generation == 2
        assert str(error) == "not primary (code 10107 NotWritablePrimary) on db:27017"
        assert not connection.closed

    run_virtual(main())


def test_op_reply_to_op_msg_closes(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("app", {"ping": 1}))
        request_id = last_request(transport).request_id
        connection.data_received(encode_op_reply(request_id, [{"ok": 1}]))
        with pytest.raises(NetworkError, match="answered OP_MSG with opcode OpReply"):
            await task
        assert connection.closed
        assert transport.aborted

    run_virtual(main())


def test_reply_to_unknown_request_closes(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        task = await started(connection.command("app", {"ping": 1}))
        connection.data_received(encode_op_msg(1, {"ok": 1}, response_to=123456789))
        with pytest.raises(NetworkError, match="unknown request 123456789") as caught:
            await task
        assert caught.value.connection_id == 3
        assert connection.error is caught.value

    run_virtual(main())


def test_invalid_bytes_close(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        task = await started(connection.command("app", {"ping": 1}))
        connection.data_received(b"\x05\x00\x00\x00garbage")
        with pytest.raises(NetworkError, match="invalid message"):
            await task
        assert connection.closed

    run_virtual(main())


def test_timeout_closes_the_connection(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        loop = asyncio.get_running_loop()
        with pytest.raises(NetworkTimeout) as caught:
            await connection.command("app", {"ping": 1}, deadline=loop.time() + 0.25)
        error = caught.value
        assert error.timeout_ms == 250
        assert "did not answer within 250 ms" in str(error)
        assert (error.connection_id, error.generation, error.established) == (3, 2, False)
        assert transport.aborted
        assert connection.closed
        with pytest.raises(NetworkTimeout):
            await connection.command("app", {"ping": 1})

    run_virtual(main())


def test_socket_timeout_is_the_default_deadline(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect(socket_timeout=2.0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(NetworkTimeout, match="2000 ms"):
            await connection.command("app", {"ping": 1})
        assert loop.time() - start == pytest.approx(2.0)

    run_virtual(main())


def test_a_passed_deadline_sends_nothing(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        loop = asyncio.get_running_loop()
        with pytest.raises(NetworkTimeout):
            await connection.command("app", {"ping": 1}, deadline=loop.time())
        assert transport.written == []
        assert not connection.closed

    run_virtual(main())


def test_cancellation_closes_the_connection(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("app", {"ping": 1}))
        task.cancel()
        # The reply arrives after the cancellation, before the task resumes.
        connection.data_received(reply(transport, {"ok": 1}))
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connection.closed
        assert transport.aborted
        assert isinstance(connection.error, NetworkError)
        assert "cancelled" in str(connection.error)

    run_virtual(main())


def test_server_closing_fails_pending_operations(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        connection.mark_established()
        task = await started(connection.command("app", {"ping": 1}))
        connection.connection_lost(ConnectionResetError("reset by peer"))
        with pytest.raises(NetworkError, match="closed the connection: reset by peer") as caught:
            await task
        assert caught.value.established is True
        assert connection.established
        await connection.wait_closed()
        connection.connection_lost(None)  # a second report changes nothing

    run_virtual(main())


def test_eof_lets_the_transport_close(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        assert connection.eof_received() is False
        connection.connection_lost(None)
        assert "db:27017 closed the connection" in str(connection.error)

    run_virtual(main())


def test_close_is_graceful_and_idempotent(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("app", {"ping": 1}))
        connection.close()
        connection.close()
        with pytest.raises(NetworkError, match="was closed"):
            await task
        assert transport.closed
        assert not transport.aborted
        await connection.wait_closed()
        with pytest.raises(NetworkError, match="was closed"):
            await connection.command("app", {"ping": 1})

    run_virtual(main())


def test_abort_with_an_error(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        task = await started(connection.command("app", {"ping": 1}))
        reason = RuntimeError("interrupted")
        connection.abort(reason)
        with pytest.raises(RuntimeError, match="interrupted"):
            await task
        other, _ = connect()
        other.abort()
        assert "aborted" in str(other.error)

    run_virtual(main())


def test_abort_between_a_cancellation_and_the_task_resuming(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("app", {"ping": 1}))
        task.cancel()  # its Future is cancelled now, the task resumes later
        reason = RuntimeError("interrupted")
        connection.abort(reason)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connection.error is reason  # the first reason wins
        assert transport.aborted

    run_virtual(main())


def test_send_on_a_closed_connection_raises_why_it_closed(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        connection.close()
        with pytest.raises(NetworkError, match="was closed"):
            await connection.send("app", {"insert": "c"})
        assert transport.written == []

    run_virtual(main())


def test_wait_closed_without_a_transport(run_virtual: Run) -> None:
    async def main() -> None:
        await Connection("db:27017").wait_closed()

    run_virtual(main())


def test_unacknowledged_send(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        await connection.send(
            "app", {"insert": "c"}, sequences=[DocumentSequence("documents", [{}])]
        )
        request = last_request(transport)
        assert request.more_to_come
        assert request.body == {"insert": "c", "$db": "app"}

    run_virtual(main())


def test_send_waits_for_the_buffer_to_drain(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        connection.pause_writing()
        task = await started(connection.send("app", {"insert": "c"}))
        assert not task.done()
        connection.resume_writing()
        await task

    run_virtual(main())


def test_send_drain_deadline_and_cancellation(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect(socket_timeout=1.0)
        connection.pause_writing()
        with pytest.raises(NetworkTimeout):
            await connection.send("app", {"insert": "c"})
        assert transport.aborted
        second, _ = connect()
        second.pause_writing()
        task = await started(second.send("app", {"insert": "c"}))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert "write to db:27017 was cancelled" in str(second.error)
        third, _ = connect()
        third.pause_writing()
        task = await started(third.send("app", {"insert": "c"}))
        third.connection_lost(None)
        with pytest.raises(NetworkError):
            await task

    run_virtual(main())


def test_compression_after_the_handshake(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        connection.complete_handshake(handshake(), zlib_level=6)
        assert connection.compressor == "zlib"
        assert connection.max_wire_version == 21
        task = await started(connection.command("app", {"find": "c"}))
        header_opcode = int.from_bytes(transport.written[-1][12:16], "little")
        assert header_opcode == OpCode.OP_COMPRESSED
        request = last_request(transport)
        assert request.body == {"find": "c", "$db": "app"}
        connection.data_received(reply(transport, {"ok": 1}))
        await task
        # Wire Compression spec: never the handshake or authentication commands.
        for name in ("hello", "isMaster", "saslStart", "saslContinue"):
            task = await started(connection.command("admin", {name: 1}))
            opcode = int.from_bytes(transport.written[-1][12:16], "little")
            assert opcode == OpCode.OP_MSG, name
            connection.data_received(reply(transport, {"ok": 1}))
            await task
        assert "compressor=zlib" in repr(connection)

    run_virtual(main())


def test_no_compressor_agreed(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        connection.complete_handshake(handshake(compressors=("zstd",)), zlib_level=None)
        assert connection.compressor is None

    run_virtual(main())


@pytest.mark.parametrize("name", ["snappy", "zstd"])
def test_other_compressors_take_no_level(run_virtual: Run, name: str) -> None:
    async def main() -> None:
        connection, transport = connect()
        reply_document = {**HANDSHAKE, "compression": [name]}
        result = parse_handshake(
            "db:27017",
            reply_document,
            requested_compressors=(name,),
            round_trip_time_ms=1,
            now_ms=0,
        )
        connection.complete_handshake(result, zlib_level=9)
        task = await started(connection.command("app", {"find": "c"}))
        assert last_request(transport).compressor is not None
        connection.data_received(reply(transport, {"ok": 1}))
        await task

    run_virtual(main())


def test_state_and_repr(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = connect()
        assert repr(connection) == "<Connection 3 to db:27017 generation=2 connecting pending=0>"
        assert not connection.established
        assert connection.max_wire_version == 0
        assert connection.compressor is None
        assert connection.error is None
        connection.mark_established()
        assert connection.state is ConnectionState.OPEN
        connection.close()
        connection.mark_established()
        assert connection.state is ConnectionState.CLOSED
        assert connection.established

    run_virtual(main())


def test_request_ids_stay_positive_int32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection_module, "_request_ids", itertools.count(2**31 - 2))
    ids = [connection_module.next_request_id() for _ in range(3)]
    assert ids == [2**31 - 1, 1, 2]


def test_a_reply_and_its_deadline_in_the_same_iteration(
    run_virtual: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        monkeypatch.setattr(connection_module, "_request_ids", itertools.count(41))
        connection, _ = connect()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.0
        # Scheduled first, so it runs just before the command's own timer.
        loop.call_at(
            deadline, connection.data_received, encode_op_msg(7, {"ok": 1}, response_to=42)
        )
        assert await connection.command("app", {"ping": 1}, deadline=deadline) == {"ok": 1}
        assert not connection.closed

    run_virtual(main())


def test_cancellation_without_a_reply(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("app", {"ping": 1}))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert transport.aborted

    run_virtual(main())


def test_closing_before_connecting(run_virtual: Run) -> None:
    async def main() -> None:
        connection = Connection("db:27017")
        connection.close()
        assert connection.closed

    run_virtual(main())


# -- exhaust (OP_MSG exhaustAllowed / moreToCome), for the streaming heartbeat --------


def streamed(request_id: int, response_to: int, body: dict[str, Any], *, more: bool) -> bytes:
    flags = OpMsgFlags.MORE_TO_COME if more else OpMsgFlags.NONE
    return encode_op_msg(request_id, body, response_to=response_to, flags=flags)


def test_exhaust_streams_replies_until_more_to_come_is_clear(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        assert not connection.more_to_come
        task = await started(connection.command("admin", {"hello": 1}, exhaust_allowed=True))
        request = last_request(transport)
        assert request.flags == OpMsgFlags.EXHAUST_ALLOWED
        connection.data_received(streamed(100, request.request_id, {"ok": 1, "n": 1}, more=True))
        assert await task == {"ok": 1, "n": 1}
        assert connection.more_to_come
        waiting = await started(connection.next_reply())
        # Two streamed replies in one chunk: the first wakes the reader, the
        # second is kept for the next read.
        connection.data_received(
            streamed(101, 100, {"ok": 1, "n": 2}, more=True)
            + streamed(102, 101, {"ok": 1, "n": 3}, more=False)
        )
        assert await waiting == {"ok": 1, "n": 2}
        assert connection.more_to_come
        assert await connection.next_reply() == {"ok": 1, "n": 3}
        assert not connection.more_to_come
        with pytest.raises(RuntimeError, match="no streamed reply"):
            await connection.next_reply()
        # The connection is in step: an ordinary command works.
        task = await started(connection.command("admin", {"ping": 1}))
        connection.data_received(reply(transport, {"ok": 1}))
        assert await task == {"ok": 1}
        assert len(transport.written) == 2

    run_virtual(main())


def test_a_streamed_reply_can_fail_the_check(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = connect()
        task = await started(connection.command("admin", {"hello": 1}, exhaust_allowed=True))
        connection.data_received(
            streamed(100, last_request(transport).request_id, {"ok": 1}, more=True)
        )
        await task
        connection.data_received(
            streamed(101, 100, {"ok": 0, "errmsg": "no", "code": 2}, more=False)
        )
        with pytest.raises(CommandError, match="no"):
            await connection.next_reply(check=True)

    run_virtual(main())


def _streaming() -> Coroutine[Any, Any, tuple[Connection, FakeTransport]]:
    async def make() -> tuple[Connection, FakeTransport]:
        connection, transport = connect()
        task = await started(connection.command("admin", {"hello": 1}, exhaust_allowed=True))
        connection.data_received(
            streamed(100, last_request(transport).request_id, {"ok": 1}, more=True)
        )
        await task
        return connection, transport

    return make()


def test_a_streamed_read_times_out_and_closes(run_virtual: Run) -> None:
    async def main() -> None:
        connection, transport = await _streaming()
        deadline = asyncio.get_running_loop().time() + 2.0
        with pytest.raises(NetworkTimeout) as caught:
            await connection.next_reply(deadline=deadline)
        assert caught.value.timeout_ms == 2000
        assert connection.closed
        assert transport.aborted
        assert not connection.more_to_come
        # Reading again reports why the connection closed.
        with pytest.raises(NetworkTimeout):
            await connection.next_reply()

    run_virtual(main())


def test_a_cancelled_streamed_read_closes(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = await _streaming()
        task = await started(connection.next_reply())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connection.closed
        assert isinstance(connection.error, NetworkError)
        assert "cancelled" in str(connection.error)

    run_virtual(main())


def test_closing_fails_a_streamed_read(run_virtual: Run) -> None:
    async def main() -> None:
        connection, _ = await _streaming()
        task = await started(connection.next_reply())
        connection.close()
        with pytest.raises(NetworkError, match="was closed"):
            await task

    run_virtual(main())
