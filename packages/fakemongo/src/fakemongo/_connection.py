"""One client connection: messages in through the wire codec, replies out.

Requests on one connection run strictly in order, as mongod runs them. The
connection is an :class:`asyncio.Protocol`: each chunk the socket delivers is
fed to a :class:`mongotor.wire.Framer`, and every whole message in it is
answered right there, in the loop's read callback, with no task, future or
stream per request. Only a command that must wait (an awaitData getMore, a
streaming hello, a fail point's delay) gets a task; until it has answered,
the connection reads nothing more, so replies stay in request order.

A malformed message ends the connection (after an error reply when the
message's header was sound enough to answer), and nothing that happens here
can disturb another connection or the server.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import ssl
from collections.abc import Callable, Coroutine, Generator
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from bson.codec_options import DEFAULT_CODEC_OPTIONS

from mongotor.wire import (
    HEADER_SIZE,
    NEED_DATA,
    CompressorId,
    Framer,
    InvalidBSONError,
    OpCode,
    OpMsg,
    OpQuery,
    OpReplyFlags,
    ProtocolError,
    UnsupportedOpcodeError,
    compress_message,
    encode_op_msg,
    encode_op_reply,
)

from ._dispatch import Context, Reply, dispatch
from ._errors import CommandError, ErrorCode
from ._identity import MAX_MESSAGE_SIZE_BYTES as MAX_MESSAGE_SIZE

if TYPE_CHECKING:
    from ._server import FakeMongo
    from ._state import ConnectionState

__all__ = ["Connection"]

log = logging.getLogger("fakemongo.connection")

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
# How much a connection reads ahead while a command waits: one largest
# message (a client that pipelines behind an awaitData getMore is rare).
_READ_AHEAD = MAX_MESSAGE_SIZE


class _MarkedDocument(dict[str, Any]):
    """The ``document_class`` replies are encoded with: bson's C encoder reads
    ``document_class._type_marker`` on every call, and on ``dict`` that fails
    (an AttributeError made and dropped, a fifth of encoding a find_one's
    reply). Encoding uses the class for nothing else: the bytes are the same."""

    _type_marker = 0  # no bson type: not RawBSONDocument's 101


_REPLY_CODEC_OPTIONS = DEFAULT_CODEC_OPTIONS.with_options(document_class=_MarkedDocument)

#: What answering one message gives: the reply's bytes, ``None`` for no reply,
#: or the rest of a command that waits, which produces them once it is done.
_Answer: TypeAlias = "bytes | _Resumed | None"
_M = TypeVar("_M", OpMsg, OpQuery)


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


class Connection(asyncio.Protocol):
    """Serves one client until it disconnects, misbehaves, or the server stops.

    :attr:`closed` resolves once the socket is closed and no request of this
    connection is still running.
    """

    def __init__(self, server: FakeMongo) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._framer = Framer(max_message_size=MAX_MESSAGE_SIZE)
        self._transport: asyncio.Transport | None = None  # set once TLS is up
        self._state: ConnectionState | None = None
        # One Context per database this client uses: they are immutable.
        self._contexts: dict[str, Context] = {}
        # The TLS handshake, or the request that is waiting: requests that
        # arrive meanwhile are answered after it (mongod reads a request after
        # answering the last). Reading goes on, so that a client that leaves
        # cancels the command it waits for (an awaitData getMore, say).
        self._task: asyncio.Task[None] | None = None
        self._writing_paused = False
        self._lost = False
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; not an isinstance check: uvloop's transports
        # implement asyncio.Transport without subclassing it.
        transport = cast(asyncio.Transport, transport)
        server = self._server
        if not server.running:
            # Accepted just before stop() closed the listener: stop() did not
            # see this connection, so it must not start serving.
            self._lost = True
            transport.abort()
            self._forget()
            return
        server._connections.add(self)
        tls = server._tls
        if tls is None:
            self._start(transport)
        else:
            # start_tls takes the transport over when the task first runs, a
            # loop turn from now: until then the ClientHello must stay unread.
            transport.pause_reading()
            task = self._task = self._loop.create_task(self._handshake(transport, tls))
            task.add_done_callback(functools.partial(self._handshake_ended, transport))

    def data_received(self, data: bytes) -> None:
        framer = self._framer
        # A bad length is raised again by next_frame, once the messages
        # before it are answered.
        try:  # noqa: SIM105 - contextlib.suppress would cost three calls per request
            framer.feed(data)
        except ProtocolError:
            pass
        if self._task is None:
            self._serve()
        elif framer.buffered > _READ_AHEAD:
            # A command waits: hold what arrives behind it, up to a point.
            self._pause_reading()

    def eof_received(self) -> bool:
        return False  # the client is done: close our side too

    def pause_writing(self) -> None:
        # The client does not read its replies: read no more requests until it
        # does (what awaiting drain() after each reply does for a stream).
        self._writing_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._resume()

    def connection_lost(self, exc: Exception | None) -> None:
        state = self._state
        if state is not None:
            if exc is not None:
                log.debug("connection %d lost: %r", state.connection_id, exc)
            elif self._framer.buffered:
                log.info("connection %d closed in the middle of a message", state.connection_id)
        self._lost = True
        if self._task is not None:
            self._task.cancel()  # the client is gone: so is its waiting request
        else:
            self._forget()

    # -- life cycle ----------------------------------------------------------

    def abort(self) -> None:
        """Close at once: the server is stopping."""
        if self._task is not None:
            self._task.cancel()
        if self._transport is not None:
            self._transport.abort()

    async def _handshake(self, transport: asyncio.Transport, tls: ssl.SSLContext) -> None:
        # TLS is started here rather than by the listener so that stop() sees,
        # cancels and closes connections still in their handshake.
        try:
            tls_transport = await self._loop.start_tls(transport, self, tls, server_side=True)
        except BaseException as exc:
            # start_tls has closed the socket (on cancellation too: stop()).
            self._task = None
            self._lost = True
            self._forget()
            if not isinstance(exc, (ssl.SSLError, ConnectionError)):
                raise
            peer = transport.get_extra_info("peername")
            log.debug("TLS handshake with %s failed: %r", peer, exc)
            return
        self._task = None
        assert tls_transport is not None
        self._start(tls_transport)

    def _handshake_ended(self, transport: asyncio.Transport, task: asyncio.Task[None]) -> None:
        # Cancelled before its first step (stop() in the loop turn the client
        # connected in), _handshake never ran: start_tls has not closed the
        # socket, and nothing else has told stop() the connection is done.
        if self._task is not task:
            return  # _handshake ran and did its bookkeeping
        self._task = None
        self._lost = True
        transport.abort()
        self._forget()

    def _start(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        peer = transport.get_extra_info("peername")
        state = self._server.state.new_connection(f"{peer[0]}:{peer[1]}" if peer else "unknown")
        self._state = state
        log.debug("connection %d accepted from %s", state.connection_id, state.peer)
        self._serve()  # what arrived with the end of the TLS handshake

    def _forget(self) -> None:
        if self.closed.done():
            return
        if self._state is not None:
            self._server.state.close_connection(self._state)
            log.debug("connection %d closed", self._state.connection_id)
        self._server._connections.discard(self)
        self.closed.set_result(None)

    def _close(self, reason: str, reply: bytes | None = None) -> None:
        assert self._transport is not None
        assert self._state is not None
        log.info("closing connection %d: %s", self._state.connection_id, reason)
        if reply is not None:
            self._transport.write(reply)
        self._transport.close()  # once the reply is flushed

    # -- requests ------------------------------------------------------------

    def _serve(self) -> None:
        """Answer every whole message buffered, until one must wait."""
        transport = self._transport
        assert transport is not None
        framer = self._framer
        while not self._writing_paused and not transport.is_closing():
            try:
                frame = framer.next_frame()
            except ProtocolError as exc:
                # A bad declared length: mongod drops the connection without
                # a reply, since nothing after it can be trusted to be a
                # message boundary.
                length = exc.declared_length
                self._close(f"message length {length} outside [{HEADER_SIZE}, {MAX_MESSAGE_SIZE}]")
                return
            if frame is NEED_DATA:
                return
            try:
                answer = self._answer(frame)
            except _CloseConnection as close:
                self._close(str(close), close.reply)
                return
            except Exception:
                # A bug of ours (a reply that does not encode, say): this
                # connection ends, the server goes on.
                log.exception("closing connection: internal error answering a request")
                self._close("internal error")
                return
            if answer is None:
                continue
            if isinstance(answer, bytes):
                transport.write(answer)
                continue
            task = self._task = self._loop.create_task(self._finish(answer))
            task.add_done_callback(functools.partial(self._finished, answer=answer))
            return

    async def _finish(self, answer: _Resumed) -> None:
        """Wait for a request's reply, send it, then serve what is buffered."""
        try:
            try:
                reply = await answer
            except _CloseConnection as close:
                self._close(str(close), close.reply)
                return
            except Exception:
                log.exception("closing connection: internal error answering a request")
                self._close("internal error")
                return
            if reply is not None:
                assert self._transport is not None
                self._transport.write(reply)
        finally:
            self._task = None
            if self._lost:
                self._forget()
        self._resume()

    def _finished(self, task: asyncio.Task[None], answer: _Resumed) -> None:
        # A task cancelled before its first step (the server stopped, or the
        # client left, in the same loop turn as the request arrived) never
        # runs _finish at all: not its finally either. Without this, the
        # connection would never report closed and stop() would wait forever.
        if self._task is not task:
            return  # _finish ran and did its bookkeeping
        answer.close()  # nothing will await the command now
        self._task = None
        if self._lost:
            self._forget()

    def _resume(self) -> None:
        # No request waits here: none starts while writing is paused, and the
        # one that waited has finished.
        assert self._task is None
        transport = self._transport
        assert transport is not None
        if self._writing_paused or transport.is_closing():
            return
        transport.resume_reading()
        self._serve()

    def _pause_reading(self) -> None:
        assert self._transport is not None
        self._transport.pause_reading()

    def _context(self, db: str) -> Context:
        ctx = self._contexts.get(db)
        if ctx is None:
            assert self._state is not None
            ctx = self._contexts[db] = Context(self._server.state, self._state, db)
        return ctx

    def _answer(self, data: bytes | bytearray) -> _Answer:
        try:
            # The framer has checked the length: decode_message would again.
            message = self._framer.decode(data)
        except UnsupportedOpcodeError as exc:
            return _removed_opcode(exc, _request_id(data))
        except InvalidBSONError as exc:
            # The header was sound, only a document was not: answer InvalidBSON
            # in the request's own protocol, then drop the connection.
            error = CommandError(ErrorCode.InvalidBSON, f"invalid BSON in message: {exc.reason}")
            reply = _error_reply(exc.opcode, _request_id(data), error)
            raise _CloseConnection(str(exc), reply) from exc
        except ProtocolError as exc:
            raise _CloseConnection(str(exc)) from exc
        if type(message) is OpMsg:
            return self._answer_op_msg(message)
        if type(message) is OpQuery:
            return self._answer_op_query(message)
        # mongod: "Message type 1 is not supported" (a client sent OP_REPLY).
        opcode = int.from_bytes(data[12:16], "little", signed=True)
        raise _CloseConnection(f"message type {opcode} is not supported")

    def _answer_op_msg(self, message: OpMsg) -> _Answer:
        # The decoder made this dict for this request alone: it is ours to extend.
        body: dict[str, Any] = message.body  # type: ignore[assignment]
        db = body.get("$db")
        if message.sequences or type(db) is not str:
            # Not just a body with its $db: _op_msg_body's checks and errors.
            try:
                body = _op_msg_body(message)
            except CommandError as exc:
                return _op_msg_reply(message, exc.to_document())
            db = body["$db"]
        ctx = self._contexts.get(db) or self._context(db)
        if log.isEnabledFor(logging.DEBUG):
            _log_request(ctx.conn, db, body)
        return _respond(ctx, body, _op_msg_reply, message)

    def _answer_op_query(self, message: OpQuery) -> _Answer:
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
            ctx = self._context(db)
            _log_request(ctx.conn, db, query)
            return _respond(ctx, query, _op_reply, message)
        reply = CommandError(
            ErrorCode.UnsupportedOpQueryCommand,
            f"Unsupported OP_QUERY command: {name}. {_LEGACY_OPCODE_REMOVAL}",
        ).to_document()
        return _op_reply(message, reply)


# -- running a command without a task --------------------------------------


def _respond(
    ctx: Context, body: dict[str, Any], encode: Callable[[_M, Reply], bytes | None], message: _M
) -> _Answer:
    """Run the command at once, in the read callback: the encoded reply, or,
    if the command waits, a coroutine that finishes it and encodes its reply.

    :func:`dispatch` answers a command that does not wait itself. The first
    step of the coroutine it hands over otherwise runs here, outside any task
    (what Python 3.12's eager tasks do): if the command does not wait after
    all, its reply is encoded without a task, a future or a trip through the
    loop; if it does, the coroutine goes on from that point inside a task.
    """
    outcome = dispatch(ctx, body)
    if type(outcome) is dict:
        return encode(message, outcome)
    command = cast("Coroutine[Any, Any, Reply]", outcome)
    try:
        awaiting = command.send(None)
    except StopIteration as done:
        return encode(message, done.value)
    return _Resumed(command, awaiting, encode, message)


class _Resumed:
    """The rest of a command whose first step already ran outside any task,
    and the encoding of its reply.

    Awaiting it does what ``await`` would have done from that step on: it
    passes what the coroutine awaits (a future) up to the task, and the
    task's results, exceptions and cancellation back down to it.
    """

    __slots__ = ("_awaiting", "_coroutine", "_encode", "_message")

    def __init__(
        self,
        coroutine: Coroutine[Any, Any, Reply],
        awaiting: Any,
        encode: Callable[[Any, Reply], bytes | None],
        message: OpMsg | OpQuery,
    ) -> None:
        self._coroutine = coroutine
        self._awaiting = awaiting
        self._encode = encode
        self._message = message

    def close(self) -> None:
        """End the command where it waits (its task never ran)."""
        self._coroutine.close()

    def __await__(self) -> Generator[Any, Any, bytes | None]:
        coroutine, awaiting = self._coroutine, self._awaiting
        while True:
            step: Callable[[Any], Any]
            try:
                value = yield awaiting
                step = coroutine.send
            except BaseException as exc:  # cancellation, or the awaited future's error
                value, step = exc, coroutine.throw
            try:
                awaiting = step(value)
            except StopIteration as done:
                return self._encode(self._message, done.value)


# -- messages --------------------------------------------------------------


def _request_id(data: bytes | bytearray) -> int:
    return int.from_bytes(data[4:8], "little", signed=True)


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
    body: dict[str, Any] = message.body  # type: ignore[assignment]
    if message.sequences:
        _add_sequences(body, message)
    if not isinstance(body.get("$db"), str):
        raise CommandError(ErrorCode.Location40571, "OP_MSG requests require a $db argument")
    return body


def _add_sequences(body: dict[str, Any], message: OpMsg) -> None:
    sequences = message.sequences
    if len(sequences) > 1:  # one (an insert's documents) cannot repeat itself
        if len(sequences) > _MAX_DOCUMENT_SEQUENCES:
            raise _CloseConnection("Too many document sequences in OP_MSG")
        seen: set[str] = set()
        for sequence in sequences:
            if sequence.identifier in seen:
                raise CommandError(
                    ErrorCode.Location40431, f"Duplicate document sequence: {sequence.identifier}"
                )
            seen.add(sequence.identifier)
    for sequence in sequences:
        if sequence.identifier in body:
            raise CommandError(
                ErrorCode.Location40433,
                f"Duplicate field between body and document sequence {sequence.identifier}",
            )
        body[sequence.identifier] = list(sequence.documents)


def _op_msg_reply(message: OpMsg, reply: Reply) -> bytes | None:
    if message.flags and message.more_to_come:  # flags: nearly always none
        return None  # an unacknowledged write: the client reads no reply
    data = encode_op_msg(
        _next_id(), reply, response_to=message.request_id, codec_options=_REPLY_CODEC_OPTIONS
    )
    return data if message.compressor is None else _maybe_compress(message.compressor, data)


def _op_reply(message: OpQuery, reply: Reply) -> bytes:
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
