"""The codec's only door to BSON: pymongo's C-accelerated ``bson``.

Encoding accepts a mapping (encoded by bson), a ``RawBSONDocument`` (its bytes
are used as they are) or bytes-like already-encoded BSON (used as is, after a
length check). Decoding takes memoryview slices so a message is never copied
piecewise, and turns every failure of bson on untrusted bytes into
:class:`InvalidBSONError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import bson
from bson.codec_options import DEFAULT_CODEC_OPTIONS, CodecOptions

from ._constants import INT32
from ._errors import InvalidBSONError, WireError

__all__ = [
    "DEFAULT_CODEC_OPTIONS",
    "DocumentLike",
    "EncodingError",
    "decode_document",
    "decode_documents",
    "dict_to_bson",
    "encode_document",
    "encode_documents",
]

#: A document to send: a mapping, or BSON that is already encoded.
DocumentLike: TypeAlias = Mapping[str, Any] | bytes | bytearray | memoryview

# bson.encode/decode are thin Python wrappers over these C functions; calling
# them directly saves a frame and an isinstance check per document, which is a
# measurable share of a 1,000-document insert (see bench/wire).
_dict_to_bson = bson._dict_to_bson
#: bson's C encoder, ``(mapping, check_keys, codec_options) -> bytes``, for
#: the OP_MSG encoder's fast path; it raises bson's own errors.
dict_to_bson = _dict_to_bson
_bson_to_dict = bson._bson_to_dict
_decode_all = bson.decode_all
_array_of_documents_to_buffer = bson._array_of_documents_to_buffer
# "0", "1", ... grown on demand; zip() stops at the shorter of keys and docs.
_KEYS = [str(i) for i in range(1024)]


_ENCODED = (bytes, bytearray, memoryview)


class EncodingError(WireError, ValueError):
    """A value given to an encoder cannot be put on the wire.

    The caller's fault: an unencodable document, invalid pre-encoded BSON, a
    number out of its field's range, or an identifier containing NUL.
    """


def encode_document(
    doc: DocumentLike, codec_options: CodecOptions[Any]
) -> bytes | bytearray | memoryview:
    """Encode one document, or check and pass through already-encoded BSON."""
    if isinstance(doc, _ENCODED):
        if len(doc) < 5 or INT32.unpack_from(doc)[0] != len(doc):
            raise EncodingError("pre-encoded BSON's length prefix does not match its size")
        return doc
    try:
        return _dict_to_bson(doc, False, codec_options)
    except Exception as exc:  # bson raises InvalidDocument, TypeError, OverflowError...
        raise EncodingError(f"cannot encode document: {exc}") from exc


def encode_documents(docs: Sequence[DocumentLike], codec_options: CodecOptions[Any]) -> bytes:
    """Encode documents back to back, as a kind-1 section or OP_REPLY holds them.

    Encoding each document costs bson a conversion of ``codec_options``
    (about 0.7 us, more than a small document itself), so mappings are encoded
    in one call as the array ``{"0": d0, "1": d1, ...}`` and bson's C
    ``_array_of_documents_to_buffer`` strips the array's element headers. As
    embedded documents they keep their key order (the top-level encoder would
    move ``_id`` first; the server does that itself on insert). Anything else
    (pre-encoded bytes) takes the per-document path.
    """
    count = len(docs)
    if count > 1:
        keys = _array_keys(count)
        try:
            return _array_of_documents_to_buffer(
                _dict_to_bson(dict(zip(keys, docs, strict=False)), False, codec_options)
            )
        except Exception:  # noqa: S110 - the per-document path below reports it precisely
            pass
    return b"".join([encode_document(doc, codec_options) for doc in docs])


def _array_keys(count: int) -> list[str]:
    if count > len(_KEYS):
        _KEYS.extend(map(str, range(len(_KEYS), max(count, 2 * len(_KEYS)))))
    return _KEYS


def decode_document(
    view: bytes | bytearray | memoryview,
    codec_options: CodecOptions[Any],
    *,
    opcode: int,
    offset: int,
) -> Mapping[str, Any]:
    """Decode exactly one document that fills ``view``."""
    try:
        return _bson_to_dict(view, codec_options)
    except Exception as exc:  # any failure on untrusted bytes is the peer's
        raise InvalidBSONError(
            f"invalid BSON document: {exc}", opcode=opcode, offset=offset
        ) from exc


def decode_documents(
    view: memoryview, codec_options: CodecOptions[Any], *, opcode: int, offset: int
) -> list[Mapping[str, Any]]:
    """Decode zero or more back-to-back documents that exactly fill ``view``."""
    try:
        return _decode_all(view, codec_options)
    except Exception as exc:  # any failure on untrusted bytes is the peer's
        raise InvalidBSONError(
            f"invalid BSON document: {exc}", opcode=opcode, offset=offset
        ) from exc
