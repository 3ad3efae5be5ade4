"""The real executor over a scripted topology: sessions, retries, read preference
routing, pinned commands, command events, limits, life cycle."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import bson
import pytest
from bson import Int64

from mongotor import pool as mpool
from mongotor.client import (
    CommandEvent,
    CommandFailedEvent,
    CommandStartedEvent,
    CommandSucceededEvent,
    ImplicitSession,
    OperationKind,
    ReadPreference,
    ReadPreferenceMode,
    Request,
    ServerLimits,
    TopologyExecutor,
)
from mongotor.errors import (
    AutoReconnect,
    InvalidOperationError,
    NotPrimaryError,
    OperationFailure,
    ProgrammingError,
)
from mongotor.pool import ServerType, TopologyState, TopologyType
from mongotor.wire import DocumentSequence

from ._fake_topology import PRIMARY, SECONDARY, FakeTopology, server

READ = Request("app", {"find": "c", "filter": {}}, OperationKind.READ, retryable=True)
WRITE = Request("app", {"insert": "c"}, OperationKind.WRITE, retryable=True)


def _network_error(address: str = PRIMARY) -> mpool.NetworkError:
    return mpool.NetworkError("reset", address=address, established=True)


def _executor(topology: FakeTopology, **kwargs: Any) -> tuple[TopologyExecutor, list[Any]]:
    events: list[CommandEvent] = []
    return TopologyExecutor(topology, listeners=[events.append], **kwargs), events  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_read_carries_an_implicit_session_and_publishes_events() -> None:
    topology = FakeTopology([server(kind=ServerType.STANDALONE)], kind=TopologyType.SINGLE)
    executor, events = _executor(topology)
    reply = await executor.execute(READ)
    assert reply.address == PRIMARY and reply.document == {"ok": 1}
    (_, db, body) = topology.sent[0]
    assert db == "app" and "lsid" in body and "txnNumber" not in body
    assert body["$readPreference"] == {"mode": "primaryPreferred"}  # a direct connection
    started, succeeded = events
    assert isinstance(started, CommandStartedEvent) and started.command_name == "find"
    assert started.command["$db"] == "app" and started.connection_id == 7
    assert isinstance(succeeded, CommandSucceededEvent)
    assert succeeded.request_id == started.request_id and succeeded.duration_ms >= 0
    statistics = executor.statistics()
    assert (statistics.commands, statistics.succeeded, statistics.failed) == (1, 1, 0)
    assert statistics.pooled_sessions == 1 and statistics.topology == "topology statistics"
    await executor.execute(READ)
    assert topology.sent[1][2]["lsid"] == body["lsid"]  # the pooled session again
    assert "TopologyExecutor open commands=2" in repr(executor)


@pytest.mark.asyncio
async def test_read_preference_routing() -> None:
    topology = FakeTopology([server(), server(SECONDARY, ServerType.RS_SECONDARY)])
    executor, _ = _executor(topology)
    secondary = ReadPreference(ReadPreferenceMode.SECONDARY)
    await executor.execute(Request("app", {"count": "c"}, OperationKind.READ, secondary))
    await executor.execute(Request("app", {"count": "c"}, OperationKind.READ))
    await executor.execute(Request("app", {"insert": "c"}, OperationKind.WRITE, secondary))
    assert topology.sent[0][2]["$readPreference"] == {"mode": "secondary"}
    assert "$readPreference" not in topology.sent[1][2]
    assert "$readPreference" not in topology.sent[2][2]
    assert [c[0] for c in topology.checkouts] == [
        mpool.Operation.READ,
        mpool.Operation.READ,
        mpool.Operation.WRITE,
    ]
    mongos = FakeTopology([server(kind=ServerType.MONGOS)], kind=TopologyType.SINGLE)
    executor, _ = _executor(mongos)
    await executor.execute(READ)
    assert "$readPreference" not in mongos.sent[0][2]


@pytest.mark.asyncio
async def test_a_retryable_write_is_retried_once_with_the_same_transaction() -> None:
    topology = FakeTopology([server(), server(SECONDARY)])
    topology.replies.extend([_network_error(), {"ok": 1, "n": 1}])
    executor, events = _executor(topology)
    reply = await executor.execute(WRITE)
    assert reply.address == SECONDARY
    first, second = (body for _, _, body in topology.sent)
    assert first["txnNumber"] == second["txnNumber"] == Int64(1)
    assert first["lsid"] == second["lsid"]
    assert topology.checkouts[1][2] == (PRIMARY,)
    assert executor.statistics().retries == 1
    assert isinstance(events[1], CommandFailedEvent)
    assert isinstance(events[1].failure, AutoReconnect)
    assert events[0].operation_id == events[2].operation_id
    await executor.execute(WRITE)
    assert topology.sent[2][2]["txnNumber"] == Int64(2)
    assert topology.handled and isinstance(topology.handled[0], mpool.NetworkError)


@pytest.mark.asyncio
async def test_writes_to_a_standalone_are_not_retried() -> None:
    topology = FakeTopology([server(kind=ServerType.STANDALONE)], kind=TopologyType.SINGLE)
    topology.replies.append(_network_error())
    executor, _ = _executor(topology)
    with pytest.raises(AutoReconnect) as caught:
        await executor.execute(WRITE)
    assert isinstance(caught.value.__cause__, mpool.NetworkError)
    assert "txnNumber" not in topology.sent[0][2] and len(topology.sent) == 1


@pytest.mark.asyncio
async def test_the_second_error_wins_unless_no_write_was_performed() -> None:
    topology = FakeTopology()
    topology.replies.extend([_network_error(), {"ok": 0, "code": 2, "errmsg": "bad"}])
    executor, _ = _executor(topology)
    with pytest.raises(ProgrammingError):
        await executor.execute(WRITE)
    topology.replies.extend(
        [
            _network_error(),
            {"ok": 0, "code": 91, "errmsg": "down", "errorLabels": ["NoWritesPerformed"]},
        ]
    )
    with pytest.raises(AutoReconnect) as caught:
        await executor.execute(WRITE)
    assert caught.value.has_error_label("RetryableWriteError")
    topology.replies.append(_network_error())
    topology.selections.extend(
        [
            topology.servers[0],
            mpool.ServerSelectionError("none", criteria="write", topology=None, timeout_ms=1),  # type: ignore[arg-type]
        ]
    )
    with pytest.raises(AutoReconnect):
        await executor.execute(WRITE)


@pytest.mark.parametrize(
    ("wire", "reply", "retried"),
    [
        (8, {"ok": 0, "code": 91, "errmsg": "shutdown"}, True),
        (8, {"ok": 0, "code": 2, "errmsg": "bad"}, False),
        (25, {"ok": 0, "code": 91, "errmsg": "shutdown"}, False),
        (25, {"ok": 0, "code": 91, "errmsg": "x", "errorLabels": ["RetryableWriteError"]}, True),
        (8, {"ok": 0, "code": 10107, "errmsg": "not primary"}, True),
    ],
)
@pytest.mark.asyncio
async def test_which_write_errors_are_retried(
    wire: int, reply: dict[str, Any], retried: bool
) -> None:
    topology = FakeTopology([server(wire=wire)])
    topology.replies.extend([reply, {"ok": 1}])
    executor, _ = _executor(topology)
    if retried:
        await executor.execute(WRITE)
    else:
        with pytest.raises((OperationFailure, NotPrimaryError)):
            await executor.execute(WRITE)
    assert len(topology.sent) == (2 if retried else 1)


@pytest.mark.asyncio
async def test_which_read_errors_are_retried() -> None:
    topology = FakeTopology()
    topology.replies.extend(
        [
            {"ok": 0, "code": 134, "errmsg": "majority not available"},
            {"ok": 1},
            {"ok": 0, "code": 2, "errmsg": "bad"},
            {"ok": 0, "code": 10107, "errmsg": "not primary"},
            mpool.NetworkTimeout("late", address=PRIMARY, timeout_ms=1),
        ]
    )
    executor, _ = _executor(topology)
    await executor.execute(READ)
    with pytest.raises(ProgrammingError):
        await executor.execute(READ)
    with pytest.raises(AutoReconnect):  # retried, then the timeout
        await executor.execute(READ)
    assert len(topology.sent) == 5
    assert executor.statistics().retries == 2


@pytest.mark.asyncio
async def test_retries_can_be_disabled_and_commands_are_never_retried() -> None:
    topology = FakeTopology()
    executor, _ = _executor(topology, retry_reads=False, retry_writes=False)
    topology.replies.extend([_network_error(), _network_error()])
    with pytest.raises(AutoReconnect):
        await executor.execute(READ)
    with pytest.raises(AutoReconnect):
        await executor.execute(WRITE)
    executor, _ = _executor(topology)
    topology.replies.append(_network_error())
    with pytest.raises(AutoReconnect):
        await executor.execute(Request("app", {"ping": 1}, retryable=True))
    assert len(topology.sent) == 3


@pytest.mark.asyncio
async def test_errors_before_a_server_was_chosen() -> None:
    topology = FakeTopology()
    topology.selections.append(mpool.PoolClearedError.paused(PRIMARY, "reset"))
    executor, _ = _executor(topology)
    await executor.execute(WRITE)  # a cleared pool is retryable
    assert topology.checkouts[1][2] == ()
    assert "txnNumber" in topology.sent[0][2]
    topology.selections.append(
        mpool.ServerSelectionError("none", criteria="read", topology=None, timeout_ms=1)  # type: ignore[arg-type]
    )
    with pytest.raises(AutoReconnect):
        await executor.execute(READ)
    topology.selections.append(ValueError("unexpected"))
    with pytest.raises(ValueError, match="unexpected"):
        await executor.execute(READ)


@pytest.mark.asyncio
async def test_a_not_primary_write_error_gets_no_driver_label() -> None:
    topology = FakeTopology()
    topology.replies.extend(
        [
            {"ok": 0, "code": 10107, "errmsg": "np", "errorLabels": ["RetryableWriteError"]},
            {"ok": 0, "code": 10107, "errmsg": "np", "errorLabels": ["RetryableWriteError"]},
        ]
    )
    executor, _ = _executor(topology)
    with pytest.raises(NotPrimaryError) as caught:
        await executor.execute(WRITE)
    assert caught.value.error_labels == {"RetryableWriteError"}


@pytest.mark.asyncio
async def test_a_cancelled_command_discards_its_session_and_reports_a_failure() -> None:
    topology = FakeTopology()
    started = asyncio.Event()

    async def never() -> Any:
        started.set()
        await asyncio.get_running_loop().create_future()

    topology.replies.append(never)
    executor, events = _executor(topology)
    session = ImplicitSession()
    task = asyncio.create_task(
        executor.execute(Request("app", {"find": "c"}, OperationKind.READ, session=session))
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.server_session is None
    assert isinstance(events[-1], CommandFailedEvent)
    assert isinstance(events[-1].failure, asyncio.CancelledError)
    assert executor.statistics().pooled_sessions == 0
    started.clear()
    topology.replies.append(never)
    unacknowledged = Request("app", {"insert": "c"}, OperationKind.WRITE, acknowledged=False)
    task = asyncio.create_task(executor.execute(unacknowledged))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.asyncio
async def test_an_unacknowledged_write_reads_nothing() -> None:
    topology = FakeTopology()
    executor, events = _executor(topology)
    reply = await executor.execute(
        Request(
            "app",
            {"insert": "c", "writeConcern": {"w": 0}},
            OperationKind.WRITE,
            acknowledged=False,
            retryable=True,
        )
    )
    assert reply.document == {}
    assert "lsid" not in topology.sent[0][2] and "txnNumber" not in topology.sent[0][2]
    assert isinstance(events[1], CommandSucceededEvent) and events[1].reply == {"ok": 1}


@pytest.mark.asyncio
async def test_pinned_commands() -> None:
    topology = FakeTopology([server(), server(SECONDARY, ServerType.RS_SECONDARY)])
    executor, _ = _executor(topology)
    session = ImplicitSession()
    topology.replies.append({"ok": 1, "cursor": {"id": 0, "firstBatch": []}})
    await executor.execute(Request("app", {"find": "c"}, OperationKind.READ, session=session))
    get_more = Request(
        "app",
        {"getMore": Int64(5), "collection": "c"},
        OperationKind.READ,
        address=SECONDARY,
        session=session,
    )
    reply = await executor.execute(get_more)
    assert reply.address == SECONDARY
    assert topology.sent[1][0] == SECONDARY
    assert topology.sent[1][2]["lsid"] == topology.sent[0][2]["lsid"]
    unbound = Request("app", {"killCursors": "c"}, address=PRIMARY, session=ImplicitSession())
    await executor.execute(unbound)
    assert "lsid" not in topology.sent[2][2]
    topology.replies.append({"ok": 0, "code": 43, "errmsg": "gone"})
    with pytest.raises(OperationFailure):
        await executor.execute(get_more)
    assert isinstance(topology.handled[-1], mpool.CommandError)
    with pytest.raises(AutoReconnect, match="no longer part"):
        await executor.execute(Request("app", {"getMore": 1}, address="gone:1"))
    started = asyncio.Event()

    async def never() -> Any:
        started.set()
        await asyncio.get_running_loop().create_future()

    topology.replies.append(never)
    task = asyncio.create_task(executor.execute(get_more))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.asyncio
async def test_a_server_without_sessions_gets_no_lsid() -> None:
    topology = FakeTopology([server(sessions=None)])
    executor, _ = _executor(topology)
    await executor.execute(WRITE)
    assert "lsid" not in topology.sent[0][2] and "txnNumber" not in topology.sent[0][2]


@pytest.mark.asyncio
async def test_limits_follow_the_handshake() -> None:
    topology = FakeTopology()
    topology.handshake = type(
        "Handshake",
        (),
        {
            "max_bson_object_size": 100,
            "max_message_size": 1000,
            "max_write_batch_size": 3,
            "server_connection_id": 99,
        },
    )()
    executor, events = _executor(topology)
    assert executor.limits == ServerLimits()
    await executor.execute(READ)
    assert executor.limits == ServerLimits(100, 1000, 3)
    await executor.execute(READ)
    assert executor.limits == ServerLimits(100, 1000, 3)
    assert events[0].server_connection_id == 99


@pytest.mark.asyncio
async def test_events_redact_secrets_and_show_document_sequences(
    caplog: pytest.LogCaptureFixture,
) -> None:
    topology = FakeTopology()
    topology.replies.extend([{"ok": 1, "payload": b"secret"}, {"ok": 1}])

    def broken(event: CommandEvent) -> None:
        raise RuntimeError("listener bug")

    events: list[CommandEvent] = []
    executor = TopologyExecutor(topology, listeners=[events.append, broken])
    with caplog.at_level(logging.ERROR):
        await executor.execute(Request("admin", {"saslStart": 1, "payload": b"secret"}))
    assert events[0].command == {} and events[1].reply == {}  # type: ignore[union-attr]
    assert "a command listener raised" in caplog.text
    documents = [bson.encode({"a": 1}), {"b": 2}]
    await executor.execute(
        Request(
            "app",
            {"insert": "c"},
            OperationKind.WRITE,
            sequences=(DocumentSequence("documents", documents),),
        )
    )
    assert events[2].command["documents"] == [{"a": 1}, {"b": 2}]  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_logging_without_listeners(caplog: pytest.LogCaptureFixture) -> None:
    topology = FakeTopology()
    topology.replies.extend([{"ok": 1}, {"ok": 0, "code": 2, "errmsg": "bad"}])
    executor = TopologyExecutor(topology)
    assert not executor.monitor.enabled
    with caplog.at_level(logging.DEBUG, logger="mongotor.client.command"):
        await executor.execute(Request("app", {"ping": 1}))
        with pytest.raises(ProgrammingError):
            await executor.execute(Request("app", {"ping": 1}))
    assert "command ping started" in caplog.text
    assert "command ping succeeded" in caplog.text
    assert "command ping failed" in caplog.text and "ProgrammingError" in caplog.text
    caplog.clear()
    await executor.execute(Request("app", {"ping": 1}))
    assert caplog.text == ""


@pytest.mark.asyncio
async def test_close_ends_the_sessions() -> None:
    topology = FakeTopology()
    executor, _ = _executor(topology)
    await executor.execute(READ)
    await executor.close()
    assert topology.closed
    (_, db, body) = topology.sent[-1]
    assert db == "admin" and len(body["endSessions"]) == 1
    await executor.close()  # idempotent
    with pytest.raises(InvalidOperationError, match="closed"):
        await executor.execute(READ)
    assert "TopologyExecutor closed" in repr(executor)


@pytest.mark.asyncio
async def test_close_before_use_or_with_a_failing_server(caplog: pytest.LogCaptureFixture) -> None:
    topology = FakeTopology()
    topology.state = TopologyState.INITIAL
    executor, _ = _executor(topology)
    await executor.close()
    assert topology.sent == [] and topology.closed
    failing = FakeTopology()
    executor, _ = _executor(failing)
    await executor.execute(READ)
    failing.replies.append(_network_error())
    with caplog.at_level(logging.DEBUG, logger="mongotor.client._topology_executor"):
        await executor.close()
    assert "endSessions failed" in caplog.text and failing.closed


def test_an_executor_is_bound_to_one_event_loop() -> None:
    topology = FakeTopology()
    executor, _ = _executor(topology)
    first = asyncio.new_event_loop()
    second = asyncio.new_event_loop()
    try:
        first.run_until_complete(executor.execute(READ))
        with pytest.raises(InvalidOperationError, match="another event loop"):
            second.run_until_complete(executor.execute(READ))
    finally:
        first.close()
        second.close()


def _concern_failed(code: int, *labels: str) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "ok": 1,
        "n": 1,
        "writeConcernError": {"code": code, "codeName": "X", "errmsg": "wce"},
    }
    if labels:
        reply["errorLabels"] = list(labels)  # 4.4+: at the top level of the reply
    return reply


@pytest.mark.asyncio
async def test_a_retryable_write_concern_error_is_retried_and_seen_by_sdam() -> None:
    # Retryable writes spec: a writeConcernError labelled RetryableWriteError is
    # retried like an error; SDAM applies its code like a command error's.
    topology = FakeTopology([server(), server(SECONDARY)])
    topology.replies.extend([_concern_failed(91, "RetryableWriteError"), {"ok": 1, "n": 1}])
    executor, _ = _executor(topology)
    reply = await executor.execute(WRITE)
    assert reply.document == {"ok": 1, "n": 1}
    first, second = (body for _, _, body in topology.sent)
    assert first["txnNumber"] == second["txnNumber"]
    (handled,) = topology.handled
    assert isinstance(handled, mpool.CommandError)
    assert (handled.code, handled.labels) == (91, frozenset({"RetryableWriteError"}))
    assert executor.statistics().retries == 1


@pytest.mark.asyncio
async def test_a_write_concern_error_after_the_retry_is_returned_for_the_crud_layer() -> None:
    topology = FakeTopology([server(), server(SECONDARY)])
    again = _concern_failed(91, "RetryableWriteError")
    topology.replies.extend([_concern_failed(91, "RetryableWriteError"), again])
    executor, _ = _executor(topology)
    reply = await executor.execute(WRITE)
    assert reply.document == again  # check_write_reply raises WriteConcernError from it
    assert len(topology.handled) == 2 and executor.statistics().retries == 1
    topology.replies.extend([_concern_failed(91, "RetryableWriteError"), {"ok": 0, "code": 2}])
    with pytest.raises(ProgrammingError):  # the retry's own error wins
        await executor.execute(WRITE)


@pytest.mark.asyncio
async def test_a_write_concern_error_without_the_label_is_not_retried() -> None:
    topology = FakeTopology([server(), server(SECONDARY)])
    unlabelled = _concern_failed(100)
    topology.replies.append(unlabelled)
    executor, _ = _executor(topology)
    assert (await executor.execute(WRITE)).document == unlabelled
    assert len(topology.sent) == 1 and executor.statistics().retries == 0
    (handled,) = topology.handled  # SDAM still sees it (100 changes nothing there)
    assert isinstance(handled, mpool.CommandError) and handled.code == 100
