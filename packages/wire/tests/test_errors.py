"""Each malformed input raises its ProtocolError subclass, with the fields
that say what was wrong; each bad value given to an encoder raises
EncodingError. Layout facts come from the manual's Wire Protocol page and the
OP_MSG specification."""

from __future__ import annotations

import struct
from typing import Any

import bson
import pytest

from mongotor.wire import (
    ChecksumMismatchError,
    DocumentSequence,
    EncodingError,
    InvalidBSONError,
    InvalidFlagsError,
    MalformedMessageError,
    MessageTooLargeError,
    OpMsgFlags,
    OpQuery,
    OpReply,
    ProtocolError,
    UnsupportedOpcodeError,
    WireError,
    decode_message,
    encode_op_msg,
    encode_op_query,
    encode_op_reply,
)


def _message(opcode: int, payload: bytes, *, request_id: int = 1) -> bytes:
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, opcode) + payload


BODY = bson.encode({"ping": 1})


def test_error_hierarchy_and_fields() -> None:
    err = MalformedMessageError("bad", opcode=2013, offset=20, declared_length=9, actual_length=3)
    assert isinstance(err, ProtocolError)
    assert isinstance(err, WireError)
    assert (err.reason, err.opcode, err.offset, err.declared_length, err.actual_length) == (
        "bad",
        2013,
        20,
        9,
        3,
    )
    assert str(err) == "bad; opcode=2013; offset=20; declared_length=9; actual_length=3"
    assert err.remote is True
    assert err.retryable is False
    assert str(ProtocolError("only a reason")) == "only a reason"


@pytest.mark.parametrize(
    ("data", "error", "fields"),
    [
        (b"\x01\x02", MalformedMessageError, {"actual_length": 2}),
        (struct.pack("<iiii", 8, 0, 0, 2013), MalformedMessageError, {"declared_length": 8}),
        (
            struct.pack("<iiii", 48_000_001, 0, 0, 2013),
            MessageTooLargeError,
            {"declared_length": 48_000_001},
        ),
        (
            struct.pack("<iiii", 20, 0, 0, 2013),
            MalformedMessageError,
            {"declared_length": 20, "actual_length": 16},
        ),
        (_message(2010, b"\x00" * 8), UnsupportedOpcodeError, {"opcode": 2010, "offset": 12}),
    ],
)
def test_header_errors(data: bytes, error: type[ProtocolError], fields: dict[str, Any]) -> None:
    with pytest.raises(error) as info:
        decode_message(data)
    for name, value in fields.items():
        assert getattr(info.value, name) == value


def test_max_message_size_is_configurable() -> None:
    data = encode_op_msg(1, {"x": "y" * 100})
    with pytest.raises(MessageTooLargeError):
        decode_message(data, max_message_size=50)


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        (b"\x00\x00\x00\x00\x00", MalformedMessageError, "shorter than flagBits"),
        # OP_MSG spec: bits 0-15 are required; an unknown one must fail the parse.
        (
            struct.pack("<I", 1 << 4) + b"\x00" + BODY,
            InvalidFlagsError,
            "unknown required flag bits 0x10",
        ),
        (
            struct.pack("<I", 0) + b"\x00" + BODY + b"\x00\x04",
            MalformedMessageError,
            "truncated OP_MSG section",
        ),
        (
            struct.pack("<I", 0) + b"\x00" + struct.pack("<i", 500) + BODY[4:],
            MalformedMessageError,
            "section size",
        ),
        (
            struct.pack("<I", 0) + b"\x00" + struct.pack("<i", 2) + BODY[4:],
            MalformedMessageError,
            "section size",
        ),
        (
            struct.pack("<I", 0) + b"\x00" + BODY + b"\x00" + BODY,
            MalformedMessageError,
            "more than one body",
        ),
        (
            struct.pack("<I", 0) + b"\x02" + BODY,
            MalformedMessageError,
            "unknown OP_MSG section kind 2",
        ),
        (
            struct.pack("<I", 0) + b"\x01" + struct.pack("<i", 8) + b"abcd",
            MalformedMessageError,
            "unterminated",
        ),
        (
            struct.pack("<I", 0) + b"\x01" + struct.pack("<i", 7) + b"\xff\x00\x00",
            MalformedMessageError,
            "UTF-8",
        ),
        (
            struct.pack("<I", 0) + b"\x01" + struct.pack("<i", 6) + b"d\x00",
            MalformedMessageError,
            "no body",
        ),
        (struct.pack("<I", 0) + b"\x00" + BODY[:-1] + b"\x01", InvalidBSONError, "invalid BSON"),
        (
            struct.pack("<I", 0)
            + b"\x00"
            + BODY
            + b"\x01"
            + struct.pack("<i", 10)
            + b"d\x00\x05\x00\x00\x00\x01",
            InvalidBSONError,
            "invalid BSON",
        ),
    ],
)
def test_op_msg_errors(payload: bytes, error: type[ProtocolError], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        decode_message(_message(2013, payload))
    assert info.value.opcode == 2013


def test_high_flag_bits_are_optional_and_ignored() -> None:
    # OP_MSG spec: bits 16-31 are optional; a parser must ignore unknown ones.
    data = _message(2013, struct.pack("<I", 1 << 20) + b"\x00" + BODY)
    assert decode_message(data).body == {"ping": 1}  # type: ignore[union-attr]


def test_checksum_mismatch_is_detected() -> None:
    data = bytearray(encode_op_msg(1, {"ping": 1}, flags=OpMsgFlags.CHECKSUM_PRESENT))
    data[-6] ^= 0xFF  # inside the body
    with pytest.raises(ChecksumMismatchError) as info:
        decode_message(bytes(data))
    assert info.value.offset == len(data) - 4


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x00" * 8, "OP_QUERY too short"),
        (b"\x00\x00\x00\x00" + b"a" * 20, "unterminated fullCollectionName"),
        (b"\x00\x00\x00\x00\xff\x00" + b"\x00" * 8 + BODY, "not UTF-8"),
        (
            b"\x00\x00\x00\x00" + b"a" * 13 + b"\x00" + b"\x00" * 3,
            "truncated after its collection name",
        ),
        (b"\x00\x00\x00\x00a\x00" + b"\x00" * 8 + BODY * 3, "carries 3 documents"),
        (b"\x00\x00\x00\x00a\x00" + b"\x00" * 8 + BODY + b"\x01\x00", "truncated document"),
        (
            b"\x00\x00\x00\x00a\x00" + b"\x00" * 8 + struct.pack("<i", 99) + b"\x00" * 6,
            "length out of bounds",
        ),
    ],
)
def test_op_query_errors(payload: bytes, message: str) -> None:
    with pytest.raises(MalformedMessageError, match=message):
        decode_message(_message(2004, payload))


def test_op_reply_errors() -> None:
    with pytest.raises(MalformedMessageError, match="OP_REPLY too short"):
        decode_message(_message(1, b"\x00" * 10))
    mismatch = struct.pack("<Iqii", 0, 0, 0, 2) + BODY
    with pytest.raises(
        MalformedMessageError, match="numberReturned is 2 but 1 documents follow"
    ) as info:
        decode_message(_message(1, mismatch))
    assert info.value.offset == 32


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode_op_msg(1, {"bad": object()}),
        lambda: encode_op_msg(1, b"\x05\x00\x00"),
        lambda: encode_op_msg(1, b"\x09\x00\x00\x00\x00"),
        lambda: encode_op_msg(2**31, {"ping": 1}),
        lambda: encode_op_msg(2**31, {"ping": 1}, flags=OpMsgFlags.MORE_TO_COME),
        lambda: encode_op_msg(1, {"ping": 1}, flags=-1),
        lambda: encode_op_msg(1, {}, [DocumentSequence("a\x00b", [])]),
        lambda: encode_op_msg(1, {}, [DocumentSequence("\ud800", [])]),
        lambda: encode_op_msg(1, {}, [DocumentSequence("documents", [{"a": 1}, {"b": object()}])]),
        lambda: encode_op_query(1, "a\x00b", {}),
        lambda: encode_op_query(1, "a.b", {}, number_to_skip=2**40),
        lambda: encode_op_reply(1, [{}], cursor_id=2**64),
        lambda: OpQuery("a.b", {"x": object()}).to_bytes(),
        lambda: OpReply([b"\x00"]).to_bytes(),
    ],
)
def test_encoding_errors(call: Any) -> None:
    with pytest.raises(EncodingError):
        call()
