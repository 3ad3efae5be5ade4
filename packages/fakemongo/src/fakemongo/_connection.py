"""One client connection: messages in through the wire codec, replies out.

Requests on one connection run strictly in order, as mongod runs them. The
loop reads one message at a time, exactly as long as its header says (so a
message the codec refuses never leaves the stream out of step), decodes it
with :func:`mongotor.wire.decode_message` and answers it. A malformed message
ends the connection (after an error reply when the message's header was sound
enough to answer), and nothing that happens here can disturb another
connection or the server.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from mongotor.wire import (
    HEADER_SIZE,
    CompressorId,
    InvalidBSONError,
    OpCode,
    OpMsg,
    OpMsgFlags,
    OpQuery,
    OpReplyFlags,
    ProtocolError,
    UnsupportedOpcodeError,
    compress_message,
    decode_message,
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

# Standard message header (manual: Wire Protocol > Standard Message Header):
# int32 messageLength, requestID, responseTo, opCode, little-endian.
_HEADER = struct.Struct("<iiii")
_request_ids = itertools.count(1)

# Commands whose arguments carry secrets: logged by name only.
_SECRET_COMMANDS = frozenset(
    {"saslStart", "saslContinue", "createUser", "updateUser", "authenticate"}
)
# The legacy handshake is the only OP_QUERY a 6.0+ server still answers, with
# a few deprecated commands old drivers send (manual: "Legacy Opcodes"; the
# server's rpc/check_allowed_op_query_cmd.cpp).
_OP_QUERY_COMMANDS = frozenset(
    {
        "hello",
        "isMaster",
        "ismaster",
        "buildInfo",
        "buildinfo",
        "saslStart",
        "saslContinue",
        "authenticate",
        "_isSelf",
    }
)
_LEGACY_OPCODE_REMOVAL = (
    "The client driver may require an upgrade. "
    "For more details see https://dochub.mongodb.org/core/legacy-opcode-removal"
)
# OP_MSG spec, "Sections": mongod accepts at most two document sequences and
# drops a connection that sends more (TooManyDocumentSequences is in its
# ConnectionFatalMessageParseError category).
_MAX_DOCUMENT_SEQUENCES = 2


class _RemovedOpCode(IntEnum):
    """Opcodes removed in MongoDB 5.1/6.0 (manual: Wire Protocol > Legacy Opcodes)."""

    OP_UPDATE = 2001
    OP_INSERT = 2002
    OP_GET_MORE = 2005
    OP_DELETE = 2006
    OP_KILL_CURSORS = 2007


class _CloseConnection(Exception):
    """The request forces the connection closed (after ``reply``, if any)."""

    def __init__(self, reason: str, reply: bytes | None = None) -> None:
        super().__init__(reason)
        self.reply = reply


async def serve_connection(
    server: FakeMongo, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve one client until it disconnects, misbehaves, or the server stops."""
    peer = writer.get_extra_info("peername")
    conn = server.state.new_connection(f"{peer[0]}:{peer[1]}" if peer else "unknown")
    log.debug("connection %d accepted from %s", conn.connection_id, conn.peer)
    try:
        while True:
            header = await reader.readexactly(HEADER_SIZE)
            length, request_id, _, opcode = _HEADER.unpack(header)
            if not HEADER_SIZE <= length <= MAX_MESSAGE_SIZE_BYTES:
                # mongod drops the connection without a reply: nothing after a
                # bad length can be trusted to be a message boundary.
                log.info(
                    "closing connection %d: message length %d outside [%d, %d]",
                    conn.connection_id,
                    length,
                    HEADER_SIZE,
                    MAX_MESSAGE_SIZE_BYTES,
                )
                break
            data = header + await reader.readexactly(length - HEADER_SIZE)
            try:
                reply = await _answer(server, conn, data, request_id, opcode)
            except _CloseConnection as close:
                log.info("closing connection %d: %s", conn.connection_id, close)
                if close.reply is not None:
                    writer.write(close.reply)
                    await writer.drain()
                break
            if reply is not None:
                writer.write(reply)
                await writer.drain()
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            log.info("connection %d closed in the middle of a message", conn.connection_id)
    except (ConnectionError, OSError) as exc:
        log.debug("connection %d lost: %r", conn.connection_id, exc)
    finally:
        server.state.close_connection(conn)
        writer.close()
        log.debug("connection %d closed", conn.connection_id)


async def _answer(
    server: FakeMongo, conn: ConnectionState, data: bytes, request_id: int, opcode: int
) -> bytes | None:
    try:
        message = decode_message(data, max_message_size=MAX_MESSAGE_SIZE_BYTES)
    except UnsupportedOpcodeError as exc:
        return _removed_opcode(exc, request_id)
    except InvalidBSONError as exc:
        # The header was sound, only a document was not: answer InvalidBSON
        # in the request's own protocol, then drop the connection.
        error = CommandError(ErrorCode.InvalidBSON, f"invalid BSON in message: {exc.reason}")
        raise _CloseConnection(str(exc), _error_reply(exc.opcode, request_id, error)) from exc
    except ProtocolError as exc:
        raise _CloseConnection(str(exc)) from exc
    if isinstance(message, OpMsg):
        return await _answer_op_msg(server, conn, message)
    if isinstance(message, OpQuery):
        return await _answer_op_query(server, conn, message)
    # mongod: "Message type 1 is not supported" (a client sent OP_REPLY).
    raise _CloseConnection(f"message type {opcode} is not supported")


def _removed_opcode(exc: UnsupportedOpcodeError, request_id: int) -> bytes | None:
    try:
        removed = _RemovedOpCode(exc.opcode or 0)
    except ValueError:
        raise _CloseConnection(str(exc)) from exc
    if removed is _RemovedOpCode.OP_GET_MORE:
        return _legacy_failure(request_id, "OP_GET_MORE is no longer supported")
    # The other removed opcodes were fire-and-forget: mongod logs and answers nothing.
    log.info("ignoring %s: no longer supported", removed.name)
    return None


def _legacy_failure(response_to: int, reason: str) -> bytes:
    # The server's makeErrorResponseToUnsupportedOpQuery: an OP_REPLY with
    # QueryFailure set and {$err, code: 5739101, ok: 0}.
    document = {
        "$err": f"{reason}. {_LEGACY_OPCODE_REMOVAL}",
        "code": int(ErrorCode.Location5739101),
        "ok": 0.0,
    }
    return encode_op_reply(
        response_to, [document], request_id=_next_id(), flags=OpReplyFlags.QUERY_FAILURE
    )


def _error_reply(opcode: int | None, response_to: int, error: CommandError) -> bytes:
    if opcode == OpCode.OP_QUERY:
        return encode_op_reply(response_to, [error.to_document()], request_id=_next_id())
    return encode_op_msg(_next_id(), error.to_document(), response_to=response_to)


def _op_msg_body(message: OpMsg) -> dict[str, Any]:
    """The command: the body with each document sequence as an array field
    (OP_MSG spec, "Kind 1: Document Sequence"); errors as mongod's OpMsg::parse."""
    body = dict(message.body)  # type: ignore[arg-type]
    if len(message.sequences) > _MAX_DOCUMENT_SEQUENCES:
        raise _CloseConnection("Too many document sequences in OP_MSG")
    seen: set[str] = set()
    for sequence in message.sequences:
        if sequence.identifier in seen:
            raise CommandError(
                ErrorCode.Location40431, f"Duplicate document sequence: {sequence.identifier}"
            )
        seen.add(sequence.identifier)
    for sequence in message.sequences:
        if sequence.identifier in body:
            raise CommandError(
                ErrorCode.Location40433,
                f"Duplicate field between body and document sequence {sequence.identifier}",
            )
        body[sequence.identifier] = list(sequence.documents)
    if not isinstance(body.get("$db"), str):
        raise CommandError(ErrorCode.Location40571, "OP_MSG requests require a $db argument")
    return body


async def _answer_op_msg(server: FakeMongo, conn: ConnectionState, message: OpMsg) -> bytes | None:
    try:
        body = _op_msg_body(message)
    except CommandError as exc:
        reply = exc.to_document()
    else:
        db = body["$db"]
        _log_request(conn, db, body)
        reply = await run_command(Context(server.state, conn, db), body)
    if message.flags & OpMsgFlags.MORE_TO_COME:
        return None  # an unacknowledged write: the client reads no reply
    data = encode_op_msg(_next_id(), reply, response_to=message.request_id)
    return _maybe_compress(message.compressor, data)


async def _answer_op_query(server: FakeMongo, conn: ConnectionState, message: OpQuery) -> bytes:
    db, _, collection = message.full_collection_name.partition(".")
    if collection != "$cmd":
        data = _legacy_failure(message.request_id, "OP_QUERY is no longer supported")
        return _maybe_compress(message.compressor, data)
    query = dict(message.query)  # type: ignore[arg-type]
    # Old drivers wrap the command as {$query: {...}, $readPreference: ...}
    # (the server's upconvertRequest accepts "$query" and "query").
    wrapper = next(iter(query), "")
    if wrapper in ("$query", "query") and isinstance(query[wrapper], dict):
        query = dict(query[wrapper])
    name = next(iter(query), "")
    if name in _OP_QUERY_COMMANDS:
        _log_request(conn, db, query)
        reply = await run_command(Context(server.state, conn, db), query)
    else:
        reply = CommandError(
            ErrorCode.UnsupportedOpQueryCommand,
            f"Unsupported OP_QUERY command: {name}. {_LEGACY_OPCODE_REMOVAL}",
        ).to_document()
    data = encode_op_reply(message.request_id, [reply], request_id=_next_id())
    return _maybe_compress(message.compressor, data)


def _maybe_compress(used: CompressorId | None, data: bytes) -> bytes:
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
