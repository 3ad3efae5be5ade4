"""bench/client: mongotor's client beside PyMongo's AsyncMongoClient and Motor.

    uv run --all-packages python -m bench.client [--quick]

The three clients talk to the same fakemongo server, run in another process
(``python -m fakemongo --port 0``), so only the client's CPU is counted (Motor's
executor threads are in this process, so they count too): process CPU time per
operation. Each row times the libraries in alternation, 7 rounds; the table
shows each one's median, and the ratio is the median of the per-round ratios
(the machine's speed drifts between rounds; the ratio of one round cancels it).

Workloads (data from the driver benchmark spec, ../shared/bench-data): find_one
by ``_id`` (tweet.json); insert_one (small_doc.json); find of 1,000 documents
(tweet.json; every client gets them as the server sends them, a first batch of
101 and one getMore); insert_many of 10,000 small documents; 100 concurrent
tasks each doing find_one (per find_one). Beside the find of 1,000, two
floors timed in the same rounds: ``bson.decode_all`` on the same bytes the
client receives, the two replies' BSON bodies (the documents in their cursor
envelopes: the issue's floor), and on the 1,000 documents back to back (1.55
MB, without the envelopes and the array's index keys: stricter, as bson
decodes documents inside an array about 10% slower). The client's figure
includes everything else (encoding the commands, two round trips, reading
1.55 MB from the socket, framing, the cursor).
Targets (issue [client]): less CPU than PyMongo async on every row; at most
0.5x on find_one and insert_one; find of 1,000 within 1.2x of decode_all.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

import bson
from bson import ObjectId
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient

from mongotor.database import Database
from mongotor.wire import NEED_DATA, Framer, encode_op_msg

from ._common import (
    fakemongo_process,
    format_ns,
    load,
    measure_interleaved_async,
    measure_rounds_async,
    round_ratio,
    table,
    timing_of,
)

CONCURRENCY = 100

Operation = Callable[[], Awaitable[object]]


def _mongotor_ops(
    db: Database[Any], tweet_id: ObjectId, small: dict[str, Any]
) -> dict[str, Operation]:
    tweets, tweets_1k, inserts = db.tweets, db.tweets_1k, db.inserts

    async def find_one() -> object:
        return await tweets.find_one({"_id": tweet_id})

    async def insert_one() -> object:
        return await inserts.insert_one(dict(small))

    async def find_1k() -> object:
        return await tweets_1k.find()

    async def insert_many() -> object:
        return await inserts.insert_many([dict(small) for _ in range(10_000)])

    async def concurrent() -> object:
        return await asyncio.gather(*(find_one() for _ in range(CONCURRENCY)))

    return {
        "find_one": find_one,
        "insert_one": insert_one,
        "find_1k": find_1k,
        "insert_many": insert_many,
        "concurrent": concurrent,
    }


def _pymongo_ops(client: Any, tweet_id: ObjectId, small: dict[str, Any]) -> dict[str, Operation]:
    """PyMongo's AsyncMongoClient, or Motor's AsyncIOMotorClient: the same API."""
    db = client.bench
    tweets, tweets_1k, inserts = db.tweets, db.tweets_1k, db.inserts

    async def find_one() -> object:
        return await tweets.find_one({"_id": tweet_id})

    async def insert_one() -> object:
        return await inserts.insert_one(dict(small))

    async def find_1k() -> object:
        return await tweets_1k.find().to_list()

    async def insert_many() -> object:
        return await inserts.insert_many([dict(small) for _ in range(10_000)])

    async def concurrent() -> object:
        return await asyncio.gather(*(find_one() for _ in range(CONCURRENCY)))

    return {
        "find_one": find_one,
        "insert_one": insert_one,
        "find_1k": find_1k,
        "insert_many": insert_many,
        "concurrent": concurrent,
    }


ROWS = [
    # key, label, calls per round (full / quick), operations per call, target vs PyMongo
    ("find_one", "find_one by _id (tweet.json)", (2000, 200), 1, "<= 0.50x"),
    ("insert_one", "insert_one (small_doc.json)", (2000, 200), 1, "<= 0.50x"),
    ("find_1k", "find, 1,000 documents (tweet.json)", (20, 3), 1, "< 1.00x"),
    ("insert_many", "insert_many, 10,000 small documents", (3, 1), 1, "< 1.00x"),
    (
        "concurrent",
        f"{CONCURRENCY} tasks doing find_one (per find_one)",
        (20, 3),
        CONCURRENCY,
        "< 1.00x",
    ),
]


class _BareFind(asyncio.BufferedProtocol):
    """The least an asyncio client can do for the find of 1,000: one socket,
    the wire Framer reading into its buffers, two pre-encoded commands (the
    find and one getMore), one ``bson.decode`` per reply; no pool, no
    session, no cursor, no checks. The find row's reference for what the
    layers above the socket cost."""

    def __init__(self) -> None:
        self._framer = Framer()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[bytes | bytearray] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> bytearray | memoryview:
        return self._framer.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        frame = self._framer.buffer_updated(nbytes)
        if frame is not NEED_DATA:
            assert self._waiter is not None  # one request in flight
            self._waiter.set_result(frame)

    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(encode_op_msg(1, body))
        frame = await self._waiter
        # OP_MSG: a 16-byte header, flagBits, then the body section (kind 0).
        reply: dict[str, Any] = bson.decode(memoryview(frame)[21:])
        return reply

    async def find_all(self, collection: str) -> list[dict[str, Any]]:
        cursor = (await self.command({"find": collection, "$db": "bench"}))["cursor"]
        documents: list[dict[str, Any]] = cursor["firstBatch"]
        while cursor["id"]:
            more = {"getMore": cursor["id"], "collection": collection, "$db": "bench"}
            cursor = (await self.command(more))["cursor"]
            documents += cursor["nextBatch"]
        return documents


async def _reply_bodies(db: Database[Any]) -> bytes:
    """The BSON bodies of the two replies a find of the 1,000 documents gets
    (the first batch of 101 and one getMore), as the server sent them: the
    documents inside their cursor envelopes, with the array's index keys."""
    first = await db.command({"find": "tweets_1k"})
    more = await db.command({"getMore": first["cursor"]["id"], "collection": "tweets_1k"})
    assert len(first["cursor"]["firstBatch"]) + len(more["cursor"]["nextBatch"]) == 1000
    assert more["cursor"]["id"] == 0
    return bson.encode(first) + bson.encode(more)


def _find_floor_rows(
    runner: asyncio.Runner,
    find_1k: Operation,
    bare: _BareFind,
    replies: bytes,
    blob: bytes,
    quick: bool,
) -> list[list[str]]:
    """The find of 1,000 against its floors, interleaved one operation at a
    time (see measure_interleaved_async): the issue's floor, decode_all of
    the bytes the client receives (the replies' bodies); the stricter one,
    decode_all of the 1,000 documents back to back; and the bare protocol,
    what any asyncio client pays at least."""

    async def bare_find() -> object:
        return await bare.find_all("tweets_1k")

    async def reply_floor() -> object:
        return bson.decode_all(replies)

    async def decode_floor() -> object:
        return bson.decode_all(blob)

    ours, bare_samples, replies_samples, docs_samples = measure_interleaved_async(
        runner.run, [find_1k, bare_find, reply_floor, decode_floor], count=12 if quick else 150
    )
    return [
        [
            "  interleaved: mongotor's find",
            format_ns(timing_of(ours).per_op_ns),
            "-",
            "-",
            f"{round_ratio(ours, replies_samples):.2f}x (ours/floor)",
            "-",
            "<= 1.20x of floor",
        ],
        [
            "  interleaved: a bare asyncio protocol's find",
            format_ns(timing_of(bare_samples).per_op_ns),
            "-",
            "-",
            f"{round_ratio(bare_samples, replies_samples):.2f}x (bare/floor)",
            "-",
            "(reference)",
        ],
        [
            "  floor: bson.decode_all of the replies' bodies",
            format_ns(timing_of(replies_samples).per_op_ns),
            "-",
            "-",
            "1.00x",
            "-",
            "",
        ],
        [
            "  floor: bson.decode_all of the bare documents",
            format_ns(timing_of(docs_samples).per_op_ns),
            "-",
            "-",
            f"{round_ratio(ours, docs_samples):.2f}x (ours/floor)",
            "-",
            "(stricter)",
        ],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="mongotor's client beside PyMongo async and Motor")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    tweet = load("tweet.json")
    small = load("small_doc.json")
    tweet.pop("_id", None)
    small.pop("_id", None)
    tweet_id = ObjectId()
    documents = [dict(copy.deepcopy(tweet), _id=ObjectId()) for _ in range(1000)]
    blob = b"".join(bson.encode(d) for d in documents)

    repeats = 3 if args.quick else 7
    with fakemongo_process() as uri, asyncio.Runner() as runner:
        db = Database.connect(uri, "bench")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)

        async def motor_client() -> AsyncIOMotorClient[dict[str, Any]]:
            return AsyncIOMotorClient(uri)  # bound to the running loop

        motor = runner.run(motor_client())

        async def seed() -> None:
            await db.tweets.insert_one(dict(tweet, _id=tweet_id))
            await db.tweets_1k.insert_many(documents)

        runner.run(seed())
        replies = runner.run(_reply_bodies(db))
        host, port = uri.removeprefix("mongodb://").rstrip("/").rsplit(":", 1)

        async def bare_connection() -> tuple[asyncio.BaseTransport, _BareFind]:
            return await asyncio.get_running_loop().create_connection(_BareFind, host, int(port))

        bare_transport, bare = runner.run(bare_connection())

        async def reply_floor() -> object:
            return bson.decode_all(replies)

        libraries = {
            "mongotor": _mongotor_ops(db, tweet_id, small),
            "pymongo async": _pymongo_ops(client, tweet_id, small),
            "motor": _pymongo_ops(motor, tweet_id, small),
        }
        rows = []
        for key, label, (full, quick), per_call, target in ROWS:
            number = quick if args.quick else full
            operations = [operations[key] for operations in libraries.values()]
            if key == "find_1k":
                operations.append(reply_floor)  # the same floor in blocks, for comparison
            samples = measure_rounds_async(runner.run, operations, number=number, repeats=repeats)
            ours, pymongo, motor_samples = samples[:3]
            rows.append(
                [
                    label,
                    *(format_ns(timing_of(s).per_op_ns / per_call) for s in samples[:3]),
                    f"{round_ratio(ours, pymongo):.2f}x",
                    f"{round_ratio(ours, motor_samples):.2f}x",
                    target,
                ]
            )
            if key == "find_1k":
                rows += _find_floor_rows(
                    runner, libraries["mongotor"]["find_1k"], bare, replies, blob, args.quick
                )
                rows.append(
                    [
                        "  (the replies' floor repeated in blocks)",
                        format_ns(timing_of(samples[3]).per_op_ns),
                        "-",
                        "-",
                        f"{round_ratio(ours, samples[3]):.2f}x (ours/floor)",
                        "-",
                        "(primed heap)",
                    ]
                )
        bare_transport.close()
        runner.run(db.close())
        runner.run(client.close())
        motor.close()
    print(
        table(
            "mongotor client vs PyMongo AsyncMongoClient and Motor: client CPU time per operation "
            f"(medians of {repeats} alternating rounds; fakemongo in another process)",
            ["workload", "mongotor", "pymongo async", "motor", "vs pymongo", "vs motor", "target"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
