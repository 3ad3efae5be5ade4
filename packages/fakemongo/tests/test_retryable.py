"""Sessions, retryable writes and error labels, as a MongoDB 8.0 replica set
member and a standalone answer them.

Manual: "Retryable Writes" (the same lsid and txnNumber run once); the
retryable writes specification ("Determining Retryable Errors", the
RetryableWriteError label added by servers 4.4+); the server's
initializeOperationSessionInfo / validateSessionOptions for the errors.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bson import SON, Binary, Int64
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.errors import NotPrimaryError, OperationFailure

from fakemongo import FakeMongo, FakeMongoThread
from fakemongo._dispatch import Context, run_command
from fakemongo._errors import CommandError
from fakemongo._member import MemberOptions
from fakemongo._replset import FakeMongoReplicaSet
from fakemongo._retryable import (
    RetryableWrites,
    SessionKey,
    SessionOptions,
    WriteRecord,
    error_labels,
    executed_statements,
    session_options,
)
from fakemongo._storage import Storage

Client = MongoClient[dict[str, Any]]


@pytest.fixture(scope="module")
def member() -> Iterator[FakeMongoThread]:
    with FakeMongoThread(replica_set_name="rs0") as running:
        yield running


@pytest.fixture(scope="module")
def client(member: FakeMongoThread) -> Iterator[Client]:
    # A state-change error marks the server unknown until the next (streamed)
    # heartbeat: a short one keeps those tests quick.
    with MongoClient(
        member.uri, directConnection=True, retryWrites=False, heartbeatFrequencyMS=500
    ) as connected:
        yield connected


# PyMongo pools server sessions, so a later test may get an earlier one's
# lsid: every test's transaction numbers are above all earlier ones.
_bases = itertools.count(1000, 1000)
_base = [0]


@pytest.fixture
def session(client: Client) -> Iterator[ClientSession]:
    _base[0] = next(_bases)
    with client.start_session() as started:
        yield started
    client.admin.command("configureFailPoint", "failCommand", mode="off")
    client.drop_database("rw")


def _txn(n: int) -> Int64:
    return Int64(_base[0] + n)


def _command(client: Client, session: ClientSession, **fields: Any) -> dict[str, Any]:
    if isinstance(fields.get("txnNumber"), int) and not isinstance(fields["txnNumber"], Int64):
        fields["txnNumber"] = _txn(fields["txnNumber"])
    return client.rw.command(SON(fields), session=session)


def _insert(client: Client, session: ClientSession, txn: int, *docs: Any, **more: Any) -> Any:
    return _command(client, session, insert="c", documents=list(docs), txnNumber=txn, **more)


def _error(client: Client, session: ClientSession, **fields: Any) -> dict[str, Any]:
    with pytest.raises((OperationFailure, NotPrimaryError)) as info:
        _command(client, session, **fields)
    assert info.value.details is not None
    return dict(info.value.details)


# ---------------------------------------------------------------- a member runs a write once


def test_the_same_write_sent_twice_runs_once(client: Client, session: ClientSession) -> None:
    assert _insert(client, session, 1, {"_id": 1}, {"_id": 2}) == {"n": 2, "ok": 1.0}
    # write_ops.idl: a retry answers the recorded result and names the
    # statements it did not run again.
    again = _insert(client, session, 1, {"_id": 1}, {"_id": 2})
    assert again == {"n": 2, "ok": 1.0, "retriedStmtIds": [0, 1]}
    assert client.rw.c.count_documents({}) == 2
    assert _insert(client, session, 2, {"_id": 3}) == {"n": 1, "ok": 1.0}
    assert client.rw.c.count_documents({}) == 3


def test_each_session_has_its_own_numbers(client: Client, session: ClientSession) -> None:
    _insert(client, session, 1, {"_id": 1})
    with client.start_session() as other:
        assert _insert(client, other, 1, {"_id": 2}) == {"n": 1, "ok": 1.0}
    assert client.rw.c.count_documents({}) == 2


def test_an_older_number_is_too_old(client: Client, session: ClientSession) -> None:
    _insert(client, session, 5, {"_id": 1})
    details = _error(client, session, insert="c", documents=[{"_id": 2}], txnNumber=4)
    assert (details["code"], details["codeName"]) == (225, "TransactionTooOld")
    assert details["errmsg"] == (
        f"Retryable write with txnNumber {_base[0] + 4} is prohibited on session "
        f"{session.session_id['id'].as_uuid()} because a newer retryable write with "
        f"txnNumber {_base[0] + 5} has already started on this session."
    )


def test_update_and_delete_run_once(client: Client, session: ClientSession) -> None:
    client.rw.c.insert_one({"_id": 1, "n": 0})
    update = {"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}
    for _ in range(2):
        reply = _command(client, session, update="c", updates=[update], txnNumber=1)
        assert (reply["n"], reply["nModified"]) == (1, 1)
    assert client.rw.c.find_one() == {"_id": 1, "n": 1}
    delete = {"q": {}, "limit": 1}
    for _ in range(2):
        reply = _command(client, session, delete="c", deletes=[delete], txnNumber=2)
        assert reply["n"] == 1
    assert reply["retriedStmtIds"] == [0]


def test_find_and_modify_runs_once(client: Client, session: ClientSession) -> None:
    client.rw.c.insert_one({"_id": 1, "n": 0})
    fields = {
        "findAndModify": "c",
        "query": {"_id": 1},
        "update": {"$inc": {"n": 1}},
        "new": True,
        "txnNumber": 1,
    }
    first = _command(client, session, **fields)
    second = _command(client, session, **fields)
    assert first["value"] == second["value"] == {"_id": 1, "n": 1}
    assert "retriedStmtId" not in first
    assert second["retriedStmtId"] == 0
    assert client.rw.c.find_one() == {"_id": 1, "n": 1}


def test_an_ordered_batch_stopped_by_an_error(client: Client, session: ClientSession) -> None:
    first = _insert(client, session, 1, {"_id": 1}, {"_id": 1}, {"_id": 2})
    assert first["n"] == 1
    assert [e["index"] for e in first["writeErrors"]] == [1]
    again = _insert(client, session, 1, {"_id": 1}, {"_id": 1}, {"_id": 2})
    assert (again["n"], again["retriedStmtIds"]) == (1, [0])
    assert client.rw.c.count_documents({}) == 1


def test_a_write_that_failed_before_running_runs_on_retry(
    client: Client, session: ClientSession
) -> None:
    # Retryable writes spec: a NotWritablePrimary is a retryable error; the
    # server labels it for a retryable write, and the retry applies the write.
    client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["insert"], "errorCode": 10107},
    )
    details = _error(client, session, insert="c", documents=[{"_id": 1}], txnNumber=1)
    assert details["errorLabels"] == ["RetryableWriteError"]
    assert _insert(client, session, 1, {"_id": 1}) == {"n": 1, "ok": 1.0}
    assert client.rw.c.count_documents({}) == 1


def test_a_write_concern_error_after_the_write(client: Client, session: ClientSession) -> None:
    # The write ran; its write concern error is retryable, so the reply is
    # labelled, and the retry answers from the record instead of writing again.
    client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["insert"], "writeConcernError": {"code": 91, "errmsg": "down"}},
    )
    first = _insert(client, session, 1, {"_id": 1})
    assert first["writeConcernError"] == {"code": 91, "errmsg": "down"}
    assert first["errorLabels"] == ["RetryableWriteError"]
    again = _insert(client, session, 1, {"_id": 1})
    assert again == {"n": 1, "ok": 1.0, "retriedStmtIds": [0]}
    assert client.rw.c.count_documents({}) == 1


def test_fail_point_labels_replace_the_servers(client: Client, session: ClientSession) -> None:
    client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["insert"], "errorCode": 91, "errorLabels": []},
    )
    details = _error(client, session, insert="c", documents=[{"_id": 1}], txnNumber=1)
    assert "errorLabels" not in details


def test_a_non_retryable_error_is_not_labelled(client: Client, session: ClientSession) -> None:
    details = _error(client, session, insert="c", documents=[{"_id": 1}], txnNumber=1, ordered="x")
    assert "errorLabels" not in details
    # Nothing ran: the same number may run the write.
    assert _insert(client, session, 1, {"_id": 1})["n"] == 1


def test_txn_number_only_on_retryable_write_commands(
    client: Client, session: ClientSession
) -> None:
    details = _error(client, session, find="c", txnNumber=1)
    assert (details["code"], details["codeName"]) == (50768, "NotARetryableWriteCommand")
    assert details["errmsg"].endswith("and find is not a retryable write command.")


def test_transactions_are_refused_on_a_member(client: Client, session: ClientSession) -> None:
    details = _error(
        client,
        session,
        insert="c",
        documents=[{"_id": 1}],
        txnNumber=1,
        autocommit=False,
        startTransaction=True,
    )
    assert (details["code"], details["codeName"]) == (115, "CommandNotSupported")
    assert "transactions" in details["errmsg"]
    assert client.rw.c.count_documents({}) == 0


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"txnNumber": Int64(-1)}, 72, "Transaction number cannot be negative"),
        ({"txnNumber": 1.0}, 14, "BSON field 'OperationSessionInfo.txnNumber' is the wrong type"),
        ({"autocommit": False}, 72, "'autocommit' field requires a transaction number"),
        (
            {"txnNumber": Int64(1), "autocommit": True},
            72,
            "Specifying autocommit=true is not allowed.",
        ),
        ({"startTransaction": True}, 72, "'startTransaction' field requires 'autocommit'"),
        (
            {"txnNumber": Int64(1), "autocommit": False, "startTransaction": False},
            72,
            "Specifying startTransaction=false is not allowed.",
        ),
        ({"autocommit": "no"}, 14, "BSON field 'OperationSessionInfo.autocommit' is the wrong"),
    ],
)
def test_session_field_errors(
    client: Client, session: ClientSession, fields: dict[str, Any], code: int, message: str
) -> None:
    details = _error(client, session, insert="c", documents=[{"_id": 1}], **fields)
    assert details["code"] == code
    assert details["errmsg"].startswith(message)


def test_commands_without_sessions_refuse_transaction_fields(client: Client) -> None:
    # initializeOperationSessionInfo for a command that requires no auth.
    lsid = {"id": Binary(uuid.uuid4().bytes, 4)}
    with pytest.raises(OperationFailure) as info:
        client.admin.command(SON(hello=1, lsid=lsid, txnNumber=Int64(1)))
    assert info.value.code == 50889
    with pytest.raises(OperationFailure) as info:
        client.admin.command(SON(hello=1, lsid=lsid, txnNumber=Int64(1), autocommit=False))
    assert info.value.code == 263


@pytest.mark.asyncio
async def test_txn_number_needs_a_valid_lsid() -> None:
    # PyMongo always sends its own lsid: these go straight to the dispatcher.
    async with FakeMongo(replica_set_name="rs0") as server:
        state = server.state
        ctx = Context(state, state.new_connection("test"), "db")

        async def code(**fields: Any) -> Any:
            body = {"insert": "c", "documents": [{}], "txnNumber": Int64(1), **fields, "$db": "db"}
            return (await run_command(ctx, body)).get("code")

        assert await code() == 72  # "Transaction number requires a session ID"
        assert await code(lsid=1) == 14
        assert await code(lsid={}) == 40414
        assert await code(lsid={"id": uuid.uuid4()}) is None
        assert state.storage.collection("db", "c") is not None
        # A command that takes no session and a startTransaction alone; an
        # autocommit without a session or a transaction number.
        hello = await run_command(ctx, {"hello": 1, "startTransaction": True, "$db": "db"})
        assert hello["errmsg"].startswith("'startTransaction' field requires 'autocommit'")
        ping = await run_command(ctx, {"ping": 1, "autocommit": False, "$db": "db"})
        assert ping["code"] == 263
        count = await run_command(ctx, {"count": "c", "autocommit": False, "$db": "db"})
        assert count["errmsg"].startswith("'autocommit' field requires a transaction number")


# ---------------------------------------------------------------- across a failover


def _member_context(member: Any) -> Context:
    state = member.server.state
    return Context(state, state.new_connection("test"), "db")


@pytest.mark.asyncio
async def test_a_retry_on_the_new_primary_is_not_applied_twice() -> None:
    # Manual, "Retryable Writes": the record of an executed write replicates
    # with it, so the driver's retry on the member elected after a failover
    # answers the first result instead of writing again.
    async with FakeMongoReplicaSet(members=3) as replset:
        primary = await replset.wait_for_primary()
        body = {
            "insert": "c",
            "documents": [{"_id": 1}],
            "lsid": {"id": Binary(uuid.uuid4().bytes, 4)},
            "txnNumber": Int64(1),
            "writeConcern": {"w": "majority"},
            "$db": "db",
        }
        assert await run_command(_member_context(primary), dict(body)) == {"n": 1, "ok": 1.0}
        await replset.wait_replicated()
        # A secondary refuses before it looks at the session (mongod checks
        # the member's state first), with its topologyVersion.
        refused = await run_command(_member_context(replset.secondaries[0]), dict(body))
        assert (refused["code"], refused["errorLabels"]) == (10107, ["RetryableWriteError"])
        assert set(refused["topologyVersion"]) == {"processId", "counter"}
        await replset.kill(replset.members.index(primary))
        elected = await replset.wait_for_primary()
        again = await run_command(_member_context(elected), dict(body))
        assert again == {"n": 1, "retriedStmtIds": [0], "ok": 1.0}
        for member in replset.members:
            stored = member.server.state.storage.collection("db", "c")
            assert stored is not None
            assert len(stored.documents) == 1


@pytest.mark.asyncio
async def test_a_write_and_its_session_record_replicate_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # mongod applies a retryable write's session update with the write's own
    # oplog entry (it carries lsid and txnNumber). fakemongo writes the record
    # as the next entry, a moment later: a pull at a time between the two
    # entries' due times must still apply both, or the member elected next
    # would run the driver's retry again (found as a DuplicateKeyError in
    # test_kill_under_many_waiting_majority_writes under load).
    members = [MemberOptions(), MemberOptions(delay=3600), MemberOptions(delay=3600)]
    async with FakeMongoReplicaSet("rs0", members) as replset:
        primary = await replset.wait_for_primary()
        assert primary is replset.members[0]
        body = {
            "insert": "c",
            "documents": [{"_id": 1}],
            "lsid": {"id": Binary(uuid.uuid4().bytes, 4)},
            "txnNumber": Int64(1),
            "writeConcern": {"w": 1},  # not the default majority: the others lag an hour
            "$db": "db",
        }
        assert await run_command(_member_context(primary), dict(body)) == {"n": 1, "ok": 1.0}
        # The insert, then the session record (after creating its collection).
        *_, write, create, record = primary.oplog
        assert [(e.op, e.ns) for e in (write, create, record)] == [
            ("i", "db.c"),
            ("c", "config.transactions"),
            ("i", "config.transactions"),
        ]
        assert record.created > write.created
        follower = replset.members[1]
        assert follower.pull is not None
        follower.pull.cancel()
        follower.pull = None
        # The write is due, its record not yet.
        monkeypatch.setattr(replset, "now", lambda: write.created + 3600)
        replset._pull(follower)
        monkeypatch.undo()
        assert follower.oplog == primary.oplog
        await asyncio.wait_for(replset.kill(0), 10)
        assert await asyncio.wait_for(replset.wait_for_primary(), 10) is follower
        again = await run_command(_member_context(follower), dict(body))
        assert again == {"n": 1, "retriedStmtIds": [0], "ok": 1.0}


@pytest.mark.asyncio
async def test_injected_not_primary_errors_carry_the_topology_version() -> None:
    async with FakeMongoReplicaSet(members=1) as replset:
        primary = await replset.wait_for_primary()
        ctx = _member_context(primary)
        admin = Context(ctx.server, ctx.conn, "admin")
        configure = {
            "configureFailPoint": "failCommand",
            "mode": "alwaysOn",
            "data": {"failCommands": ["count"], "errorCode": 13436},
            "$db": "admin",
        }
        assert (await run_command(admin, configure))["ok"] == 1.0
        failed = await run_command(ctx, {"count": "c", "$db": "db"})
        assert failed["topologyVersion"]["counter"] == primary.topology_counter
        assert "errorLabels" not in failed
    async with FakeMongoReplicaSet(members=1, topology_version=False) as polled:
        primary = await polled.wait_for_primary()
        ctx = _member_context(primary)
        await run_command(Context(ctx.server, ctx.conn, "admin"), configure)
        assert ctx.server.failpoints.armed
        assert "topologyVersion" not in await run_command(ctx, {"count": "c", "$db": "db"})


# ---------------------------------------------------------------- a standalone


def test_a_standalone_refuses_transaction_numbers() -> None:
    with FakeMongoThread() as standalone, MongoClient(standalone.uri) as client:
        with client.start_session() as session:
            with pytest.raises(OperationFailure) as info:
                client.db.command(
                    SON(insert="c", documents=[{}], txnNumber=Int64(1)), session=session
                )
            assert info.value.code == 20
        assert client.db.c.count_documents({}) == 0


# ---------------------------------------------------------------- pure parts


def _key(n: int = 1) -> SessionKey:
    return SessionKey(bytes([n]) * 16, None)


def test_retryable_writes_store() -> None:
    storage = Storage()
    writes = RetryableWrites()
    assert writes.begin(storage, _key(), 3) is None
    record = WriteRecord(_key(), 3, "insert", {"n": 1}, (0,))
    writes.record(storage, record)
    assert writes.begin(storage, _key(), 3) == record
    assert writes.begin(storage, _key(), 4) is None  # a newer number: a new write
    with pytest.raises(CommandError) as info:
        writes.begin(storage, _key(), 3)
    assert info.value.code == 225
    writes.record(storage, WriteRecord(_key(), 4, "insert", {"n": 2}, (0, 1)))
    # The record is a document of config.transactions: it replicates, and a
    # member that only has the document (a new primary) knows the write ran.
    (doc,) = storage.collection("config", "transactions").documents.values()
    assert (doc["_id"]["id"], doc["txnNum"]) == (Binary(bytes(16 * [1]), 4), Int64(4))
    assert len(doc["_id"]["uid"]) == 32
    other = RetryableWrites()
    assert other.begin(storage, _key(), 4) == WriteRecord(_key(), 4, "insert", {"n": 2}, (0, 1))
    with pytest.raises(CommandError):
        other.begin(storage, _key(), 2)
    assert repr(other) == "<RetryableWrites sessions=1>"
    odd = SessionKey(b"short", ("admin", "root"))
    writes.begin(storage, odd, 2)
    with pytest.raises(CommandError) as info:
        writes.begin(storage, odd, 1)
    assert "session 73686f7274 because" in info.value.errmsg
    # A document fakemongo did not write has no reply to replay.
    transactions = storage.collection("config", "transactions")
    key = next(iter(transactions.documents))
    transactions.replace(key, {"_id": doc["_id"], "txnNum": Int64(9)})
    assert RetryableWrites().begin(storage, _key(), 9) is None


def test_replay_without_executed_statements() -> None:
    record = WriteRecord(_key(), 1, "update", {"n": 0, "writeErrors": []}, ())
    assert "retriedStmtIds" not in record.replay()


def test_executed_statements() -> None:
    errors = {"writeErrors": [{"index": 1}]}
    body = {"insert": "c", "documents": [{}, {}, {}]}
    assert executed_statements("insert", body, {}) == (0, 1, 2)
    assert executed_statements("insert", body, errors) == (0,)
    assert executed_statements("insert", {**body, "ordered": False}, errors) == (0, 2)
    assert executed_statements("findAndModify", {"findAndModify": "c"}, {}) == (0,)


def test_error_labels() -> None:
    retryable = SessionOptions(_key(), 1, None, None)
    assert error_labels("insert", {}, retryable, 91, None) == ["RetryableWriteError"]
    assert error_labels("insert", {}, retryable, None, 11600) == ["RetryableWriteError"]
    assert error_labels("insert", {}, retryable, 2, None) == []
    assert error_labels("insert", {}, None, 91, None) == []
    in_transaction = SessionOptions(_key(), 1, False, None)
    assert error_labels("insert", {}, in_transaction, 91, None) == []
    stream = {"pipeline": [{"$changeStream": {}}]}
    assert error_labels("aggregate", stream, None, 91, None) == ["ResumableChangeStreamError"]
    assert error_labels("aggregate", stream, None, 91, 64) == []
    assert error_labels("aggregate", {"pipeline": []}, None, 91, None) == []
    assert error_labels("aggregate", {"pipeline": [1]}, None, 91, None) == []
    assert error_labels("find", {}, None, 286, None) == ["NonResumableChangeStreamError"]


def test_a_bare_lsid_asks_for_no_session_options() -> None:
    # The dispatcher tests for the transaction fields before calling
    # session_options; called without them, it says the same: nothing to do.
    server = FakeMongo()
    ctx = Context(server.state, server.state.new_connection("test"), "db")
    lsid = {"id": Binary(uuid.uuid4().bytes, 4)}
    assert session_options(ctx, {"find": "c", "lsid": lsid}, requires_auth=True) is None
    with pytest.raises(CommandError) as info:
        session_options(ctx, {"find": "c", "lsid": lsid, "txnNumber": Int64(1)}, requires_auth=True)
    assert info.value.code == 20  # IllegalOperation: a standalone keeps no transactions
