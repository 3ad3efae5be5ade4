"""mongotor.errors: the hierarchy, fields, fault and retry flags, the code table,
and the translation of replies and of the pool's and codec's errors."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from mongotor import errors, wire
from mongotor import pool as mpool
from mongotor.client._errors_from import (
    check_reply,
    check_write_reply,
    command_error,
    translate,
    write_concern_error,
    write_error,
)
from mongotor.errors import ErrorCode

ADDRESS = "db:27017"


def test_the_2012_names_and_pymongo_names_live_in_one_hierarchy() -> None:
    assert errors.PyMongoError is errors.Error
    assert errors.InvalidOperation is errors.InvalidOperationError
    assert issubclass(errors.InvalidOperationError, errors.InterfaceError)
    assert issubclass(errors.DuplicateKeyError, errors.IntegrityError)
    assert issubclass(errors.DuplicateKeyError, errors.WriteError)
    assert issubclass(errors.IntegrityError, errors.DatabaseError)
    assert issubclass(errors.OperationFailure, errors.DatabaseError)
    assert issubclass(errors.ProgrammingError, errors.OperationFailure)
    assert issubclass(errors.ExecutionTimeout, errors.TimeoutError)
    assert issubclass(errors.NetworkTimeout, errors.AutoReconnect)
    assert issubclass(errors.NetworkTimeout, errors.TimeoutError)
    assert issubclass(errors.ServerSelectionTimeoutError, errors.AutoReconnect)
    assert issubclass(errors.NotPrimaryError, errors.AutoReconnect)
    assert issubclass(errors.TooManyConnections, errors.ConnectionFailure)
    assert issubclass(errors.TooManyConnections, mpool.TooManyConnections)
    assert issubclass(errors.DocumentTooLarge, errors.EncodingError)
    assert issubclass(errors.InvalidURI, errors.ConfigurationError)
    assert errors.TimeoutError is not builtins.TimeoutError
    assert errors.OperationFailure.__module__ == "mongotor.errors"


def test_error_labels_and_message() -> None:
    error = errors.Error("boom", error_labels=["A"])
    assert error.message == "boom"
    assert error.has_error_label("A")
    error.add_error_label("B")
    assert error.error_labels == {"A", "B"}
    assert error.remote and not error.retryable
    assert not errors.InterfaceError("x").remote


def test_operation_failure_fields_and_flags() -> None:
    details = {"ok": 0, "errmsg": "bad", "code": 2, "codeName": "BadValue"}
    error = errors.OperationFailure("bad", code=2, code_name="BadValue", details=details)
    assert error.code is ErrorCode.BadValue
    assert str(error) == "bad (code 2 BadValue)"
    assert error.errmsg == "bad"
    assert error.details is details
    assert not error.remote  # the request was wrong
    assert not error.retryable
    unnamed = errors.OperationFailure("odd", code=123456)
    assert unnamed.code == 123456 and str(unnamed) == "odd (code 123456)"
    assert errors.OperationFailure("plain").code is None
    assert str(errors.OperationFailure("plain")) == "plain"
    assert errors.OperationFailure("plain").remote
    assert errors.OperationFailure("x", code=91).retryable  # ShutdownInProgress
    assert errors.OperationFailure("x", error_labels=["RetryableWriteError"]).retryable
    assert errors.OperationFailure("x", error_labels=["RetryableError"]).retryable


def test_specific_classes() -> None:
    timeout = errors.ExecutionTimeout("slow", code=50)
    assert timeout.retryable
    auth = errors.AuthenticationError("no", mechanism="SCRAM-SHA-256", source="admin", code=18)
    assert (auth.mechanism, auth.source) == ("SCRAM-SHA-256", "admin")
    assert not auth.remote and not auth.retryable
    dup = errors.DuplicateKeyError(
        "E11000", code=11000, details={"keyPattern": {"a": 1}, "keyValue": {"a": 5}}, index=3
    )
    assert dup.code == 11000 and dup.index == 3
    assert dup.key_pattern == {"a": 1} and dup.key_value == {"a": 5}
    assert not dup.remote
    bare = errors.DuplicateKeyError("E11000", code=11000)
    assert bare.key_pattern is None and bare.key_value is None
    integrity = errors.IntegrityError("dup", 11000)
    assert integrity.code == 11000 and not integrity.remote
    assert errors.IntegrityError("dup").code is None
    name = errors.InvalidName("bad", name="a$b")
    assert name.name == "a$b" and isinstance(name, ValueError)
    config = errors.ConfigurationError("bad w", option="w", value="x")
    assert (config.option, config.value) == ("w", "x")
    uri = errors.InvalidURI("bad", component="host")
    assert uri.component == "host"
    large = errors.DocumentTooLarge("big", size=10, max_size=5)
    assert (large.size, large.max_size) == (10, 5)
    network = errors.NetworkTimeout("late", address=ADDRESS, timeout_ms=5.0)
    assert network.timeout_ms == 5.0 and network.address == ADDRESS and network.retryable
    not_primary = errors.NotPrimaryError("np", code=10107)
    assert not_primary.code == 10107 and not_primary.details == {}
    selection = errors.ServerSelectionTimeoutError("none", criteria="write", timeout_ms=30.0)
    assert selection.criteria == "write" and selection.topology is None


def test_too_many_connections_is_both_classes() -> None:
    pool_error = mpool.TooManyConnections(
        address=ADDRESS, max_pool_size=2, in_use=2, pending=0, waiting=3, timeout_ms=100
    )
    error = errors.TooManyConnections.from_pool(pool_error)
    assert isinstance(error, mpool.TooManyConnections)
    assert isinstance(error, errors.Error)
    assert (error.max_pool_size, error.in_use, error.waiting, error.timeout) == (2, 2, 3, 0.1)
    assert not error.remote and error.retryable
    assert error.error_labels == frozenset()
    assert str(error) == str(pool_error)


def test_bulk_write_error_details() -> None:
    details: dict[str, Any] = {
        "writeErrors": [{"index": 1, "code": 11000, "errmsg": "dup"}],
        "writeConcernErrors": [{"code": 64, "errmsg": "wc"}],
        "nInserted": 1,
    }
    error = errors.BulkWriteError(details)
    assert error.code == 11000
    assert error.write_errors == details["writeErrors"]
    assert error.write_concern_errors == details["writeConcernErrors"]
    assert "1 write error(s), 1 write concern error(s); first: dup" in str(error)
    concern_only = errors.BulkWriteError({"writeConcernErrors": [{"code": 64, "errmsg": "wc"}]})
    assert concern_only.code == 64
    nothing = errors.BulkWriteError({})
    assert nothing.code is None and nothing.write_errors == []


def test_error_code_table() -> None:
    assert errors.error_code(11000) is ErrorCode.DuplicateKey
    assert errors.error_code(987654) == 987654
    assert ErrorCode(43).name == "CursorNotFound"
    assert ErrorCode.ReadConcernMajorityNotAvailableYet in errors.RETRYABLE_READ_CODES
    assert ErrorCode.ReadConcernMajorityNotAvailableYet not in errors.RETRYABLE_WRITE_CODES
    assert ErrorCode.NotWritablePrimary in errors.NOT_PRIMARY_CODES
    assert 11001 in errors.DUPLICATE_KEY_CODES
    assert len({member.value for member in ErrorCode}) == len(ErrorCode)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (11000, errors.DuplicateKeyError),
        (43, errors.CursorNotFound),
        (50, errors.ExecutionTimeout),
        (2, errors.ProgrammingError),
        (8, errors.OperationFailure),
        (None, errors.OperationFailure),
        (10107, errors.NotPrimaryError),
    ],
)
def test_command_error_picks_the_class_by_code(code: int | None, cls: type) -> None:
    reply: dict[str, Any] = {"ok": 0, "errmsg": "failed", "errorLabels": ["L", 5]}
    if code is not None:
        reply["code"] = code
        reply["codeName"] = "Name"
    error = command_error(reply, ADDRESS)
    assert type(error) is cls
    assert error.error_labels == {"L"}
    assert error.address == ADDRESS  # type: ignore[attr-defined]


def test_command_error_without_message_or_valid_fields() -> None:
    error = command_error({"ok": 0, "code": True, "codeName": 5, "errorLabels": "x"}, None)
    assert isinstance(error, errors.OperationFailure)
    assert error.code is None and error.code_name is None and error.error_labels == frozenset()
    assert str(error) == "command failed"


def test_check_reply() -> None:
    assert check_reply({"ok": 1}, ADDRESS) == {"ok": 1}
    with pytest.raises(errors.OperationFailure):
        check_reply({"ok": 0, "errmsg": "x"}, ADDRESS)


def test_write_errors() -> None:
    dup = write_error(
        {"index": 2, "code": 11000, "errmsg": "dup", "codeName": "DuplicateKey"}, None
    )
    assert isinstance(dup, errors.DuplicateKeyError) and dup.index == 2
    assert dup.code_name == "DuplicateKey"
    other = write_error({"code": 121, "codeName": 1}, ADDRESS, index=7)
    assert type(other) is errors.WriteError and other.index == 7 and other.code_name is None
    assert str(other).startswith("write failed")
    concern = write_concern_error({"code": 64, "codeName": "WriteConcernFailed"}, ADDRESS)
    assert concern.code == 64 and str(concern).startswith("write concern failed")
    nameless = write_concern_error({"code": 64, "codeName": 1, "errmsg": "wc"}, ADDRESS)
    assert nameless.code_name is None


def test_check_write_reply() -> None:
    assert check_write_reply({"ok": 1, "n": 1}, ADDRESS) == {"ok": 1, "n": 1}
    with pytest.raises(errors.DuplicateKeyError):
        check_write_reply({"ok": 1, "writeErrors": [{"index": 0, "code": 11000}]}, ADDRESS)
    with pytest.raises(errors.WriteConcernError):
        check_write_reply({"ok": 1, "writeConcernError": {"code": 64}}, ADDRESS)


def _pool_errors() -> list[tuple[BaseException, type]]:
    return [
        (
            mpool.TooManyConnections(
                address=ADDRESS, max_pool_size=1, in_use=1, pending=0, waiting=1, timeout_ms=1
            ),
            errors.TooManyConnections,
        ),
        (mpool.NetworkTimeout("late", address=ADDRESS, timeout_ms=5), errors.NetworkTimeout),
        (mpool.NetworkError("reset", address=ADDRESS), errors.AutoReconnect),
        (mpool.PoolClearedError.paused(ADDRESS, "x"), errors.AutoReconnect),
        (mpool.PoolClosedError(ADDRESS), errors.ConnectionFailure),
        (
            mpool.AuthenticationError(
                "no", address=ADDRESS, mechanism="SCRAM-SHA-1", source="admin", code=18
            ),
            errors.AuthenticationError,
        ),
        (
            mpool.CommandError.from_reply({"ok": 0, "code": 43, "errmsg": "gone"}, address=ADDRESS),
            errors.CursorNotFound,
        ),
        (
            mpool.ServerSelectionError(
                "none",
                criteria="write",
                topology=None,
                timeout_ms=1,  # type: ignore[arg-type]
            ),
            errors.ServerSelectionTimeoutError,
        ),
        (mpool.InvalidURIError("bad", component="host"), errors.InvalidURI),
        (mpool.ConfigurationError("bad", option="w"), errors.ConfigurationError),
        (
            mpool.IncompatibleServerError(
                "old", address=ADDRESS, min_wire_version=0, max_wire_version=2
            ),
            errors.ConfigurationError,
        ),
        (mpool.EventLoopMismatchError("<x>"), errors.InvalidOperationError),
        (mpool.TopologyClosedError(), errors.InvalidOperationError),
        (wire.EncodingError("cannot"), errors.EncodingError),
    ]


@pytest.mark.parametrize(("raw", "cls"), _pool_errors())
def test_translate_the_layers_below(raw: BaseException, cls: type) -> None:
    translated = translate(raw)
    assert type(translated) is cls
    assert translated.__cause__ is raw
    assert str(translated)


def test_translate_keeps_other_exceptions() -> None:
    value_error = ValueError("x")
    assert translate(value_error) is value_error
    ours = errors.AutoReconnect("x")
    assert translate(ours) is ours
    closed = translate(mpool.TopologyClosedError())
    assert str(closed) == "the client was closed"
    cleared = translate(mpool.PoolClearedError.paused(ADDRESS, "x"))
    assert isinstance(cleared, errors.Error) and cleared.has_error_label("RetryableError")


def test_a_write_concern_error_takes_the_reply_s_labels() -> None:
    # 4.4+ servers label the reply, not the writeConcernError (retryable writes spec).
    concern = {"code": 91, "errmsg": "shutting down", "errorLabels": ["Old"]}
    with pytest.raises(errors.WriteConcernError) as top:
        check_write_reply(
            {"ok": 1, "writeConcernError": concern, "errorLabels": ["RetryableWriteError"]},
            ADDRESS,
        )
    assert top.value.error_labels == {"RetryableWriteError"}
    with pytest.raises(errors.WriteConcernError) as inner:
        check_write_reply({"ok": 1, "writeConcernError": concern}, ADDRESS)
    assert inner.value.error_labels == {"Old"}
