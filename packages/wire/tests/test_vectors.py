"""Byte-exact vectors, checked against encoders we did not write.

OP_MSG and OP_COMPRESSED against PyMongo's own builders (its C OP_MSG
builder and its compression contexts); OP_QUERY / OP_REPLY (which PyMongo 4.x
no longer builds) against layouts packed by hand here from the manual's
"Legacy Opcodes" tables.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import bson
import pytest
from bson import Int64, ObjectId
from bson.codec_options import DEFAULT_CODEC_OPTIONS
from pymongo import compression_support
from pymongo import message as pm

from mongotor.wire import (
    CompressorId,
    DocumentSequence,
    OpMsg,
    OpMsgFlags,
    OpQuery,
    OpQueryFlags,
    OpReply,
    OpReplyFlags,
    compress_message,
    decode_message,
    encode_op_msg,
    encode_op_query,
    encode_op_reply,
)

OPTS = DEFAULT_CODEC_OPTIONS


def _same_but_request_id(ours: bytes, theirs: bytes) -> None:
    # PyMongo draws requestIDs at random; everything else must be identical.
    assert ours[:4] == theirs[:4]
    assert ours[8:] == theirs[8:]


@pytest.mark.parametrize(
    ("body", "identifier", "docs"),
    [
        ({"ping": 1, "$db": "admin"}, "", None),
        ({"find": "c", "filter": {"_id": ObjectId()}, "limit": 1, "$db": "t"}, "", None),
        ({"insert": "c", "ordered": True, "$db": "t"}, "documents", [{"a": 1}]),
        ({"insert": "c", "$db": "t"}, "documents", [{"_id": i, "x": "y" * i} for i in range(50)]),
        ({"update": "c", "$db": "t"}, "updates", [{"q": {}, "u": {"$set": {"a": 1}}}]),
    ],
)
def test_op_msg_matches_pymongo_c_builder(
    body: dict[str, Any], identifier: str, docs: list[dict[str, Any]] | None
) -> None:
    sequences = [DocumentSequence(identifier, docs)] if docs is not None else []
    ours = encode_op_msg(42, body, sequences)
    _, theirs, _, _ = pm._op_msg_uncompressed(0, body, identifier, docs, OPTS)
    _same_but_request_id(ours, theirs)
    assert struct.unpack_from("<i", ours, 4)[0] == 42


def test_op_msg_more_to_come_flag_matches_pymongo() -> None:
    body = {"insert": "c", "writeConcern": {"w": 0}, "$db": "t"}
    docs = [{"a": 1}, {"a": 2}]
    ours = encode_op_msg(
        1, body, [DocumentSequence("documents", docs)], flags=OpMsgFlags.MORE_TO_COME
    )
    _, theirs, _, _ = pm._op_msg_uncompressed(2, body, "documents", docs, OPTS)
    _same_but_request_id(ours, theirs)


def test_pymongo_parses_what_we_encode_and_we_parse_what_it_encodes() -> None:
    reply = {"cursor": {"firstBatch": [{"a": 1}], "id": Int64(0), "ns": "t.c"}, "ok": 1.0}
    data = encode_op_msg(5, reply, response_to=4)
    assert pm._OpMsg.unpack(data[16:]).unpack_response() == [reply]
    _, theirs, _, _ = pm._op_msg_uncompressed(0, {"ping": 1}, "", None, OPTS)
    assert decode_message(theirs) == OpMsg(
        {"ping": 1}, [], request_id=decode_message(theirs).request_id
    )


def test_op_msg_layout_by_hand() -> None:
    # OP_MSG spec: header, flagBits, kind 0 + body, kind 1 + size + identifier + docs.
    body, doc = bson.encode({"insert": "c"}), bson.encode({"a": 1})
    ident = b"documents\x00"
    kind1 = b"\x01" + struct.pack("<i", 4 + len(ident) + len(doc)) + ident + doc
    payload = struct.pack("<I", 0) + b"\x00" + body + kind1
    expected = struct.pack("<iiii", 16 + len(payload), 9, 0, 2013) + payload
    assert (
        encode_op_msg(9, {"insert": "c"}, [DocumentSequence("documents", [{"a": 1}])]) == expected
    )


def test_checksum_is_crc32c_of_everything_before_it() -> None:
    # CRC-32C (Castagnoli) check value for "123456789" is 0xE3069283 (RFC 3720, B.4).
    from google_crc32c import value

    assert value(b"123456789") == 0xE3069283
    data = encode_op_msg(1, {"ping": 1}, flags=OpMsgFlags.CHECKSUM_PRESENT)
    assert struct.unpack("<I", data[-4:])[0] == value(data[:-4])
    assert struct.unpack_from("<i", data)[0] == len(data)


def test_op_query_layout_by_hand() -> None:
    query, fields = bson.encode({"isMaster": 1}), bson.encode({"a": 1})
    payload = struct.pack("<I", 4) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    expected = struct.pack("<iiii", 16 + len(payload), 3, 0, 2004) + payload
    assert (
        encode_op_query(3, "admin.$cmd", {"isMaster": 1}, flags=OpQueryFlags.SECONDARY_OK)
        == expected
    )
    with_fields = encode_op_query(
        3, "db.c", {"isMaster": 1}, fields={"a": 1}, number_to_skip=2, number_to_return=5
    )
    payload = struct.pack("<I", 0) + b"db.c\x00" + struct.pack("<ii", 2, 5) + query + fields
    assert with_fields == struct.pack("<iiii", 16 + len(payload), 3, 0, 2004) + payload


def test_op_reply_layout_by_hand() -> None:
    docs = [bson.encode({"ok": 1.0}), bson.encode({"n": 2})]
    payload = struct.pack("<Iqii", 8, 77, 3, 2) + b"".join(docs)
    expected = struct.pack("<iiii", 16 + len(payload), 11, 10, 1) + payload
    ours = encode_op_reply(
        10,
        [{"ok": 1.0}, {"n": 2}],
        request_id=11,
        flags=OpReplyFlags.AWAIT_CAPABLE,
        cursor_id=77,
        starting_from=3,
    )
    assert ours == expected
    assert decode_message(expected) == OpReply(
        [{"ok": 1.0}, {"n": 2}], OpReplyFlags.AWAIT_CAPABLE, 77, 3, request_id=11, response_to=10
    )
    assert OpQuery("admin.$cmd", {"hello": 1}).to_bytes()[12:16] == struct.pack("<i", 2004)


@pytest.mark.parametrize(
    ("compressor", "context"),
    [
        (CompressorId.ZLIB, compression_support.ZlibContext(-1)),
        (CompressorId.ZSTD, compression_support.ZstdContext()),
        (CompressorId.SNAPPY, compression_support.SnappyContext()),
    ],
)
def test_op_compressed_matches_pymongo(compressor: CompressorId, context: Any) -> None:
    message = encode_op_msg(8, {"find": "c", "filter": {"a": "b" * 200}, "$db": "t"})
    _, theirs = pm._compress(2013, message[16:], context)
    ours = compress_message(message, compressor)
    _same_but_request_id(ours, theirs)
    assert decode_message(theirs).body == decode_message(message).body  # type: ignore[union-attr]


def test_op_compressed_layout_by_hand() -> None:
    message = encode_op_msg(8, {"ping": 1}, response_to=3)
    compressed = zlib.compress(message[16:], 1)
    fields = struct.pack("<iiB", 2013, len(message) - 16, 2)
    expected = (
        struct.pack("<iiii", 16 + len(fields) + len(compressed), 8, 3, 2012) + fields + compressed
    )
    assert compress_message(message, CompressorId.ZLIB, level=1) == expected


def test_large_batches_match_pymongo() -> None:
    # Past the 1,024 precomputed array keys, and the maxWriteBatchSize scale.
    docs = [{"_id": i, "v": [i, {"w": str(i)}]} for i in range(3000)]
    ours = encode_op_msg(1, {"insert": "c", "$db": "t"}, [DocumentSequence("documents", docs)])
    _, theirs, _, _ = pm._op_msg_uncompressed(
        0, {"insert": "c", "$db": "t"}, "documents", docs, OPTS
    )
    _same_but_request_id(ours, theirs)


def test_sequence_documents_keep_their_key_order() -> None:
    # Documents in a sequence are encoded as written; PyMongo's top-level
    # encoder moves _id first, which mongod does itself on insert (manual:
    # "Documents > Document Structure > The _id Field").
    docs = [{"a": 1, "_id": 1}, {"a": 2, "_id": 2}]
    message = decode_message(
        encode_op_msg(1, {"insert": "c"}, [DocumentSequence("documents", docs)])
    )
    assert isinstance(message, OpMsg)
    assert [list(d) for d in message.sequences[0].documents] == [["a", "_id"], ["a", "_id"]]


def test_more_to_come_property() -> None:
    assert OpMsg({}, flags=OpMsgFlags.MORE_TO_COME | OpMsgFlags.CHECKSUM_PRESENT).more_to_come
    assert not OpMsg({}).more_to_come
