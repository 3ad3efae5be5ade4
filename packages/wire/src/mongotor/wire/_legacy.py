"""OP_QUERY and OP_REPLY, both ways.

MongoDB 8.0 accepts OP_QUERY only for the connection handshake (hello /
isMaster on ``admin.$cmd``) and answers it with OP_REPLY; older drivers and some
tools still open connections that way, so fakemongo must read OP_QUERY and
write OP_REPLY, and our tests must produce both. Layouts: manual, Wire Protocol
> Legacy Opcodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bson.codec_options import CodecOptions

from ._bson import (
    DEFAULT_CODEC_OPTIONS,
    DocumentLike,
    EncodingError,
    decode_documents,
    encode_document,
)
from ._constants import (
    HEADER,
    HEADER_SIZE,
    INT32,
    QUERY_SKIP_RETURN,
    REPLY_FIELDS,
    UINT32,
    CompressorId,
    OpCode,
    OpQueryFlags,
    OpReplyFlags,
)
from ._errors import MalformedMessageError

__all__ = [
    "OpQuery",
    "OpReply",
    "decode_op_query",
    "decode_op_reply",
    "encode_op_query",
    "encode_op_reply",
]

_OP_QUERY = int(OpCode.OP_QUERY)
_OP_REPLY = int(OpCode.OP_REPLY)


@dataclass(frozen=True, slots=True)
class OpQuery:
    """A legacy OP_QUERY; today only the handshake on ``admin.$cmd`` uses it."""

    full_collection_name: str
    query: DocumentLike
    fields: DocumentLike | None = None
    flags: OpQueryFlags = OpQueryFlags.NONE
    number_to_skip: int = 0
    number_to_return: int = -1
    request_id: int = 0
    response_to: int = 0
    compressor: CompressorId | None = None

    def to_bytes(self, codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS) -> bytes:
        """Encode this message (compressed with :attr:`compressor` if set)."""
        data = encode_op_query(
            self.request_id,
            self.full_collection_name,
            self.query,
            fields=self.fields,
            flags=self.flags,
            number_to_skip=self.number_to_skip,
            number_to_return=self.number_to_return,
            response_to=self.response_to,
            codec_options=codec_options,
        )
        if self.compressor is None:
            return data
        from ._compression import compress_message  # noqa: PLC0415 (import cycle)

        return compress_message(data, self.compressor)


@dataclass(frozen=True, slots=True)
class OpReply:
    """A legacy OP_REPLY: the answer to an OP_QUERY."""

    documents: Sequence[DocumentLike]
    flags: OpReplyFlags = OpReplyFlags.NONE
    cursor_id: int = 0
    starting_from: int = 0
    request_id: int = 0
    response_to: int = 0
    compressor: CompressorId | None = None

    def to_bytes(self, codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS) -> bytes:
        """Encode this message (compressed with :attr:`compressor` if set)."""
        data = encode_op_reply(
            self.response_to,
            self.documents,
            request_id=self.request_id,
            flags=self.flags,
            cursor_id=self.cursor_id,
            starting_from=self.starting_from,
            codec_options=codec_options,
        )
        if self.compressor is None:
            return data
        from ._compression import compress_message  # noqa: PLC0415 (import cycle)

        return compress_message(data, self.compressor)


def encode_op_query(
    request_id: int,
    full_collection_name: str,
    query: DocumentLike,
    *,
    fields: DocumentLike | None = None,
    flags: int = 0,
    number_to_skip: int = 0,
    number_to_return: int = -1,
    response_to: int = 0,
    codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS,
) -> bytes:
    """Encode an OP_QUERY. Raises :class:`EncodingError` for unencodable input."""
    name = full_collection_name.encode()
    if b"\x00" in name:
        raise EncodingError(f"collection name {full_collection_name!r} contains NUL")
    parts: list[Any] = [
        _pack(UINT32, flags),
        name,
        b"\x00",
        _pack(QUERY_SKIP_RETURN, number_to_skip, number_to_return),
        encode_document(query, codec_options),
    ]
    if fields is not None:
        parts.append(encode_document(fields, codec_options))
    body = b"".join(parts)
    return _pack(HEADER, HEADER_SIZE + len(body), request_id, response_to, _OP_QUERY) + body


def encode_op_reply(
    response_to: int,
    documents: Sequence[DocumentLike],
    *,
    request_id: int = 0,
    flags: int = 0,
    cursor_id: int = 0,
    starting_from: int = 0,
    codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS,
) -> bytes:
    """Encode an OP_REPLY. Raises :class:`EncodingError` for unencodable input."""
    docs = [encode_document(doc, codec_options) for doc in documents]
    fields = _pack(REPLY_FIELDS, flags, cursor_id, starting_from, len(docs))
    length = HEADER_SIZE + len(fields) + sum(map(len, docs))
    return b"".join([_pack(HEADER, length, request_id, response_to, _OP_REPLY), fields, *docs])


def _pack(layout: Any, *values: int) -> bytes:
    try:
        return layout.pack(*values)  # type: ignore[no-any-return]
    except Exception as exc:  # struct.error: a number outside its field's range
        raise EncodingError(f"value out of range for the wire field: {exc}") from exc


def decode_op_query(
    data: bytes | bytearray,
    request_id: int,
    response_to: int,
    codec_options: CodecOptions[Any],
    compressor: CompressorId | None = None,
) -> OpQuery:
    """Decode a whole OP_QUERY (header included) whose length is already checked."""
    end = len(data)
    offset = HEADER_SIZE
    if end < offset + 4 + 1 + QUERY_SKIP_RETURN.size + 5:
        raise MalformedMessageError("OP_QUERY too short", opcode=_OP_QUERY, actual_length=end)
    (flags,) = UINT32.unpack_from(data, offset)
    offset += 4
    nul = data.find(b"\x00", offset, end)
    if nul < 0:
        raise MalformedMessageError(
            "unterminated fullCollectionName", opcode=_OP_QUERY, offset=offset
        )
    try:
        name = data[offset:nul].decode()
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(
            "fullCollectionName is not UTF-8", opcode=_OP_QUERY, offset=offset
        ) from exc
    offset = nul + 1
    if end - offset < QUERY_SKIP_RETURN.size:
        raise MalformedMessageError(
            "OP_QUERY truncated after its collection name", opcode=_OP_QUERY, offset=offset
        )
    skip, to_return = QUERY_SKIP_RETURN.unpack_from(data, offset)
    offset += QUERY_SKIP_RETURN.size
    view = memoryview(data)
    documents = _split_documents(data, view, offset, end, _OP_QUERY, codec_options)
    if len(documents) not in (1, 2):
        raise MalformedMessageError(
            f"OP_QUERY carries {len(documents)} documents; expected a query and optional fields",
            opcode=_OP_QUERY,
            offset=offset,
        )
    fields = documents[1] if len(documents) == 2 else None
    return OpQuery(
        name,
        documents[0],
        fields,
        OpQueryFlags(flags),
        skip,
        to_return,
        request_id,
        response_to,
        compressor,
    )


def decode_op_reply(
    data: bytes | bytearray,
    request_id: int,
    response_to: int,
    codec_options: CodecOptions[Any],
    compressor: CompressorId | None = None,
) -> OpReply:
    """Decode a whole OP_REPLY (header included) whose length is already checked."""
    end = len(data)
    offset = HEADER_SIZE
    if end < offset + REPLY_FIELDS.size:
        raise MalformedMessageError("OP_REPLY too short", opcode=_OP_REPLY, actual_length=end)
    flags, cursor_id, starting_from, number_returned = REPLY_FIELDS.unpack_from(data, offset)
    offset += REPLY_FIELDS.size
    documents = _split_documents(data, memoryview(data), offset, end, _OP_REPLY, codec_options)
    if len(documents) != number_returned:
        raise MalformedMessageError(
            f"OP_REPLY numberReturned is {number_returned} but {len(documents)} documents follow",
            opcode=_OP_REPLY,
            offset=HEADER_SIZE + 16,
        )
    return OpReply(
        documents,
        OpReplyFlags(flags),
        cursor_id,
        starting_from,
        request_id,
        response_to,
        compressor,
    )


def _split_documents(
    data: bytes | bytearray,
    view: memoryview,
    offset: int,
    end: int,
    opcode: int,
    codec_options: CodecOptions[Any],
) -> list[Mapping[str, Any]]:
    # Bounds are checked here, with the offset of the culprit, before bson sees
    # the bytes; bson then decodes the whole run in one C call.
    start = offset
    while offset < end:
        if end - offset < 5:
            raise MalformedMessageError("truncated document", opcode=opcode, offset=offset)
        (size,) = INT32.unpack_from(data, offset)
        if size < 5 or size > end - offset:
            raise MalformedMessageError(
                "document length out of bounds",
                opcode=opcode,
                offset=offset,
                declared_length=size,
                actual_length=end - offset,
            )
        offset += size
    return decode_documents(view[start:end], codec_options, opcode=opcode, offset=start)
