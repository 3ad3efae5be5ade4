"""The errors of using a server: fields, messages, and what SDAM makes of them."""

from __future__ import annotations

from bson import ObjectId

from mongotor.pool import (
    BACKPRESSURE_LABELS,
    AuthenticationError,
    CommandError,
    ErrorKind,
    NetworkError,
    NetworkTimeout,
    PoolClearedError,
    PoolClosedError,
    TooManyConnections,
    TopologyVersion,
    as_application_error,
)


def test_network_errors_classify_for_sdam() -> None:
    error = NetworkError(
        "reset",
        address="a:1",
        connection_id=4,
        established=True,
        generation=3,
        max_wire_version=21,
        labels=BACKPRESSURE_LABELS,
    )
    assert error.retryable
    assert error.remote
    assert error.has_label("SystemOverloadedError")
    application = as_application_error(error)
    assert application is not None
    assert application.kind is ErrorKind.NETWORK
    assert (application.generation, application.completed_handshake) == (3, True)
    assert application.max_wire_version == 21
    assert application.labels == BACKPRESSURE_LABELS
    timeout = NetworkTimeout("slow", address="a:1", timeout_ms=5)
    timeout_error = as_application_error(timeout)
    assert timeout_error is not None
    assert timeout_error.kind is ErrorKind.TIMEOUT
    assert timeout.timeout_ms == 5


def test_command_errors_classify_for_sdam() -> None:
    process = ObjectId()
    reply = {
        "ok": 0,
        "errmsg": "shutting down",
        "code": 91,
        "codeName": "ShutdownInProgress",
        "errorLabels": ["RetryableError"],
        "topologyVersion": {"processId": process, "counter": 4},
    }
    error = CommandError.from_reply(reply, address="a:1", established=False, generation=2)
    assert error.retryable
    assert error.has_label("RetryableError")
    assert str(error) == "shutting down (code 91 ShutdownInProgress) on a:1"
    application = as_application_error(error)
    assert application is not None
    assert application.kind is ErrorKind.COMMAND
    assert (application.code, application.message) == (91, "shutting down")
    assert application.topology_version == TopologyVersion(process, 4)
    assert application.completed_handshake is False
    bare = CommandError.from_reply({"ok": 0, "code": True, "codeName": 5}, address="a:1")
    assert (bare.code, bare.code_name, bare.labels, str(bare)) == (
        None,
        None,
        frozenset(),
        "command failed on a:1",
    )
    assert not bare.retryable
    assert CommandError("x", address="a:1", code=2).details == {}
    assert str(CommandError("x", address="a:1", code=2)) == "x (code 2) on a:1"


def test_authentication_errors() -> None:
    error = AuthenticationError(
        "Authentication failed.",
        address="a:1",
        mechanism="SCRAM-SHA-256",
        source="admin",
        code=18,
        code_name="AuthenticationFailed",
    )
    assert not error.retryable
    assert not error.remote
    assert not error.established
    assert str(error) == (
        "SCRAM-SHA-256 authentication on 'admin': Authentication failed. "
        "(code 18 AuthenticationFailed) on a:1"
    )
    application = as_application_error(error)
    assert application is not None
    assert application.kind is ErrorKind.COMMAND
    assert not application.completed_handshake


def test_pool_errors_say_nothing_to_sdam() -> None:
    for error in (
        PoolClosedError("a:1"),
        PoolClearedError.paused("a:1", None),
        TooManyConnections(
            address="a:1", max_pool_size=0, in_use=3, pending=1, waiting=2, timeout_ms=1.5
        ),
        ValueError("not ours"),
    ):
        assert as_application_error(error) is None
    assert str(PoolClearedError.paused("a:1", None)) == "Connection pool for a:1 was cleared"
    limitless = TooManyConnections(
        address="a:1", max_pool_size=0, in_use=3, pending=1, waiting=2, timeout_ms=1.5
    )
    assert "maxPoolSize unlimited" in str(limitless)
    assert "after 1.5 ms" in str(limitless)
