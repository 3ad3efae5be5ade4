"""OP_COMPRESSED: negotiation, optional compressors, bounded inflation.

Wire Compression spec (mongodb/specifications, source/compression): the
server answers hello's ``compression`` with the requested compressors it
supports, in the client's order; handshake and auth commands are never
compressed; ids are noop 0, snappy 1, zlib 2, zstd 3.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from mongotor.wire import (
    UNCOMPRESSIBLE_COMMANDS,
    CompressionError,
    CompressorId,
    CompressorUnavailableError,
    MalformedMessageError,
    OpMsg,
    _compression,
    available_compressors,
    compress_message,
    compressor_id,
    decode_message,
    decompress_message,
    encode_op_msg,
    negotiate_compressors,
)

MESSAGE = encode_op_msg(8, {"find": "c", "filter": {"a": "b" * 500}, "$db": "t"}, response_to=2)


def _compressed(opcode: int, size: int, compressor: int, payload: bytes) -> bytes:
    fields = struct.pack("<iiB", opcode, size, compressor)
    return struct.pack("<iiii", 16 + len(fields) + len(payload), 1, 0, 2012) + fields + payload


@pytest.mark.parametrize("compressor", list(CompressorId))
def test_round_trip_keeps_ids_and_records_the_compressor(compressor: CompressorId) -> None:
    data = compress_message(MESSAGE, compressor)
    assert struct.unpack_from("<iiii", data)[1:] == (8, 2, 2012)
    original, used = decompress_message(data)
    assert (original, used) == (MESSAGE, compressor)
    message = decode_message(data)
    assert isinstance(message, OpMsg)
    assert message.compressor is compressor
    assert message.to_bytes() == data


def test_levels() -> None:
    fast = compress_message(MESSAGE, CompressorId.ZLIB, level=1)
    best = compress_message(MESSAGE, CompressorId.ZSTD, level=19)
    assert decompress_message(fast)[0] == decompress_message(best)[0] == MESSAGE


def test_negotiation_keeps_the_clients_order() -> None:
    assert negotiate_compressors(["zstd", "snappy", "zlib"], {"zlib", "zstd"}) == ["zstd", "zlib"]
    assert negotiate_compressors(["snappy"], {"zlib"}) == []
    assert compressor_id("ZLIB") is CompressorId.ZLIB
    with pytest.raises(
        ValueError, match="unknown compressor 'lz4'; known: noop, snappy, zlib, zstd"
    ):
        compressor_id("lz4")
    assert {"hello", "ismaster", "saslstart", "saslcontinue"} <= UNCOMPRESSIBLE_COMMANDS


def test_available_compressors_follow_the_installed_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert available_compressors() == ("zstd", "snappy", "zlib")
    monkeypatch.setattr(_compression, "zstandard", None)
    monkeypatch.setattr(_compression, "snappy", None)
    assert available_compressors() == ("zlib",)
    with pytest.raises(
        CompressorUnavailableError, match="needs the optional package 'zstandard'"
    ) as info:
        compress_message(MESSAGE, CompressorId.ZSTD)
    assert (info.value.compressor, info.value.package) == ("zstd", "zstandard")
    # A peer that compresses with something we lack is a protocol error on our side of the stream.
    with pytest.raises(CompressionError, match="python-snappy"):
        decompress_message(_compressed(2013, 5, 1, b"\x05abcde"))


def test_load_optional_returns_none_for_a_missing_module() -> None:
    assert _compression._load_optional("no_such_module_here") is None
    assert _compression._load_optional("zlib") is zlib


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (struct.pack("<iiii", 20, 1, 0, 2012) + b"\x00" * 4, "OP_COMPRESSED too short"),
        (_compressed(2012, 5, 0, b"abcde"), "wraps another OP_COMPRESSED"),
        (_compressed(2013, -1, 0, b""), "uncompressed size out of bounds"),
        (_compressed(2013, 48_000_000, 0, b""), "uncompressed size out of bounds"),
        (_compressed(2013, 5, 9, b"abcde"), "unknown compressor id 9"),
        (_compressed(2013, 5, 2, b"not zlib"), "zlib payload does not decompress"),
        (_compressed(2013, 5, 2, zlib.compress(b"abcdef")), "differs from the declared"),
        (_compressed(2013, 7, 2, zlib.compress(b"abcdef")), "differs from the declared"),
        (_compressed(2013, 5, 0, b"abcdef"), "differs from the declared"),
        (_compressed(2013, 6, 1, b"\x05abcde"), "snappy preamble disagrees"),
        (_compressed(2013, 5, 1, b"\xff\xff\xff\xff\xff\xff"), "no valid length preamble"),
        (_compressed(2013, 5, 1, b"\x05\xff\xff"), "snappy payload does not decompress"),
        (_compressed(2013, 5, 3, b"\x28\xb5\x2f\xfd garbage"), "zstd payload does not decompress"),
    ],
)
def test_decompression_errors(data: bytes, message: str) -> None:
    with pytest.raises((CompressionError, MalformedMessageError), match=message):
        decode_message(data)


def test_a_zip_bomb_inflates_no_further_than_declared() -> None:
    bomb = zlib.compress(b"\x00" * 10_000_000)
    with pytest.raises(CompressionError) as info:
        decompress_message(_compressed(2013, 100, 2, bomb))
    assert (info.value.declared_length, info.value.actual_length) == (100, 101)
