"""What every benchmark shares: the driver benchmark data sets, a CPU-time
timer that reports medians, and a plain-text table."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bson import json_util

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench-data"


def load(name: str) -> dict[str, Any]:
    """A data set of the driver benchmark spec (extended JSON) by file name."""
    path = DATA / name
    if not path.exists():
        raise SystemExit(f"benchmark data {path} not found; it ships in ../shared/bench-data")
    with path.open() as f:
        data: dict[str, Any] = json_util.loads(f.read()) if "bson" in name else json.load(f)
    return data


@dataclass(frozen=True)
class Timing:
    """Median CPU time per operation over ``repeats`` runs of ``number`` calls."""

    per_op_ns: float
    spread: float  # (max - min) / median, a sanity figure for noisy machines


def measure(fn: Callable[[], object], *, number: int, repeats: int = 7) -> Timing:
    """Process CPU time per call of ``fn``; the GC is off while timing."""
    fn()  # warm caches and lazy imports
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.process_time_ns()
            for _ in range(number):
                fn()
            samples.append((time.process_time_ns() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    median = statistics.median(samples)
    return Timing(median, (max(samples) - min(samples)) / median if median else 0.0)


def format_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain, aligned text table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [title, line, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.append(line)
    return "\n".join(out)


def measure_pair(
    ours: Callable[[], object], theirs: Callable[[], object], *, number: int, repeats: int = 15
) -> tuple[Timing, Timing, float]:
    """Time two implementations in alternation and return both timings and the
    median of the per-round ratios ours/theirs.

    On a shared machine the CPU's speed drifts between rounds; timing the pair
    back to back in each round and taking the median of the ratios cancels the
    drift that separate runs of each would fold into their comparison.
    """
    ours()
    theirs()
    ours_samples: list[float] = []
    theirs_samples: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for fn, samples in ((ours, ours_samples), (theirs, theirs_samples)):
                start = time.process_time_ns()
                for _ in range(number):
                    fn()
                samples.append((time.process_time_ns() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return (
        timing_of(ours_samples),
        timing_of(theirs_samples),
        round_ratio(ours_samples, theirs_samples),
    )


def measure_async(
    run: Callable[[Coroutine[Any, Any, object]], object],
    operation: Callable[[], Awaitable[object]],
    *,
    number: int,
    repeats: int = 7,
) -> Timing:
    """Process CPU time per ``await operation()``, run ``number`` times in a row
    inside the loop behind ``run`` (an ``asyncio.Runner().run``); the GC is off
    while timing. The server under test must live in another process, so that
    only the client's CPU is counted."""

    async def batch(count: int) -> None:
        for _ in range(count):
            await operation()

    run(batch(max(1, number // 10)))  # warm caches, connections and lazy imports
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.process_time_ns()
            run(batch(number))
            samples.append((time.process_time_ns() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    median = statistics.median(samples)
    return Timing(median, (max(samples) - min(samples)) / median if median else 0.0)


def measure_pair_async(
    run: Callable[[Coroutine[Any, Any, object]], object],
    ours: Callable[[], Awaitable[object]],
    theirs: Callable[[], Awaitable[object]],
    *,
    number: int,
    repeats: int = 15,
) -> tuple[Timing, Timing, float]:
    """:func:`measure_pair` for awaitables: ``number`` awaits of ``ours`` then of
    ``theirs`` in each round, inside the loop behind ``run``; both timings and the
    median of the per-round ratios ours/theirs (process CPU time, GC off)."""
    ours_samples, theirs_samples = measure_rounds_async(
        run, [ours, theirs], number=number, repeats=repeats
    )
    return (
        timing_of(ours_samples),
        timing_of(theirs_samples),
        round_ratio(ours_samples, theirs_samples),
    )


def measure_rounds_async(
    run: Callable[[Coroutine[Any, Any, object]], object],
    operations: Sequence[Callable[[], Awaitable[object]]],
    *,
    number: int,
    repeats: int = 7,
) -> list[list[float]]:
    """Time several awaitables in alternation: each round runs ``number`` awaits
    of each operation in turn. Returns, per operation, its CPU time per await in
    every round (process CPU time, GC off); compare them round by round (see
    :func:`round_ratio`), so that the machine's drifting speed cancels out."""

    async def batch(operation: Callable[[], Awaitable[object]], count: int) -> None:
        for _ in range(count):
            await operation()

    for operation in operations:  # warm caches, connections and lazy imports
        run(batch(operation, max(1, number // 10)))
    samples: list[list[float]] = [[] for _ in operations]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for operation, own in zip(operations, samples, strict=True):
                start = time.process_time_ns()
                run(batch(operation, number))
                own.append((time.process_time_ns() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def measure_interleaved_async(
    run: Callable[[Coroutine[Any, Any, object]], object],
    operations: Sequence[Callable[[], Awaitable[object]]],
    *,
    count: int,
) -> list[list[float]]:
    """Time several awaitables interleaved one await at a time, in an order
    that rotates every iteration: each sees the same machine speed and the
    same heap. (A block of one operation repeated back to back runs on a heap
    and caches its own previous run primed: a bare decode repeated so gets
    faster than it ever is inside a client.) Returns, per operation, its CPU
    time of every await (process CPU time, GC off); compare them iteration by
    iteration with :func:`round_ratio`."""

    async def interleaved(samples: list[list[float]], iterations: int) -> None:
        clock = time.process_time_ns
        indexed = list(enumerate(operations))
        for i in range(iterations):
            shift = i % len(indexed)
            for index, operation in indexed[shift:] + indexed[:shift]:
                start = clock()
                await operation()
                samples[index].append(clock() - start)

    run(interleaved([[] for _ in operations], max(1, count // 10)))  # warm up
    samples: list[list[float]] = [[] for _ in operations]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        run(interleaved(samples, count))
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def round_ratio(ours: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of the per-round ratios ours/theirs."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def timing_of(samples: Sequence[float]) -> Timing:
    """The median and spread of one operation's per-round samples."""
    median = statistics.median(samples)
    return Timing(median, (max(samples) - min(samples)) / median if median else 0.0)


@contextlib.contextmanager
def server_process(module: str, *args: str) -> Iterator[tuple[str, int]]:
    """``python -m module *args`` in a child process, which prints its
    connection string first; yields (that string, the child's pid) and stops
    it on exit."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        if not uri.startswith("mongodb://"):
            raise SystemExit(f"{module} did not start")
        yield uri, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def fakemongo_process(*args: str) -> Iterator[str]:
    """A fakemongo server (``python -m fakemongo --port 0 *args``) in a child
    process; yields its connection string and stops it on exit."""
    with server_process("fakemongo", "--port", "0", *args) as (uri, _):
        yield uri
