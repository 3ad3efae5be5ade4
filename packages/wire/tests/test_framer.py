"""The incremental framer: any chunking, bounded buffering, sticky errors."""

from __future__ import annotations

import struct

import pytest

from mongotor.wire import (
    NEED_DATA,
    Framer,
    MalformedMessageError,
    MessageTooLargeError,
    OpMsg,
    encode_op_msg,
)


def test_need_data_until_a_whole_message_is_buffered() -> None:
    data = encode_op_msg(1, {"ping": 1})
    framer = Framer()
    assert framer.next_message() is NEED_DATA
    framer.feed(data[:3])
    assert framer.next_message() is NEED_DATA
    framer.feed(data[3:-1])
    assert framer.next_message() is NEED_DATA
    assert framer.buffered == len(data) - 1
    framer.feed(data[-1:])
    assert framer.next_message() == OpMsg({"ping": 1}, [], request_id=1)
    assert framer.buffered == 0
    assert repr(NEED_DATA) == "NEED_DATA"


def test_too_large_declared_length_fails_before_the_body_is_buffered() -> None:
    framer = Framer(max_message_size=1000)
    assert framer.max_message_size == 1000
    framer.feed(b"\x00\x01")
    with pytest.raises(MessageTooLargeError) as info:
        framer.feed(struct.pack("<H", 0x1000))  # completes a 268,435,712-byte length
    assert info.value.declared_length == 0x1000_0100
    assert framer.buffered == 0  # nothing kept past the bad header
    # The stream is out of step for good: every later call repeats the error.
    with pytest.raises(MessageTooLargeError):
        framer.feed(b"more")
    with pytest.raises(MessageTooLargeError):
        framer.next_message()
    assert repr(framer).startswith("<Framer failed")


def test_length_below_the_header_size_is_refused() -> None:
    framer = Framer()
    with pytest.raises(MalformedMessageError, match="shorter than its header"):
        framer.feed(struct.pack("<i", 15))


def test_malformed_message_body_is_sticky() -> None:
    bad = struct.pack("<iiii", 21, 1, 0, 2013) + b"\x00" * 5
    framer = Framer()
    framer.feed(bad + encode_op_msg(2, {"ping": 1}))
    with pytest.raises(MalformedMessageError):
        framer.next_message()
    with pytest.raises(MalformedMessageError):
        framer.next_message()


def test_max_message_size_can_follow_the_servers_hello() -> None:
    framer = Framer()
    framer.max_message_size = 64
    with pytest.raises(MessageTooLargeError):
        framer.feed(encode_op_msg(1, {"x": "y" * 100}))


def test_many_messages_in_one_chunk_and_buffer_compaction() -> None:
    one = encode_op_msg(1, {"x": "y" * 1000})
    count = (1 << 16) // len(one) + 3  # enough to pass the compaction threshold
    framer = Framer()
    framer.feed(one * count + one[:10])
    seen = 0
    while framer.next_message() is not NEED_DATA:
        seen += 1
    assert seen == count
    assert framer.buffered == 10
    framer.feed(one[10:])
    assert isinstance(framer.next_message(), OpMsg)
    assert repr(framer) == "<Framer ok buffered=0 max_message_size=48000000>"
