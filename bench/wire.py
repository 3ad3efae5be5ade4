"""bench/wire: encode and decode OP_MSG, mongotor.wire beside PyMongo's builder.

    uv run --all-packages python -m bench.wire [--quick]

Workloads (data from the driver benchmark spec): a 1-document find command, a
1,000-document insert (a kind-1 document sequence of small_doc.json) and a
~16 MB document; decoding a 1,000-document find reply. Peers in the same run:
PyMongo's C OP_MSG builder (``pymongo.message._op_msg_uncompressed``, the
function its async client calls), PyMongo's reply parser, and the floor for
decoding, ``bson.decode_all`` on the same body bytes.
Targets (issue [wire]): encode within 1.2x of PyMongo; decode a 1,000-document
reply within 1.1x of ``bson.decode_all``.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable
from typing import Any

import bson
from bson import ObjectId
from bson.codec_options import DEFAULT_CODEC_OPTIONS
from pymongo import message as pymongo_message

from mongotor.wire import DocumentSequence, Framer, decode_message, encode_op_msg

from ._common import format_ns, load, measure_pair, table

OPTS = DEFAULT_CODEC_OPTIONS


def _workloads() -> dict[str, tuple[dict[str, Any], str, list[dict[str, Any]] | None]]:
    small = load("small_doc.json")
    large = load("large_doc.json")
    lsid = {"id": bson.Binary(b"\x01" * 16, 4)}
    find = {
        "find": "corpus",
        "filter": {"_id": ObjectId()},
        "limit": 1,
        "singleBatch": True,
        "lsid": lsid,
        "$db": "perftest",
    }
    docs = [copy.deepcopy(small) for _ in range(1000)]
    insert = {"insert": "corpus", "ordered": True, "lsid": lsid, "$db": "perftest"}
    # Six copies of large_doc.json padded with a binary to just under the
    # 16 MiB BSON document limit (maxBsonObjectSize).
    big: dict[str, Any] = {"insert": "corpus", "$db": "perftest", "documents": [large] * 6}
    pad = 16 * 2**20 - len(bson.encode(big)) - 64
    big["pad"] = bson.Binary(b"x" * pad)
    return {
        "find, 1 document": (find, "", None),
        "insert, 1,000 documents (kind 1)": (insert, "documents", docs),
        f"~{len(bson.encode(big)) / 2**20:.1f} MiB document": (big, "", None),
    }


def bench_encode(quick: bool) -> list[list[str]]:
    rows = []
    for name, (body, ident, docs) in _workloads().items():
        sequences = [DocumentSequence(ident, docs)] if docs is not None else []
        number = 3 if "MiB" in name else (30 if docs else 20_000)
        if quick:
            number = max(1, number // 10)

        def ours(
            body: dict[str, Any] = body, sequences: list[DocumentSequence] = sequences
        ) -> bytes:
            return encode_op_msg(1, body, sequences)

        def theirs(body: dict[str, Any] = body, ident: str = ident, docs: Any = docs) -> Any:
            return pymongo_message._op_msg_uncompressed(0, body, ident, docs, OPTS)

        # Same bytes, bar the request id PyMongo draws at random.
        assert ours()[8:] == theirs()[1][8:]
        assert ours()[:4] == theirs()[1][:4]
        t_ours, t_theirs, ratio = measure_pair(ours, theirs, number=number)
        rows.append(
            [
                name,
                format_ns(t_ours.per_op_ns),
                format_ns(t_theirs.per_op_ns),
                f"{ratio:.2f}x",
                "<= 1.20x",
            ]
        )
    return rows


def bench_decode(quick: bool) -> list[list[str]]:
    tweet = load("tweet.json")
    docs = [dict(tweet, _id=ObjectId()) for _ in range(1000)]
    reply = {
        "cursor": {"firstBatch": docs, "id": bson.Int64(0), "ns": "perftest.corpus"},
        "ok": 1.0,
    }
    data = encode_op_msg(1, reply, response_to=7)
    body = data[21:]
    number = 10 if quick else 100

    def floor() -> Any:
        return bson.decode_all(body, OPTS)

    def ours() -> Any:
        return decode_message(data)

    framer = Framer()

    def ours_framed() -> Any:
        framer.feed(data)
        return framer.next_message()

    def theirs() -> Any:
        return pymongo_message._OpMsg.unpack(data[16:]).unpack_response(codec_options=OPTS)

    rows: list[list[str]] = []
    peers: list[tuple[str, Callable[[], Any], str]] = [
        ("mongotor.wire decode_message", ours, "<= 1.10x"),
        ("mongotor.wire Framer feed + next_message", ours_framed, "-"),
        ("pymongo _OpMsg.unpack + unpack_response", theirs, "-"),
    ]
    for name, fn, target in peers:
        # Each decoder is timed in alternation with the floor (see measure_pair).
        t, t_floor, ratio = measure_pair(fn, floor, number=number)
        if not rows:
            rows.append(["bson.decode_all (floor)", format_ns(t_floor.per_op_ns), "1.00x", "-"])
        rows.append([name, format_ns(t.per_op_ns), f"{ratio:.2f}x", target])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="OP_MSG encode/decode, mongotor.wire vs PyMongo")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    print(
        table(
            "OP_MSG encode: CPU time per message (15 alternating rounds; ratio = median of per-round ratios)",
            ["workload", "mongotor.wire", "pymongo (C)", "ratio", "target"],
            bench_encode(args.quick),
        )
    )
    print()
    print(
        table(
            "Decode a 1,000-document find reply (tweet.json): CPU time per message (15 alternating rounds; ratio = median of per-round ratios)",
            ["decoder", "time", "vs floor", "target"],
            bench_decode(args.quick),
        )
    )


if __name__ == "__main__":
    main()
