"""One connection to one server: an :class:`asyncio.BufferedProtocol` driving the wire Framer.

The transport reads straight into the Framer's buffers (a large reply lands in
one buffer of its declared size). Replies are matched to requests by the
header's responseTo, undecoded; the awaiting operation decodes its own, so the
lowest round trip (:meth:`Connection.roundtrip_frame`) decodes nothing. One
Future per request; a deadline is a
``loop.call_at`` timer, never an extra Task. Every way an operation can end
early leaves no half-read stream behind: a timeout, a cancellation, a network
error or unreadable bytes close the connection at once and fail every
operation still waiting on it with a typed error (:class:`NetworkError`,
:class:`NetworkTimeout`), so a pool never hands it out again.

The connection is opened (TCP, TLS, handshake, authentication) by
:func:`~mongotor.pool.open_connection`; this module only moves messages.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from bson.codec_options import DEFAULT_CODEC_OPTIONS, CodecOptions

from mongotor.wire import (
    HEADER,
    NEED_DATA,
    UNCOMPRESSIBLE_COMMANDS,
    CompressorId,
    DocumentSequence,
    Framer,
    Message,
    OpMsg,
    OpMsgFlags,
    ProtocolError,
    compress_message,
    compressor_id,
    encode_op_msg,
    frame_more_to_come,
)

from ._connection_errors import CommandError, NetworkError, NetworkTimeout

if TYPE_CHECKING:
    from ._handshake import HandshakeResult

__all__ = ["Connection", "ConnectionState", "next_request_id"]

# requestID is an int32 (Wire Protocol, Standard Message Header); ids are unique
# per process so a stray reply can never match another connection's request.
_INT32_MAX: Final = 0x7FFFFFFF
_request_ids = itertools.count()


def next_request_id() -> int:
    """A fresh positive int32 request id (1 to 2**31 - 1, then around again)."""
    return next(_request_ids) % _INT32_MAX + 1


class ConnectionState(enum.Enum):
    """Where a connection is in its life."""

    #: Connected; the handshake and authentication are running.
    CONNECTING = "connecting"
    #: Handshake and authentication completed: usable by the application.
    OPEN = "open"
    #: Closed, by either side; never usable again.
    CLOSED = "closed"


# Read on every operation: module constants, because reading a member off its
# Enum class runs Python code on CPython 3.11 (~0.1 us), and so does any test
# or operator on an IntFlag member (encode_op_msg takes the flags as an int).
_CLOSED = ConnectionState.CLOSED
_NO_FLAGS = int(OpMsgFlags.NONE)
_EXHAUST_ALLOWED = int(OpMsgFlags.EXHAUST_ALLOWED)
_MORE_TO_COME = int(OpMsgFlags.MORE_TO_COME)


class Connection(asyncio.BufferedProtocol):
    """A socket to ``address``: send commands, await their replies.

    ``id`` is the pool's connection id and ``generation`` the pool generation
    it belongs to (CMAP). ``socket_timeout`` (seconds) bounds each operation
    that gives no deadline of its own. Not for sharing between pools; one
    operation at a time is the pool's discipline (CMAP "Single Track"), though
    the connection itself correlates any number of replies.

    ``repr()`` shows the address, id, generation and state: never credentials.
    """

    def __init__(
        self,
        address: str,
        *,
        connection_id: int = 0,
        generation: int = 0,
        socket_timeout: float | None = None,
        codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS,
    ) -> None:
        self.address = address
        self.id = connection_id
        self.generation = generation
        self.socket_timeout = socket_timeout
        self.handshake: HandshakeResult | None = None
        self._loop = asyncio.get_running_loop()
        self._framer = Framer(codec_options=codec_options)
        # asyncio.BufferedProtocol.get_buffer is the Framer's, bound here rather
        # than wrapped in a method (a call less per read): its receive buffer, or
        # the rest of a large message's own buffer.
        self.get_buffer = self._framer.get_buffer  # type: ignore[method-assign]
        self._transport: asyncio.Transport | None = None
        self._state = ConnectionState.CONNECTING
        #: Whether the connection is closed (it can never be used again). An
        #: attribute, not a property: the pool reads it at every check-out and in.
        self.closed = False
        self._established = False
        self._error: BaseException | None = None
        # Futures of the replies' frames (whole messages, undecoded) by request id.
        self._pending: dict[int, asyncio.Future[bytes | bytearray]] = {}
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._paused = False
        self._closed = self._loop.create_future()
        # OP_MSG, "exhaustAllowed": after a reply with moreToCome, the server sends
        # the next one unasked, answering that reply's requestID.
        self._exhaust = False  # set by the first exhaust_allowed command
        self._stream_next: int | None = None
        self._streamed: deque[Message] = deque()
        self._stream_waiter: asyncio.Future[None] | None = None
        self._compressor: CompressorId | None = None
        self._compression_level: int | None = None

    # -- state -----------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The connection's :class:`ConnectionState`."""
        return self._state

    @property
    def established(self) -> bool:
        """Whether the handshake and authentication completed (it stays true once
        the connection closes, for the errors that report it)."""
        return self._established

    @property
    def max_wire_version(self) -> int:
        """The server's maxWireVersion from the handshake (0 before it)."""
        return self.handshake.max_wire_version if self.handshake is not None else 0

    @property
    def compressor(self) -> str | None:
        """The negotiated compressor's name, or ``None``."""
        return self._compressor.name.lower() if self._compressor is not None else None

    @property
    def more_to_come(self) -> bool:
        """Whether the server will send another reply unasked (the last reply of an
        ``exhaust_allowed`` command had moreToCome set): read it with
        :meth:`next_reply` before sending anything else."""
        return self._stream_next is not None or bool(self._streamed)

    @property
    def error(self) -> BaseException | None:
        """Why the connection closed, if it closed because of an error."""
        return self._error

    def complete_handshake(self, handshake: HandshakeResult, *, zlib_level: int | None) -> None:
        """Record the handshake's outcome: compression and size limits apply from
        the next message. Called by :func:`~mongotor.pool.open_connection`."""
        self.handshake = handshake
        self._framer.max_message_size = handshake.max_message_size
        if handshake.compressor is not None:
            self._compressor = compressor_id(handshake.compressor)
            if self._compressor is CompressorId.ZLIB:
                self._compression_level = zlib_level

    def mark_established(self) -> None:
        """The handshake and authentication succeeded: the connection is OPEN."""
        if self._state is ConnectionState.CONNECTING:
            self._state = ConnectionState.OPEN
            self._established = True

    # -- operations --------------------------------------------------------------

    async def command(
        self,
        db: str,
        body: Mapping[str, Any],
        *,
        sequences: Sequence[DocumentSequence] = (),
        deadline: float | None = None,
        check: bool = False,
        exhaust_allowed: bool = False,
    ) -> Mapping[str, Any]:
        """Run ``body`` against database ``db`` and return the reply document.

        ``deadline`` is a ``loop.time()`` by which the reply must have arrived
        (default: now plus ``socket_timeout``, or none). With ``check``, an
        ``ok: 0`` reply raises :class:`CommandError`. ``exhaust_allowed`` sets
        OP_MSG's exhaustAllowed flag: the server may then stream more replies
        (see :attr:`more_to_come` and :meth:`next_reply`). Raises
        :class:`NetworkTimeout` (the connection is closed, unless the deadline
        had passed before anything was sent), :class:`NetworkError` (closed), and
        :class:`~mongotor.wire.EncodingError` for an unencodable command (the
        connection stays usable). On cancellation the connection is closed.
        """
        flags = _NO_FLAGS
        if exhaust_allowed:
            flags, self._exhaust = _EXHAUST_ALLOWED, True
        request_id, data = self._encode(db, body, sequences, flags)
        reply = await self.roundtrip(data, request_id, deadline=deadline)
        return self._reply_document(reply, check)

    async def next_reply(
        self, *, deadline: float | None = None, check: bool = False
    ) -> Mapping[str, Any]:
        """The next reply the server streams after a reply with moreToCome (see
        :attr:`more_to_come`). Deadlines, ``check`` and errors as :meth:`command`;
        on cancellation or timeout the connection is closed. Raises
        ``RuntimeError`` when no further reply is coming."""
        if not self._streamed:
            if self._state is ConnectionState.CLOSED:
                assert self._error is not None
                raise self._error
            if self._stream_next is None:
                raise RuntimeError(f"{self!r} has no streamed reply to read")
            await self._await_streamed(self._deadline(deadline))
        return self._reply_document(self._streamed.popleft(), check)

    def _reply_document(self, reply: Message, check: bool) -> Mapping[str, Any]:
        if not isinstance(reply, OpMsg):
            error = self._network_error(
                f"{self.address} answered OP_MSG with opcode {type(reply).__name__}"
            )
            self._fail(error)
            raise error
        # A decoded body is always a mapping (DocumentLike also covers bytes to send).
        document = cast(Mapping[str, Any], reply.body)
        if check and document.get("ok") != 1:
            raise CommandError.from_reply(
                document,
                address=self.address,
                established=self.established,
                generation=self.generation,
                max_wire_version=self.max_wire_version,
            )
        return document

    async def _await_streamed(self, deadline: float | None) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._stream_waiter = waiter
        timer = None
        if deadline is not None:
            timer = self._loop.call_at(
                deadline, self._timed_out, waiter, max(0.0, deadline - self._loop.time())
            )
        try:
            await waiter
        except asyncio.CancelledError:
            self._fail(self._network_error(f"a streamed read from {self.address} was cancelled"))
            raise
        finally:
            self._stream_waiter = None
            if timer is not None:
                timer.cancel()

    async def send(
        self,
        db: str,
        body: Mapping[str, Any],
        *,
        sequences: Sequence[DocumentSequence] = (),
        deadline: float | None = None,
    ) -> None:
        """Send ``body`` with ``moreToCome`` set: the server sends no reply (an
        unacknowledged, ``w: 0`` write). Returns once the bytes are handed to
        the transport, waiting first for its buffer to drain if it is full.
        Raises as :meth:`command`."""
        _, data = self._encode(db, body, sequences, _MORE_TO_COME)
        self._write(data)
        if self._paused:
            await self._drain(self._deadline(deadline))

    async def roundtrip(
        self, data: bytes, request_id: int, *, deadline: float | None = None
    ) -> Message:
        """Send one encoded message whose header carries ``request_id`` and return
        the message answering it, decoded. No compression, no checks of the
        reply's contents. Raises as :meth:`roundtrip_frame`, and
        :class:`NetworkError` (the connection is closed) for a reply that does
        not decode."""
        # roundtrip_frame's body, not a call to it: a coroutine less per command.
        future, timer = self._send(data, request_id, deadline)
        try:
            frame = await future
        except BaseException as exc:
            self._undelivered(request_id, exc)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        try:
            return self._framer.decode(frame)
        except ProtocolError as exc:
            error = self._network_error(f"{self.address} sent an invalid message: {exc}")
            self._fail(error)
            raise error from exc

    async def roundtrip_frame(
        self, data: bytes, request_id: int, *, deadline: float | None = None
    ) -> bytes | bytearray:
        """Send one encoded message whose header carries ``request_id`` and return
        the whole message answering it (header included), undecoded: the lowest
        level, with no compression, no checks and no decoding (decode it with
        :func:`~mongotor.wire.decode_message`). Its declared length was checked
        against the server's maxMessageSizeBytes before it was buffered.

        ``deadline`` as :meth:`command`. Raises :class:`NetworkTimeout` (the
        connection is closed, unless the deadline had passed before anything
        was sent) and :class:`NetworkError` (closed); on cancellation the
        connection is closed.
        """
        future, timer = self._send(data, request_id, deadline)
        try:
            return await future
        except BaseException as exc:
            self._undelivered(request_id, exc)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _send(
        self, data: bytes, request_id: int, deadline: float | None
    ) -> tuple[asyncio.Future[bytes | bytearray], asyncio.TimerHandle | None]:
        """Write ``data``; the Future its reply's frame will complete, and the
        deadline's timer (to cancel once the Future is done)."""
        loop = self._loop
        if deadline is None and self.socket_timeout is not None:
            deadline = loop.time() + self.socket_timeout
        if deadline is not None and deadline <= loop.time():
            # Nothing was sent: the stream is intact and the connection usable.
            raise self._timeout_error(0.0)
        if self._state is _CLOSED:
            assert self._error is not None
            raise self._error
        assert self._transport is not None
        self._transport.write(data)
        future: asyncio.Future[bytes | bytearray] = loop.create_future()
        self._pending[request_id] = future
        # No timer without a deadline: most operations have none.
        timer = (
            None
            if deadline is None
            else loop.call_at(deadline, self._timed_out, future, deadline - loop.time())
        )
        return future, timer

    def _undelivered(self, request_id: int, exc: BaseException) -> None:
        """The wait for ``request_id``'s reply ended with ``exc``, not the reply."""
        # data_received has not removed the entry.
        self._pending.pop(request_id, None)
        if isinstance(exc, asyncio.CancelledError):
            # The reply would arrive for no one: the stream is out of step.
            self._fail(self._network_error(f"an operation on {self.address} was cancelled"))

    def close(self) -> None:
        """Close the connection, flushing what was written; operations still
        waiting fail with :class:`NetworkError`. Idempotent."""
        self._fail(self._network_error(f"the connection to {self.address} was closed"), abort=False)

    def abort(self, error: BaseException | None = None) -> None:
        """Close the connection at once; operations still waiting fail with
        ``error`` (default: a :class:`NetworkError`). Idempotent."""
        self._fail(error or self._network_error(f"the connection to {self.address} was aborted"))

    async def wait_closed(self) -> None:
        """Return once the transport has released the socket."""
        if self._transport is not None:
            await asyncio.shield(self._closed)

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; not an isinstance check: uvloop's transports
        # implement asyncio.Transport without subclassing it.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport

    def buffer_updated(self, nbytes: int) -> None:
        # Hand every whole reply to its request's Future, undecoded (a reply
        # streamed after moreToCome is decoded here, for next_reply).
        framer = self._framer
        try:
            frame = framer.buffer_updated(nbytes)
            while frame is not NEED_DATA:
                _, request_id, response_to, _ = HEADER.unpack_from(frame)
                # Only a connection that allowed exhaust looks for moreToCome.
                streaming = self._exhaust and frame_more_to_come(
                    frame, max_message_size=framer.max_message_size
                )
                if self._stream_next is not None and response_to == self._stream_next:
                    self._stream_next = request_id if streaming else None
                    self._streamed.append(framer.decode(frame))
                    if self._stream_waiter is not None and not self._stream_waiter.done():
                        self._stream_waiter.set_result(None)
                else:
                    future = self._pending.pop(response_to, None)
                    if future is None:
                        self._fail(
                            self._network_error(
                                f"{self.address} sent a reply to unknown request {response_to}"
                            )
                        )
                        return
                    if streaming:
                        self._stream_next = request_id
                    if not future.done():
                        future.set_result(frame)
                frame = framer.next_frame()
        except ProtocolError as exc:
            self._fail(self._network_error(f"{self.address} sent an invalid message: {exc}"))

    def data_received(self, data: bytes) -> None:
        """Take bytes from a transport that does not read into buffers (the
        :meth:`buffer_updated` path is the usual one): they are copied into the
        buffers the Framer gives, as such a transport would read them."""
        view = memoryview(data)
        while view and self._state is not _CLOSED:
            buffer = self._framer.get_buffer(len(view))
            n = min(len(buffer), len(view))
            buffer[:n] = view[:n]
            self.buffer_updated(n)
            view = view[n:]

    def eof_received(self) -> bool:
        # Returning False lets the transport close itself; connection_lost follows.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._state is not ConnectionState.CLOSED:
            reason = f": {exc}" if exc is not None else ""
            self._fail(self._network_error(f"{self.address} closed the connection{reason}"))
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_writers(None)

    # -- internals -------------------------------------------------------------------

    def _encode(
        self,
        db: str,
        body: Mapping[str, Any],
        sequences: Sequence[DocumentSequence],
        flags: int,
    ) -> tuple[int, bytes]:
        request_id = next_request_id()
        data = encode_op_msg(request_id, {**body, "$db": db}, sequences, flags=flags)
        compressor = self._compressor
        if compressor is not None and next(iter(body), "").lower() not in UNCOMPRESSIBLE_COMMANDS:
            data = compress_message(data, compressor, level=self._compression_level)
        return request_id, data

    def _write(self, data: bytes) -> None:
        if self._state is _CLOSED:
            assert self._error is not None
            raise self._error
        assert self._transport is not None
        self._transport.write(data)

    def _deadline(self, deadline: float | None) -> float | None:
        if deadline is None and self.socket_timeout is not None:
            return self._loop.time() + self.socket_timeout
        return deadline

    async def _drain(self, deadline: float | None) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(waiter)
        timer = None
        if deadline is not None:
            timer = self._loop.call_at(
                deadline, self._timed_out, waiter, deadline - self._loop.time()
            )
        try:
            await waiter
        except asyncio.CancelledError:
            # Part of the message may be unsent: the stream is out of step.
            self._fail(self._network_error(f"a write to {self.address} was cancelled"))
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _wake_writers(self, error: BaseException | None) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    def _timed_out(self, future: asyncio.Future[Any], allowed: float) -> None:
        if not future.done():
            self._fail(self._timeout_error(allowed))

    def _fail(self, error: BaseException, *, abort: bool = True) -> None:
        """Close with ``error`` (the first reason wins) and fail every waiter."""
        if self._state is ConnectionState.CLOSED:
            return
        self._state = ConnectionState.CLOSED
        self.closed = True
        self._error = error
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)
        self._stream_next = None
        self._streamed.clear()
        waiter = self._stream_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self._wake_writers(error)
        transport = self._transport
        if transport is not None:
            if abort:
                transport.abort()
            else:
                transport.close()

    def _network_error(self, message: str) -> NetworkError:
        return NetworkError(
            message,
            address=self.address,
            connection_id=self.id,
            established=self.established,
            generation=self.generation,
            max_wire_version=self.max_wire_version,
        )

    def _timeout_error(self, allowed: float) -> NetworkTimeout:
        milliseconds = round(allowed * 1000, 3)
        return NetworkTimeout(
            f"{self.address} did not answer within {milliseconds:g} ms",
            address=self.address,
            timeout_ms=milliseconds,
            connection_id=self.id,
            established=self.established,
            generation=self.generation,
            max_wire_version=self.max_wire_version,
        )

    def __repr__(self) -> str:
        extra = f" compressor={self.compressor}" if self._compressor is not None else ""
        return (
            f"<Connection {self.id} to {self.address} generation={self.generation} "
            f"{self._state.value}{extra} pending={len(self._pending)}>"
        )
