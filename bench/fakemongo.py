"""bench/fakemongo: how fast fakemongo starts and serves, beside mongomock.

    uv run --all-packages python -m bench.fakemongo [--quick]

Printed side by side in one run:

1. Start-up: ``async with FakeMongo()`` and ``FakeMongoThread().start()`` until
   the server accepts a connection (target <= 50 ms). mongodb-memory-server
   and testcontainers need a mongod binary or a Docker engine, neither of
   which exists on these machines; they take seconds where they do run.
2. Round trips per second with PyMongo as the client and fakemongo serving
   from another process (``python -m fakemongo``): insert_one, find_one by
   ``_id``, and find_one by an indexed field, at 1,000 and at 100,000
   documents (target >= 5,000/s; the cost must not grow with the collection),
   with the server process's CPU time per operation beside each rate: the
   wall-clock rate moves with the machine's load, the server's CPU per
   request much less.
3. The same operations through mongomock, in-process (no wire, no server).

Wall-clock medians of 5 runs; the machine has 2 cores, one for each side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import mongomock
from pymongo import MongoClient

from fakemongo import FakeMongo, FakeMongoThread

from ._common import table

RUNS = 5


def _median_seconds(fn: Callable[[], object], repeats: int = RUNS) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_startup() -> list[list[str]]:
    async def in_process() -> None:
        async with FakeMongo() as server:
            reader, writer = await asyncio.open_connection(server.host, server.port)
            writer.close()
            await writer.wait_closed()
            del reader

    def threaded() -> None:
        with FakeMongoThread() as server:
            MongoClient(server.uri, connect=False).close()

    rows = []
    for name, fn in (
        ("FakeMongo (async with)", lambda: asyncio.run(in_process())),
        ("FakeMongoThread (sync suites)", threaded),
    ):
        seconds = _median_seconds(fn, 9)
        rows.append([name, f"{seconds * 1000:.1f} ms", "<= 50 ms"])
    rows.append(
        ["mongodb-memory-server / testcontainers", "not runnable here", "seconds (mongod / Docker)"]
    )
    return rows


def _process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _server_process() -> Iterator[tuple[str, int]]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakemongo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        if not uri.startswith("mongodb://"):
            raise SystemExit("fakemongo did not start")
        yield uri, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def _workloads(
    collection: Any, size: int, ops: int, repeats: int = RUNS, server_pid: int | None = None
) -> dict[str, tuple[float, float | None]]:
    """Operations per second for each workload against ``collection``, and the
    server process's CPU microseconds per operation (None: not measured)."""
    collection.drop()
    collection.insert_many([{"_id": i, "k": f"key{i}", "v": i % 100} for i in range(size)])
    collection.create_index("k")
    probe = [i * 7919 % size for i in range(ops)]
    results = {}

    def find_by_id() -> None:
        for i in probe:
            collection.find_one({"_id": i})

    def find_by_key() -> None:
        for i in probe:
            collection.find_one({"k": f"key{i}"})

    counter = iter(range(size, size + 10**9))

    def insert_one() -> None:
        for _ in range(ops):
            collection.insert_one({"_id": next(counter), "k": "new", "v": 0})

    for name, fn in (
        ("insert_one", insert_one),
        ("find_one by _id", find_by_id),
        ("find_one by indexed field", find_by_key),
    ):
        before = None if server_pid is None else _process_cpu_seconds(server_pid)
        seconds = _median_seconds(fn, repeats)
        after = None if server_pid is None else _process_cpu_seconds(server_pid)
        cpu = None
        if before is not None and after is not None:
            cpu = (after - before) / (ops * repeats) * 1e6
        results[name] = (ops / seconds, cpu)
    return results


def bench_round_trips(quick: bool) -> list[list[str]]:
    ops = 300 if quick else 2000
    sizes = (1_000, 100_000)
    measured: dict[tuple[str, int], dict[str, tuple[float, float | None]]] = {}
    with _server_process() as (uri, pid):
        client: MongoClient[dict[str, Any]] = MongoClient(uri)
        try:
            for size in sizes:
                measured[("fakemongo + PyMongo", size)] = _workloads(
                    client.bench.c, size, ops, server_pid=pid
                )
        finally:
            client.close()
    mock: Any = mongomock.MongoClient()
    for size in sizes:
        # mongomock scans the whole collection for every query (it keeps no
        # index), so fewer operations suffice to measure it.
        mock_ops = max(10, ops * 1000 // size // 10)
        measured[("mongomock (in-process)", size)] = _workloads(mock.bench.c, size, mock_ops, 3)
    rows = []
    for (library, size), results in measured.items():
        for workload, (rate, cpu) in results.items():
            target = ">= 5,000/s" if library.startswith("fakemongo") else "-"
            server_cpu = "-" if cpu is None else f"{cpu:.0f} us"
            rows.append([library, f"{size:,}", workload, f"{rate:,.0f}/s", server_cpu, target])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description="fakemongo start-up and throughput, beside mongomock"
    )
    parser.add_argument("--quick", action="store_true", help="fewer operations (a smoke run)")
    args = parser.parse_args()
    print(
        table(
            "Start-up until the server accepts a connection (median of 9)",
            ["server", "time", "target"],
            bench_startup(),
        )
    )
    print()
    print(
        table(
            "Operations per second, PyMongo client / server in another process (median of 5)",
            ["library", "documents", "workload", "rate", "server CPU/op", "target"],
            bench_round_trips(args.quick),
        )
    )


if __name__ == "__main__":
    main()
