"""The wire protocol at the byte level: the legacy handshake, OP_MSG edge cases,
compression, and what a misbehaving client gets. Messages are built with
mongotor.wire and sent over a plain socket, so nothing smooths them over.

The expectations follow the server's own code where the manual is silent:
``rpc/check_allowed_op_query_cmd.cpp`` (OP_QUERY commands),
``makeErrorResponseToUnsupportedOpQuery`` (code 5739101) and
``rpc/op_msg.cpp`` (OP_MSG parse errors 40431 / 40433 / 40571).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from typing import Any

import bson
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient

from fakemongo import FakeMongo, FakeMongoThread
from mongotor.wire import (
    NEED_DATA,
    CompressorId,
    DocumentSequence,
    Framer,
    Message,
    OpCode,
    OpMsg,
    OpMsgFlags,
    OpQuery,
    OpReply,
    OpReplyFlags,
    compress_message,
    encode_op_msg,
    encode_op_reply,
)

_HEADER = struct.Struct("<iiii")
_LEGACY_REMOVAL = (
    "The client driver may require an upgrade. "
    "For more details see https://dochub.mongodb.org/core/legacy-opcode-removal"
)


class Raw:
    """One raw client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.framer = Framer()
        self.last_raw = b""

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self) -> Message:
        """The next reply (its raw bytes are kept in ``last_raw``)."""
        header = await asyncio.wait_for(self.reader.readexactly(16), 10)
        length = _HEADER.unpack(header)[0]
        self.last_raw = header + await asyncio.wait_for(self.reader.readexactly(length - 16), 10)
        self.framer.feed(self.last_raw)
        message = self.framer.next_message()
        assert message is not NEED_DATA
        return message

    async def command(self, body: dict[str, Any], request_id: int = 7) -> dict[str, Any]:
        await self.send(encode_op_msg(request_id, body))
        reply = await self.receive()
        assert isinstance(reply, OpMsg)
        assert reply.response_to == request_id
        return dict(reply.body)  # type: ignore[arg-type]

    async def closed_by_server(self) -> bool:
        """True when the server closes the connection (EOF) without sending anything."""
        data = await asyncio.wait_for(self.reader.read(1), 10)
        return data == b""


@pytest_asyncio.fixture
async def raw(server: FakeMongo) -> AsyncIterator[Raw]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    yield Raw(reader, writer)
    writer.close()
    await writer.wait_closed()


async def _other_client_works(server: FakeMongo) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        reply = await Raw(reader, writer).command({"ping": 1, "$db": "admin"})
        assert reply == {"ok": 1.0}
    finally:
        writer.close()
        await writer.wait_closed()


def _reply_document(reply: Message) -> dict[str, Any]:
    assert isinstance(reply, OpReply)
    [document] = reply.documents
    return dict(document)  # type: ignore[arg-type]


# ---------------------------------------------------------------- OP_QUERY


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["isMaster", "ismaster", "hello"])
async def test_legacy_handshake_is_answered_with_op_reply(raw: Raw, name: str) -> None:
    # manual, "Legacy Opcodes": since 6.0 OP_QUERY is answered only for the
    # handshake (hello / isMaster on a $cmd namespace).
    await raw.send(OpQuery("admin.$cmd", {name: 1, "helloOk": True}, request_id=41).to_bytes())
    reply = await raw.receive()
    assert isinstance(reply, OpReply)
    assert reply.response_to == 41
    assert reply.flags == OpReplyFlags.NONE
    assert reply.cursor_id == 0
    document = _reply_document(reply)
    assert document["ok"] == 1.0
    assert document["helloOk"] is True
    assert document["maxWireVersion"] == 25
    if name == "hello":
        assert document["isWritablePrimary"] is True
        assert "ismaster" not in document
    else:
        assert document["ismaster"] is True
        assert "isWritablePrimary" not in document


@pytest.mark.asyncio
@pytest.mark.parametrize("wrapper", ["$query", "query"])
async def test_legacy_handshake_wrapped_in_query(raw: Raw, wrapper: str) -> None:
    # Old drivers put the command under $query next to $readPreference.
    query = {wrapper: {"isMaster": 1}, "$readPreference": {"mode": "primaryPreferred"}}
    await raw.send(OpQuery("admin.$cmd", query, request_id=5).to_bytes())
    document = _reply_document(await raw.receive())
    assert document["ismaster"] is True
    assert document["ok"] == 1.0


@pytest.mark.asyncio
async def test_deprecated_op_query_commands_are_still_answered(raw: Raw) -> None:
    # check_allowed_op_query_cmd.cpp: buildInfo and the auth commands are
    # "temporarily allowed" for old drivers.
    await raw.send(OpQuery("admin.$cmd", {"buildinfo": 1}).to_bytes())
    document = _reply_document(await raw.receive())
    assert document["version"] == "8.0.4"
    assert document["ok"] == 1.0


@pytest.mark.asyncio
@pytest.mark.parametrize("command", [{"find": "c"}, {"insert": "c", "documents": []}, {}])
async def test_other_op_query_commands_fail_with_352(raw: Raw, command: dict[str, Any]) -> None:
    await raw.send(OpQuery("db.$cmd", command, request_id=9).to_bytes())
    reply = await raw.receive()
    assert isinstance(reply, OpReply)
    assert reply.response_to == 9
    assert reply.flags == OpReplyFlags.NONE  # a command reply, not a query failure
    name = next(iter(command), "")
    assert _reply_document(reply) == {
        "ok": 0.0,
        "errmsg": f"Unsupported OP_QUERY command: {name}. {_LEGACY_REMOVAL}",
        "code": 352,
        "codeName": "UnsupportedOpQueryCommand",
    }
    # Not a protocol error: the connection goes on.
    assert await raw.command({"ping": 1, "$db": "admin"}) == {"ok": 1.0}


@pytest.mark.asyncio
async def test_op_query_on_a_collection_is_a_query_failure(raw: Raw) -> None:
    await raw.send(OpQuery("db.c", {"a": 1}, request_id=12).to_bytes())
    reply = await raw.receive()
    assert isinstance(reply, OpReply)
    assert reply.response_to == 12
    assert reply.flags == OpReplyFlags.QUERY_FAILURE
    assert _reply_document(reply) == {
        "$err": f"OP_QUERY is no longer supported. {_LEGACY_REMOVAL}",
        "code": 5739101,
        "ok": 0.0,
    }
    assert await raw.command({"ping": 1, "$db": "admin"}) == {"ok": 1.0}


@pytest.mark.asyncio
async def test_op_get_more_is_answered_like_op_query(raw: Raw) -> None:
    # OP_GET_MORE (2005): int32 zero, cstring namespace, int32 numberToReturn, int64 cursorID.
    body = b"\x00\x00\x00\x00db.c\x00" + struct.pack("<iq", 0, 1)
    await raw.send(_HEADER.pack(16 + len(body), 77, 0, 2005) + body)
    reply = await raw.receive()
    assert isinstance(reply, OpReply)
    assert reply.response_to == 77
    assert reply.flags == OpReplyFlags.QUERY_FAILURE
    assert _reply_document(reply) == {
        "$err": f"OP_GET_MORE is no longer supported. {_LEGACY_REMOVAL}",
        "code": 5739101,
        "ok": 0.0,
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("opcode", [2001, 2002, 2006, 2007])
async def test_removed_fire_and_forget_opcodes_get_no_reply(raw: Raw, opcode: int) -> None:
    # OP_UPDATE / OP_INSERT / OP_DELETE / OP_KILL_CURSORS never had replies;
    # mongod logs them as unsupported and answers the next request.
    body = b"\x00\x00\x00\x00db.c\x00" + bson.encode({"a": 1})
    await raw.send(_HEADER.pack(16 + len(body), 1, 0, opcode) + body)
    assert await raw.command({"ping": 1, "$db": "admin"}, request_id=2) == {"ok": 1.0}
    assert await raw.command({"count": "c", "$db": "db"}) == {"n": 0, "ok": 1.0}


# ---------------------------------------------------------------- OP_MSG


@pytest.mark.asyncio
async def test_op_msg_without_db_is_40571(raw: Raw) -> None:
    expected = {
        "ok": 0.0,
        "errmsg": "OP_MSG requests require a $db argument",
        "code": 40571,
        "codeName": "Location40571",
    }
    assert await raw.command({"ping": 1}) == expected
    assert await raw.command({"ping": 1, "$db": 5}) == expected
    assert await raw.command({"ping": 1, "$db": "admin"}) == {"ok": 1.0}


@pytest.mark.asyncio
async def test_document_sequences_become_array_fields(raw: Raw) -> None:
    sequence = DocumentSequence("documents", [{"_id": 1}, {"_id": 2}])
    await raw.send(encode_op_msg(3, {"insert": "c", "$db": "db"}, [sequence]))
    reply = await raw.receive()
    assert isinstance(reply, OpMsg)
    assert dict(reply.body) == {"n": 2, "ok": 1.0}  # type: ignore[arg-type]
    found = await raw.command({"find": "c", "$db": "db"})
    assert found["cursor"]["firstBatch"] == [{"_id": 1}, {"_id": 2}]


@pytest.mark.asyncio
async def test_duplicate_document_sequence_is_40431(raw: Raw) -> None:
    sequences = [DocumentSequence("documents", [{"_id": 1}]), DocumentSequence("documents", [{}])]
    await raw.send(encode_op_msg(3, {"insert": "c", "$db": "db"}, sequences))
    reply = await raw.receive()
    assert isinstance(reply, OpMsg)
    assert dict(reply.body) == {  # type: ignore[arg-type]
        "ok": 0.0,
        "errmsg": "Duplicate document sequence: documents",
        "code": 40431,
        "codeName": "Location40431",
    }
    # Nothing was inserted, and the connection goes on.
    assert await raw.command({"count": "c", "$db": "db"}) == {"n": 0, "ok": 1.0}


@pytest.mark.asyncio
async def test_two_document_sequences_are_two_fields(raw: Raw) -> None:
    # OP_MSG spec, "Kind 1: Document Sequence": each sequence is a field of the
    # command; insert has no "extra" field, so its parser refuses it (40415).
    sequences = [DocumentSequence("documents", [{"_id": 1}]), DocumentSequence("extra", [{}])]
    await raw.send(encode_op_msg(3, {"insert": "c", "$db": "db"}, sequences))
    reply = await raw.receive()
    assert isinstance(reply, OpMsg)
    assert dict(reply.body) == {  # type: ignore[arg-type]
        "ok": 0.0,
        "errmsg": "BSON field 'insert.extra' is an unknown field.",
        "code": 40415,
        "codeName": "Location40415",
    }
    assert await raw.command({"count": "c", "$db": "db"}) == {"n": 0, "ok": 1.0}


@pytest.mark.asyncio
async def test_field_in_body_and_sequence_is_40433(raw: Raw) -> None:
    body = {"insert": "c", "documents": [{"_id": 1}], "$db": "db"}
    await raw.send(encode_op_msg(3, body, [DocumentSequence("documents", [{"_id": 2}])]))
    reply = await raw.receive()
    assert isinstance(reply, OpMsg)
    assert dict(reply.body) == {  # type: ignore[arg-type]
        "ok": 0.0,
        "errmsg": "Duplicate field between body and document sequence documents",
        "code": 40433,
        "codeName": "Location40433",
    }


@pytest.mark.asyncio
async def test_more_than_two_document_sequences_close_the_connection(
    server: FakeMongo, raw: Raw
) -> None:
    # TooManyDocumentSequences is a ConnectionFatalMessageParseError in mongod.
    sequences = [DocumentSequence(name, [{}]) for name in ("a", "b", "c")]
    await raw.send(encode_op_msg(3, {"insert": "c", "$db": "db"}, sequences))
    assert await raw.closed_by_server()
    await _other_client_works(server)


@pytest.mark.asyncio
async def test_more_to_come_gets_no_reply(raw: Raw) -> None:
    # OP_MSG spec, moreToCome: the server sends nothing back; the next
    # request's reply is the next thing on the wire.
    insert = {"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 0}, "$db": "db"}
    await raw.send(encode_op_msg(20, insert, flags=OpMsgFlags.MORE_TO_COME))
    failing = {"insert": "c", "documents": [{"_id": 1}], "$db": "db"}
    await raw.send(encode_op_msg(21, failing, flags=OpMsgFlags.MORE_TO_COME))
    await raw.send(encode_op_msg(22, {"ping": 1}, flags=OpMsgFlags.MORE_TO_COME))  # no $db
    found = await raw.command({"find": "c", "$db": "db"}, request_id=23)
    assert found["cursor"]["firstBatch"] == [{"_id": 1}]


@pytest.mark.asyncio
async def test_checksummed_op_msg_is_accepted(raw: Raw) -> None:
    await raw.send(encode_op_msg(8, {"ping": 1, "$db": "admin"}, flags=OpMsgFlags.CHECKSUM_PRESENT))
    reply = await raw.receive()
    assert isinstance(reply, OpMsg)
    assert reply.response_to == 8
    assert dict(reply.body) == {"ok": 1.0}  # type: ignore[arg-type]


# ---------------------------------------------------------------- compression


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "compressor", [CompressorId.ZLIB, CompressorId.ZSTD, CompressorId.SNAPPY, CompressorId.NOOP]
)
async def test_compressed_requests_get_replies_compressed_the_same_way(
    raw: Raw, compressor: CompressorId
) -> None:
    # Wire Compression spec: the server answers a compressed message with the
    # same compressor.
    await raw.send(compress_message(encode_op_msg(4, {"ping": 1, "$db": "admin"}), compressor))
    reply = await raw.receive()
    assert _HEADER.unpack_from(raw.last_raw)[3] == OpCode.OP_COMPRESSED
    assert raw.last_raw[24] == compressor  # the OP_COMPRESSED compressorId byte
    assert isinstance(reply, OpMsg)
    assert reply.compressor == compressor
    assert reply.response_to == 4
    assert dict(reply.body) == {"ok": 1.0}  # type: ignore[arg-type]

    await raw.send(
        OpQuery("admin.$cmd", {"isMaster": 1}, request_id=6, compressor=compressor).to_bytes()
    )
    legacy = await raw.receive()
    assert isinstance(legacy, OpReply)
    assert legacy.compressor == compressor
    assert _reply_document(legacy)["ismaster"] is True

    await raw.send(OpQuery("db.c", {}, request_id=7, compressor=compressor).to_bytes())
    failure = await raw.receive()
    assert isinstance(failure, OpReply)
    assert failure.compressor == compressor
    assert failure.flags == OpReplyFlags.QUERY_FAILURE


def test_pymongo_with_each_compressor(fake_server: FakeMongoThread) -> None:
    for name in ("zlib", "zstd", "snappy"):
        with MongoClient(fake_server.uri, compressors=name) as client:
            client.compression.c.insert_one({"_id": name, "pad": "x" * 2000})
            assert client.compression.c.find_one({"_id": name}) == {"_id": name, "pad": "x" * 2000}
    with MongoClient(fake_server.uri) as client:
        client.drop_database("compression")


# ---------------------------------------------------------------- misbehaving clients


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "header",
    [
        _HEADER.pack(15, 1, 0, 2013),  # shorter than a header
        _HEADER.pack(-5, 1, 0, 2013),
        _HEADER.pack(48_000_001, 1, 0, 2013),  # over maxMessageSizeBytes
    ],
)
async def test_bad_lengths_close_the_connection(server: FakeMongo, raw: Raw, header: bytes) -> None:
    await raw.send(header)
    assert await raw.closed_by_server()
    await _other_client_works(server)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "message",
    [
        _HEADER.pack(20, 1, 0, 9999) + b"\x00" * 4,  # unknown opcode
        _HEADER.pack(21, 1, 0, 2013) + b"\x00" * 5,  # OP_MSG too short for a body
        # OP_MSG with an unknown required flag bit (IllegalOpMsgFlag)
        encode_op_msg(1, {"ping": 1, "$db": "admin"})[:16]
        + b"\x04\x00\x00\x00"
        + encode_op_msg(1, {"ping": 1, "$db": "admin"})[20:],
        # a corrupt OP_COMPRESSED: zlib data that is not zlib
        _HEADER.pack(16 + 9 + 4, 1, 0, 2012) + struct.pack("<iiB", 2013, 30, 2) + b"junk",
    ],
)
async def test_malformed_messages_close_the_connection(
    server: FakeMongo, raw: Raw, message: bytes
) -> None:
    await raw.send(message)
    assert await raw.closed_by_server()
    await _other_client_works(server)


@pytest.mark.asyncio
async def test_a_client_sending_op_reply_is_disconnected(server: FakeMongo, raw: Raw) -> None:
    await raw.send(encode_op_reply(0, [{"ok": 1.0}], request_id=3))
    assert await raw.closed_by_server()
    await _other_client_works(server)


@pytest.mark.asyncio
async def test_invalid_bson_body_gets_an_error_reply_then_close(
    server: FakeMongo, raw: Raw
) -> None:
    good = encode_op_msg(31, {"ping": 1, "$db": "admin"})
    corrupt = good[:25] + b"\x7f" + good[26:]  # an unknown BSON element type
    await raw.send(corrupt)
    reply = await raw.receive()
    assert isinstance(reply, OpMsg)
    assert reply.response_to == 31
    body = dict(reply.body)  # type: ignore[arg-type]
    assert body["ok"] == 0.0
    assert body["code"] == 22
    assert body["codeName"] == "InvalidBSON"
    assert body["errmsg"].startswith("invalid BSON in message: invalid BSON document")
    assert await raw.closed_by_server()
    await _other_client_works(server)


@pytest.mark.asyncio
async def test_invalid_bson_in_op_query_gets_an_op_reply_then_close(raw: Raw) -> None:
    good = OpQuery("admin.$cmd", {"isMaster": 1}, request_id=32).to_bytes()
    document_start = 16 + 4 + len(b"admin.$cmd\x00") + 8
    corrupt = good[: document_start + 4] + b"\x7f" + good[document_start + 5 :]
    await raw.send(corrupt)
    reply = await raw.receive()
    assert isinstance(reply, OpReply)
    assert reply.response_to == 32
    assert _reply_document(reply)["code"] == 22
    assert await raw.closed_by_server()


@pytest.mark.asyncio
async def test_a_client_vanishing_mid_message_is_forgotten(
    server: FakeMongo, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    raw = Raw(reader, writer)
    assert await raw.command({"ping": 1, "$db": "admin"}) == {"ok": 1.0}
    with caplog.at_level(logging.INFO, logger="fakemongo.connection"):
        await raw.send(encode_op_msg(1, {"ping": 1, "$db": "admin"})[:20])
        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(server.wait_connections_closed(), 10)
    assert "closed in the middle of a message" in caplog.text
    await _other_client_works(server)


@pytest.mark.asyncio
async def test_a_client_resetting_its_connection_is_forgotten(
    server: FakeMongo, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    assert await Raw(reader, writer).command({"ping": 1, "$db": "admin"}) == {"ok": 1.0}
    # SO_LINGER 0: closing sends a TCP RST instead of a FIN.
    linger = struct.pack("ii", 1, 0)
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    with caplog.at_level(logging.DEBUG, logger="fakemongo.connection"):
        writer.transport.abort()
        await asyncio.wait_for(server.wait_connections_closed(), 10)
    assert "lost: ConnectionResetError" in caplog.text
    await _other_client_works(server)


def _connect(server: FakeMongoThread) -> socket.socket:
    return socket.create_connection((server.server.host, server.port), timeout=10)


def _drain_until_closed(sock: socket.socket) -> None:
    """Read until the server closes the connection (it must, within the timeout)."""
    while sock.recv(65536):
        pass


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[FakeMongoThread]:
    with FakeMongoThread() as running:
        yield running


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=64),
            # a plausible header first, so the body's decoder sees garbage too
            st.builds(
                lambda length, opcode, rest: _HEADER.pack(length, 1, 0, opcode) + rest,
                st.integers(16, 80),
                st.sampled_from([1, 2004, 2012, 2013, 2005, 2002, 0, -1]),
                st.binary(max_size=64),
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_bytes_never_hurt_other_clients(
    fuzz_target: FakeMongoThread, chunks: list[bytes]
) -> None:
    with _connect(fuzz_target) as sock:
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:  # the server already hung up on us: fine
                break
        try:
            sock.shutdown(socket.SHUT_WR)
            _drain_until_closed(sock)  # the server ends the connection
        except OSError:  # reset, or already gone: the server hung up
            pass
    with _connect(fuzz_target) as sock:
        sock.sendall(encode_op_msg(99, {"ping": 1, "$db": "admin"}))
        framer = Framer()
        while (reply := framer.next_message()) is NEED_DATA:
            framer.feed(sock.recv(65536))
        assert isinstance(reply, OpMsg)
        assert reply.response_to == 99
        assert dict(reply.body) == {"ok": 1.0}  # type: ignore[arg-type]


# ---------------------------------------------------------------- command log


@pytest.mark.asyncio
async def test_commands_are_logged_at_debug_without_credentials(
    raw: Raw, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="fakemongo"):
        await raw.command({"ping": 1, "$db": "admin", "comment": "hello log"})
        await raw.command({"drop": 5, "$db": "db"})
        await raw.command({"noSuchCommand": 1, "$db": "db"})
        await raw.command(
            {
                "saslStart": 1,
                "mechanism": "SCRAM-SHA-256",
                "payload": b"n,,n=u,r=secret-nonce",
                "$db": "admin",
            }
        )
        await raw.command({"createUser": "u", "pwd": "hunter2-secret", "roles": [], "$db": "admin"})
        await raw.command(
            {
                "hello": 1,
                "speculativeAuthenticate": {"saslStart": 1, "payload": b"secret-nonce"},
                "$db": "admin",
            }
        )
    text = caplog.text
    assert "admin.ping" in text
    assert "hello log" in text
    assert "admin.saslStart (arguments not logged: credentials)" in text
    assert "admin.createUser (arguments not logged: credentials)" in text
    assert "admin.hello {'hello': 1, '$db': 'admin'}" in text
    assert "hunter2" not in text
    assert "secret-nonce" not in text
    # Failures are logged with their code, refusals too.
    assert (
        "command drop on db failed: CommandError(code=2, codeName='BadValue', "
        "errmsg='collection name has invalid type int')" in text
    )
    assert "command noSuchCommand on db refused: CommandError(code=59" in text


@pytest.mark.asyncio
async def test_commands_are_not_formatted_unless_debug_is_on(
    raw: Raw, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fakemongo.connection"):
        assert await raw.command({"ping": 1, "$db": "admin"}) == {"ok": 1.0}
    assert "admin.ping" not in caplog.text
