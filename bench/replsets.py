"""Failover: how long writes stop, and how far throughput dips, when the
primary steps down, for mongotor and PyMongo's AsyncMongoClient side by side.

    python -m uv run --all-packages python -m bench.replsets

Each run gets a fresh three-member fakemongo replica set in a child process
(``python -m fakemongo --replset``: the set's elections and replication do not
share the client's CPU or event loop), 50 tasks inserting as fast as they can
with retryable writes and w: "majority", and, after a steady second, a
``replSetStepDown`` sent to the primary. Measured on the wall clock (this is
about time to recover, not CPU cost): from sending the step-down to the first
write acknowledged by the new primary, and writes per second in 100 ms buckets
for the second before and the second after. Both clients check servers every
500 ms (heartbeatFrequencyMS, the spec's minimum) and stream hellos where the
server offers them. Medians of 3 runs per library, libraries alternating.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from mongotor.client import CommandSucceededEvent
from mongotor.database import Database

from ._common import fakemongo_process, table

WRITERS = 50
HEARTBEAT_MS = 500
REPEATS = 3
BUCKET = 0.1  # seconds
WINDOW = 1.0  # seconds of steady writing before, and of measuring after, the step-down


@dataclass(frozen=True)
class Run:
    resume_s: float  # step-down sent -> first write acknowledged by the new primary
    before_wps: float  # writes per second, the second before
    dip_wps: float  # the slowest 100 ms bucket after the step-down, per second
    after_wps: float  # writes per second, the second after
    failed: int  # writes that raised (after the client's one retry)


class _Acks:
    """Completion times of acknowledged writes, and the first one a server other
    than ``old`` acknowledged."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.failed = 0
        self.old: str | None = None
        self.first_elsewhere: float | None = None
        self.progress = asyncio.Event()

    def acknowledged_by(self, address: str) -> None:
        if self.old is not None and self.first_elsewhere is None and address != self.old:
            self.first_elsewhere = asyncio.get_running_loop().time()
            self.progress.set()


async def _primary(uri: str) -> str:
    async with AsyncMongoClient[dict[str, Any]](uri) as client:
        hello = await client.admin.command("hello")
        primary: str = hello["primary"]
        return primary


async def _measure(
    uri: str, insert: Callable[[dict[str, Any]], Awaitable[object]], acks: _Acks
) -> Run:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    async def writer(index: int) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            try:
                await insert({"_id": f"{index}:{number}"})
            except Exception:
                acks.failed += 1
            else:
                acks.times.append(loop.time())

    tasks = [asyncio.create_task(writer(index)) for index in range(WRITERS)]
    try:
        await asyncio.sleep(2 * WINDOW)  # warm up, then a steady window
        old = await _primary(uri)
        async with AsyncMongoClient[dict[str, Any]](old, directConnection=True) as control:
            acks.old = old
            stepped = loop.time()
            # Not forced: the primary takes no writes while it waits for a
            # secondary to catch up (manual, replSetStepDown "Behavior").
            await control.admin.command({"replSetStepDown": 30})
        await asyncio.wait_for(acks.progress.wait(), 30)
        await asyncio.sleep(WINDOW)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert acks.first_elsewhere is not None
    times = acks.times
    before = sum(1 for t in times if stepped - WINDOW <= t < stepped) / WINDOW
    after = sum(1 for t in times if stepped <= t < stepped + WINDOW) / WINDOW
    buckets = [
        sum(1 for t in times if stepped + i * BUCKET <= t < stepped + (i + 1) * BUCKET) / BUCKET
        for i in range(int(WINDOW / BUCKET))
    ]
    return Run(acks.first_elsewhere - stepped, before, min(buckets), after, acks.failed)


async def run_mongotor(uri: str) -> Run:
    acks = _Acks()

    def listen(event: Any) -> None:
        if isinstance(event, CommandSucceededEvent) and event.command_name == "insert":
            acks.acknowledged_by(event.address)

    db = Database.connect(
        uri, "bench", event_listeners=[listen], heartbeatFrequencyMS=HEARTBEAT_MS, w="majority"
    )
    try:
        return await _measure(uri, db.failover.insert_one, acks)
    finally:
        await db.close()


class _PyMongoListener(monitoring.CommandListener):
    def __init__(self, acks: _Acks) -> None:
        self.acks = acks

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name == "insert":
            host, port = event.connection_id
            self.acks.acknowledged_by(f"{host}:{port}")

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def run_pymongo(uri: str) -> Run:
    acks = _Acks()
    client = AsyncMongoClient[dict[str, Any]](
        uri,
        event_listeners=[_PyMongoListener(acks)],
        heartbeatFrequencyMS=HEARTBEAT_MS,
        w="majority",
        maxPoolSize=100,
    )
    try:
        return await _measure(uri, client.bench.failover.insert_one, acks)
    finally:
        await client.close()


def _row(name: str, runs: list[Run]) -> list[str]:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    before = median([r.before_wps for r in runs])
    dip = median([r.dip_wps for r in runs])
    return [
        name,
        f"{median([r.resume_s for r in runs]) * 1000:.0f} ms",
        f"{before:,.0f}",
        f"{dip:,.0f} ({dip / before:.0%})" if before else f"{dip:,.0f}",
        f"{median([r.after_wps for r in runs]):,.0f}",
        str(sum(r.failed for r in runs)),
    ]


def main() -> None:
    libraries: dict[str, Callable[[str], Coroutine[Any, Any, Run]]] = {
        "mongotor": run_mongotor,
        "pymongo async": run_pymongo,
    }
    runs: dict[str, list[Run]] = {name: [] for name in libraries}
    for _ in range(REPEATS):
        for name, run in libraries.items():  # alternating, a fresh set each time
            with fakemongo_process("--replset", "rs0", "--members", "3") as uri:
                runs[name].append(asyncio.run(run(uri)))
    print(
        table(
            f"Failover after replSetStepDown: {WRITERS} writers, w: majority, "
            f"heartbeatFrequencyMS={HEARTBEAT_MS}, fakemongo set in another process "
            f"(medians of {REPEATS})",
            [
                "client",
                "step-down -> first write on new primary",
                "writes/s before",
                "slowest 100 ms after (w/s)",
                "writes/s, 1 s after",
                "writes failed",
            ],
            [_row(name, runs[name]) for name in libraries],
        )
    )


if __name__ == "__main__":
    main()
