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
    decode_message,
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


def test_a_mutable_chunk_is_copied_so_its_owner_may_reuse_it() -> None:
    data = encode_op_msg(1, {"ping": 1})
    for chunk in (bytearray(data), memoryview(bytearray(data))):
        framer = Framer()
        framer.feed(chunk)
        chunk[len(data) - 6 : len(data) - 1] = b"\xff" * 5  # the owner reuses its buffer
        assert framer.next_message() == OpMsg({"ping": 1}, [], request_id=1)


def test_messages_spanning_chunks_with_the_next_one_behind_and_compaction() -> None:
    # A chunk that ends mid-message is kept as it came; the next chunk turns the
    # buffer into a bytearray, from which whole messages are copied out while
    # another follows them, and whose consumed front is dropped past 64 KiB.
    one = encode_op_msg(1, {"x": "y" * 1000})
    count = (1 << 16) // len(one) + 3
    framer = Framer()
    framer.feed(one[:10])
    assert framer.next_message() is NEED_DATA
    framer.feed(one[10:] + one * count + one[:10])
    seen = 0
    while (message := framer.next_message()) is not NEED_DATA:
        assert message == OpMsg({"x": "y" * 1000}, [], request_id=1)
        seen += 1
    assert seen == count + 1
    assert framer.buffered == 10
    framer.feed(one[10:])
    assert framer.next_message() == OpMsg({"x": "y" * 1000}, [], request_id=1)
    assert framer.buffered == 0


def test_a_message_assembled_from_chunks_is_handed_over_and_the_buffer_renewed() -> None:
    first, second = encode_op_msg(1, {"a": "b" * 300}), encode_op_msg(2, {"c": 1})
    framer = Framer()
    framer.feed(first[:100])
    framer.feed(bytearray(first[100:200]))
    framer.feed(memoryview(first)[200:])
    assert framer.next_message() == OpMsg({"a": "b" * 300}, [], request_id=1)
    assert framer.next_message() is NEED_DATA
    framer.feed(second)
    assert framer.next_message() == OpMsg({"c": 1}, [], request_id=2)


def test_a_lower_max_message_size_applies_to_a_length_already_checked() -> None:
    framer = Framer()
    framer.feed(encode_op_msg(1, {"x": "y" * 100}))  # its length is checked here...
    framer.max_message_size = 64  # ...and again against the new limit
    with pytest.raises(MessageTooLargeError):
        framer.next_message()


def test_next_frame_hands_out_undecoded_messages_and_stays_in_step() -> None:
    # A server answers a message it cannot decode and reads on: only a bad
    # declared length puts the stream out of step.
    bad = struct.pack("<iiii", 21, 9, 0, 2013) + b"\x00" * 5
    good = encode_op_msg(2, {"ping": 1})
    framer = Framer()
    assert framer.next_frame() is NEED_DATA
    framer.feed(bad + good[:10])
    assert framer.next_frame() == bad
    with pytest.raises(MalformedMessageError):
        decode_message(bad)
    assert framer.next_frame() is NEED_DATA
    framer.feed(good[10:] + struct.pack("<i", 15))
    assert framer.next_frame() == good
    with pytest.raises(MalformedMessageError, match="shorter than its header"):
        framer.next_frame()
    with pytest.raises(MalformedMessageError):
        framer.next_frame()
