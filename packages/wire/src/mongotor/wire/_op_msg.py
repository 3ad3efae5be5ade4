"""OP_MSG: the message every command travels in since MongoDB 3.6.

Layout (OP_MSG spec; manual: Wire Protocol > OP_MSG): header, uint32 flagBits,
one or more sections, and a CRC-32C of everything before it when
``checksumPresent`` is set. A kind-0 section is one BSON document (the command
body); a kind-1 section is an int32 size, a cstring identifier and back-to-back
documents (e.g. the ``documents`` of an insert), which saves building one huge
array document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from bson.codec_options import CodecOptions
from google_crc32c import value as crc32c

from ._bson import (
    DEFAULT_CODEC_OPTIONS,
    DocumentLike,
    EncodingError,
    decode_document,
    decode_documents,
    dict_to_bson,
    encode_document,
    encode_documents,
)
from ._constants import (
    CHECKSUM_SIZE,
    HEADER,
    HEADER_SIZE,
    INT32,
    OP_MSG_FLAGS,
    OP_MSG_KNOWN_REQUIRED_BITS,
    OP_MSG_PREFIX,
    OP_MSG_REQUIRED_BITS_MASK,
    OP_MSG_START,
    UINT32,
    CompressorId,
    OpCode,
    OpMsgFlags,
    SectionKind,
)
from ._errors import ChecksumMismatchError, InvalidFlagsError, MalformedMessageError

__all__ = ["DocumentSequence", "OpMsg", "decode_op_msg", "encode_op_msg"]

# Plain ints for the decoder: every operator on an IntFlag or IntEnum member
# runs Python-level enum code (about 1 us for ``int & IntFlag`` on CPython 3.11).
_OP_MSG = int(OpCode.OP_MSG)
_CHECKSUM = int(OpMsgFlags.CHECKSUM_PRESENT)
_MORE_TO_COME = int(OpMsgFlags.MORE_TO_COME)
_UNKNOWN_REQUIRED_BITS = OP_MSG_REQUIRED_BITS_MASK & ~int(OP_MSG_KNOWN_REQUIRED_BITS)
_BODY = int(SectionKind.BODY)
_DOCUMENT_SEQUENCE = int(SectionKind.DOCUMENT_SEQUENCE)
# Constructing an OpMsgFlags costs more than decoding a small body: the one
# value nearly every message carries is made once.
_NO_FLAGS = OpMsgFlags.NONE
_KIND_1 = bytes([SectionKind.DOCUMENT_SEQUENCE])
_KIND_0 = bytes([SectionKind.BODY])
# Header, flagBits and the body's kind byte: everything but the body's bytes.
_FIXED_SIZE = HEADER_SIZE + 4 + 1
_NO_FLAGS_KIND_0 = OP_MSG_FLAGS.pack(0) + _KIND_0
# Below this size a body is decoded from a copy: slicing a few KiB costs less
# than making a memoryview and a view of it.
_VIEW_FROM = 4096


@dataclass(frozen=True, slots=True)
class DocumentSequence:
    """A kind-1 section: ``identifier`` names the command field it stands for."""

    identifier: str
    documents: Sequence[DocumentLike]


@dataclass(frozen=True, slots=True)
class OpMsg:
    """An OP_MSG, as sent or as received.

    Decoded messages hold documents decoded with the framer's codec options
    (use ``RawBSONDocument`` there to keep raw bytes). ``compressor`` records
    the compressor a received message arrived with (``None``: uncompressed);
    :meth:`to_bytes` honours it so that decode and encode round-trip.
    """

    body: DocumentLike
    sequences: Sequence[DocumentSequence] = ()
    flags: OpMsgFlags = OpMsgFlags.NONE
    request_id: int = 0
    response_to: int = 0
    compressor: CompressorId | None = None

    @property
    def more_to_come(self) -> bool:
        """True when the sender will send another message without a reply."""
        return bool(int(self.flags) & _MORE_TO_COME)

    def to_bytes(self, codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS) -> bytes:
        """Encode this message (compressed with :attr:`compressor` if set)."""
        data = encode_op_msg(
            self.request_id,
            self.body,
            self.sequences,
            flags=self.flags,
            response_to=self.response_to,
            codec_options=codec_options,
        )
        if self.compressor is None:
            return data
        from ._compression import compress_message  # noqa: PLC0415 (import cycle)

        return compress_message(data, self.compressor)


# Writers of OpMsg's slots, in field order, for the decoder's fast path: the
# frozen dataclass's __init__ sets each field through object.__setattr__, which
# costs more than decoding a small reply's body; a slot's own descriptor does
# the same write in half the time.
(
    _set_body,
    _set_sequences,
    _set_flags,
    _set_request_id,
    _set_response_to,
    _set_compressor,
) = (vars(OpMsg)[field.name].__set__ for field in fields(OpMsg))
_set_identifier, _set_documents = (
    vars(DocumentSequence)[field.name].__set__ for field in fields(DocumentSequence)
)


def encode_op_msg(
    request_id: int,
    body: DocumentLike,
    sequences: Sequence[DocumentSequence] = (),
    *,
    flags: int = 0,
    response_to: int = 0,
    codec_options: CodecOptions[Any] = DEFAULT_CODEC_OPTIONS,
) -> bytes:
    """Encode an OP_MSG; append the CRC-32C when ``flags`` has CHECKSUM_PRESENT.

    Documents may be mappings or already-encoded BSON (not re-encoded).
    Raises :class:`EncodingError` for anything that cannot be encoded.
    """
    if not sequences and not flags and type(body) is dict:
        # Nearly every command: a dict body and nothing else. One C encode, one
        # pack and one concatenation; anything that fails here is retried on
        # the general path below, which names the fault precisely.
        try:
            encoded = dict_to_bson(body, False, codec_options)
            prefix = OP_MSG_PREFIX.pack(
                _FIXED_SIZE + len(encoded), request_id, response_to, _OP_MSG, 0, _BODY
            )
        except Exception:  # noqa: S110 - reported by the general path
            pass
        else:
            return prefix + encoded
    encoded_body = encode_document(body, codec_options)
    length = _FIXED_SIZE + len(encoded_body)
    if not sequences and not flags:
        return b"".join((_header(length, request_id, response_to), _NO_FLAGS_KIND_0, encoded_body))
    parts: list[Any] = [b"", _pack_flags(flags), _KIND_0, encoded_body]
    for sequence in sequences:
        ident = _identifier(sequence.identifier)
        docs = encode_documents(sequence.documents, codec_options)
        size = 4 + len(ident) + 1 + len(docs)
        parts += (_KIND_1, INT32.pack(size), ident, b"\x00", docs)
        length += 1 + size
    checksum = flags & _CHECKSUM
    if checksum:
        length += CHECKSUM_SIZE
    parts[0] = _header(length, request_id, response_to)
    data = b"".join(parts)
    if checksum:
        data += UINT32.pack(crc32c(data))
    return data


def _header(length: int, request_id: int, response_to: int) -> bytes:
    try:
        return HEADER.pack(length, request_id, response_to, _OP_MSG)
    except Exception as exc:  # struct.error: an id outside int32
        raise EncodingError(f"request_id/response_to out of int32 range: {exc}") from exc


def _pack_flags(flags: int) -> bytes:
    try:
        return OP_MSG_FLAGS.pack(flags)
    except Exception as exc:  # struct.error: not a uint32
        raise EncodingError(f"OP_MSG flagBits out of uint32 range: {exc}") from exc


def _identifier(identifier: str) -> bytes:
    try:
        ident = identifier.encode()
    except UnicodeEncodeError as exc:
        raise EncodingError(f"identifier {identifier!r} is not valid UTF-8") from exc
    if b"\x00" in ident:
        raise EncodingError(f"identifier {identifier!r} contains NUL")
    return ident


def decode_op_msg(
    data: bytes | bytearray,
    request_id: int,
    response_to: int,
    codec_options: CodecOptions[Any],
    compressor: CompressorId | None = None,
) -> OpMsg:
    """Decode a whole OP_MSG (header included) whose length is already checked."""
    end = len(data)
    if end < _FIXED_SIZE + 5:
        raise MalformedMessageError(
            "OP_MSG shorter than flagBits and one body section",
            opcode=_OP_MSG,
            actual_length=end,
        )
    flags, kind, size = OP_MSG_START.unpack_from(data, HEADER_SIZE)
    if not flags and kind == _BODY and size == end - _FIXED_SIZE:
        # The shape of nearly every reply: no flags and one body section filling
        # the message. It decodes as the loop below would, minus the loop's checks.
        encoded = data[_FIXED_SIZE:] if end < _VIEW_FROM else memoryview(data)[_FIXED_SIZE:]
        document = decode_document(encoded, codec_options, opcode=_OP_MSG, offset=_FIXED_SIZE)
        message = object.__new__(OpMsg)  # OpMsg(document, [], NONE, ...), slot by slot
        _set_body(message, document)
        _set_sequences(message, [])
        _set_flags(message, _NO_FLAGS)
        _set_request_id(message, request_id)
        _set_response_to(message, response_to)
        _set_compressor(message, compressor)
        return message
    if not flags and kind == _BODY and 5 <= size < end - _FIXED_SIZE:
        written = _body_and_sequence(data, size, request_id, response_to, codec_options, compressor)
        if written is not None:
            return written
    unknown = flags & _UNKNOWN_REQUIRED_BITS
    if unknown:
        raise InvalidFlagsError(
            f"OP_MSG sets unknown required flag bits {unknown:#x}",
            opcode=_OP_MSG,
            offset=HEADER_SIZE,
        )
    if flags & _CHECKSUM:
        end -= CHECKSUM_SIZE
        (expected,) = UINT32.unpack_from(data, end)
        if crc32c(bytes(data[:end])) != expected:
            raise ChecksumMismatchError(
                "OP_MSG CRC-32C checksum mismatch", opcode=_OP_MSG, offset=end
            )
    view = memoryview(data)
    body: Mapping[str, Any] | None = None
    sequences: list[DocumentSequence] = []
    offset = HEADER_SIZE + 4
    while offset < end:
        kind = data[offset]
        offset += 1
        if end - offset < 4:
            raise MalformedMessageError("truncated OP_MSG section", opcode=_OP_MSG, offset=offset)
        (size,) = INT32.unpack_from(data, offset)
        if size < 5 or size > end - offset:
            raise MalformedMessageError(
                "OP_MSG section size out of bounds",
                opcode=_OP_MSG,
                offset=offset,
                declared_length=size,
                actual_length=end - offset,
            )
        stop = offset + size
        if kind == _BODY:
            if body is not None:
                raise MalformedMessageError(
                    "OP_MSG has more than one body section", opcode=_OP_MSG, offset=offset - 1
                )
            body = decode_document(view[offset:stop], codec_options, opcode=_OP_MSG, offset=offset)
        elif kind == _DOCUMENT_SEQUENCE:
            sequences.append(_decode_sequence(data, view, offset, stop, codec_options))
        else:
            raise MalformedMessageError(
                f"unknown OP_MSG section kind {kind}", opcode=_OP_MSG, offset=offset - 1
            )
        offset = stop
    if body is None:
        raise MalformedMessageError("OP_MSG has no body section", opcode=_OP_MSG, offset=offset)
    return OpMsg(body, sequences, OpMsgFlags(flags), request_id, response_to, compressor)


def _body_and_sequence(
    data: bytes | bytearray,
    size: int,
    request_id: int,
    response_to: int,
    codec_options: CodecOptions[Any],
    compressor: CompressorId | None,
) -> OpMsg | None:
    """The shape of a driver's write (insert, update, delete): no flags, the
    body, then one document sequence filling the rest of the message (its
    body section's size already checked). Decoded as the general loop would,
    with the same errors for bad BSON; anything else about it unusual is
    left to that loop (None), which raises its own error for it."""
    end = len(data)
    stop = _FIXED_SIZE + size
    if data[stop] != _DOCUMENT_SEQUENCE or end - stop < 6:
        return None
    (length,) = INT32.unpack_from(data, stop + 1)
    nul = data.find(b"\x00", stop + 5, end)
    if length < 5 or stop + 1 + length != end or nul < 0:
        return None
    try:
        identifier = data[stop + 5 : nul].decode()
    except UnicodeDecodeError:
        return None
    view = memoryview(data)
    body = decode_document(
        view[_FIXED_SIZE:stop], codec_options, opcode=_OP_MSG, offset=_FIXED_SIZE
    )
    documents = decode_documents(view[nul + 1 :], codec_options, opcode=_OP_MSG, offset=nul + 1)
    sequence = object.__new__(DocumentSequence)
    _set_identifier(sequence, identifier)
    _set_documents(sequence, documents)
    message = object.__new__(OpMsg)
    _set_body(message, body)
    _set_sequences(message, [sequence])
    _set_flags(message, _NO_FLAGS)
    _set_request_id(message, request_id)
    _set_response_to(message, response_to)
    _set_compressor(message, compressor)
    return message


def _decode_sequence(
    data: bytes | bytearray,
    view: memoryview,
    offset: int,
    stop: int,
    codec_options: CodecOptions[Any],
) -> DocumentSequence:
    start = offset + 4
    nul = data.find(b"\x00", start, stop)
    if nul < 0:
        raise MalformedMessageError(
            "unterminated document sequence identifier", opcode=_OP_MSG, offset=start
        )
    try:
        identifier = data[start:nul].decode()
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(
            "document sequence identifier is not UTF-8", opcode=_OP_MSG, offset=start
        ) from exc
    documents = decode_documents(
        view[nul + 1 : stop], codec_options, opcode=_OP_MSG, offset=nul + 1
    )
    return DocumentSequence(identifier, documents)
