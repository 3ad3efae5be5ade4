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
    Location16020 = 16020
    QueryFeatureNotAllowed = 224
    InvalidPipelineOperator = 168
    ConversionFailure = 241


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
        return f"CommandError(code={self.code}, codeName={self.code_name!r}, errmsg={self.errmsg!r})"
