"""Whole messages out of a byte stream: the incremental framer and the decoder.

``Framer`` is the sans-I/O heart of a connection (h11's ``Connection`` shape):
the I/O layer ``feed()``s whatever bytes arrived, in any chunking, and calls
``next_message()`` until it answers :data:`NEED_DATA`. The header's declared
length is checked against the minimum and the maximum message size as soon as
its four bytes are present, before any of the body is buffered, so a hostile
peer cannot make us hold more than one chunk past the limit.

An I/O layer that can read into a buffer (``asyncio.BufferedProtocol``,
``socket.recv_into``) uses ``get_buffer()`` / ``buffer_updated()`` instead of
``feed()``: once a header declares a message larger than the receive buffer,
the rest of it is read straight into one buffer of the declared size, with no
intermediate chunks, copies or reallocations.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Final, Literal, TypeAlias

from bson.codec_options import CodecOptions

from ._bson import DEFAULT_CODEC_OPTIONS
from ._compression import decompress_message
from ._constants import (
    DEFAULT_MAX_MESSAGE_SIZE,
    HEADER,
    HEADER_SIZE,
    INT32,
    OP_MSG_FLAGS,
    CompressorId,
    OpCode,
    OpMsgFlags,
)
from ._errors import (
    MalformedMessageError,
    MessageTooLargeError,
    ProtocolError,
    UnsupportedOpcodeError,
)
from ._legacy import OpQuery, OpReply, decode_op_query, decode_op_reply
from ._op_msg import OpMsg, decode_op_msg

__all__ = [
    "NEED_DATA",
    "RECEIVE_BUFFER_SIZE",
    "Framer",
    "Message",
    "NeedData",
    "decode_message",
    "frame_more_to_come",
]

#: Any message this codec reads or writes.
Message: TypeAlias = OpMsg | OpQuery | OpReply


class NeedData(Enum):
    """The type of :data:`NEED_DATA` (an enum so type checkers can narrow it)."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by :meth:`Framer.next_message` when no whole message is buffered.
NEED_DATA: Final = NeedData.NEED_DATA

_Decoder: TypeAlias = Callable[
    [bytes | bytearray, int, int, CodecOptions[Any], CompressorId | None], Message
]
_DECODERS: dict[int, _Decoder] = {
    OpCode.OP_MSG: decode_op_msg,
    OpCode.OP_QUERY: decode_op_query,
    OpCode.OP_REPLY: decode_op_reply,
}
_OP_MSG = int(OpCode.OP_MSG)
_OP_COMPRESSED = int(OpCode.OP_COMPRESSED)
_MORE_TO_COME = int(OpMsgFlags.MORE_TO_COME)
# Compact the buffer once this much has been consumed from its front; below
# it, consumed bytes are skipped by offset rather than moved.
_COMPACT_AT = 1 << 16
#: The size of the buffer :meth:`Framer.get_buffer` reads small messages into
#: (one per framer, allocated at its first use). A message declared larger is
#: read into a buffer of its own size instead.
RECEIVE_BUFFER_SIZE: Final = 1 << 16


def _length_error(length: int, max_message_size: int) -> ProtocolError:
    """The error for a declared length below the header's or above the maximum."""
    if length < HEADER_SIZE:
        return MalformedMessageError(
            "message length is shorter than its header", declared_length=length, offset=0
        )
    return MessageTooLargeError(
        f"message length exceeds the maximum message size {max_message_size}",
        declared_length=length,
        offset=0,
    )


def decode_message(
    data: bytes | bytearray,
    codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS,
    *,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> Message:
    """Decode one whole message (header included); OP_COMPRESSED is unwrapped.

    Raises only :class:`ProtocolError` subclasses for malformed input.
    """
    if len(data) < HEADER_SIZE:
        raise MalformedMessageError("message shorter than its header", actual_length=len(data))
    (length,) = INT32.unpack_from(data)
    if length < HEADER_SIZE or length > max_message_size:
        raise _length_error(length, max_message_size)
    if length != len(data):
        raise MalformedMessageError(
            "message length does not match the bytes given",
            opcode=HEADER.unpack_from(data)[3],
            declared_length=length,
            actual_length=len(data),
        )
    return _decode_checked(data, codec_options, max_message_size)


def _decode_checked(
    data: bytes | bytearray, codec_options: CodecOptions[Any], max_message_size: int
) -> Message:
    """:func:`decode_message` once the declared length is known to be valid and
    to match ``data`` (the Framer has checked it already)."""
    _, request_id, response_to, opcode = HEADER.unpack_from(data)
    if opcode == _OP_MSG:  # nearly every message: no table, no compressor
        return decode_op_msg(data, request_id, response_to, codec_options)
    compressor: CompressorId | None = None
    if opcode == _OP_COMPRESSED:
        data, compressor = decompress_message(data, max_message_size=max_message_size)
        opcode = HEADER.unpack_from(data)[3]
    try:
        decoder = _DECODERS[opcode]
    except KeyError:
        raise UnsupportedOpcodeError(
            f"unsupported opcode {opcode}", opcode=opcode, offset=12
        ) from None
    return decoder(data, request_id, response_to, codec_options, compressor)


def frame_more_to_come(
    frame: bytes | bytearray, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
) -> bool:
    """Whether a whole message (as :meth:`Framer.next_frame` returns it) is an
    OP_MSG with moreToCome set, looking inside OP_COMPRESSED, without decoding
    any document. Raises :class:`ProtocolError` for a message too short for its
    flagBits or a compressed one that does not decompress."""
    opcode = HEADER.unpack_from(frame)[3]
    if opcode == _OP_COMPRESSED:
        frame = decompress_message(frame, max_message_size=max_message_size)[0]
        opcode = HEADER.unpack_from(frame)[3]
    if opcode != _OP_MSG:
        return False
    if len(frame) < HEADER_SIZE + OP_MSG_FLAGS.size:
        raise MalformedMessageError(
            "OP_MSG shorter than its flagBits", opcode=_OP_MSG, actual_length=len(frame)
        )
    return bool(OP_MSG_FLAGS.unpack_from(frame, HEADER_SIZE)[0] & _MORE_TO_COME)


class Framer:
    """Splits a byte stream into messages. Not thread-safe; one per connection.

    After a :class:`ProtocolError` the stream is out of step: the framer keeps
    raising that error, and the connection must be closed.
    """

    __slots__ = (
        "_buffer",
        "_codec_options",
        "_error",
        "_large",
        "_large_filled",
        "_length",
        "_max_message_size",
        "_pos",
        "_receive",
    )

    def __init__(
        self,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS,
    ) -> None:
        # The bytes not handed out yet are _buffer[_pos:]. Messages are decoded
        # in place, not copied out: a message that arrives in one chunk is
        # decoded from that chunk (kept as it was fed, when it is bytes), and one
        # that spans chunks from the bytearray it was assembled in, which is
        # handed over whole when it holds just that message (see next_frame).
        self._buffer: bytes | bytearray = b""
        self._pos = 0
        # The declared length of the message at _pos once checked (0: not yet),
        # so that it is read and checked once, not at every feed and call.
        self._length = 0
        self._max_message_size = max_message_size
        self._codec_options = codec_options
        self._error: ProtocolError | None = None
        # get_buffer's: the receive buffer (a view of it), and the message being
        # read in place (its whole declared length) with how much of it is filled.
        self._receive: bytearray | None = None
        self._large: bytearray | None = None
        self._large_filled = 0

    @property
    def max_message_size(self) -> int:
        """The largest message accepted; a server's hello may raise or lower it."""
        return self._max_message_size

    @max_message_size.setter
    def max_message_size(self, value: int) -> None:
        self._max_message_size = value
        self._length = 0  # check the next message against the new limit

    @property
    def buffered(self) -> int:
        """Bytes received but not yet handed out as messages."""
        return len(self._buffer) - self._pos + self._large_filled

    def get_buffer(self, sizehint: int = -1) -> bytearray | memoryview:
        """A writable buffer for the next bytes received (``asyncio.BufferedProtocol``'s
        ``get_buffer``): write into it, then call :meth:`buffer_updated` with the
        number of bytes written, before anything else. ``sizehint`` is ignored.

        Small messages go through a reused receive buffer of
        :data:`RECEIVE_BUFFER_SIZE` bytes; once the next message's header (its
        declared length already checked) says it is larger, the buffer is that
        message's own, of exactly its length, holding what had arrived of it:
        the rest lands in place and is handed out whole by :meth:`next_frame`.
        """
        receive = self._receive
        if self._length <= RECEIVE_BUFFER_SIZE and self._large is None and receive is not None:
            return receive  # the common case
        large = self._large
        if large is not None:
            return memoryview(large)[self._large_filled :]
        length = self._length
        buffered = len(self._buffer) - self._pos
        if length > RECEIVE_BUFFER_SIZE and buffered < length:
            # Only this message's first bytes are buffered (those of earlier ones
            # were handed out): it moves to a buffer of its own.
            large = bytearray(length)
            large[:buffered] = memoryview(self._buffer)[self._pos :]
            self._buffer, self._pos = b"", 0
            self._large, self._large_filled = large, buffered
            return memoryview(large)[buffered:]
        if receive is None:
            receive = self._receive = bytearray(RECEIVE_BUFFER_SIZE)
        return receive

    def buffer_updated(self, nbytes: int) -> bytes | bytearray | Literal[NeedData.NEED_DATA]:
        """``nbytes`` were written at the start of the buffer :meth:`get_buffer`
        returned. Returns what :meth:`next_frame` would now (call it until
        :data:`NEED_DATA` for any further message). Raises as :meth:`feed`."""
        large = self._large
        if large is not None:
            self._large_filled += nbytes
            if self._large_filled < len(large):
                return NEED_DATA
            # Whole: handed over as the message itself.
            self._large, self._large_filled = None, 0
            self._buffer, self._pos = large, 0
            return self.next_frame()
        receive = self._receive
        assert receive is not None, "buffer_updated() without get_buffer()"
        if self._pos != len(self._buffer) or self._error is not None or nbytes < 4:
            self.feed(memoryview(receive)[:nbytes])
            return self.next_frame()
        # feed()'s common case, inline: nothing buffered, so a copy of the chunk
        # (the receive buffer is reused) is the buffer, its length checked first.
        data = receive[:nbytes]
        length: int = INT32.unpack_from(data)[0]
        if length == nbytes and length >= HEADER_SIZE and length <= self._max_message_size:
            return data  # exactly one whole message: nothing stays buffered
        self._buffer, self._pos = data, 0
        if length < HEADER_SIZE or length > self._max_message_size:
            self._check_next_length()  # raises
        self._length = length
        return self.next_frame()

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add received bytes. Raises :class:`ProtocolError` as soon as the
        next message's declared length is known to be invalid."""
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        if self._pos == len(buffer):
            # Nothing buffered: keep the chunk itself (bytes() copies only a
            # mutable chunk, which its owner may reuse).
            self._buffer, self._pos = bytes(data), 0
        elif isinstance(buffer, bytes):
            # A message spans chunks: assemble it in a bytearray from here on.
            self._buffer = bytearray(memoryview(buffer)[self._pos :])
            self._buffer += data
            self._pos = 0
        else:
            buffer += data
        if not self._length and len(self._buffer) - self._pos >= 4:
            self._check_next_length()

    def next_message(self) -> Message | Literal[NeedData.NEED_DATA]:
        """The next whole message, or :data:`NEED_DATA`."""
        data = self.next_frame()
        if data is NEED_DATA:
            return data
        try:
            return _decode_checked(data, self._codec_options, self._max_message_size)
        except ProtocolError as exc:
            self._error = exc
            raise

    def decode(self, frame: bytes | bytearray) -> Message:
        """Decode a message :meth:`next_frame` returned, with this framer's codec
        options and maximum message size (what :meth:`next_message` does). Raises
        :class:`ProtocolError`; unlike :meth:`next_message`'s, the error does not
        stick: the framer is still in step with the stream."""
        _, request_id, response_to, opcode = HEADER.unpack_from(frame)
        if opcode == _OP_MSG:  # _decode_checked's fast path: a call less
            return decode_op_msg(frame, request_id, response_to, self._codec_options)
        return _decode_checked(frame, self._codec_options, self._max_message_size)

    def next_frame(self) -> bytes | bytearray | Literal[NeedData.NEED_DATA]:
        """The next whole message's bytes (header included), not decoded, or
        :data:`NEED_DATA`. Its declared length has been checked; decode it with
        :func:`decode_message`.

        For a server, which must answer a message the codec refuses (mongod
        replies to an unsupported opcode or invalid BSON from the header's
        requestID) and can go on after some: a message that does not decode
        leaves the stream in step, so only a bad declared length is sticky.
        """
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        pos = self._pos
        length = self._length
        if not length:
            if len(buffer) - pos < 4:
                return NEED_DATA
            length = self._check_next_length()
        end = pos + length
        if len(buffer) < end:
            return NEED_DATA
        self._length = 0
        data: bytes | bytearray
        if isinstance(buffer, bytes):
            data = buffer[pos:end]  # the chunk itself when it is just this message
        elif pos == 0 and end == len(buffer):
            data = buffer  # exactly this message: handed over, replaced just below
        else:
            data = bytes(memoryview(buffer)[pos:end])
        if end == len(buffer):
            self._buffer, self._pos = b"", 0
        elif end >= _COMPACT_AT and isinstance(buffer, bytearray):
            del buffer[:end]
            self._pos = 0
        else:
            self._pos = end
        return data

    def _check_next_length(self) -> int:
        length: int = INT32.unpack_from(self._buffer, self._pos)[0]
        if length < HEADER_SIZE or length > self._max_message_size:
            self._error = _length_error(length, self._max_message_size)
            self._buffer, self._pos = b"", 0  # nothing after a bad header can be used
            raise self._error
        self._length = length
        return length

    def __repr__(self) -> str:
        state = "failed" if self._error is not None else "ok"
        return (
            f"<Framer {state} buffered={self.buffered} max_message_size={self._max_message_size}>"
        )
