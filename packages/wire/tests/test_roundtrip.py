"""Hypothesis: encode -> decode round trips for every message type, flag and
section layout; any split of a byte stream through the framer yields the same
messages; compression round trips."""

from __future__ import annotations

from typing import Any

import bson
from bson.raw_bson import DEFAULT_RAW_BSON_OPTIONS, RawBSONDocument
from hypothesis import given, settings
from hypothesis import strategies as st

from mongotor.wire import (
    NEED_DATA,
    CompressorId,
    DocumentSequence,
    Framer,
    Message,
    OpMsg,
    OpMsgFlags,
    OpQuery,
    OpQueryFlags,
    OpReply,
    OpReplyFlags,
    decode_message,
    encode_op_msg,
)

INT32 = st.integers(-(2**31), 2**31 - 1)
keys = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8
).filter(lambda k: not k.startswith("$") and "." not in k)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    INT32,
    st.floats(allow_nan=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.binary(max_size=20),
    st.binary(max_size=20).map(lambda b: bson.Binary(b, 5)),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=6)
identifiers = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)
sequences = st.lists(
    st.builds(DocumentSequence, identifiers, st.lists(documents, max_size=5)), max_size=3
)
msg_flags = st.sampled_from(
    [
        OpMsgFlags.NONE,
        OpMsgFlags.CHECKSUM_PRESENT,
        OpMsgFlags.MORE_TO_COME,
        OpMsgFlags.EXHAUST_ALLOWED,
        OpMsgFlags.CHECKSUM_PRESENT | OpMsgFlags.MORE_TO_COME | OpMsgFlags.EXHAUST_ALLOWED,
    ]
)
compressors = st.sampled_from([None, *CompressorId])

op_msgs = st.builds(OpMsg, documents, sequences, msg_flags, INT32, INT32, compressors)
op_queries = st.builds(
    OpQuery,
    identifiers,
    documents,
    st.none() | documents,
    st.builds(OpQueryFlags, st.integers(0, 0xFE)),
    INT32,
    INT32,
    INT32,
    INT32,
    compressors,
)
op_replies = st.builds(
    OpReply,
    st.lists(documents, max_size=5),
    st.builds(OpReplyFlags, st.integers(0, 0xF)),
    st.integers(-(2**63), 2**63 - 1),
    INT32,
    INT32,
    INT32,
    compressors,
)
messages = st.one_of(op_msgs, op_queries, op_replies)


@given(messages)
def test_every_message_round_trips(message: Message) -> None:
    assert decode_message(message.to_bytes()) == message
    # The framer hands a message assembled from chunks over as a bytearray.
    assert decode_message(bytearray(message.to_bytes())) == message


@given(st.lists(messages, min_size=1, max_size=4), st.data())
@settings(max_examples=200)
def test_any_split_of_a_stream_yields_the_same_messages(
    batch: list[Message], data: st.DataObject
) -> None:
    stream = b"".join(m.to_bytes() for m in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    # Chunks as asyncio hands them over (bytes), or as a caller's reused buffer.
    chunk_type = data.draw(st.sampled_from([bytes, bytearray, memoryview]))
    framer = Framer()
    received: list[Message] = []
    for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        framer.feed(chunk_type(stream[start:stop]))
        while (message := framer.next_message()) is not NEED_DATA:
            received.append(message)
    assert received == batch
    assert framer.buffered == 0


@given(documents, st.lists(documents, max_size=4))
def test_raw_documents_pass_through_without_reencoding(
    body: dict[str, Any], docs: list[dict[str, Any]]
) -> None:
    # Decoding with RawBSONDocument keeps each document's bytes; encoding them
    # again reproduces the message byte for byte.
    data = encode_op_msg(3, body, [DocumentSequence("documents", docs)])
    raw = decode_message(data, DEFAULT_RAW_BSON_OPTIONS)
    assert isinstance(raw, OpMsg)
    assert isinstance(raw.body, RawBSONDocument)
    assert raw.body.raw == bson.encode(body)
    assert raw.to_bytes() == data
    pre_encoded = encode_op_msg(
        3, bson.encode(body), [DocumentSequence("documents", [bson.encode(d) for d in docs])]
    )
    assert pre_encoded == data
