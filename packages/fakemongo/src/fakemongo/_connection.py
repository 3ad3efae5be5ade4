"""One client connection: bytes in through the wire framer, replies out.

Requests on one connection run strictly in order, as mongod runs them. The
loop reads, frames and answers; a malformed message ends the connection
(after an error reply when the message's header was sound enough to answer),
and nothing that happens here can disturb another connection or the server.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Any

from mongotor.wire import (
    NEED_DATA,
    CompressorId,
    Framer,
    InvalidBSONError,
    OpMsg,
    OpMsgFlags,
    OpQuery,
    OpReply,
    OpReplyFlags,
    ProtocolError,
    compress_message,
    compressor_id,
    encode_op_msg,
    encode_op_reply,
)

from ._dispatch import Context, run_command
from ._errors import CommandError, ErrorCode
from ._identity import MAX_MESSAGE_SIZE_BYTES

if TYPE_CHECKING:
    from ._server import FakeMongo
    from ._state import ConnectionState

__all__ = ["serve_connection"]

log = logging.getLogger("fakemongo.connection")
_request_ids = itertools.count(1)
_READ_SIZE = 1 << 16

# Commands whose arguments carry secrets: logged by name only.
_SECRET_COMMANDS = frozenset(
    {"saslStart", "saslContinue", "createUser", "updateUser", "authenticate"}
)
# The legacy handshake is the only OP_QUERY a 6.0+ server still answers
# (manual: "Legacy Opcodes": OP_QUERY is removed except for hello/isMaster).
_OP_QUERY_COMMANDS = frozenset({"hello", "isMaster", "ismaster"})
_OP_QUERY_REMOVED = (
    "Unsupported OP_QUERY command: {name}. The client driver may require an upgrade. "
    "For more details see https://dochub.mongodb.org/core/legacy-opcode-removal"
)


async def serve_connection(
    server: FakeMongo, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve one client until it disconnects, misbehaves, or the server stops."""
    peer = writer.get_extra_info("peername")
    conn = server.state.new_connection(f"{peer[0]}:{peer[1]}" if peer else "unknown")
    framer = Framer(max_message_size=MAX_MESSAGE_SIZE_BYTES)
    log.debug("connection %d accepted from %s", conn.connection_id, conn.peer)
    try:
        while True:
            data = await reader.read(_READ_SIZE)
            if not data:
                break
            try:
                framer.feed(data)
                while (message := framer.next_message()) is not NEED_DATA:
                    reply = await _answer(server, conn, message)
                    if reply is not None:
                        writer.write(reply)
                        await writer.drain()
            except ProtocolError as exc:
                log.info("closing connection %d: %s", conn.connection_id, exc)
                if isinstance(exc, InvalidBSONError):
                    _reply_protocol_error(writer, exc)
                break
    except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
        log.debug("connection %d lost: %r", conn.connection_id, exc)
    finally:
        server.state.close_connection(conn)
        writer.close()
        log.debug("connection %d closed", conn.connection_id)


def _reply_protocol_error(writer: asyncio.StreamWriter, exc: ProtocolError) -> None:
    # The header was sound, only a document was not: mongod answers such a
    # message with InvalidBSON before dropping the connection.
    error = CommandError(
        ErrorCode.InvalidBSON, f"invalid BSON in message: {exc.reason}"
    ).to_document()
    writer.write(encode_op_msg(next(_request_ids) & 0x7FFFFFFF, error))


async def _answer(server: FakeMongo, conn: ConnectionState, message: Any) -> bytes | None:
    if isinstance(message, OpMsg):
        return await _answer_op_msg(server, conn, message)
    if isinstance(message, OpQuery):
        return await _answer_op_query(server, conn, message)
    assert isinstance(message, OpReply)
    raise ProtocolError("a client sent OP_REPLY", opcode=1)


async def _answer_op_msg(server: FakeMongo, conn: ConnectionState, message: OpMsg) -> bytes | None:
    body = dict(message.body)  # type: ignore[arg-type]
    error: CommandError | None = None
    for sequence in message.sequences:
        if sequence.identifier in body:
            error = CommandError(
                ErrorCode.Location40413, f"Duplicate field name '{sequence.identifier}' in OP_MSG"
            )
        body[sequence.identifier] = list(sequence.documents)
    db = body.get("$db")
    if error is None and not isinstance(db, str):
        error = CommandError(ErrorCode.Location40571, "OP_MSG requests require a $db argument")
    if error is not None:
        reply = error.to_document()
    else:
        assert isinstance(db, str)
        _log_request(conn, db, body)
        reply = await run_command(Context(server.state, conn, db), body)
    if message.flags & OpMsgFlags.MORE_TO_COME:
        return None  # an unacknowledged write: the client reads no reply
    data = encode_op_msg(_next_id(), reply, response_to=message.request_id)
    return _maybe_compress(conn, message.compressor, data)


async def _answer_op_query(server: FakeMongo, conn: ConnectionState, message: OpQuery) -> bytes:
    query = dict(message.query)  # type: ignore[arg-type]
    # Old drivers wrap the command as {$query: {...}, $readPreference: ...}.
    if "$query" in query and isinstance(query["$query"], dict):
        query = dict(query["$query"])
    name = next(iter(query), "")
    db, _, collection = message.full_collection_name.partition(".")
    if collection != "$cmd":
        document = {
            "$err": "OP_QUERY is no longer supported. The client driver may require an upgrade.",
            "code": int(ErrorCode.Location5739101),
            "ok": 0.0,
        }
        data = encode_op_reply(
            message.request_id, [document], request_id=_next_id(), flags=OpReplyFlags.QUERY_FAILURE
        )
        return _maybe_compress(conn, message.compressor, data)
    if name in _OP_QUERY_COMMANDS:
        _log_request(conn, db, query)
        reply = await run_command(Context(server.state, conn, db), query)
    else:
        reply = CommandError(
            ErrorCode.UnsupportedOpQueryCommand, _OP_QUERY_REMOVED.format(name=name)
        ).to_document()
    data = encode_op_reply(message.request_id, [reply], request_id=_next_id())
    return _maybe_compress(conn, message.compressor, data)


def _maybe_compress(conn: ConnectionState, used: CompressorId | None, data: bytes) -> bytes:
    # Compression spec: a server replies compressed, with the same compressor,
    # to a compressed request; hello and auth replies travel uncompressed
    # because their requests did.
    if used is None:
        return data
    return compress_message(data, used)


def _next_id() -> int:
    return next(_request_ids) & 0x7FFFFFFF


def _log_request(conn: ConnectionState, db: str, body: dict[str, Any]) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    name = next(iter(body), "")
    if name in _SECRET_COMMANDS:
        log.debug("conn%d %s.%s (arguments not logged: credentials)", conn.connection_id, db, name)
        return
    shown = {k: v for k, v in body.items() if k != "speculativeAuthenticate"}
    log.debug("conn%d %s.%s %r", conn.connection_id, db, name, shown)


__all__ += ["compressor_id"]  # re-exported for the hello handler's negotiation
