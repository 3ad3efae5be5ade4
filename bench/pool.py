"""bench/pool: round trips through mongotor.pool beside PyMongo's async client.

    uv run --all-packages python -m bench.pool [--quick]

One fakemongo server in a child process (``python -m fakemongo --port 0``);
everything below is client-process CPU time per operation (median of 7 runs),
all peers in the same run:

1. Round trips: a ping and a 1-document find (small_doc.json, by ``_id``)
   - the floor: a bare ``asyncio.Protocol`` on one socket, one Future per
     request, writing the pre-encoded bytes, framing the reply by its length
     prefix and handing the reply's bytes to the Future; the same with the
     reply's body decoded by one ``bson.decode`` call (the least any client
     does to hand back a reply document; a small find reply's decode alone is
     about half of its CPU); and with mongotor.wire's ``Framer`` in place of
     ``bson.decode``, the codec's share;
   - mongotor.pool, like for like with each: the same pre-built bytes through
     a pooled connection, ``Pool.checkout``, ``Connection.roundtrip_frame``
     (the reply's bytes, undecoded), ``Pool.checkin``: the issue's target,
     within 1.3x of the bytes-only floor; and the same with
     ``Connection.roundtrip`` (the reply decoded) beside the floor with
     ``bson.decode``. Each is timed in alternation with its floor and reported
     as the median per-round ratio. Then ``connection.command`` on one
     connection, and the full facade, ``topology.checkout`` (server selection,
     pool, SDAM error routing) + ``connection.command``;
   - PyMongo's ``AsyncMongoClient``: ``client.admin.command("ping")``,
     ``db.command({"find": ...})`` and ``collection.find_one``.
2. Pool check-out + check-in with no I/O, at concurrency 1 and 100 (100 tasks
   on a pool of 10: the wait queue), through ``Pool`` and through
   ``Topology.checkout``; a bare task switch for scale.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import bson
from pymongo import AsyncMongoClient

from mongotor.pool import (
    MonitorSettings,
    PoolOptions,
    ServerMonitoringMode,
    create_topology,
    open_connection,
)
from mongotor.wire import NEED_DATA, Framer, encode_op_msg

from ._common import (
    Timing,
    fakemongo_process,
    format_ns,
    load,
    measure_async,
    measure_pair_async,
    table,
)

PING = {"ping": 1}
FIND = {"find": "docs", "filter": {"_id": 1}, "limit": 1, "singleBatch": True}
_LENGTH_BYTES = 4
_BODY_OFFSET = 21  # 16-byte header, 4-byte flagBits, the kind-0 byte


class _Floor(asyncio.Protocol):
    """A bare asyncio round trip: write the pre-encoded bytes, frame the reply by
    its length prefix and hand the reply's bytes to the waiting Future. No
    request-id matching, no checks, no decoding."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Any] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if len(buffer) >= _LENGTH_BYTES:
            length = int.from_bytes(buffer[:_LENGTH_BYTES], "little")
            if len(buffer) >= length:
                reply = bytes(buffer[:length])
                del buffer[:length]
                assert self.waiter is not None
                self.waiter.set_result(reply)

    async def roundtrip(self, data: bytes) -> Any:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


class _FloorBson(_Floor):
    """The same, and the reply's body decoded by one ``bson.decode`` call: the
    least a client must do to give the caller the reply document."""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if len(buffer) >= _LENGTH_BYTES:
            length = int.from_bytes(buffer[:_LENGTH_BYTES], "little")
            if len(buffer) >= length:
                # An OP_MSG reply: header, flagBits and the body's kind byte, then the body.
                body = bytes(buffer[_BODY_OFFSET:length])
                del buffer[:length]
                assert self.waiter is not None
                self.waiter.set_result(bson.decode(body))


class _FloorDecoded(_Floor):
    """The bare round trip with mongotor.wire's Framer decoding each reply: what
    the codec costs over ``bson.decode``."""

    def __init__(self) -> None:
        super().__init__()
        self.framer = Framer()

    def data_received(self, data: bytes) -> None:
        self.framer.feed(data)
        while (message := self.framer.next_message()) is not NEED_DATA:
            assert self.waiter is not None
            self.waiter.set_result(message)


def _row(
    name: str,
    timing: Timing,
    bare: Timing,
    decoded: Timing,
    target: str = "-",
    *,
    vs_bare: float | None = None,
    vs_decoded: float | None = None,
) -> list[str]:
    """A table row: the ratios to the bytes-only floor and to the floor with
    ``bson.decode``; the median per-round ratio where one was measured in
    alternation, else the ratio of the medians."""
    if vs_bare is None:
        vs_bare = timing.per_op_ns / bare.per_op_ns
    if vs_decoded is None:
        vs_decoded = timing.per_op_ns / decoded.per_op_ns
    return [
        name,
        format_ns(timing.per_op_ns),
        f"{vs_bare:.2f}x",
        f"{vs_decoded:.2f}x",
        f"{timing.spread:.0%}",
        target,
    ]


async def _seed(address: str) -> None:
    connection = await open_connection(address)
    try:
        document = dict(load("small_doc.json"), _id=1)
        await connection.command("bench", {"drop": "docs"})
        await connection.command("bench", {"insert": "docs", "documents": [document]}, check=True)
    finally:
        connection.close()


def bench_round_trips(uri: str, quick: bool) -> list[list[str]]:
    number, repeats = (300, 3) if quick else (2000, 11)
    address = uri.removeprefix("mongodb://").rstrip("/")
    host, port = address.rsplit(":", 1)
    rows: list[list[str]] = []
    with asyncio.Runner() as runner:
        run = runner.run
        run(_seed(address))
        # No background heartbeats while measuring: 60 s between checks, on both sides.
        topology = create_topology(
            uri,
            monitor_settings=MonitorSettings(
                heartbeat_frequency_ms=60_000, mode=ServerMonitoringMode.POLL
            ),
        )
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            uri, heartbeatFrequencyMS=60_000
        )
        loop = runner.get_loop()
        _, floor = run(loop.create_connection(_Floor, host, int(port)))
        _, floor_bson = run(loop.create_connection(_FloorBson, host, int(port)))
        _, decoded = run(loop.create_connection(_FloorDecoded, host, int(port)))
        connection = run(open_connection(address))
        pool = topology.server(run(topology.select_server("read")).address).pool
        database = client.bench  # bound once, as an application would
        collection = database.docs
        try:
            for label, db, body in (("ping", "admin", PING), ("find 1 document", "bench", FIND)):
                request_id = 7  # one request at a time: the same id can be reused
                data = encode_op_msg(request_id, {**body, "$db": db})

                async def bare(data: bytes = data) -> None:
                    await floor.roundtrip(data)

                async def bare_bson(data: bytes = data) -> None:
                    await floor_bson.roundtrip(data)

                async def bare_decoded(data: bytes = data) -> None:
                    await decoded.roundtrip(data)

                async def prebuilt(data: bytes = data, request_id: int = request_id) -> None:
                    pooled = await pool.checkout()
                    try:
                        await pooled.roundtrip_frame(data, request_id)
                    finally:
                        pool.checkin(pooled)

                async def prebuilt_decoded(
                    data: bytes = data, request_id: int = request_id
                ) -> None:
                    pooled = await pool.checkout()
                    try:
                        await pooled.roundtrip(data, request_id)
                    finally:
                        pool.checkin(pooled)

                async def command(db: str = db, body: dict[str, Any] = body) -> None:
                    await connection.command(db, body)

                async def facade(db: str = db, body: dict[str, Any] = body) -> None:
                    async with topology.checkout("read") as (_, pooled):
                        await pooled.command(db, body)

                peers: list[tuple[str, Callable[[], Awaitable[object]]]] = [
                    ("floor + mongotor.wire Framer instead of bson.decode", bare_decoded),
                    ("mongotor: connection.command", command),
                    ("mongotor: topology.checkout + command", facade),
                ]
                if body is PING:
                    peers.append(
                        (
                            "pymongo: client.admin.command('ping')",
                            lambda: client.admin.command("ping"),
                        )
                    )
                else:
                    peers.append(
                        ("pymongo: db.command({'find': ...})", lambda: database.command(dict(FIND)))
                    )
                    peers.append(
                        (
                            "pymongo: collection.find_one({'_id': 1})",
                            lambda: collection.find_one({"_id": 1}),
                        )
                    )
                # Each pooled row and its like-for-like floor timed in alternation,
                # the median of the per-round ratios (the machine's speed drifts).
                ours, t_bare, vs_bare = measure_pair_async(
                    run, prebuilt, bare, number=number, repeats=repeats
                )
                ours_decoded, t_decoded, vs_decoded = measure_pair_async(
                    run, prebuilt_decoded, bare_bson, number=number, repeats=repeats
                )
                rows.append(
                    _row(
                        f"{label}: bare asyncio round trip, reply bytes only (the floor)",
                        t_bare,
                        t_bare,
                        t_decoded,
                    )
                )
                rows.append(
                    _row(
                        f"{label}: mongotor: pooled connection, pre-built bytes, "
                        "reply bytes (roundtrip_frame)",
                        ours,
                        t_bare,
                        t_decoded,
                        "<= 1.30x",
                        vs_bare=vs_bare,
                    )
                )
                rows.append(
                    _row(
                        f"{label}: the bare round trip + bson.decode", t_decoded, t_bare, t_decoded
                    )
                )
                rows.append(
                    _row(
                        f"{label}: mongotor: pooled connection, pre-built bytes, "
                        "reply decoded (roundtrip)",
                        ours_decoded,
                        t_bare,
                        t_decoded,
                        vs_decoded=vs_decoded,
                    )
                )
                for name, operation in peers:
                    timing = measure_async(run, operation, number=number)
                    rows.append(_row(f"{label}: {name}", timing, t_bare, t_decoded))
        finally:
            connection.close()
            for protocol in (floor, floor_bson, decoded):
                assert protocol.transport is not None
                protocol.transport.close()
            run(topology.close())
            run(client.close())
    return rows


def bench_checkout(uri: str, quick: bool) -> list[list[str]]:
    number = 2000 if quick else 20_000
    rows: list[list[str]] = []
    with asyncio.Runner() as runner:
        run = runner.run
        topology = create_topology(
            uri,
            pool_options=PoolOptions(max_pool_size=10),
            monitor_settings=MonitorSettings(
                heartbeat_frequency_ms=60_000, mode=ServerMonitoringMode.POLL
            ),
        )
        try:
            selected = run(topology.select_server("read"))
            pool = topology.server(selected.address).pool

            async def fill() -> None:
                held = [await pool.checkout() for _ in range(10)]
                for connection in held:
                    pool.checkin(connection)

            run(fill())

            async def switch() -> None:
                await asyncio.sleep(0)

            async def pool_cycle() -> None:
                connection = await pool.checkout()
                pool.checkin(connection)

            async def topology_cycle() -> None:
                async with topology.checkout("read"):
                    pass

            for name, operation in (
                ("bare task switch (asyncio.sleep(0))", switch),
                ("Pool.checkout + checkin", pool_cycle),
                ("Topology.checkout (select + pool) + checkin", topology_cycle),
            ):
                timing = measure_async(run, operation, number=number)
                rows.append([name, "1", format_ns(timing.per_op_ns), f"{timing.spread:.0%}"])

            def concurrently(cycle: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
                # 100 tasks on a pool of 10, each holding its connection across a
                # task switch: 90 wait in the queue at any time.
                async def hold() -> None:
                    await cycle()

                async def hundred() -> None:
                    await asyncio.gather(*(hold() for _ in range(100)))

                return hundred

            async def pool_held() -> None:
                connection = await pool.checkout()
                await asyncio.sleep(0)
                pool.checkin(connection)

            async def topology_held() -> None:
                async with topology.checkout("read"):
                    await asyncio.sleep(0)

            for name, cycle in (
                ("bare task switch (asyncio.sleep(0))", switch),
                ("Pool.checkout + switch + checkin", pool_held),
                ("Topology.checkout (select + pool) + switch + checkin", topology_held),
            ):
                timing = measure_async(run, concurrently(cycle), number=max(1, number // 100))
                rows.append(
                    [name, "100", format_ns(timing.per_op_ns / 100), f"{timing.spread:.0%}"]
                )
        finally:
            run(topology.close())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="mongotor.pool round trips vs PyMongo async")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    with fakemongo_process() as uri:
        print(
            table(
                "Round trips to fakemongo (another process): client CPU time per operation "
                "(median of 7; the pooled rows: median ratio of rounds alternating with their floor)",
                ["operation", "CPU/op", "vs bytes only", "vs bytes + decode", "spread", "target"],
                bench_round_trips(uri, args.quick),
            )
        )
        print()
        print(
            table(
                "Check-out + check-in, no I/O: CPU time per cycle (median of 7)",
                ["operation", "concurrency", "CPU/cycle", "spread"],
                bench_checkout(uri, args.quick),
            )
        )


if __name__ == "__main__":
    main()
