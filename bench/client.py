"""bench/client: mongotor's client beside PyMongo's AsyncMongoClient.

    uv run --all-packages python -m bench.client [--quick]

Both clients talk to the same fakemongo server, run in another process
(``python -m fakemongo --port 0``), so only the client's CPU is counted: process
CPU time per operation, the median of 7 runs, the libraries side by side in one
invocation. Motor is not installed here (it is deprecated in favour of PyMongo's
async API, which is the peer that counts).

Workloads (data from the driver benchmark spec, ../shared/bench-data): find_one
by ``_id`` (tweet.json); insert_one (small_doc.json); find of 1,000 documents
(tweet.json), beside the floor, ``bson.decode_all`` on the same documents'
bytes; insert_many of 10,000 small documents; 100 concurrent tasks each doing
find_one (per find_one).
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
from pymongo import AsyncMongoClient

from mongotor.database import Database

from ._common import Timing, fakemongo_process, format_ns, load, measure, measure_async, table

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


def _pymongo_ops(
    client: AsyncMongoClient[dict[str, Any]], tweet_id: ObjectId, small: dict[str, Any]
) -> dict[str, Operation]:
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
    # key, label, calls per sample (full / quick), operations per call, target vs PyMongo
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


def main() -> None:
    parser = argparse.ArgumentParser(description="mongotor's client beside PyMongo async")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    tweet = load("tweet.json")
    small = load("small_doc.json")
    tweet.pop("_id", None)
    small.pop("_id", None)
    tweet_id = ObjectId()
    documents = [dict(copy.deepcopy(tweet), _id=ObjectId()) for _ in range(1000)]

    with fakemongo_process() as uri, asyncio.Runner() as runner:
        db = Database.connect(uri, "bench")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)

        async def seed() -> None:
            await db.tweets.insert_one(dict(tweet, _id=tweet_id))
            await db.tweets_1k.insert_many(documents)

        runner.run(seed())
        libraries = {
            "mongotor": _mongotor_ops(db, tweet_id, small),
            "pymongo async": _pymongo_ops(client, tweet_id, small),
        }
        rows = []
        for key, label, (full, quick), per_call, target in ROWS:
            number = quick if args.quick else full
            timings: dict[str, Timing] = {}
            for name, operations in libraries.items():
                timings[name] = measure_async(runner.run, operations[key], number=number)
            ours = timings["mongotor"].per_op_ns / per_call
            theirs = timings["pymongo async"].per_op_ns / per_call
            rows.append(
                [label, format_ns(ours), format_ns(theirs), f"{ours / theirs:.2f}x", target]
            )
            if key == "find_1k":
                blob = b"".join(bson.encode(d) for d in documents)

                def decode_floor(blob: bytes = blob) -> object:
                    return bson.decode_all(blob)

                floor = measure(decode_floor, number=number)
                rows.append(
                    [
                        "  the floor: bson.decode_all, same 1,000 documents",
                        format_ns(floor.per_op_ns),
                        "-",
                        f"{ours / floor.per_op_ns:.2f}x of floor",
                        "<= 1.20x of floor",
                    ]
                )
        runner.run(db.close())
        runner.run(client.close())
    print(
        table(
            "mongotor client vs PyMongo AsyncMongoClient: client CPU time per operation "
            "(median of 7; fakemongo in another process)",
            ["workload", "mongotor", "pymongo async", "ratio", "target"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
