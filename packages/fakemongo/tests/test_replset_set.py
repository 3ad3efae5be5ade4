"""FakeMongoReplicaSet end to end: PyMongo discovers it and fails over; each
member's hello, command gate, replication (with delays), write concerns,
step-downs, freezes, kills, restarts, elections and rollbacks, checked on the
wire (raw OP_MSG to one member) and on each member's own storage."""

from __future__ import annotations

import asyncio
import datetime
import socket
from collections.abc import AsyncIterator
from typing import Any

import bson
import pytest
import pytest_asyncio
from bson import Int64
from pymongo import AsyncMongoClient, ReadPreference

from fakemongo import ErrorCode, FakeMongo, FakeMongoReplicaSet, MemberOptions
from fakemongo._member import election_id
from fakemongo._replmember import Member
from mongotor.wire import HEADER_SIZE, decode_message, encode_op_msg

SECONDARY_OK = {"$readPreference": {"mode": "secondaryPreferred"}}


class Wire:
    """One raw connection to one member: OP_MSG in, the reply body out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def to(cls, member: Member) -> Wire:
        reader, writer = await asyncio.open_connection("127.0.0.1", member.server.port)
        return cls(reader, writer)

    async def send(self, body: dict[str, Any], db: str = "admin") -> None:
        self.writer.write(encode_op_msg(1, {**body, "$db": db}))
        await self.writer.drain()

    async def receive(self) -> dict[str, Any]:
        header = await self.reader.readexactly(HEADER_SIZE)
        rest = await self.reader.readexactly(int.from_bytes(header[:4], "little") - HEADER_SIZE)
        return dict(decode_message(header + rest).body)  # type: ignore[union-attr, arg-type]

    async def __call__(self, body: dict[str, Any], db: str = "admin") -> dict[str, Any]:
        await self.send(body, db)
        return await self.receive()

    def close(self) -> None:
        self.writer.close()


def connect(uri: str) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(uri, serverSelectionTimeoutMS=10_000)


async def run(member: Member, body: dict[str, Any], db: str = "admin") -> dict[str, Any]:
    wire = await Wire.to(member)
    try:
        return await wire(body, db)
    finally:
        wire.close()


@pytest_asyncio.fixture
async def rs() -> AsyncIterator[FakeMongoReplicaSet]:
    async with FakeMongoReplicaSet("rs0", 3) as running:
        yield running


def docs(member: Member, ns: str = "t.c") -> list[dict[str, Any]]:
    db, _, name = ns.partition(".")
    collection = member.server.state.storage.collection(db, name)
    return [] if collection is None else list(collection)


@pytest.mark.asyncio
async def test_pymongo_discovers_the_set_reads_secondaries_and_fails_over(
    rs: FakeMongoReplicaSet,
) -> None:
    async with connect(rs.uri) as client:
        await client.t.c.insert_one({"_id": 1})  # the implicit default: w "majority"
        assert all(docs(m) == [{"_id": 1}] for m in rs.members)
        primary = rs.primary
        assert primary is not None
        assert await client.address == ("127.0.0.1", primary.server.port)
        reads = client.t.get_collection("c", read_preference=ReadPreference.SECONDARY)
        assert await reads.find_one() == {"_id": 1}
        served = [m for m in rs.secondaries if m.server.state.command_counts["find"]]
        assert len(served) == 1
        await client.admin.command("replSetStepDown", 60)
        await client.t.c.insert_one({"_id": 2})  # after rediscovery, on the new primary
        assert rs.primary is not None
        assert rs.primary is not primary
        assert rs.term == 2
        assert await client.address == ("127.0.0.1", rs.primary.server.port)


@pytest.mark.asyncio
async def test_hello_per_member() -> None:
    members = [
        MemberOptions(priority=2, tags={"dc": "a"}),
        MemberOptions(),
        MemberOptions(priority=0),
        MemberOptions(priority=0, hidden=True),
    ]
    async with FakeMongoReplicaSet("rs1", members, arbiters=1) as rs:
        primary, secondary, passive, hidden, arbiter = rs.members
        assert rs.primary is primary  # the highest priority wins the first election
        hello = await run(primary, {"hello": 1})
        assert hello["isWritablePrimary"] is True
        assert hello["setName"] == "rs1"
        assert hello["setVersion"] == 1
        assert hello["hosts"] == [primary.host, secondary.host]
        assert hello["passives"] == [passive.host]
        assert hello["arbiters"] == [arbiter.host]
        assert hello["primary"] == hello["me"] == primary.host
        assert hello["electionId"] == election_id(1)
        assert hello["tags"] == {"dc": "a"}
        assert hello["topologyVersion"] == {
            "processId": primary.server.state.process_id,
            "counter": Int64(1),
        }
        assert hello["lastWrite"]["opTime"]["t"] == 1
        assert hello["maxWireVersion"] == 25  # the standalone fields follow
        legacy = await run(secondary, {"isMaster": 1})
        assert legacy["ismaster"] is False
        assert legacy["secondary"] is True
        assert "electionId" not in legacy
        assert (await run(passive, {"hello": 1}))["passive"] is True
        assert (await run(hidden, {"hello": 1}))["hidden"] is True
        arbiter_hello = await run(arbiter, {"hello": 1})
        assert arbiter_hello["arbiterOnly"] is True
        assert "lastWrite" not in arbiter_hello
        refused = await run(arbiter, {"find": "c", **SECONDARY_OK}, "t")
        assert refused["code"] == ErrorCode.NotPrimaryOrSecondary


@pytest.mark.asyncio
async def test_secondaries_refuse_writes_and_reads_without_secondary_ok(
    rs: FakeMongoReplicaSet,
) -> None:
    secondary = rs.secondaries[0]
    write = await run(secondary, {"insert": "c", "documents": [{}]}, "t")
    assert (write["ok"], write["code"], write["codeName"], write["errmsg"]) == (
        0.0,
        10107,
        "NotWritablePrimary",
        "not primary",
    )
    read = await run(secondary, {"find": "c"}, "t")
    assert (read["code"], read["codeName"]) == (13435, "NotPrimaryNoSecondaryOk")
    assert (await run(secondary, {"find": "c", **SECONDARY_OK}, "t"))["ok"] == 1.0
    # The local database is the member's own (manual: "The local Database").
    assert (await run(secondary, {"insert": "x", "documents": [{}]}, "local"))["n"] == 1


@pytest.mark.asyncio
async def test_a_delayed_member_sees_only_what_has_replicated() -> None:
    members = [MemberOptions(), MemberOptions(), MemberOptions(priority=0, delay=0.3)]
    async with FakeMongoReplicaSet("rs0", members) as rs:
        primary, fast, slow = rs.members
        reply = await run(primary, {"insert": "c", "documents": [{"_id": 1}]}, "t")
        assert reply["n"] == 1
        assert docs(fast) == [{"_id": 1}]  # majority (2 of 3) waited for it
        assert docs(slow) == []
        found = await run(slow, {"find": "c", **SECONDARY_OK}, "t")
        assert found["cursor"]["firstBatch"] == []
        timed_out = await run(
            primary,
            {"insert": "c", "documents": [{"_id": 2}], "writeConcern": {"w": 3, "wtimeout": 10}},
            "t",
        )
        assert timed_out["n"] == 1  # the write stands; only the wait failed
        assert timed_out["writeConcernError"] == {
            "code": 64,
            "codeName": "WriteConcernFailed",
            "errmsg": "waiting for replication timed out",
            "errInfo": {
                "wtimeout": True,
                "writeConcern": {"w": 3, "wtimeout": 10, "provenance": "clientSupplied"},
            },
        }
        waited = await run(
            primary, {"insert": "c", "documents": [{"_id": 3}], "writeConcern": {"w": 3}}, "t"
        )
        assert "writeConcernError" not in waited
        assert [d["_id"] for d in docs(slow)] == [1, 2, 3]


@pytest.mark.asyncio
async def test_write_concern_options(rs: FakeMongoReplicaSet) -> None:
    primary = rs.primary
    assert primary is not None

    async def insert(concern: Any) -> dict[str, Any]:
        body = {"insert": "c", "documents": [{}], "writeConcern": concern}
        return await run(primary, body, "t")

    assert "writeConcernError" not in await insert({"w": "majority", "wtimeout": 1000})
    assert "writeConcernError" not in await insert({"w": 0})
    assert "writeConcernError" not in await insert({"w": 2.0, "wtimeout": "x"})
    assert "writeConcernError" not in await insert({"j": True})
    unsatisfiable = await insert({"w": 4})
    assert unsatisfiable["n"] == 1
    assert unsatisfiable["writeConcernError"]["code"] == ErrorCode.UnsatisfiableWriteConcern
    assert (await insert({"w": "dc"}))["code"] == ErrorCode.UnknownReplWriteConcern
    assert (await insert({"w": -1}))["code"] == ErrorCode.FailedToParse
    assert (await insert({"w": True}))["code"] == ErrorCode.FailedToParse
    assert (await insert(5))["code"] == ErrorCode.TypeMismatch


@pytest.mark.asyncio
async def test_default_write_concern_with_arbiters_is_w1() -> None:
    # Manual: "Implicit Default Write Concern": {w: 1} when arbiters leave
    # data-bearing voters no more than a voting majority (here 2 of 3).
    members = [MemberOptions(), MemberOptions(priority=0, delay=30)]
    async with FakeMongoReplicaSet("rs0", members, arbiters=1) as rs:
        primary = rs.members[0]
        reply = await run(primary, {"insert": "c", "documents": [{"_id": 1}]}, "t")
        assert reply == {"n": 1, "ok": 1.0}
        assert docs(rs.members[1]) == []


@pytest.mark.asyncio
async def test_every_write_command_replicates(rs: FakeMongoReplicaSet) -> None:
    async with connect(rs.uri) as client:
        db = client.t
        await db.create_collection("capped", capped=True, size=4096)
        await db.c.insert_many([{"_id": i, "v": i} for i in range(5)])
        await db.c.update_one({"_id": 1}, {"$set": {"v": 10}})
        await db.c.find_one_and_update({"_id": 2}, {"$inc": {"v": 1}})
        await db.c.delete_one({"_id": 3})
        await db.c.create_index("v", unique=True)
        await db.c.create_index("w")
        await db.c.drop_index("w_1")
        await (await db.c.aggregate([{"$match": {"v": {"$gt": 3}}}, {"$out": "report"}])).to_list()
        await (
            await db.c.aggregate([{"$match": {"_id": 0}}, {"$merge": {"into": "merged"}}])
        ).to_list()
        await db.gone.insert_one({})
        await db.gone.drop()
        await client.other.x.insert_one({})
        await client.drop_database("other")
        await db.c.rename("renamed")
        await rs.wait_replicated()

    def catalog(member: Member) -> dict[str, Any]:
        storage = member.server.state.storage
        return {
            # As BSON: the same bytes on the wire (a Binary of subtype 0
            # and bytes, an aware and a naive UTC datetime, are one value).
            f"{db_name}.{name}": (
                [bson.encode(d) for d in coll],
                sorted(coll.indexes),
                coll.options,
            )
            for db_name, database in storage.databases.items()
            for name, coll in database.collections.items()
        }

    first = catalog(rs.members[0])
    assert sorted(ns for ns in first if ns.startswith("t.")) == [
        "t.capped",
        "t.merged",
        "t.renamed",
        "t.report",
    ]
    assert all(catalog(member) == first for member in rs.members[1:])


@pytest.mark.asyncio
async def test_users_and_pipeline_writes_on_secondaries_are_refused(
    rs: FakeMongoReplicaSet,
) -> None:
    primary = rs.primary
    assert primary is not None
    user = await run(primary, {"createUser": "u", "pwd": "p", "roles": []})
    assert user["code"] == ErrorCode.CommandNotSupported
    out = {"aggregate": "c", "pipeline": [{"$out": "x"}], "cursor": {}, **SECONDARY_OK}
    refused = await run(rs.secondaries[0], out, "t")
    assert refused["code"] == ErrorCode.CommandNotSupported


@pytest.mark.asyncio
async def test_repl_set_get_status_and_config() -> None:
    async with FakeMongoReplicaSet("rs0", 2, arbiters=1) as rs:
        primary, secondary, arbiter = rs.members
        await rs.kill(1)
        status = await run(primary, {"replSetGetStatus": 1})
        assert status["set"] == "rs0"
        assert status["myState"] == 1
        assert (status["majorityVoteCount"], status["writeMajorityCount"]) == (2, 2)
        assert (status["votingMembersCount"], status["writableVotingMembersCount"]) == (3, 2)
        states = [(m["stateStr"], m["health"]) for m in status["members"]]
        assert states == [("PRIMARY", 1.0), ("(not reachable/healthy)", 0.0), ("ARBITER", 1.0)]
        assert status["members"][0]["self"] is True
        assert "optime" not in status["members"][2]
        await rs.restart(1)
        await rs.wait_replicated()
        status = await run(secondary, {"replSetGetStatus": 1})
        assert status["syncSourceHost"] == primary.host
        assert status["members"][1]["syncSourceHost"] == primary.host
        config = (await run(arbiter, {"replSetGetConfig": 1}))["config"]
        assert config["_id"] == "rs0"
        assert [m["arbiterOnly"] for m in config["members"]] == [False, False, True]
        assert config["settings"]["electionTimeoutMillis"] == 50


@pytest.mark.asyncio
async def test_repl_set_commands_on_a_standalone() -> None:
    # mongod without --replSet: 76 NoReplicationEnabled.
    async with FakeMongo() as server, connect(server.uri) as client:
        for name in ("replSetGetStatus", "replSetGetConfig", "replSetFreeze", "replSetStepUp"):
            reply = await client.admin.command(name, 1, check=False)
            assert reply["code"] == ErrorCode.NoReplicationEnabled


@pytest.mark.asyncio
async def test_step_down_freeze_and_step_up(rs: FakeMongoReplicaSet) -> None:
    primary, one, two = rs.members
    assert (await run(one, {"replSetStepDown": 60}))["code"] == ErrorCode.NotWritablePrimary
    bad = await run(primary, {"replSetStepDown": 5, "secondaryCatchUpPeriodSecs": 10})
    assert bad["code"] == ErrorCode.BadValue
    assert (await run(primary, {"replSetFreeze": 10}))["code"] == ErrorCode.NotSecondary
    assert (await run(one, {"replSetFreeze": 30})) == {"ok": 1.0}
    assert (await run(two, {"replSetFreeze": 30})) == {"ok": 1.0}
    # No electable secondary: manual, replSetStepDown: ExceededTimeLimit.
    refused = await run(primary, {"replSetStepDown": 1, "secondaryCatchUpPeriodSecs": 0})
    assert refused["code"] == ErrorCode.ExceededTimeLimit
    assert (await run(two, {"replSetFreeze": 0})) == {"info": "unfreezing", "ok": 1.0}
    assert (await run(primary, {"replSetStepDown": 60})) == {"ok": 1.0}
    assert await rs.wait_for_primary() is two  # one is frozen, primary barred for 60 s
    assert (await run(one, {"replSetStepUp": 1})) == {"ok": 1.0}
    assert rs.primary is one
    assert (await run(one, {"replSetStepUp": 1}))["info"] == "already primary"
    assert rs.term == 3


@pytest.mark.asyncio
async def test_forced_step_down_without_a_caught_up_secondary() -> None:
    async with FakeMongoReplicaSet("rs0", 1) as rs:
        only = rs.members[0]
        await rs.step_down(1, 0, force=True)
        assert only.state.name == "SECONDARY"
        assert await rs.wait_for_primary() is only  # after its step-down period
        with pytest.raises(ValueError, match="cannot become primary"):
            FakeMongoReplicaSet("rs0", 1, arbiters=1).elect(1)


@pytest.mark.asyncio
async def test_step_up_refused_on_an_arbiter_and_api_errors() -> None:
    async with FakeMongoReplicaSet("rs0", 2, arbiters=1) as rs:
        assert (await run(rs.members[2], {"replSetStepUp": 1}))["code"] == ErrorCode.CommandFailed
        rs.elect(0)  # already primary: nothing to do
        assert rs.term == 1
        with pytest.raises(RuntimeError, match="already started"):
            await rs.start()
        with pytest.raises(RuntimeError, match="is running"):
            await rs.restart(0)
        await rs.kill(0)
        await rs.kill(0)  # twice: no-op
        await rs.kill(1)
        assert repr(rs) == "<FakeMongoReplicaSet rs0 term=1 no primary members=3>"
        with pytest.raises(RuntimeError, match="no primary"):
            await rs.step_down()
    assert repr(rs) == "<FakeMongoReplicaSet rs0 stopped>"
    await rs.stop()  # idempotent
    with pytest.raises(RuntimeError, match="stopped"):
        await rs.restart(0)


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="at least one voting data-bearing member"):
        FakeMongoReplicaSet("rs0", 0, arbiters=1)
    with pytest.raises(ValueError, match="at least one voting data-bearing member"):
        FakeMongoReplicaSet("rs0", [MemberOptions(priority=0, votes=0)])
    with pytest.raises(ValueError, match="3 members but 1 ports"):
        FakeMongoReplicaSet("rs0", 3, ports=[1])


@pytest.mark.asyncio
async def test_ports_and_a_port_already_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        rs = FakeMongoReplicaSet("rs0", 2, ports=[0, port])
        with pytest.raises(OSError, match="in use"):
            await rs.start()
        assert not rs.members[0].server.running  # the member that started was stopped
    base = FakeMongoReplicaSet("rs0", 2, port=port)
    assert [m.server.options.port for m in base.members] == [port, port + 1]


@pytest.mark.asyncio
async def test_kill_elects_a_new_primary_and_restart_catches_up(rs: FakeMongoReplicaSet) -> None:
    old = rs.primary
    assert old is not None
    await rs.kill(old.id)
    await rs.wait_replicated()  # waits for the election first
    new = rs.primary
    assert new is not None
    assert new is not old
    assert repr(new) == f"<Member {new.id} {new.host} PRIMARY oplog=3>"
    with pytest.raises(ConnectionRefusedError):
        await Wire.to(old)  # its listener is closed
    await run(new, {"insert": "c", "documents": [{"_id": "while down"}]}, "t")
    await rs.restart(old.id)
    assert old.state.name == "SECONDARY"
    await rs.wait_replicated()
    assert {"_id": "while down"} in docs(old)
    hello = await run(old, {"hello": 1})
    assert hello["topologyVersion"]["counter"] == 1  # a new process counts from 0
    assert hello["primary"] == new.host
    stats = rs.statistics()
    assert stats["term"] == 2
    assert stats["primary"] == new.host


@pytest.mark.asyncio
async def test_writes_a_majority_never_saw_are_rolled_back(rs: FakeMongoReplicaSet) -> None:
    # Manual: "Rollbacks During Replica Set Failover".
    old = rs.members[0]
    await run(old, {"insert": "c", "documents": [{"_id": "kept"}]}, "t")
    await rs.kill(1)
    await rs.kill(2)
    # Alone, the primary takes a write before it notices it lost the
    # majority (written on its storage at once: no loop turn in between).
    assert old.state.name == "PRIMARY"
    old.server.state.storage.get_or_create("t", "c").insert({"_id": "lost"})
    await rs.kill(0)
    await rs.restart(1)
    await rs.restart(2)
    new = await rs.wait_for_primary()
    await run(new, {"insert": "c", "documents": [{"_id": "new"}]}, "t")
    await rs.restart(0)
    await rs.wait_replicated()
    assert [d["_id"] for d in docs(old)] == ["kept", "new"]
    assert old.rolled_back == 1
    assert old.statistics()["rolled_back"] == 1


@pytest.mark.asyncio
async def test_pending_replication_stops_with_the_primary(rs: FakeMongoReplicaSet) -> None:
    primary, one, two = rs.members
    # Written on the primary's storage directly: the secondaries' pulls are
    # due on the loop's next turn, and the primary dies before it.
    primary.server.state.storage.get_or_create("t", "c").insert({"_id": 1})
    assert one.pull is not None
    await rs.kill(0)
    assert one.pull is None  # kill() cancelled it
    assert docs(one) == docs(two) == []
    # Elected while its pull is pending, a member needs it no more.
    new = await rs.wait_for_primary()
    new.server.state.storage.get_or_create("t", "c").insert({"_id": 2})
    other = one if new is two else two
    assert other.pull is not None
    rs.elect(other.id)
    assert other.pull is None


@pytest.mark.asyncio
async def test_step_down_interrupts_write_concern_waits() -> None:
    members = [MemberOptions(), MemberOptions(), MemberOptions(priority=0, delay=30)]
    async with FakeMongoReplicaSet("rs0", members) as rs:
        primary = rs.members[0]
        body = {"insert": "c", "documents": [{}], "writeConcern": {"w": 3}}
        waiting = asyncio.create_task(run(primary, body, "t"))
        # Once the insert is written and member 1 has it, the write waits on member 2.
        while not (docs(primary) and rs.members[1].caught_up(primary)):
            await rs.wait_progress(None)
        await rs.step_down(60, 10)
        reply = await waiting
        assert reply["writeConcernError"] == {
            "code": 189,
            "codeName": "PrimarySteppedDown",
            "errmsg": "Primary stepped down while waiting for replication",
        }


@pytest.mark.asyncio
async def test_streaming_hello_answers_when_the_topology_changes(rs: FakeMongoReplicaSet) -> None:
    primary = rs.primary
    assert primary is not None
    wire = await Wire.to(primary)
    try:
        first = await wire({"hello": 1})
        version = first["topologyVersion"]
        await wire.send({"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 30_000})
        await asyncio.sleep(0)  # the hello is parked; nothing else to wait on
        await rs.step_down(60, 10)
        # The attempt (no longer writable) and, the secondaries being caught
        # up, the step-down itself have both moved it by the time the parked
        # hello is answered.
        changed = await wire.receive()
        assert changed["isWritablePrimary"] is False
        assert changed["topologyVersion"]["counter"] == version["counter"] + 2
        await rs.wait_for_primary()  # the election moves it once more
        current = (await wire({"hello": 1}))["topologyVersion"]
        assert current["counter"] == version["counter"] + 3
        # Without a change, the wait runs out; an older counter is answered at once.
        quiet = await wire({"hello": 1, "topologyVersion": current, "maxAwaitTimeMS": 10})
        assert quiet["topologyVersion"] == current
        stale = await wire({"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 30_000})
        assert stale["topologyVersion"] == current
        future = {**version, "counter": Int64(99)}
        ahead = await wire({"hello": 1, "topologyVersion": future, "maxAwaitTimeMS": 10})
        assert ahead["code"] == 51764
    finally:
        wire.close()


@pytest.mark.asyncio
async def test_without_topology_version_hello_never_waits() -> None:
    async with FakeMongoReplicaSet("rs0", 1, topology_version=False) as rs:
        member = rs.members[0]
        hello = await run(member, {"hello": 1})
        assert "topologyVersion" not in hello
        version = {"processId": member.server.state.process_id, "counter": Int64(0)}
        answered = await run(
            member, {"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 60_000}
        )
        assert answered["isWritablePrimary"] is True
        async with connect(rs.uri) as client:
            await client.t.c.insert_one({})


@pytest.mark.asyncio
async def test_step_down_waits_for_a_secondary_to_catch_up() -> None:
    async with FakeMongoReplicaSet("rs0", [MemberOptions(), MemberOptions(delay=0.1)]) as rs:
        primary, lagging = rs.members
        body = {"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}}
        await run(primary, body, "t")
        assert not lagging.caught_up(primary)
        await rs.step_down(60, 10)  # returns once the secondary caught up, and steps down
        assert docs(lagging) == [{"_id": 1}]
        assert await rs.wait_for_primary() is lagging


@pytest.mark.asyncio
async def test_a_step_down_overtaken_by_an_election_just_ends() -> None:
    async with FakeMongoReplicaSet("rs0", [MemberOptions(), MemberOptions(delay=30)]) as rs:
        primary, lagging = rs.members
        body = {"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}}
        await run(primary, body, "t")
        stepping = asyncio.create_task(run(primary, {"replSetStepDown": 60}))
        while not primary.server.state.command_counts["replSetStepDown"]:
            await rs.wait_progress(0.01)
        rs.elect(1)
        assert await stepping == {"ok": 1.0}
        assert rs.primary is lagging


@pytest.mark.asyncio
async def test_elect_during_an_election_timeout(rs: FakeMongoReplicaSet) -> None:
    await rs.kill(0)
    assert rs.primary is None  # the election waits for election_timeout
    rs.elect(2)
    assert rs.primary is rs.members[2]
    assert rs.term == 2


@pytest.mark.asyncio
async def test_a_primary_without_a_majority_steps_down(rs: FakeMongoReplicaSet) -> None:
    # Manual: "Replica Set Elections": a primary that cannot reach a
    # majority of voting members steps down and takes no more writes.
    primary = rs.members[0]
    await rs.kill(1)
    await rs.kill(2)
    while rs.primary is not None:
        await rs.wait_progress(None)
    assert primary.state.name == "SECONDARY"
    refused = await run(primary, {"insert": "c", "documents": [{}]}, "t")
    assert refused["code"] == ErrorCode.NotWritablePrimary
    await rs.restart(1)
    assert await rs.wait_for_primary() in (primary, rs.members[1])


@pytest.mark.asyncio
async def test_a_majority_back_in_time_keeps_the_primary() -> None:
    async with FakeMongoReplicaSet("rs0", 5, election_timeout=30) as rs:
        primary = rs.members[0]
        for index in (1, 2, 3):
            await rs.kill(index)
        pending = rs._quorum
        assert pending is not None  # the step-down is pending
        await rs.kill(4)
        await rs.restart(1)
        assert rs._quorum is pending  # still a minority: the same step-down
        await rs.restart(2)
        assert rs._quorum is None  # a majority again
        await rs.kill(3)  # already down: no change
        await rs.kill(0)  # the primary itself: no step-down to wait for
        assert rs._quorum is None
        assert rs._election is not None  # stop() cancels it
    assert primary.state.name == "DOWN"


@pytest.mark.asyncio
async def test_only_the_primary_expires_ttl_documents(rs: FakeMongoReplicaSet) -> None:
    # Manual: "TTL Indexes": the TTL monitor deletes on the primary; the
    # secondaries apply those deletes from the oplog.
    primary = rs.primary
    assert primary is not None
    create = {
        "createIndexes": "c",
        "indexes": [{"key": {"at": 1}, "name": "at_1", "expireAfterSeconds": 0}],
    }
    await run(primary, create, "t")
    old = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    await run(primary, {"insert": "c", "documents": [{"_id": 1, "at": old}]}, "t")
    secondary = rs.secondaries[0]
    assert secondary.server.ttl_monitor.run_now() == 0
    assert len(docs(secondary)) == 1
    assert secondary.ttl_interval() == 60.0
    assert primary.server.ttl_monitor.run_now() == 1
    await rs.wait_replicated()
    assert all(docs(member) == [] for member in rs.members)
