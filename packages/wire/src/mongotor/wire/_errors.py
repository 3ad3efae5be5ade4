"""The codec's errors: one root, and ProtocolError for anything malformed.

Decoding untrusted bytes raises only :class:`ProtocolError` subclasses, never
IndexError, struct.error or UnicodeDecodeError. Each carries what was wrong as
fields, so a connection can log it and decide without parsing text. A protocol
error is the peer's fault and retrying on the same connection cannot help: the
stream is out of step and the connection must be closed.
"""

from __future__ import annotations

__all__ = [
    "ChecksumMismatchError",
    "CompressionError",
    "CompressorUnavailableError",
    "InvalidBSONError",
    "InvalidFlagsError",
    "MalformedMessageError",
    "MessageTooLargeError",
    "ProtocolError",
    "UnsupportedOpcodeError",
    "WireError",
]


class WireError(Exception):
    """Root of every error raised by mongotor.wire."""


class CompressorUnavailableError(WireError, ValueError):
    """A compressor was asked for whose optional package is not installed.

    A local configuration problem, not the peer's fault: install the extra
    (``mongotor-wire[zstd]`` / ``[snappy]``) or choose another compressor.
    """

    def __init__(self, compressor: str, package: str) -> None:
        self.compressor = compressor
        self.package = package
        super().__init__(
            f"compressor {compressor!r} needs the optional package {package!r}, "
            "which is not installed"
        )


class ProtocolError(WireError):
    """The bytes do not form a valid message. The connection must be closed.

    Fields (``None`` where they do not apply): ``opcode`` of the message,
    ``offset`` into the message where the problem was found, ``declared_length``
    and ``actual_length`` for length mismatches.
    """

    #: Whose fault: a decoding error is the peer's.
    remote = True
    #: Retrying on the same stream cannot help.
    retryable = False

    def __init__(
        self,
        reason: str,
        *,
        opcode: int | None = None,
        offset: int | None = None,
        declared_length: int | None = None,
        actual_length: int | None = None,
    ) -> None:
        self.reason = reason
        self.opcode = opcode
        self.offset = offset
        self.declared_length = declared_length
        self.actual_length = actual_length
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [self.reason]
        for name in ("opcode", "offset", "declared_length", "actual_length"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        return "; ".join(parts)


class MessageTooLargeError(ProtocolError):
    """A message header declares more bytes than the maximum message size."""


class MalformedMessageError(ProtocolError):
    """A length, section or string is inconsistent with the bytes present."""


class UnsupportedOpcodeError(ProtocolError):
    """The header names an opcode this codec does not speak."""


class InvalidFlagsError(ProtocolError):
    """OP_MSG sets a required flag bit that this codec does not know."""


class ChecksumMismatchError(ProtocolError):
    """An OP_MSG's CRC-32C checksum does not match its contents."""


class InvalidBSONError(ProtocolError):
    """A document inside a message is not valid BSON."""


class CompressionError(ProtocolError):
    """OP_COMPRESSED names an unknown compressor, or its payload does not inflate
    to the declared size."""
