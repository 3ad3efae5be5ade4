"""Arbitrary bytes into the framer and every decoder yield messages or a
ProtocolError, nothing else (no IndexError, struct.error, UnicodeDecodeError,
MemoryError...)."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mongotor.wire import (
    NEED_DATA,
    DocumentSequence,
    Framer,
    Message,
    OpMsgFlags,
    OpQuery,
    OpReply,
    ProtocolError,
    compress_message,
    decode_message,
    decompress_message,
    encode_op_msg,
)
from mongotor.wire._compression import CompressorId

VALID = [
    encode_op_msg(5, {"find": "c", "filter": {"a": 1}}),  # the decoder's fast path
    encode_op_msg(6, {"x": "y" * 5000}),  # the fast path, decoding from a view
    encode_op_msg(1, {"insert": "c"}, [DocumentSequence("documents", [{"a": 1}, {"b": "x"}])]),
    encode_op_msg(2, {"ping": 1}, flags=OpMsgFlags.CHECKSUM_PRESENT),
    OpQuery("admin.$cmd", {"hello": 1}, {"x": 1}).to_bytes(),
    OpReply([{"ok": 1.0}, {"n": 1}], cursor_id=5).to_bytes(),
    *(compress_message(encode_op_msg(3, {"a": "b" * 30}), c) for c in CompressorId),
]


def _mutations() -> st.SearchStrategy[bytes]:
    """Valid messages with bytes flipped, cut or appended, and pure noise."""

    def mutate(data: bytes, edits: list[tuple[int, int]], cut: int, tail: bytes) -> bytes:
        buf = bytearray(data)
        for pos, value in edits:
            buf[pos % len(buf)] = value
        return bytes(buf[: max(cut, 0) or len(buf)]) + tail

    mutated = st.builds(
        mutate,
        st.sampled_from(VALID),
        st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
        st.integers(-10, 200),
        st.binary(max_size=8),
    )
    return st.one_of(mutated, st.binary(max_size=300))


def _fix_length(data: bytes) -> bytes:
    # Keep the declared length honest so the decoders behind it are reached.
    if len(data) < 4:
        return data
    return struct.pack("<i", len(data)) + data[4:]


@given(_mutations())
@settings(max_examples=1500)
@example(b"\x10\x00\x00\x00" + b"\x00" * 8 + struct.pack("<i", 9999))
def test_decode_message_raises_only_protocol_errors(data: bytes) -> None:
    for candidate in (data, _fix_length(data)):
        try:
            message = decode_message(candidate)
        except ProtocolError:
            continue
        assert isinstance(message, Message)


@given(_mutations())
@settings(max_examples=500)
def test_decompress_message_raises_only_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decompress_message(_fix_length(data))


@given(st.lists(_mutations(), max_size=4), st.integers(1, 64))
@settings(max_examples=500)
def test_framer_yields_messages_or_protocol_error(chunks: list[bytes], size: int) -> None:
    stream = b"".join(_fix_length(c) for c in chunks)
    framer = Framer()
    try:
        for start in range(0, len(stream), size):
            framer.feed(stream[start : start + size])
            while (message := framer.next_message()) is not NEED_DATA:
                assert isinstance(message, Message)
    except ProtocolError:
        pass
