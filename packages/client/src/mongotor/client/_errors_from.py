"""Errors from replies and from the layers below, as :mod:`mongotor.errors` classes.

The executor and the write paths call these so that users only ever see
``mongotor.errors``: ``ok: 0`` replies, ``writeErrors`` / ``writeConcernError``
inside ``ok: 1`` replies, and the pool's and the codec's exceptions (kept as
``__cause__``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mongotor import errors
from mongotor import pool as _pool
from mongotor import wire as _wire
from mongotor.errors import (
    DUPLICATE_KEY_CODES,
    NOT_PRIMARY_CODES,
    ErrorCode,
)

__all__ = [
    "check_reply",
    "check_write_reply",
    "command_error",
    "translate",
    "write_concern_error",
    "write_error",
]


def _code(document: Mapping[str, Any]) -> int | None:
    code = document.get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _labels(document: Mapping[str, Any]) -> list[str]:
    labels = document.get("errorLabels")
    return [label for label in labels if isinstance(label, str)] if isinstance(labels, list) else []


def command_error(reply: Mapping[str, Any], address: str | None) -> errors.Error:
    """The error an ``ok: 0`` reply describes, of the class its code calls for."""
    code = _code(reply)
    message = str(reply.get("errmsg", "")) or "command failed"
    code_name = reply.get("codeName")
    name = code_name if isinstance(code_name, str) else None
    labels = _labels(reply)
    if code in NOT_PRIMARY_CODES:
        return errors.NotPrimaryError(
            message, address=address, code=code, code_name=name, details=reply, error_labels=labels
        )
    cls: type[errors.OperationFailure] = errors.OperationFailure
    if code in DUPLICATE_KEY_CODES:
        cls = errors.DuplicateKeyError
    elif code == ErrorCode.CursorNotFound:
        cls = errors.CursorNotFound
    elif code == ErrorCode.MaxTimeMSExpired:
        cls = errors.ExecutionTimeout
    elif code in errors.CALLER_FAULT_CODES:
        cls = errors.ProgrammingError
    return cls(
        message, code=code, code_name=name, details=reply, error_labels=labels, address=address
    )


def check_reply(reply: Mapping[str, Any], address: str | None) -> Mapping[str, Any]:
    """``reply`` itself if ``ok`` is 1; raises :func:`command_error` otherwise."""
    if reply.get("ok") != 1:
        raise command_error(reply, address)
    return reply


def write_error(
    document: Mapping[str, Any], address: str | None, *, index: int | None = None
) -> errors.WriteError:
    """One ``writeErrors`` entry as a :class:`WriteError` (a :class:`DuplicateKeyError`
    for a duplicate key); ``index`` defaults to the entry's own."""
    code = _code(document)
    cls = errors.DuplicateKeyError if code in DUPLICATE_KEY_CODES else errors.WriteError
    name = document.get("codeName")
    return cls(
        str(document.get("errmsg", "")) or "write failed",
        code=code,
        code_name=name if isinstance(name, str) else None,
        details=document,
        address=address,
        index=int(document.get("index", 0)) if index is None else index,
    )


def write_concern_error(
    document: Mapping[str, Any], address: str | None
) -> errors.WriteConcernError:
    """A ``writeConcernError`` document as a :class:`WriteConcernError`."""
    name = document.get("codeName")
    return errors.WriteConcernError(
        str(document.get("errmsg", "")) or "write concern failed",
        code=_code(document),
        code_name=name if isinstance(name, str) else None,
        details=document,
        error_labels=_labels(document),
        address=address,
    )


def check_write_reply(reply: Mapping[str, Any], address: str | None) -> Mapping[str, Any]:
    """Raise for the first write error, then for a write concern error, of a
    single-write command's ``ok: 1`` reply; return the reply otherwise."""
    write_errors = reply.get("writeErrors")
    if write_errors:
        raise write_error(write_errors[0], address)
    concern = reply.get("writeConcernError")
    if concern:
        labels = reply.get("errorLabels")  # 4.4+: the reply's, not the error's
        raise write_concern_error(
            concern if labels is None else {**concern, "errorLabels": labels}, address
        )
    return reply


def translate(error: BaseException) -> BaseException:
    """The :mod:`mongotor.errors` exception for an exception of the pool or the codec
    (the original becomes its ``__cause__``); any other exception unchanged."""
    translated: BaseException
    if isinstance(error, errors.Error):
        return error
    if isinstance(error, _pool.TooManyConnections):
        translated = errors.TooManyConnections.from_pool(error)
    elif isinstance(error, _pool.NetworkTimeout):
        translated = errors.NetworkTimeout(
            str(error),
            address=error.address,
            timeout_ms=error.timeout_ms,
            error_labels=error.labels,
        )
    elif isinstance(error, _pool.ConnectionFailure):
        # NetworkError, PoolClearedError (labelled retryable), PoolClosedError.
        cls = errors.AutoReconnect if error.retryable else errors.ConnectionFailure
        translated = cls(str(error), address=error.address, error_labels=error.labels)
    elif isinstance(error, _pool.AuthenticationError):
        translated = errors.AuthenticationError(
            error.message,
            mechanism=error.mechanism,
            source=error.source,
            code=error.code,
            code_name=error.code_name,
            address=error.address,
        )
    elif isinstance(error, _pool.CommandError):
        translated = command_error(error.details, error.address)
    elif isinstance(error, _pool.ServerSelectionError):
        translated = errors.ServerSelectionTimeoutError(
            str(error),
            criteria=error.criteria,
            timeout_ms=error.timeout_ms,
            topology=error.topology,
        )
    elif isinstance(error, _pool.InvalidURIError):
        translated = errors.InvalidURI(str(error), component=error.component, option=error.option)
    elif isinstance(error, _pool.ConfigurationError):
        translated = errors.ConfigurationError(str(error), option=error.option, value=error.value)
    elif isinstance(error, _pool.IncompatibleServerError):
        translated = errors.ConfigurationError(str(error))
    elif isinstance(error, _pool.EventLoopMismatchError | _pool.TopologyClosedError):
        translated = errors.InvalidOperationError(str(error) or "the client was closed")
    elif isinstance(error, _wire.EncodingError):
        translated = errors.EncodingError(str(error))
    else:
        return error
    translated.__cause__ = error
    return translated
