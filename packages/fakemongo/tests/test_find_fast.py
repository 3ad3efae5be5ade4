"""find's point-query fast paths give exactly what the general path gives.

A find whose filter is one equality (what ``find_one({"k": v})`` sends) is
answered by one lookup: in the _id index, or in the one-field index the
planner picks. Every case here runs the command twice, as sent and with
``skip: 0`` added (the same query, which no fast path takes), and compares
the replies: results, their order, cursor ids, and errors. Expected values
follow the manual's "Comparison/Sort Order" (1, 1.0, Int64(1) and
Decimal128("1") are one value; true is not 1; NaN equals NaN), "Query an
Array" (an equality matches an array with an equal element, not a nested
array), and "Query for Null or Missing Fields".
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from bson import Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex

from fakemongo import FakeMongo
from fakemongo._dispatch import Context, run_command
from fakemongo._find_fast import find_point, planned_index
from fakemongo._indexes import Index
from fakemongo._match import compile_filter
from fakemongo._planner import plan_query
from fakemongo._storage import Collection

pytestmark = pytest.mark.asyncio

_OID = ObjectId("5f0000000000000000000001")
_WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000)
# The k values of the documents, _id 0, 1, 2... in insertion order.
_VALUES: list[Any] = [
    1,
    1.0,
    Int64(1),
    Decimal128("1"),
    True,
    "1",
    [1, 2],
    [[1]],
    None,
    {"x": 1},
    float("nan"),
    Decimal128("NaN"),
    Code("1"),
    _WHEN,
    _OID,
    [],
    "a",
    "A",
    2,
    [2, "a"],
]


def _run(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    # A command that does not wait finishes in its first step.
    command = run_command(ctx, body)
    with pytest.raises(StopIteration) as done:
        command.send(None)
    reply: dict[str, Any] = done.value.value
    return reply


@pytest_asyncio.fixture
async def ctx(server: FakeMongo) -> AsyncIterator[Context]:
    context = Context(server.state, server.state.new_connection("test"), "db")
    docs = [{"_id": i, "k": v} for i, v in enumerate(_VALUES)] + [{"_id": len(_VALUES)}]
    assert _run(context, {"insert": "c", "documents": docs, "$db": "db"})["n"] == len(docs)
    created = _run(
        context,
        {"createIndexes": "c", "indexes": [{"key": {"k": 1}, "name": "k_1"}], "$db": "db"},
    )
    assert created["ok"] == 1.0
    yield context


def _ids(reply: dict[str, Any]) -> list[Any]:
    return [doc["_id"] for doc in reply["cursor"]["firstBatch"]]


def _both(ctx: Context, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The reply as sent, and the general path's reply to the same query."""
    body = {"find": "c", **body, "$db": "db"}
    fast = _run(ctx, dict(body))
    general = _run(ctx, {**body, "skip": 0})
    return fast, general


def _takes_fast_path(ctx: Context, body: dict[str, Any]) -> bool:
    return find_point(ctx, {"find": "c", **body, "$db": "db"}, "c") is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, [0, 1, 2, 3, 6]),
        (1.0, [0, 1, 2, 3, 6]),
        (Int64(1), [0, 1, 2, 3, 6]),
        (Decimal128("1"), [0, 1, 2, 3, 6]),
        (True, [4]),
        ("1", [5]),
        (2, [6, 18, 19]),
        (float("nan"), [10, 11]),
        (Decimal128("NaN"), [10, 11]),
        (_WHEN, [13]),
        (_OID, [14]),
        ("a", [16, 19]),
        ("zzz", []),
        (-0.0, []),
    ],
)
async def test_index_point_matches_the_general_path(
    ctx: Context, value: Any, expected: list[Any]
) -> None:
    body = {"filter": {"k": value}}
    assert _takes_fast_path(ctx, body)
    fast, general = _both(ctx, body)
    assert fast == general
    assert _ids(fast) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        [1, 2],
        [],
        {"x": 1},
        {"$gt": 0},
        {"$eq": 1},
        re.compile("a"),
        Regex("a"),
        Code("1"),
        MinKey(),
        MaxKey(),
    ],
)
async def test_values_the_index_cannot_answer_alone_take_the_general_path(
    ctx: Context, value: Any
) -> None:
    body = {"filter": {"k": value}}
    assert not _takes_fast_path(ctx, body)
    fast, general = _both(ctx, body)
    assert fast == general


@pytest.mark.parametrize("value", [1, "a", "zzz"])
async def test_limit_batch_size_and_single_batch(ctx: Context, value: Any) -> None:
    for options in (
        {"limit": 1, "singleBatch": True},
        {"limit": 1},
        {"limit": 1.0, "batchSize": 1},
        {"limit": 0},
        {"limit": 2},
        {"limit": 5},
        {"limit": 6},
        {"limit": Int64(2), "batchSize": 1, "singleBatch": True},
        {"batchSize": 5},
        {"batchSize": 6},
        {"batchSize": 2.0, "singleBatch": 1},
        {"singleBatch": False},
        {"comment": "x", "readConcern": {"level": "local"}, "lsid": {"id": 1}},
    ):
        body = {"filter": {"k": value}, **options}
        assert _takes_fast_path(ctx, body)
        fast, general = _both(ctx, body)
        # An open cursor has a random id: the rest of the reply must agree.
        fast_id = fast["cursor"].pop("id")
        general_id = general["cursor"].pop("id")
        assert fast == general, options
        assert (fast_id == 0) == (general_id == 0), options
        if fast_id:
            rest = [
                _run(ctx, {"getMore": cursor_id, "collection": "c", "$db": "db"})
                for cursor_id in (fast_id, general_id)
            ]
            assert rest[0]["cursor"]["nextBatch"] == rest[1]["cursor"]["nextBatch"]
            assert rest[0]["cursor"]["id"] == rest[1]["cursor"]["id"] == 0


@pytest.mark.parametrize(
    "options",
    [
        {"limit": -1},
        {"limit": "1"},
        {"batchSize": -2},
        {"singleBatch": "yes"},
        {"limit": -1, "singleBatch": "yes"},
        {"batchSize": -1, "singleBatch": "yes"},
    ],
)
@pytest.mark.parametrize("field", ["k", "_id"])
async def test_option_errors_are_the_general_paths(
    ctx: Context, field: str, options: dict[str, Any]
) -> None:
    fast, general = _both(ctx, {"filter": {field: 1}, **options})
    assert fast["ok"] == 0.0
    assert fast == general


@pytest.mark.parametrize(
    "options",
    [{"maxTimeMS": -1}, {"maxTimeMS": "x"}, {"maxTimeMS": -1, "singleBatch": "yes"}],
)
async def test_id_lookup_checks_max_time_ms_as_the_general_path(
    ctx: Context, options: dict[str, Any]
) -> None:
    fast, general = _both(ctx, {"filter": {"_id": 1}, **options})
    assert fast["ok"] == 0.0
    assert fast == general
    assert _run(ctx, {"find": "c", "filter": {"_id": 1}, "maxTimeMS": 5, "$db": "db"})["ok"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {"k": 1}, "maxTimeMS": 1000},  # the scan honours a deadline
        {"filter": {"k": 1}, "collation": {"locale": "en", "strength": 2}},
        {"filter": {"k": 1}, "sort": {"_id": -1}},
        {"filter": {"k": 1}, "projection": {"k": 0}},
        {"filter": {"k": 1}, "batchSize": 0},
        {"filter": {"k": 1, "_id": 1}},
        {"filter": {}},
        {"filter": {"k.x": 1}},
        {"filter": {"$comment": "x"}},
        {"filter": {"other": 1}},  # no index: a collection scan
    ],
)
async def test_other_queries_take_the_general_path(ctx: Context, body: dict[str, Any]) -> None:
    assert not _takes_fast_path(ctx, body)
    fast, general = _both(ctx, body)
    fast["cursor"].pop("id")
    general["cursor"].pop("id")
    assert fast == general


async def test_the_planners_choice_of_index_decides(ctx: Context) -> None:
    # Manual, "Query Plans": of the indexes that answer an equality, fakemongo's
    # planner prefers a unique one, then fewer fields. A compound index chosen
    # orders its entries by the second field: the general path answers.
    _run(ctx, {"insert": "d", "documents": [{"_id": 1, "k": 1, "j": 2}], "$db": "db"})
    _run(ctx, {"insert": "d", "documents": [{"_id": 2, "k": 1, "j": 1}], "$db": "db"})
    body = {"find": "d", "filter": {"k": 1}, "$db": "db"}
    assert find_point(ctx, dict(body), "d") is None  # no index on k: a scan
    _run(
        ctx,
        {"createIndexes": "d", "indexes": [{"key": {"k": 1, "j": 1}, "name": "kj"}], "$db": "db"},
    )
    assert find_point(ctx, dict(body), "d") is None
    assert _ids(_run(ctx, dict(body))) == [2, 1]
    _run(ctx, {"createIndexes": "d", "indexes": [{"key": {"k": -1}, "name": "k"}], "$db": "db"})
    fast = find_point(ctx, dict(body), "d")
    assert fast is not None and _ids(fast) == [1, 2]
    assert _ids(_run(ctx, {**body, "skip": 0})) == [1, 2]
    # A sparse index is not used for an equality (the planner keeps it simple).
    _run(ctx, {"dropIndexes": "d", "index": "k", "$db": "db"})
    _run(
        ctx,
        {
            "createIndexes": "d",
            "indexes": [{"key": {"k": 1}, "name": "ks", "sparse": True}],
            "$db": "db",
        },
    )
    assert find_point(ctx, dict(body), "d") is None


async def test_writes_are_seen_at_once(ctx: Context) -> None:
    body = {"find": "c", "filter": {"k": "new"}, "$db": "db"}
    assert _ids(_run(ctx, dict(body))) == []
    _run(ctx, {"insert": "c", "documents": [{"_id": "n", "k": "new"}], "$db": "db"})
    assert _ids(_run(ctx, dict(body))) == ["n"]
    _run(
        ctx,
        {
            "update": "c",
            "updates": [{"q": {"_id": "n"}, "u": {"$set": {"k": "newer"}}}],
            "$db": "db",
        },
    )
    assert _ids(_run(ctx, dict(body))) == []
    assert _ids(_run(ctx, {**body, "filter": {"k": "newer"}})) == ["n"]
    _run(ctx, {"delete": "c", "deletes": [{"q": {"_id": "n"}, "limit": 1}], "$db": "db"})
    assert _ids(_run(ctx, {**body, "filter": {"k": "newer"}})) == []
    _run(ctx, {"drop": "c", "$db": "db"})
    assert find_point(ctx, {**body, "filter": {"k": 1}}, "c") is None
    assert _ids(_run(ctx, {**body, "filter": {"k": 1}})) == []


async def test_a_nan_key_reads_as_the_scan_does(ctx: Context) -> None:
    # NaN equals NaN in MongoDB (manual: "Comparison/Sort Order"), whatever its
    # width: the fast path's lookup finds both, as the matcher does.
    reply = _run(ctx, {"find": "c", "filter": {"k": float("nan")}, "$db": "db"})
    values = [doc["k"] for doc in reply["cursor"]["firstBatch"]]
    assert math.isnan(values[0]) and values[1] == Decimal128("NaN")


def _index(name: str, *fields: str, **options: Any) -> Index:
    key = [(field, 1) for field in fields]
    return Index(name, key, {"v": 2, "key": dict(key), "name": name}, **options)


@pytest.mark.parametrize(
    "indexes",
    [
        [],
        [_index("k", "k")],
        [_index("j", "j")],
        [_index("kj", "k", "j"), _index("k", "k")],
        [_index("k", "k"), _index("kj", "k", "j")],
        [_index("k", "k"), _index("k2", "k")],  # a tie: the first one
        [_index("k", "k"), _index("kj", "k", "j", unique=True)],  # unique before fewer fields
        [_index("kj", "k", "j", unique=True), _index("k", "k", unique=True)],
        [_index("k", "k", sparse=True)],
        [_index("k", "k", partial=compile_filter({"k": {"$gt": 0}})), _index("kj", "k", "j")],
        [_index("j", "j"), _index("k", "k", sparse=True), _index("kj", "k", "j")],
    ],
)
async def test_the_fast_paths_index_is_the_planners(indexes: list[Index]) -> None:
    collection = Collection("db", "c")
    for index in indexes:
        collection.add_index(index)
    plan = plan_query(collection, {"k": 1})
    assert plan is not None
    assert planned_index(collection, "k") is plan.index
