"""A replica set's primary under write load: killed while many clients wait
for w: "majority", kill() returns, the waiting writes end (the connection
closes under them), and the set elects a new primary that takes the writes;
stepping down, it takes no writes while a secondary catches up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from fakemongo import CommandError, ErrorCode, FakeMongoReplicaSet, MemberOptions
from fakemongo._replmember import Member
from mongotor.wire import HEADER_SIZE, decode_message, encode_op_msg


async def run(member: Member, body: dict[str, Any], db: str = "t") -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", member.server.port)
    try:
        writer.write(encode_op_msg(1, {**body, "$db": db}))
        header = await reader.readexactly(HEADER_SIZE)
        rest = await reader.readexactly(int.from_bytes(header[:4], "little") - HEADER_SIZE)
        return dict(decode_message(header + rest).body)  # type: ignore[union-attr, arg-type]
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_kill_under_many_waiting_majority_writes() -> None:
    # Manual, "Replica Set Elections": when the primary becomes unavailable,
    # the secondaries hold an election. Its clients' writes that waited for
    # a majority get an error (here: their connection closes), and
    # retryable writes go on on the new primary.
    members = [MemberOptions(), MemberOptions(delay=0.05), MemberOptions(delay=0.05)]
    async with FakeMongoReplicaSet("rs0", members) as rs:
        old = rs.members[0]
        assert rs.primary is old
        # Raw connections, each with a w: "majority" insert that waits for
        # the delayed secondaries when kill() runs.
        wires = [await asyncio.open_connection("127.0.0.1", old.server.port) for _ in range(20)]
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            rs.uri, serverSelectionTimeoutMS=10_000
        )
        async with client:
            stop = asyncio.Event()
            done = [0]
            errors: list[BaseException] = []

            async def write(i: int) -> None:
                k = 0
                while not stop.is_set():
                    k += 1
                    try:
                        await client.t.c.insert_one({"_id": f"{i}:{k}"})
                    except PyMongoError as exc:  # pragma: no cover - retried by PyMongo
                        errors.append(exc)
                    done[0] += 1

            writers = [asyncio.create_task(write(i)) for i in range(100)]
            try:
                async with asyncio.timeout(10):
                    while done[0] < 100:
                        await rs.wait_progress(None)
                for n, (_, writer) in enumerate(wires):
                    body = {"insert": "w", "documents": [{"_id": n}], "$db": "t"}
                    writer.write(encode_op_msg(n, {**body, "writeConcern": {"w": "majority"}}))
                storage = old.server.state.storage
                while (raw := storage.collection("t", "w")) is None or len(raw) < len(wires):
                    await rs.wait_progress(None)
                await asyncio.wait_for(rs.kill(old.id), 10)
                for reader, writer in wires:
                    # Written, never acknowledged: the connection closed under it.
                    assert await asyncio.wait_for(reader.read(), 10) == b""
                    writer.close()
                new = await asyncio.wait_for(rs.wait_for_primary(), 10)
                assert new is not old
                before = done[0]
                async with asyncio.timeout(10):
                    while done[0] < before + 100:
                        await rs.wait_progress(None)
            finally:
                stop.set()
                await asyncio.gather(*writers)
            assert old.server.statistics()["connections"] == 0
            assert errors == []


@pytest.mark.asyncio
async def test_a_primary_stepping_down_takes_no_writes_while_a_secondary_catches_up() -> None:
    # Manual, replSetStepDown "Behavior": the primary stops accepting writes
    # and waits for an electable secondary to catch up; without that, a
    # steady stream of writes keeps every secondary behind, and the step
    # down fails unless forced. Reads go on meanwhile.
    async with FakeMongoReplicaSet("rs0", [MemberOptions(), MemberOptions(delay=0.2)]) as rs:
        primary, lagging = rs.members
        await run(primary, {"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}})
        before = (await run(primary, {"hello": 1}))["topologyVersion"]["counter"]
        stepping = asyncio.create_task(rs.step_down(60, 10))
        async with asyncio.timeout(10):
            while not primary.stepping_down:
                await rs.wait_progress(0.01)
        # mongod's hello while it attempts to step down: primary and not
        # stepping down is what isWritablePrimary says; it still names
        # itself primary; a new topologyVersion tells clients.
        hello = await run(primary, {"hello": 1})
        assert (hello["isWritablePrimary"], hello["secondary"]) == (False, False)
        assert hello["primary"] == primary.host
        assert hello["topologyVersion"]["counter"] == before + 1
        refused = await run(primary, {"insert": "c", "documents": [{"_id": 2}]})
        assert (refused["code"], refused["codeName"]) == (10107, "NotWritablePrimary")
        assert refused["topologyVersion"] == hello["topologyVersion"]
        found = await run(primary, {"find": "c"})
        assert found["cursor"]["firstBatch"] == [{"_id": 1}]
        await asyncio.wait_for(stepping, 10)
        assert primary.stepping_down == 0
        assert await asyncio.wait_for(rs.wait_for_primary(), 10) is lagging
        written = lagging.server.state.storage.collection("t", "c")
        assert written is not None
        assert list(written) == [{"_id": 1}]


@pytest.mark.asyncio
async def test_a_failed_step_down_leaves_the_primary_writable() -> None:
    async with FakeMongoReplicaSet("rs0", [MemberOptions(), MemberOptions(delay=30)]) as rs:
        primary = rs.members[0]
        await run(primary, {"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}})
        before = (await run(primary, {"hello": 1}))["topologyVersion"]["counter"]
        with pytest.raises(CommandError) as failed:
            await rs.step_down(60, 0)  # no time for the secondary to catch up
        assert failed.value.code == ErrorCode.ExceededTimeLimit
        assert primary.stepping_down == 0
        # Writable again, and a newer topologyVersion says so.
        hello = await run(primary, {"hello": 1})
        assert hello["isWritablePrimary"] is True
        assert hello["topologyVersion"]["counter"] == before + 2
        again = await run(
            primary, {"insert": "c", "documents": [{"_id": 2}], "writeConcern": {"w": 1}}
        )
        assert again == {"n": 1, "ok": 1.0}
