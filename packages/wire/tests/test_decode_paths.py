"""The OP_MSG decoder's fast paths (flags 0 and one body section filling the
message, a reply's shape; flags 0, a body and one document sequence filling
the rest, a driver's write) and its general path give the same messages and
the same errors."""

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
        (OpMsgFlags.NONE, [DocumentSequence("documents", [{"a": 1}])]),  # the write's path
        (OpMsgFlags.CHECKSUM_PRESENT, [DocumentSequence("documents", [{"a": 1}])]),
        (OpMsgFlags.NONE, [DocumentSequence("updates", []), DocumentSequence("x", [{}])]),
        (OpMsgFlags.NONE, [DocumentSequence("documents", [])]),
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


def _write(
    identifier: bytes = b"documents", documents: bytes = b"", *, terminated: bool = True
) -> bytearray:
    """An insert with one document sequence, assembled by hand."""
    header_and_body = encode_op_msg(5, {"insert": "c", "$db": "t"})
    section = identifier + (b"\x00" if terminated else b"") + documents
    data = bytearray(header_and_body) + b"\x01" + struct.pack("<i", 4 + len(section)) + section
    data[:4] = struct.pack("<i", len(data))
    return data


def test_the_write_path_decodes_the_sequence_from_a_view() -> None:
    docs = [{"_id": i, "x": "y" * 100} for i in range(50)]  # > 4 KiB
    data = encode_op_msg(5, {"insert": "c"}, [DocumentSequence("documents", docs)])
    message = decode_message(bytes(data))
    assert message == OpMsg({"insert": "c"}, [DocumentSequence("documents", docs)], request_id=5)
    assert type(message.sequences[0]) is DocumentSequence
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.sequences[0].identifier = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        # Left to the general loop, which names what is wrong.
        (_write(identifier=b"\xff"), MalformedMessageError, "identifier is not UTF-8"),
        (_write(terminated=False), MalformedMessageError, "unterminated document sequence"),
        # Decoded by the write's path, with the general path's errors and offsets.
        (_write(documents=b"\x05\x00\x00\x00\x01"), InvalidBSONError, "invalid BSON"),
    ],
    ids=["identifier-not-utf8", "identifier-unterminated", "bad-document"],
)
def test_the_write_path_refuses_as_the_general_path(
    data: bytearray, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        decode_message(bytes(data))


def test_bad_bson_in_the_write_path_is_reported_where_it_is() -> None:
    data = _write(documents=b"\x05\x00\x00\x00\x01")
    with pytest.raises(InvalidBSONError) as info:
        decode_message(bytes(data))
    assert info.value.offset == len(data) - 5
    body = bytearray(_write(documents=bytes(encode_op_msg(1, {})[21:])))
    body[20 + int.from_bytes(body[21:25], "little")] = 1  # the body's trailing NUL
    with pytest.raises(InvalidBSONError) as info:
        decode_message(bytes(body))
    assert info.value.offset == 21


def test_a_sequence_that_does_not_fill_the_message_takes_the_general_path() -> None:
    data = _write(documents=bytes(encode_op_msg(1, {})[21:]))
    data += b"\x07"
    data[:4] = struct.pack("<i", len(data))
    with pytest.raises(MalformedMessageError, match="truncated OP_MSG section"):
        decode_message(bytes(data))
