"""The framer's buffered input (get_buffer / buffer_updated): what a transport
that reads into buffers sees, a large message assembled in place, and frames."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mongotor.wire import (
    NEED_DATA,
    RECEIVE_BUFFER_SIZE,
    CompressorId,
    Framer,
    InvalidBSONError,
    MalformedMessageError,
    MessageTooLargeError,
    OpMsg,
    OpMsgFlags,
    compress_message,
    decode_message,
    encode_op_msg,
    encode_op_reply,
    frame_more_to_come,
)


def _receive(framer: Framer, data: bytes, chunk: int) -> list[bytes | bytearray]:
    """Write ``data`` through get_buffer/buffer_updated at most ``chunk`` bytes a
    time (as recv_into would), collecting every whole frame."""
    frames: list[bytes | bytearray] = []
    pos = 0
    while pos < len(data):
        buffer = framer.get_buffer(-1)
        n = min(len(buffer), chunk, len(data) - pos)
        buffer[:n] = data[pos : pos + n]
        pos += n
        frame = framer.buffer_updated(n)  # what next_frame would return
        while frame is not NEED_DATA:
            frames.append(frame)
            frame = framer.next_frame()
    return frames


def _large(request_id: int, size: int = 3 * RECEIVE_BUFFER_SIZE) -> bytes:
    return encode_op_msg(request_id, {"ok": 1, "pad": "x" * size})


@given(
    st.lists(st.sampled_from(["small", "large"]), min_size=1, max_size=4),
    st.integers(1, 3 * RECEIVE_BUFFER_SIZE),
)
@settings(max_examples=60, deadline=None)
def test_any_chunking_gives_the_messages_fed_would(kinds: list[str], chunk: int) -> None:
    messages = [
        _large(i, RECEIVE_BUFFER_SIZE + 100 * i)
        if kind == "large"
        else encode_op_msg(i, {"ping": i})
        for i, kind in enumerate(kinds, 1)
    ]
    framer = Framer()
    frames = _receive(framer, b"".join(messages), chunk)
    assert [bytes(frame) for frame in frames] == messages
    assert framer.buffered == 0


def test_a_large_message_is_read_into_one_buffer_of_its_declared_size() -> None:
    small = encode_op_msg(1, {"ping": 1})
    large = _large(2)
    framer = Framer()
    receive = framer.get_buffer()
    assert len(receive) == RECEIVE_BUFFER_SIZE
    # One read brings the small message and the large one's first bytes.
    first = len(small) + 100
    receive[:first] = (small + large)[:first]
    assert framer.buffer_updated(first) == small
    assert framer.next_frame() is NEED_DATA
    # The rest has a buffer of exactly its size: nothing is read past the message.
    rest = framer.get_buffer()
    assert len(rest) == len(large) - 100
    assert framer.buffered == 100
    rest[:1000] = large[100:1100]
    assert framer.buffer_updated(1000) is NEED_DATA
    assert framer.next_frame() is NEED_DATA
    assert framer.buffered == 1100
    rest = framer.get_buffer()
    assert len(rest) == len(large) - 1100
    rest[:] = large[1100:]
    frame = framer.buffer_updated(len(rest))
    # The buffer it was read into is handed over as the message: no copy.
    assert isinstance(frame, bytearray)
    assert frame == large
    assert framer.decode(frame) == decode_message(large)
    assert framer.buffered == 0
    # Then back to the receive buffer, the same one as before.
    assert framer.get_buffer() is receive


def test_a_whole_large_message_not_yet_taken_stays_where_it_is() -> None:
    large = _large(1)
    small = encode_op_msg(2, {"ping": 1})
    framer = Framer()
    receive = framer.get_buffer()
    framer.feed(large)
    # get_buffer before next_frame: the buffered message is not moved.
    buffer = framer.get_buffer()
    assert buffer is receive
    assert len(buffer) == RECEIVE_BUFFER_SIZE
    buffer[: len(small)] = small
    assert framer.buffer_updated(len(small)) == large
    assert framer.next_frame() == small
    assert framer.next_frame() is NEED_DATA


def test_a_declared_length_over_the_limit_fails_before_any_body_is_buffered() -> None:
    framer = Framer(max_message_size=RECEIVE_BUFFER_SIZE * 2)
    buffer = framer.get_buffer()
    buffer[:16] = struct.pack("<iiii", RECEIVE_BUFFER_SIZE * 2 + 1, 1, 0, 2013)
    with pytest.raises(MessageTooLargeError):
        framer.buffer_updated(16)
    assert framer.buffered == 0
    framer.get_buffer()[:4] = b"more"
    with pytest.raises(MessageTooLargeError):  # sticky
        framer.buffer_updated(4)


def test_a_lowered_limit_is_checked_when_a_large_message_completes() -> None:
    large = _large(1)
    framer = Framer()
    buffer = framer.get_buffer()
    buffer[:100] = large[:100]
    assert framer.buffer_updated(100) is NEED_DATA
    rest = framer.get_buffer()
    framer.max_message_size = RECEIVE_BUFFER_SIZE  # e.g. a new hello
    assert framer.next_frame() is NEED_DATA
    rest[:] = large[100:]
    with pytest.raises(MessageTooLargeError):
        framer.buffer_updated(len(rest))


def test_decode_reports_an_undecodable_frame_without_sticking() -> None:
    bad = struct.pack("<iiii", 26, 1, 0, 2013) + b"\x00\x00\x00\x00\x00" + b"\x05\x00\x00\x00\x01"
    good = encode_op_msg(2, {"ping": 1})
    framer = Framer()
    framer.feed(bad + good)
    frame = framer.next_frame()
    assert frame is not NEED_DATA
    with pytest.raises(InvalidBSONError):
        framer.decode(frame)
    frame = framer.next_frame()
    assert frame is not NEED_DATA
    assert framer.decode(frame) == OpMsg({"ping": 1}, [], request_id=2)


def test_frame_more_to_come_reads_the_flags_without_decoding() -> None:
    streamed = encode_op_msg(1, {"ok": 1}, flags=int(OpMsgFlags.MORE_TO_COME))
    assert frame_more_to_come(streamed)
    assert not frame_more_to_come(encode_op_msg(1, {"ok": 1}))
    assert not frame_more_to_come(encode_op_reply(1, [{"ok": 1}]))
    # Inside OP_COMPRESSED, the original message's flags.
    assert frame_more_to_come(compress_message(streamed, CompressorId.ZLIB))
    assert not frame_more_to_come(compress_message(encode_op_msg(1, {}), CompressorId.NOOP))
    with pytest.raises(MalformedMessageError, match="flagBits"):
        frame_more_to_come(struct.pack("<iiii", 18, 1, 0, 2013) + b"\x00\x00")


def test_one_whole_message_per_read_and_reads_smaller_than_a_length() -> None:
    first = encode_op_msg(1, {"ping": 1})
    second = encode_op_msg(2, {"ping": 2})
    framer = Framer()
    # A read of exactly one message returns it, and nothing stays buffered.
    assert _receive(framer, first, len(first)) == [first]
    assert framer.buffered == 0
    # Reads of two bytes: the length itself arrives in pieces.
    assert _receive(framer, second, 2) == [second]
    assert framer.buffered == 0


def test_decode_takes_any_opcode_the_codec_reads() -> None:
    framer = Framer()
    reply = encode_op_reply(3, [{"ok": 1}], request_id=4)
    framer.feed(reply)
    frame = framer.next_frame()
    assert frame is not NEED_DATA
    assert framer.decode(frame) == decode_message(reply)
