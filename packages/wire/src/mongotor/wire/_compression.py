"""OP_COMPRESSED both ways, and compressor negotiation.

Wire Compression spec: a client lists its compressors in hello's
``compression``; the server answers with the ones it supports, in the client's
order; both then may compress any message with the first of them, except the
handshake and authentication commands. zlib is always here (stdlib); zstd and
snappy come with the ``zstd`` / ``snappy`` extras (zstandard, python-snappy).

Decompression is bounded: the declared uncompressedSize is checked against the
maximum message size before anything is inflated, and no compressor may
produce more than it declared (a "zip bomb" costs us nothing).
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from typing import Any

from ._constants import (
    COMPRESSED_FIELDS,
    DEFAULT_MAX_MESSAGE_SIZE,
    HEADER,
    HEADER_SIZE,
    CompressorId,
    OpCode,
)
from ._errors import CompressionError, CompressorUnavailableError, MalformedMessageError

__all__ = [
    "UNCOMPRESSIBLE_COMMANDS",
    "available_compressors",
    "compress_message",
    "compressor_id",
    "decompress_message",
    "negotiate_compressors",
]

# Wire Compression spec, "Messages not allowed to be compressed".
UNCOMPRESSIBLE_COMMANDS = frozenset(
    {
        "hello",
        "ismaster",
        "saslstart",
        "saslcontinue",
        "getnonce",
        "authenticate",
        "createuser",
        "updateuser",
        "copydbsaslstart",
        "copydbgetnonce",
        "copydb",
    }
)

_NAMES = {
    "noop": CompressorId.NOOP,
    "snappy": CompressorId.SNAPPY,
    "zlib": CompressorId.ZLIB,
    "zstd": CompressorId.ZSTD,
}
_PACKAGES = {CompressorId.SNAPPY: "python-snappy", CompressorId.ZSTD: "zstandard"}
_OP_COMPRESSED = int(OpCode.OP_COMPRESSED)


def _load_optional(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        return None


# Imported once; tests replace these attributes to exercise the "not installed"
# path without uninstalling anything.
snappy: Any = _load_optional("snappy")
zstandard: Any = _load_optional("zstandard")


def _module_for(compressor: CompressorId) -> Any:
    module = snappy if compressor is CompressorId.SNAPPY else zstandard
    if module is None:
        raise CompressorUnavailableError(compressor.name.lower(), _PACKAGES[compressor])
    return module


def compressor_id(name: str) -> CompressorId:
    """The id of a compressor name (``"zlib"``...); ValueError if unknown."""
    try:
        return _NAMES[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown compressor {name!r}; known: {', '.join(sorted(_NAMES))}"
        ) from None


def available_compressors() -> tuple[str, ...]:
    """Names of the compressors usable in this process, best first."""
    names = []
    if zstandard is not None:
        names.append("zstd")
    if snappy is not None:
        names.append("snappy")
    names.append("zlib")
    return tuple(names)


def negotiate_compressors(requested: Sequence[str], supported: Collection[str]) -> list[str]:
    """The server's answer to hello's ``compression``: the requested names it
    supports, in the order the client asked (Wire Compression spec)."""
    return [name for name in requested if name in supported]


def compress_message(
    message: bytes, compressor: CompressorId, *, level: int | None = None
) -> bytes:
    """Wrap an encoded message (header included) in OP_COMPRESSED.

    Keeps the message's requestID and responseTo. ``level`` is zlib's -1..9 or
    zstd's level; snappy and noop take none.
    """
    length, request_id, response_to, opcode = HEADER.unpack_from(message)
    payload = memoryview(message)[HEADER_SIZE:]
    if compressor is CompressorId.ZLIB:
        compressed = zlib.compress(payload, -1 if level is None else level)
    elif compressor is CompressorId.ZSTD:
        module = _module_for(compressor)
        compressor_ = (
            module.ZstdCompressor() if level is None else module.ZstdCompressor(level=level)
        )
        compressed = compressor_.compress(payload)
    elif compressor is CompressorId.SNAPPY:
        compressed = _module_for(compressor).compress(bytes(payload))
    else:
        compressed = bytes(payload)
    head = HEADER.pack(
        HEADER_SIZE + COMPRESSED_FIELDS.size + len(compressed),
        request_id,
        response_to,
        _OP_COMPRESSED,
    )
    return head + COMPRESSED_FIELDS.pack(opcode, length - HEADER_SIZE, compressor) + compressed


def decompress_message(
    data: bytes | bytearray, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
) -> tuple[bytes, CompressorId]:
    """Unwrap a whole OP_COMPRESSED (header included) into the original message.

    Returns the original message's bytes (with a header carrying the original
    opcode) and the compressor it used. Raises :class:`CompressionError` or
    :class:`MalformedMessageError`.
    """
    if len(data) < HEADER_SIZE + COMPRESSED_FIELDS.size:
        raise MalformedMessageError(
            "OP_COMPRESSED too short", opcode=_OP_COMPRESSED, actual_length=len(data)
        )
    _, request_id, response_to, _ = HEADER.unpack_from(data)
    opcode, size, raw_id = COMPRESSED_FIELDS.unpack_from(data, HEADER_SIZE)
    if opcode == _OP_COMPRESSED:
        raise CompressionError(
            "OP_COMPRESSED wraps another OP_COMPRESSED", opcode=_OP_COMPRESSED, offset=HEADER_SIZE
        )
    if size < 0 or size > max_message_size - HEADER_SIZE:
        raise CompressionError(
            "OP_COMPRESSED declares an uncompressed size out of bounds",
            opcode=_OP_COMPRESSED,
            offset=HEADER_SIZE + 4,
            declared_length=size,
        )
    try:
        compressor = CompressorId(raw_id)
    except ValueError:
        raise CompressionError(
            f"unknown compressor id {raw_id}", opcode=_OP_COMPRESSED, offset=HEADER_SIZE + 8
        ) from None
    compressed = memoryview(data)[HEADER_SIZE + COMPRESSED_FIELDS.size :]
    try:
        payload = _inflate(compressor, compressed, size)
    except CompressionError:
        raise
    except CompressorUnavailableError as exc:
        raise CompressionError(str(exc), opcode=_OP_COMPRESSED, offset=HEADER_SIZE + 8) from exc
    except Exception as exc:  # zlib.error, zstd.ZstdError, snappy.UncompressError...
        raise CompressionError(
            f"{compressor.name.lower()} payload does not decompress: {exc}", opcode=_OP_COMPRESSED
        ) from exc
    if len(payload) != size:
        raise CompressionError(
            "decompressed size differs from the declared uncompressedSize",
            opcode=_OP_COMPRESSED,
            declared_length=size,
            actual_length=len(payload),
        )
    return HEADER.pack(HEADER_SIZE + size, request_id, response_to, opcode) + payload, compressor


def _inflate(compressor: CompressorId, compressed: memoryview, size: int) -> bytes:
    # Each branch produces at most size + 1 bytes: one more than declared is
    # enough to tell a lie, and never more than the limit already checked.
    if compressor is CompressorId.ZLIB:
        inflater = zlib.decompressobj()
        return inflater.decompress(compressed, size + 1)
    if compressor is CompressorId.ZSTD:
        reader = _module_for(compressor).ZstdDecompressor().stream_reader(compressed)
        return bytes(reader.read(size + 1))
    if compressor is CompressorId.SNAPPY:
        module = _module_for(compressor)
        declared = _snappy_length(compressed)
        if declared != size:
            raise CompressionError(
                "snappy preamble disagrees with the declared uncompressedSize",
                opcode=_OP_COMPRESSED,
                declared_length=size,
                actual_length=declared,
            )
        return bytes(module.uncompress(bytes(compressed)))
    return bytes(compressed[: size + 1])


def _snappy_length(compressed: memoryview) -> int:
    """The uncompressed length from a raw snappy block's varint preamble."""
    value = shift = 0
    for byte in compressed[:5]:
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
        shift += 7
    raise CompressionError("snappy block has no valid length preamble", opcode=_OP_COMPRESSED)
