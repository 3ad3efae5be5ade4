"""Failover under load: 100 concurrent writers (retryable writes on, w:
"majority") while the primary is stepped down, or killed. Writes resume on the
new primary within the bound the configured times give; no acknowledged write
is lost and none is applied twice, counted on every member; every failure is a
typed mongotor error; no operation is tried more than twice."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from mongotor.client import CommandStartedEvent, CommandSucceededEvent
from mongotor.database import Database
from mongotor.errors import Error, WriteError

from ._deployment import Deployment
from ._events import Recorder
from .conftest import HEARTBEAT_MS

pytestmark = pytest.mark.asyncio

Connect = Callable[..., Database[dict[str, Any]]]

WRITERS = 100
#: Writes acknowledged before the fault, and after writes resume.
BEFORE, AFTER = 300, 300
#: Server Discovery and Monitoring, "minHeartbeatFrequencyMS": after an error the
#: client asks for a check at once, but checks a server at most this often.
MIN_HEARTBEAT = 0.5
_WRITES = frozenset({"insert", "update"})
#: Seconds a step-down or a kill may take to return.
FAULT_LIMIT = 15.0


@dataclass
class Writer:
    """One writer's history: the sequence numbers acknowledged, and those that
    failed (a failed write may or may not have been applied)."""

    index: int
    acked: list[int] = field(default_factory=list)
    failed: list[tuple[int, BaseException]] = field(default_factory=list)

    @property
    def inserts(self) -> bool:
        # Half insert new documents, half $inc/$push one counter document: a
        # counter applied twice would show its sequence number twice.
        return self.index % 2 == 1

    async def run(self, collection: Any, stop: asyncio.Event) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            try:
                if self.inserts:
                    await collection.insert_one({"_id": f"{self.index}:{number}", "w": self.index})
                else:
                    await collection.update_one(
                        {"_id": f"counter:{self.index}"},
                        {"$inc": {"n": 1}, "$push": {"seq": number}},
                        upsert=True,
                    )
            except Exception as exc:  # every one is checked for its type below
                self.failed.append((number, exc))
            else:
                self.acked.append(number)


class FirstWriteElsewhere:
    """Records the loop time of the first write acknowledged by a server other
    than ``old`` once armed."""

    def __init__(self) -> None:
        self.old: str | None = None
        self.at: float | None = None
        self.address: str | None = None

    def __call__(self, event: Any) -> None:
        if (
            self.old is not None
            and self.at is None
            and isinstance(event, CommandSucceededEvent)
            and event.command_name in _WRITES
            and event.address != self.old
        ):
            self.at = asyncio.get_running_loop().time()
            self.address = event.address


async def _failover(
    deployment: Deployment, connect: Connect, fault: Callable[[], Awaitable[str]]
) -> list[Writer]:
    recorder = Recorder()
    resumed = FirstWriteElsewhere()
    db = connect(event_listeners=[recorder, resumed], w="majority")
    collection = db.failover
    writers = [Writer(index) for index in range(WRITERS)]
    stop = asyncio.Event()

    def acked() -> int:
        return sum(len(writer.acked) for writer in writers)

    tasks = [asyncio.create_task(writer.run(collection, stop)) for writer in writers]
    try:
        await recorder.wait_for(lambda: acked() >= BEFORE, 60)
        loop = asyncio.get_running_loop()
        started = loop.time()
        # Stepping down or killing a member is quick; a fault that does not
        # return is a failure of its own, not a reason to hang the suite.
        resumed.old = old = await asyncio.wait_for(fault(), FAULT_LIMIT)
        await recorder.wait_for(lambda: resumed.at is not None, 60)
        assert resumed.at is not None
        took = resumed.at - started
        after = acked()
        await recorder.wait_for(lambda: acked() >= after + AFTER, 60)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)

    # Writes resumed on the new primary within: the election, one heartbeat for
    # the client to learn of it, and the rate limit on the checks it asks for.
    bound = deployment.election_time + HEARTBEAT_MS / 1000 + MIN_HEARTBEAT
    new_primary = await deployment.primary()
    assert resumed.address == new_primary != old
    assert took <= bound, f"writes resumed {took:.3f} s after the fault; bound {bound:.3f} s"

    # Every failed operation raised a typed error, and none says a retry
    # re-applied a write (a duplicate key on an insert's retry would).
    failures = [exc for writer in writers for _, exc in writer.failed]
    kinds = collections.Counter(type(exc).__name__ for exc in failures)
    assert all(isinstance(exc, Error) for exc in failures), kinds
    assert not any(isinstance(exc, WriteError) for exc in failures), kinds

    # Retryable Writes spec: one retry at most, with the same lsid and txnNumber.
    attempts: dict[int, list[CommandStartedEvent]] = collections.defaultdict(list)
    for event in recorder.of(CommandStartedEvent):
        if event.command_name in _WRITES:
            attempts[event.operation_id].append(event)
    assert max(len(tries) for tries in attempts.values()) <= 2
    for tries in attempts.values():
        if len(tries) == 2:
            first, second = (t.command for t in tries)
            assert (first["lsid"], first["txnNumber"]) == (second["lsid"], second["txnNumber"])
    return writers


async def _check_members(deployment: Deployment, dbname: str, writers: list[Writer]) -> None:
    """On every member: each acknowledged write is there, once; nothing is there
    that was neither acknowledged nor failed; all members agree."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for host in deployment.hosts:
        documents = await deployment.documents(host, dbname, "failover")
        seen[host] = sorted(documents, key=lambda d: d["_id"])
        by_id = {document["_id"]: document for document in documents}
        for writer in writers:
            acked = set(writer.acked)
            maybe = acked | {number for number, _ in writer.failed}
            if writer.inserts:
                present = {
                    int(key.split(":")[1])
                    for key, doc in by_id.items()
                    if doc.get("w") == writer.index
                }
                assert acked <= present <= maybe, (host, writer.index)
            else:
                counter = by_id.get(f"counter:{writer.index}", {"n": 0, "seq": []})
                sequence = counter["seq"]
                assert len(sequence) == len(set(sequence)), f"{host}: applied twice: {sequence}"
                assert acked <= set(sequence) <= maybe, (host, writer.index)
                assert counter["n"] == len(sequence)
    first, *others = seen.values()
    assert all(other == first for other in others), "members disagree"


async def test_writes_survive_a_step_down(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    writers = await _failover(deployment, connect, deployment.step_down)
    await deployment.wait_replicated()
    await _check_members(deployment, dbname, writers)


async def test_writes_survive_a_killed_primary(
    deployment: Deployment, connect: Connect, dbname: str
) -> None:
    killed: list[str] = []

    async def kill() -> str:
        killed.append(await deployment.kill_primary())
        return killed[0]

    writers = await _failover(deployment, connect, kill)
    # The killed member comes back and catches up (rolling back whatever the
    # set never acknowledged by majority); it is counted like the others.
    await deployment.restart(killed[0])
    await deployment.wait_replicated()
    await _check_members(deployment, dbname, writers)
