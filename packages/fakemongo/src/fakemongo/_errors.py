"""Server errors as MongoDB 8.0 reports them: ``{ok: 0, errmsg, code, codeName}``.

Every failure a command handler detects is raised as a :class:`CommandError`
carrying MongoDB's own code; the dispatcher turns it into the reply document.
Codes and names follow the server's error code table (the "Error Codes" page of
the MongoDB manual); add a member here before using a new code, never a bare int.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = ["CommandError", "ErrorCode"]


class ErrorCode(IntEnum):
    """MongoDB server error codes; the member name is the reply's ``codeName``."""

    InternalError = 1
    InvalidIndexSpecificationOption = 197
    ClientMetadataCannotBeMutated = 186
    CannotIndexParallelArrays = 171
    ProtocolError = 17
    InvalidBSON = 22
    OperationFailed = 96
    MechanismUnavailable = 334
    UnsupportedOpQueryCommand = 352
    InvalidLength = 33
    Location40571 = 40571
    Location40413 = 40413
    Location5739101 = 5739101
    InvalidUUID = 207
    NoSuchSession = 206
    Location51024 = 51024
    Location5107201 = 5107201
    BadValue = 2
    NoSuchKey = 4
    FailedToParse = 9
    UserNotFound = 11
    Unauthorized = 13
    TypeMismatch = 14
    Overflow = 15
    AuthenticationFailed = 18
    IllegalOperation = 20
    NamespaceNotFound = 26
    IndexNotFound = 27
    PathNotViable = 28
    ConflictingUpdateOperators = 40
    CursorNotFound = 43
    NamespaceExists = 48
    MaxTimeMSExpired = 50
    DollarPrefixedFieldName = 52
    InvalidIdField = 53
    NotSingleValueField = 54
    EmptyFieldName = 56
    CommandNotFound = 59
    ImmutableField = 66
    CannotCreateIndex = 67
    IndexAlreadyExists = 68
    InvalidOptions = 72
    InvalidNamespace = 73
    IndexOptionsConflict = 85
    IndexKeySpecsConflict = 86
    NamespaceNotSharded = 61
    NoMatchingDocument = 47
    UnknownError = 8
    CommandNotSupported = 115
    NotWritablePrimary = 10107
    NotPrimaryNoSecondaryOk = 13435
    DuplicateKey = 11000
    QueryFeatureNotAllowed = 224
    InvalidPipelineOperator = 168
    ConversionFailure = 241
    # Codes raised by a bare uassert(<number>) in the server; codeName "Location<N>".
    Location15974 = 15974
    Location15975 = 15975
    Location15983 = 15983
    Location15998 = 15998
    Location16020 = 16020
    Location16410 = 16410
    Location16412 = 16412
    Location16612 = 16612
    Location16869 = 16869
    Location16872 = 16872
    Location17080 = 17080
    Location17081 = 17081
    Location17082 = 17082
    Location17083 = 17083
    Location17276 = 17276
    Location17312 = 17312
    Location31138 = 31138
    Location31249 = 31249
    Location31250 = 31250
    Location31252 = 31252
    Location31253 = 31253
    Location31254 = 31254
    Location31255 = 31255
    Location31256 = 31256
    Location31257 = 31257
    Location31258 = 31258
    Location31259 = 31259
    Location31270 = 31270
    Location31271 = 31271
    Location31272 = 31272
    Location31273 = 31273
    Location31274 = 31274
    Location31275 = 31275
    Location31276 = 31276
    Location31277 = 31277
    Location31287 = 31287
    Location31308 = 31308
    Location31310 = 31310
    Location40081 = 40081
    Location40352 = 40352
    Location40414 = 40414
    Location40415 = 40415
    Location51050 = 51050
    Location51074 = 51074
    Location51075 = 51075
    Location51091 = 51091
    Location51108 = 51108
    Location51246 = 51246
    Location51247 = 51247
    Location51270 = 51270
    Location1257300 = 1257300


class CommandError(Exception):
    """A command failed the way MongoDB would fail it.

    ``code`` is the numeric error code, ``code_name`` its name (defaults to the
    :class:`ErrorCode` member's name), ``errmsg`` the message text.
    """

    def __init__(
        self,
        code: ErrorCode | int,
        errmsg: str,
        *,
        code_name: str | None = None,
        error_labels: tuple[str, ...] = (),
    ) -> None:
        super().__init__(errmsg)
        self.code = int(code)
        if code_name is None:
            code_name = code.name if isinstance(code, ErrorCode) else ErrorCode(code).name
        self.code_name = code_name
        self.errmsg = errmsg
        self.error_labels = error_labels

    def to_document(self) -> dict[str, Any]:
        """The reply document: ``{ok: 0.0, errmsg, code, codeName[, errorLabels]}``."""
        doc: dict[str, Any] = {
            "ok": 0.0,
            "errmsg": self.errmsg,
            "code": self.code,
            "codeName": self.code_name,
        }
        if self.error_labels:
            doc["errorLabels"] = list(self.error_labels)
        return doc

    def __repr__(self) -> str:
        return (
            f"CommandError(code={self.code}, codeName={self.code_name!r}, errmsg={self.errmsg!r})"
        )
