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
   request much less. Two columns: one client doing one request at a time
   (each request waits for the last reply: the rate is bounded by the
   client's own CPU and two socket wake-ups per request as much as by the
   server), and two client processes at once (one per core; their combined
   rate, first start to last end), which is what the server sustains.
   Above them, the ceiling: the same clients against a server that answers
   canned replies and keeps no data (bench/_canned_server.py), so that each
   rate can be read against what this machine allows at all. Each server
   runs on uvloop's event loop (fakemongo's default where uvloop is
   installed) and on asyncio's (``--loop asyncio``).
3. The same, one client, with the server on a thread of the client's process
   (``FakeMongoThread``: what the pytest plugin's fixtures set up): the
   round trip crosses threads, not processes.
4. The same operations through mongomock, in-process (no wire, no server).

Wall-clock medians of 5 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import mongomock
from pymongo import MongoClient

from fakemongo import FakeMongo, FakeMongoThread

from ._common import server_process, table

RUNS = 5
# fakemongo's command line runs on uvloop where installed (its default, --loop
# auto); asyncio's loop is measured too, for where uvloop is not.
LOOPS = ("uvloop", "asyncio")
LOOP_LABELS = {"uvloop": "uvloop, the default", "asyncio": "--loop asyncio"}
# Client processes sending at once: one per core.
CLIENT_PROCESSES = 2


def _median_of_runs(runs: Sequence[Callable[[], object]]) -> float:
    """The median wall-clock seconds of calling each of ``runs`` once."""
    samples = []
    for run in runs:
        start = time.perf_counter()
        run()
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
        seconds = _median_of_runs([fn] * 9)
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


WORKLOADS = ("insert_one", "find_one by _id", "find_one by indexed field")


def _prepare(collection: Any, size: int) -> None:
    collection.drop()
    collection.insert_many([{"_id": i, "k": f"key{i}", "v": i % 100} for i in range(size)])
    collection.create_index("k")


def _operations(
    collection: Any, workload: str, size: int, ops: int, first_id: int
) -> Callable[[], None]:
    """``ops`` operations of ``workload`` on ``collection``; inserts use ids
    from ``first_id`` on, so that runs and processes never collide."""
    probe = [i * 7919 % size for i in range(ops)]
    keys = [f"key{i}" for i in probe]
    if workload == "insert_one":

        def run() -> None:
            for i in range(first_id, first_id + ops):
                collection.insert_one({"_id": i, "k": "new", "v": 0})

    elif workload == "find_one by _id":

        def run() -> None:
            for i in probe:
                collection.find_one({"_id": i})

    else:

        def run() -> None:
            for key in keys:
                collection.find_one({"k": key})

    return run


class _Ids:
    """Blocks of fresh ``_id`` values for inserts."""

    def __init__(self, start: int) -> None:
        self._next = start

    def take(self, count: int) -> int:
        first, self._next = self._next, self._next + count
        return first


def _one_client(
    collection: Any, size: int, ops: int, ids: _Ids, server_pid: int | None, repeats: int = RUNS
) -> dict[str, tuple[float, float | None]]:
    """Operations per second from one client doing one request at a time, and
    the server process's CPU microseconds per operation (None: not measured)."""
    results = {}
    for workload in WORKLOADS:
        runs = [_operations(collection, workload, size, ops, ids.take(ops)) for _ in range(repeats)]
        before = None if server_pid is None else _process_cpu_seconds(server_pid)
        seconds = _median_of_runs(runs)
        after = None if server_pid is None else _process_cpu_seconds(server_pid)
        cpu = None
        if before is not None and after is not None:
            cpu = (after - before) / (ops * repeats) * 1e6
        results[workload] = (ops / seconds, cpu)
    return results


def _client_worker(uri: str, namespace: str, barrier: Any, conn: Any) -> None:
    """A client process: for each (workload, size, ops, first_id) received, warm
    up, wait for the others at ``barrier``, run, and send back (start, end)."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    database, name = namespace.split(".")
    try:
        while (job := conn.recv()) is not None:
            workload, size, ops, first_id = job
            collection = client[database][f"{name}{size}"]
            _operations(collection, workload, size, 50, first_id)()
            run = _operations(collection, workload, size, ops, first_id + 50)
            barrier.wait()
            start = time.perf_counter()
            run()
            conn.send((start, time.perf_counter()))
    finally:
        client.close()


@contextlib.contextmanager
def _client_processes(uri: str, count: int) -> Iterator[Callable[[str, int, int, _Ids], float]]:
    """``count`` client processes, each with its own MongoClient; yields
    run(workload, size, ops, ids): the aggregate operations per second of all
    of them doing ``ops`` each at once (from the first start to the last end)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    pipes = [context.Pipe() for _ in range(count)]
    workers = [
        context.Process(target=_client_worker, args=(uri, "bench.c", barrier, child), daemon=True)
        for _, child in pipes
    ]
    for worker in workers:
        worker.start()

    def run(workload: str, size: int, ops: int, ids: _Ids) -> float:
        for parent, _ in pipes:
            parent.send((workload, size, ops, ids.take(ops + 50)))
        spans: list[tuple[float, float]] = [parent.recv() for parent, _ in pipes]
        return count * ops / (max(end for _, end in spans) - min(start for start, _ in spans))

    try:
        yield run
    finally:
        for parent, _ in pipes:
            parent.send(None)
        for worker in workers:
            worker.join(30)


def _many_clients(
    run: Callable[[str, int, int, _Ids], float],
    size: int,
    ops: int,
    ids: _Ids,
    server_pid: int,
    workloads: Sequence[str] = WORKLOADS,
) -> dict[str, tuple[float, float | None]]:
    """Aggregate operations per second of the client processes (median of
    RUNS), and the server's CPU microseconds per operation."""
    results = {}
    for workload in workloads:
        before = _process_cpu_seconds(server_pid)
        rates = [run(workload, size, ops, ids) for _ in range(RUNS)]
        after = _process_cpu_seconds(server_pid)
        cpu = None
        if before is not None and after is not None:
            cpu = (after - before) / ((ops + 50) * CLIENT_PROCESSES * RUNS) * 1e6
        results[workload] = (statistics.median(rates), cpu)
    return results


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}/s"


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} us"


def bench_round_trips(quick: bool) -> list[list[str]]:
    ops = 300 if quick else 2000
    sizes = (1_000, 100_000)
    ids = _Ids(10**9)
    rows: list[list[str]] = []
    for loop in LOOPS:
        # The ceiling: the same clients against a server that does no work.
        with server_process("bench._canned_server", loop) as (uri, pid):
            client: MongoClient[dict[str, Any]] = MongoClient(uri)
            try:
                alone = _one_client(client.b.c, 1_000, ops, ids, pid)
            finally:
                client.close()
            with _client_processes(uri, CLIENT_PROCESSES) as run:
                together = _many_clients(run, 1_000, ops, ids, pid, WORKLOADS[:2])
            rows.extend(
                [
                    f"canned replies, no database ({loop})",
                    "-",
                    workload,
                    _rate(alone[workload][0]),
                    _cpu(alone[workload][1]),
                    _rate(together[workload][0]),
                    _cpu(together[workload][1]),
                    "the ceiling",
                ]
                for workload in WORKLOADS[:2]
            )
    for loop in LOOPS:
        with server_process("fakemongo", "--port", "0", "--loop", loop) as (uri, pid):
            client = MongoClient(uri)
            try:
                for size in sizes:
                    _prepare(client.bench[f"c{size}"], size)
                alone_by_size = {
                    size: _one_client(client.bench[f"c{size}"], size, ops, ids, pid)
                    for size in sizes
                }
            finally:
                client.close()
            with _client_processes(uri, CLIENT_PROCESSES) as run:
                together_by_size = {size: _many_clients(run, size, ops, ids, pid) for size in sizes}
        for size in sizes:
            for workload in WORKLOADS:
                (rate, cpu), (rate_n, cpu_n) = (
                    alone_by_size[size][workload],
                    together_by_size[size][workload],
                )
                rows.append(
                    [
                        f"fakemongo ({LOOP_LABELS[loop]})",
                        f"{size:,}",
                        workload,
                        _rate(rate),
                        _cpu(cpu),
                        _rate(rate_n),
                        _cpu(cpu_n),
                        ">= 5,000/s",
                    ]
                )
    # What the pytest plugin sets up: the server on a thread of the test
    # process (on uvloop, its default), PyMongo in the same process. No
    # server CPU column: the two share the process.
    with FakeMongoThread() as thread:
        client = MongoClient(thread.uri)
        try:
            for size in sizes:
                _prepare(client.bench[f"c{size}"], size)
            for size in sizes:
                measured = _one_client(client.bench[f"c{size}"], size, ops, ids, None)
                rows.extend(
                    [
                        "FakeMongoThread, same process",
                        f"{size:,}",
                        workload,
                        _rate(measured[workload][0]),
                        "-",
                        "-",
                        "-",
                        ">= 5,000/s",
                    ]
                    for workload in WORKLOADS
                )
        finally:
            client.close()
    mock: Any = mongomock.MongoClient()
    for size in sizes:
        # mongomock scans the whole collection for every query (it keeps no
        # index), so fewer operations suffice to measure it.
        mock_ops = max(10, ops * 1000 // size // 10)
        _prepare(mock.bench.c, size)
        measured = _one_client(mock.bench.c, size, mock_ops, ids, None, 3)
        rows.extend(
            ["mongomock (in-process)", f"{size:,}", w, _rate(measured[w][0]), "-", "-", "-", "-"]
            for w in WORKLOADS
        )
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
            [
                "server",
                "documents",
                "workload",
                "1 client",
                "server CPU/op",
                f"{CLIENT_PROCESSES} client processes",
                "server CPU/op",
                "target",
            ],
            bench_round_trips(args.quick),
        )
    )


if __name__ == "__main__":
    main()
