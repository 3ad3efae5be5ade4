"""Every number the wire protocol defines, named.

Sources: the MongoDB manual, "MongoDB Wire Protocol" (Standard Message Header,
Opcodes, OP_MSG, OP_COMPRESSED, legacy opcodes), and the driver specifications
"OP_MSG" and "Wire Compression in Drivers" (mongodb/specifications).
"""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "HEADER",
    "HEADER_SIZE",
    "MAX_BSON_OBJECT_SIZE",
    "MAX_WRITE_BATCH_SIZE",
    "CompressorId",
    "OpCode",
    "OpMsgFlags",
    "OpQueryFlags",
    "OpReplyFlags",
    "SectionKind",
]

# --- Standard message header (manual: Wire Protocol > Standard Message Header) ---
# int32 messageLength (including these 16 bytes), int32 requestID,
# int32 responseTo, int32 opCode; all little-endian.
HEADER = struct.Struct("<iiii")
HEADER_SIZE = HEADER.size  # 16

# --- Limits a server announces in hello (manual: hello command, response fields) ---
# The framer refuses a declared length above the max message size before it
# buffers any of the body; 48,000,000 is what every mongod since 3.6 announces.
DEFAULT_MAX_MESSAGE_SIZE = 48_000_000
MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
MAX_WRITE_BATCH_SIZE = 100_000


class OpCode(IntEnum):
    """Opcodes (manual: Wire Protocol > Opcodes). Only those we read or write."""

    OP_REPLY = 1
    OP_QUERY = 2004
    OP_COMPRESSED = 2012
    OP_MSG = 2013


# --- OP_MSG (OP_MSG spec: flagBits, sections) ---
# uint32 flagBits, then sections, then an optional uint32 CRC-32C checksum.
OP_MSG_FLAGS = struct.Struct("<I")
# flagBits, the first section's kind byte and the int32 length that starts a
# kind-0 section's document: all a decoder needs to spot the common shape.
OP_MSG_START = struct.Struct("<IBi")
# The header, flagBits and a kind-0 section's kind byte in one pack: everything
# an encoder writes before the body of a message without document sequences.
OP_MSG_PREFIX = struct.Struct("<iiiiIB")
# A kind-1 section starts with its int32 size (counting itself) then a cstring.
INT32 = struct.Struct("<i")
UINT32 = struct.Struct("<I")
CHECKSUM_SIZE = 4


class OpMsgFlags(IntFlag):
    """OP_MSG flagBits. Bits 0-15 are "required": a reader must reject unknown ones."""

    NONE = 0
    CHECKSUM_PRESENT = 1 << 0
    MORE_TO_COME = 1 << 1
    EXHAUST_ALLOWED = 1 << 16


# Unknown bits in the low 16 must fail the parse; unknown high bits are ignored.
OP_MSG_REQUIRED_BITS_MASK = 0xFFFF
OP_MSG_KNOWN_REQUIRED_BITS = OpMsgFlags.CHECKSUM_PRESENT | OpMsgFlags.MORE_TO_COME


class SectionKind(IntEnum):
    """OP_MSG section kinds (OP_MSG spec: Sections)."""

    BODY = 0
    DOCUMENT_SEQUENCE = 1


# --- Legacy OP_QUERY / OP_REPLY (manual: Wire Protocol > Legacy Opcodes) ---
# OP_QUERY: int32 flags, cstring fullCollectionName, int32 numberToSkip,
# int32 numberToReturn, document query, [document returnFieldsSelector].
QUERY_SKIP_RETURN = struct.Struct("<ii")
# OP_REPLY: int32 responseFlags, int64 cursorID, int32 startingFrom,
# int32 numberReturned, then the documents.
REPLY_FIELDS = struct.Struct("<Iqii")


class OpQueryFlags(IntFlag):
    """OP_QUERY flags (manual: Legacy Opcodes > OP_QUERY)."""

    NONE = 0
    TAILABLE_CURSOR = 1 << 1
    SECONDARY_OK = 1 << 2
    OPLOG_REPLAY = 1 << 3
    NO_CURSOR_TIMEOUT = 1 << 4
    AWAIT_DATA = 1 << 5
    EXHAUST = 1 << 6
    PARTIAL = 1 << 7


class OpReplyFlags(IntFlag):
    """OP_REPLY responseFlags (manual: Legacy Opcodes > OP_REPLY)."""

    NONE = 0
    CURSOR_NOT_FOUND = 1 << 0
    QUERY_FAILURE = 1 << 1
    SHARD_CONFIG_STALE = 1 << 2
    AWAIT_CAPABLE = 1 << 3


# --- OP_COMPRESSED (Wire Compression spec; manual: OP_COMPRESSED) ---
# After the header: int32 originalOpcode, int32 uncompressedSize (the original
# message less its header), uint8 compressorId, then the compressed bytes.
COMPRESSED_FIELDS = struct.Struct("<iiB")


class CompressorId(IntEnum):
    """Compressor ids (Wire Compression spec: Compressors)."""

    NOOP = 0
    SNAPPY = 1
    ZLIB = 2
    ZSTD = 3
