"""mongotor.wire: the sans-I/O MongoDB wire protocol codec.

Bytes in, messages out; messages in, bytes out. No sockets, no asyncio, no
clocks, no logging. Encode with :func:`encode_op_msg` (or a message's
``to_bytes()``), decode a stream with :class:`Framer`::

    framer = Framer()
    framer.feed(chunk)
    while (message := framer.next_message()) is not NEED_DATA:
        handle(message)

Every malformed input raises a :class:`ProtocolError` subclass.
"""

from __future__ import annotations

from ._bson import DocumentLike as DocumentLike
from ._bson import EncodingError as EncodingError
from ._compression import UNCOMPRESSIBLE_COMMANDS as UNCOMPRESSIBLE_COMMANDS
from ._compression import available_compressors as available_compressors
from ._compression import compress_message as compress_message
from ._compression import compressor_id as compressor_id
from ._compression import decompress_message as decompress_message
from ._compression import negotiate_compressors as negotiate_compressors
from ._constants import DEFAULT_MAX_MESSAGE_SIZE as DEFAULT_MAX_MESSAGE_SIZE
from ._constants import HEADER as HEADER
from ._constants import HEADER_SIZE as HEADER_SIZE
from ._constants import MAX_BSON_OBJECT_SIZE as MAX_BSON_OBJECT_SIZE
from ._constants import MAX_WRITE_BATCH_SIZE as MAX_WRITE_BATCH_SIZE
from ._constants import CompressorId as CompressorId
from ._constants import OpCode as OpCode
from ._constants import OpMsgFlags as OpMsgFlags
from ._constants import OpQueryFlags as OpQueryFlags
from ._constants import OpReplyFlags as OpReplyFlags
from ._constants import SectionKind as SectionKind
from ._errors import ChecksumMismatchError as ChecksumMismatchError
from ._errors import CompressionError as CompressionError
from ._errors import CompressorUnavailableError as CompressorUnavailableError
from ._errors import InvalidBSONError as InvalidBSONError
from ._errors import InvalidFlagsError as InvalidFlagsError
from ._errors import MalformedMessageError as MalformedMessageError
from ._errors import MessageTooLargeError as MessageTooLargeError
from ._errors import ProtocolError as ProtocolError
from ._errors import UnsupportedOpcodeError as UnsupportedOpcodeError
from ._errors import WireError as WireError
from ._framer import NEED_DATA as NEED_DATA
from ._framer import RECEIVE_BUFFER_SIZE as RECEIVE_BUFFER_SIZE
from ._framer import Framer as Framer
from ._framer import Message as Message
from ._framer import NeedData as NeedData
from ._framer import decode_message as decode_message
from ._framer import frame_more_to_come as frame_more_to_come
from ._legacy import OpQuery as OpQuery
from ._legacy import OpReply as OpReply
from ._legacy import encode_op_query as encode_op_query
from ._legacy import encode_op_reply as encode_op_reply
from ._op_msg import DocumentSequence as DocumentSequence
from ._op_msg import OpMsg as OpMsg
from ._op_msg import encode_op_msg as encode_op_msg

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "HEADER",
    "HEADER_SIZE",
    "MAX_BSON_OBJECT_SIZE",
    "MAX_WRITE_BATCH_SIZE",
    "NEED_DATA",
    "RECEIVE_BUFFER_SIZE",
    "UNCOMPRESSIBLE_COMMANDS",
    "ChecksumMismatchError",
    "CompressionError",
    "CompressorId",
    "CompressorUnavailableError",
    "DocumentLike",
    "DocumentSequence",
    "EncodingError",
    "Framer",
    "InvalidBSONError",
    "InvalidFlagsError",
    "MalformedMessageError",
    "Message",
    "MessageTooLargeError",
    "NeedData",
    "OpCode",
    "OpMsg",
    "OpMsgFlags",
    "OpQuery",
    "OpQueryFlags",
    "OpReply",
    "OpReplyFlags",
    "ProtocolError",
    "SectionKind",
    "UnsupportedOpcodeError",
    "WireError",
    "available_compressors",
    "compress_message",
    "compressor_id",
    "decode_message",
    "decompress_message",
    "encode_op_msg",
    "encode_op_query",
    "encode_op_reply",
    "frame_more_to_come",
    "negotiate_compressors",
]
