"""Read preferences route each read to the members the Server Selection spec
says, and "slave okay" (secondaryPreferred) reads keep working while the
primary is down. Which member answered is read from mongotor's command events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from mongotor.database import Database
from mongotor.errors import ServerSelectionTimeoutError
from mongotor.pool import ReadPreference, ReadPreferenceMode

from ._deployment import Deployment
from ._events import Recorder

pytestmark = pytest.mark.asyncio

Connect = Callable[..., Database[dict[str, Any]]]


async def _seeded(deployment: Deployment, connect: Connect, recorder: Recorder) -> Database[Any]:
    db = connect(event_listeners=[recorder])
    await db.people.insert_one({"_id": 1, "name": "ana"})
    # Reads on a secondary see what has replicated (manual: "Read Preference").
    await deployment.wait_replicated()
    return db


async def _tags(deployment: Deployment) -> dict[str, dict[str, str]]:
    """Each live member's tags, as its hello reports them."""
    found = {}
    for host in deployment.live_hosts:
        hello = await deployment.direct(host).admin.command("hello")
        found[host] = dict(hello.get("tags", {}))
    return found


async def test_primary_reads_go_to_the_primary(deployment: Deployment, connect: Connect) -> None:
    recorder = Recorder()
    db = await _seeded(deployment, connect, recorder)
    primary = await deployment.primary()
    for _ in range(5):
        assert await db.people.find_one({"_id": 1}) == {"_id": 1, "name": "ana"}
    assert {event.address for event in recorder.started("find")} == {primary}


@pytest.mark.parametrize("mode", ["secondary", "secondaryPreferred"])
async def test_secondary_reads_go_to_secondaries(
    deployment: Deployment, connect: Connect, mode: str
) -> None:
    recorder = Recorder()
    db = await _seeded(deployment, connect, recorder)
    secondaries = await deployment.secondaries()
    assert len(secondaries) == 2
    reader = db.with_options(read_preference=mode)
    for _ in range(10):
        assert await reader.people.find_one({"_id": 1}) == {"_id": 1, "name": "ana"}
    answered = {event.address for event in recorder.started("find")}
    assert answered <= set(secondaries), (answered, secondaries)
    # The spec's $readPreference goes with each command to a replica set member.
    assert all(e.command["$readPreference"]["mode"] == mode for e in recorder.started("find"))


async def test_nearest_with_tags_goes_to_the_tagged_member(
    deployment: Deployment, connect: Connect
) -> None:
    recorder = Recorder()
    db = await _seeded(deployment, connect, recorder)
    tags = await _tags(deployment)
    west = [host for host, member_tags in tags.items() if member_tags.get("dc") == "west"]
    member_1 = [host for host, member_tags in tags.items() if member_tags.get("member") == "1"]
    if len(west) != 1 or len(member_1) != 1:
        pytest.skip(f"the set's members do not carry this suite's tags: {tags}")

    west_reads = db.with_options(
        read_preference=ReadPreference(ReadPreferenceMode.NEAREST, [{"dc": "west"}])
    )
    for _ in range(5):
        assert await west_reads.people.find_one({"_id": 1}) is not None
    assert {event.address for event in recorder.started("find")} == set(west)

    # Tag sets are tried in order; the first that matches a member decides
    # (Server Selection spec, "tag_sets").
    recorder.clear()
    fallback = db.with_options(
        read_preference=ReadPreference(
            ReadPreferenceMode.NEAREST, [{"dc": "nowhere"}, {"member": "1"}]
        )
    )
    for _ in range(5):
        assert await fallback.people.find_one({"_id": 1}) is not None
    assert {event.address for event in recorder.started("find")} == set(member_1)


async def test_slave_okay_reads_keep_working_while_the_primary_is_down(
    deployment: Deployment, connect: Connect
) -> None:
    recorder = Recorder()
    db = await _seeded(deployment, connect, recorder)
    primary = await deployment.primary()
    survivor, other = await deployment.secondaries()
    # The other secondary first: the set keeps its majority until the primary
    # goes, then the survivor alone cannot elect itself (manual: "Replica Set
    # Elections", a candidate needs the votes of a majority of voting members).
    await deployment.kill(other)
    await deployment.kill(primary)
    assert await deployment.secondaries() == [survivor]

    # The 2012 API's slave_okay=True is secondaryPreferred.
    document = await asyncio.wait_for(db.people.find_one({"_id": 1}, slave_okay=True), 30)
    assert document == {"_id": 1, "name": "ana"}
    assert recorder.started("find")[-1].address == survivor
    reader = db.with_options(read_preference="secondaryPreferred")
    assert await reader.people.count_documents({}) == 1
    assert recorder.started("aggregate")[-1].address == survivor

    # A primary read cannot be served: a typed error once selection times out.
    impatient = connect(event_listeners=[recorder], serverSelectionTimeoutMS=1000)
    with pytest.raises(ServerSelectionTimeoutError):
        await asyncio.wait_for(impatient.people.find_one({"_id": 1}), 30)
