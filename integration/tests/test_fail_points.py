"""Injected faults (``configureFailPoint: failCommand``) drive pool clearing,
rediscovery and exactly one retry, as the Server Discovery and Monitoring,
CMAP, Retryable Reads and Retryable Writes specifications say. Each fail point
matches only this test's client (its appName), fires once unless told
otherwise, and is seen through mongotor's command, pool and SDAM events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mongotor.client import CommandFailedEvent, CommandSucceededEvent
from mongotor.database import Database
from mongotor.errors import AutoReconnect, NotPrimaryError, OperationFailure, WriteConcernError
from mongotor.pool import PoolCleared, ServerDescriptionChanged, ServerType

from ._deployment import Deployment
from ._events import Recorder

pytestmark = pytest.mark.asyncio

Connect = Callable[..., Database[dict[str, Any]]]


async def _armed(
    deployment: Deployment, connect: Connect, data: dict[str, Any], times: int = 1
) -> tuple[Database[dict[str, Any]], Recorder, str]:
    """A client that has discovered the set and holds a pooled connection to
    the primary, whose fail point then fires ``times`` times for this client."""
    recorder = Recorder()
    db = connect(event_listeners=[recorder])
    await db.items.insert_one({"_id": 0})
    primary = await deployment.primary()
    appname = connect.appname  # type: ignore[attr-defined]
    await deployment.configure_fail_point(primary, {"times": times}, {"appName": appname, **data})
    recorder.clear()
    return db, recorder, primary


def _position(recorder: Recorder, event: object) -> int:
    return next(i for i, e in enumerate(recorder.events) if e is event)


def _rediscovered(recorder: Recorder, primary: str, before: object) -> None:
    """SDAM: the server was marked Unknown, then found primary again by a
    check, before ``before`` (the retry) was sent."""
    changes = [e for e in recorder.of(ServerDescriptionChanged) if e.address == primary]
    types = [e.new_description.type for e in changes]
    assert ServerType.UNKNOWN in types, types
    unknown = types.index(ServerType.UNKNOWN)
    assert ServerType.RS_PRIMARY in types[unknown:], types
    found = changes[types.index(ServerType.RS_PRIMARY, unknown)]
    assert _position(recorder, found) < _position(recorder, before)


async def _count(deployment: Deployment, host: str, dbname: str, _id: int) -> int:
    return await deployment.direct(host)[dbname]["items"].count_documents({"_id": _id})


async def test_closed_connection_on_a_write_clears_the_pool_and_retries_once(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    db, recorder, primary = await _armed(
        deployment, connect, {"failCommands": ["insert"], "closeConnection": True}
    )
    await db.items.insert_one({"_id": 1})

    first, second = recorder.started("insert")
    assert first.operation_id == second.operation_id
    assert (first.command["lsid"], first.command["txnNumber"]) == (
        second.command["lsid"],
        second.command["txnNumber"],
    )
    failed, succeeded = recorder.outcomes("insert")
    assert isinstance(failed, CommandFailedEvent)
    assert isinstance(failed.failure, AutoReconnect)
    assert isinstance(succeeded, CommandSucceededEvent)
    # CMAP / SDAM: a network error clears the server's pool (a new generation: the
    # retry runs on a new connection) and marks the server Unknown until a check.
    (cleared,) = recorder.pool_cleared(primary)
    assert _position(recorder, failed) < _position(recorder, cleared) < _position(recorder, second)
    assert second.connection_id != first.connection_id
    _rediscovered(recorder, primary, second)
    assert await _count(deployment, primary, dbname, 1) == 1


async def test_closed_connection_on_a_read_clears_the_pool_and_retries_once(
    deployment: Deployment, connect: Connect
) -> None:
    db, recorder, primary = await _armed(
        deployment, connect, {"failCommands": ["find"], "closeConnection": True}
    )
    assert await db.items.find_one({"_id": 0}) == {"_id": 0}

    first, second = recorder.started("find")
    assert first.operation_id == second.operation_id
    assert first.command["lsid"] == second.command["lsid"]
    assert [type(e) for e in recorder.outcomes("find")] == [
        CommandFailedEvent,
        CommandSucceededEvent,
    ]
    assert len(recorder.pool_cleared(primary)) == 1
    _rediscovered(recorder, primary, second)


async def test_a_stale_not_writable_primary_is_retried_without_clearing(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    db, recorder, primary = await _armed(
        deployment, connect, {"failCommands": ["insert"], "errorCode": 10107}
    )
    await db.items.insert_one({"_id": 1})

    first, second = recorder.started("insert")
    assert first.operation_id == second.operation_id
    failed, _ = recorder.outcomes("insert")
    assert isinstance(failed, CommandFailedEvent)
    assert isinstance(failed.failure, NotPrimaryError)
    # MongoDB 4.4+ labels it itself (manual: "Retryable Writes", error labels).
    assert failed.failure.has_error_label("RetryableWriteError")
    # The reply carries the member's current topologyVersion, so SDAM ("Error
    # handling", topologyVersion) finds the error stale: the server keeps its
    # description and, 4.2+, a state change error that is not a shutdown never
    # clears the pool. The retry alone recovers.
    assert ServerType.UNKNOWN not in recorder.server_types(primary)
    assert recorder.pool_cleared(primary) == []
    assert await _count(deployment, primary, dbname, 1) == 1


async def test_shutdown_in_progress_clears_the_pool_and_retries_once(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    db, recorder, primary = await _armed(
        deployment, connect, {"failCommands": ["insert"], "errorCode": 91}
    )
    await db.items.insert_one({"_id": 1})

    _, second = recorder.started("insert")
    (cleared,) = recorder.pool_cleared(primary)
    assert _position(recorder, cleared) < _position(recorder, second)
    _rediscovered(recorder, primary, second)
    assert await _count(deployment, primary, dbname, 1) == 1


async def test_a_retryable_write_error_label_is_retried_once(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    # WriteConflict is not a state change error: the label alone asks for the retry.
    db, recorder, primary = await _armed(
        deployment,
        connect,
        {"failCommands": ["insert"], "errorCode": 112, "errorLabels": ["RetryableWriteError"]},
    )
    await db.items.insert_one({"_id": 1})

    assert len(recorder.started("insert")) == 2
    assert recorder.pool_cleared(primary) == []
    assert ServerType.UNKNOWN not in recorder.server_types(primary)
    assert await _count(deployment, primary, dbname, 1) == 1


async def test_an_unlabelled_error_is_not_retried(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    db, recorder, primary = await _armed(
        deployment, connect, {"failCommands": ["insert"], "errorCode": 112, "errorLabels": []}
    )
    with pytest.raises(OperationFailure) as raised:
        await db.items.insert_one({"_id": 1})
    assert raised.value.code == 112
    assert len(recorder.started("insert")) == 1
    assert await _count(deployment, primary, dbname, 1) == 0


async def test_a_write_is_retried_exactly_once(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    db, recorder, primary = await _armed(
        deployment, connect, {"failCommands": ["insert"], "closeConnection": True}, times=2
    )
    with pytest.raises(AutoReconnect):
        await db.items.insert_one({"_id": 1})
    assert len(recorder.started("insert")) == 2
    assert len(recorder.of(PoolCleared)) == 2
    assert await _count(deployment, primary, dbname, 1) == 0


async def test_a_retryable_write_concern_error_is_retried_and_applied_once(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    db, recorder, primary = await _armed(
        deployment,
        connect,
        {
            "failCommands": ["insert"],
            "writeConcernError": {
                "code": 91,
                "codeName": "ShutdownInProgress",
                "errmsg": "Replication is being shut down",
            },
        },
    )
    await db.items.insert_one({"_id": 1})

    first, second = recorder.started("insert")
    # The first attempt was applied; the server recognises the retry by its
    # lsid and txnNumber and does not apply it again (manual: "Retryable Writes").
    assert first.command["txnNumber"] == second.command["txnNumber"]
    assert await _count(deployment, primary, dbname, 1) == 1
    # SDAM treats a write concern error's code like a command error's: a
    # shutdown code clears the pool.
    assert len(recorder.pool_cleared(primary)) == 1


async def test_a_write_concern_error_without_label_is_raised_typed(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    db, recorder, primary = await _armed(
        deployment,
        connect,
        {
            "failCommands": ["insert"],
            "writeConcernError": {
                "code": 100,
                "codeName": "UnsatisfiableWriteConcern",
                "errmsg": "Not enough data-bearing nodes",
            },
        },
    )
    with pytest.raises(WriteConcernError) as raised:
        await db.items.insert_one({"_id": 1})
    assert raised.value.code == 100
    assert len(recorder.started("insert")) == 1
    # The write itself was applied; only its write concern failed.
    assert await _count(deployment, primary, dbname, 1) == 1
