"""The OP_MSG decoder's fast path (flags 0, one body section filling the
message) and its general path give the same messages and the same errors."""

from __future__ import annotations

import dataclasses
import struct
from typing import Any

import pytest

from mongotor.wire import (
    DocumentSequence,
    InvalidBSONError,
    MalformedMessageError,
    OpMsg,
    OpMsgFlags,
    decode_message,
    encode_op_msg,
)

SMALL = {"ok": 1.0}
LARGE = {"cursor": {"firstBatch": [{"x": "y" * 100}] * 60, "id": 0}, "ok": 1.0}  # > 4 KiB


@pytest.mark.parametrize("body", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("container", [bytes, bytearray], ids=["bytes", "bytearray"])
def test_fast_path_builds_the_same_frozen_message(body: dict[str, Any], container: type) -> None:
    data = encode_op_msg(5, body, response_to=7)
    assert len(data) > 4096 if body is LARGE else len(data) < 4096
    message = decode_message(container(data))
    expected = OpMsg(body, [], OpMsgFlags.NONE, 5, 7, None)
    assert type(message) is OpMsg
    assert message == expected
    assert repr(message) == repr(expected)
    assert message.flags is OpMsgFlags.NONE
    assert message.sequences == []
    assert not message.more_to_come
    assert message.to_bytes() == data
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.request_id = 6  # type: ignore[misc]


@pytest.mark.parametrize(
    ("flags", "sequences"),
    [
        (OpMsgFlags.EXHAUST_ALLOWED, []),
        (OpMsgFlags.MORE_TO_COME, []),
        (OpMsgFlags.CHECKSUM_PRESENT, []),
        (OpMsgFlags.NONE, [DocumentSequence("documents", [{"a": 1}])]),
    ],
)
@pytest.mark.parametrize("body", [SMALL, LARGE], ids=["small", "large"])
def test_general_path_for_flags_or_sequences(
    flags: OpMsgFlags, sequences: list[DocumentSequence], body: dict[str, Any]
) -> None:
    data = encode_op_msg(5, body, sequences, flags=flags, response_to=7)
    message = decode_message(bytearray(data))
    assert message == OpMsg(body, sequences, flags, 5, 7, None)
    assert message.flags is flags


@pytest.mark.parametrize("body", [SMALL, LARGE], ids=["small", "large"])
def test_invalid_bson_in_the_fast_path_is_reported_at_the_body(body: dict[str, Any]) -> None:
    data = bytearray(encode_op_msg(5, body))
    data[-1] = 1  # the body's trailing NUL
    with pytest.raises(InvalidBSONError) as info:
        decode_message(bytes(data))
    assert info.value.offset == 21


def test_a_body_shorter_than_the_rest_takes_the_general_path() -> None:
    # Flags 0 and a kind-0 section, but bytes after the body: not the fast
    # path's shape, so the section loop reads (and here refuses) what follows.
    data = encode_op_msg(5, SMALL) + b"\x07"
    data = struct.pack("<i", len(data)) + data[4:]
    with pytest.raises(MalformedMessageError, match="truncated OP_MSG section"):
        decode_message(data)
