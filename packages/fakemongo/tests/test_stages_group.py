"""$group and its accumulators (manual, "$group (aggregation)" and the accumulator pages)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest
from bson import Decimal128, Int64
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._aggregate import compile_pipeline
from fakemongo._collation import Collation
from fakemongo._errors import CommandError


class Context:
    db = "test"
    string_key: Any = None
    variables: dict[str, Any] = {}  # noqa: RUF012 - read only

    def collection_documents(self, db: str, coll: str) -> Iterable[dict[str, Any]]:
        return []

    def write_out(self, db: str, coll: str, docs: list[dict[str, Any]]) -> None:
        raise AssertionError("not used")

    def merge_target(self, db: str, coll: str) -> Any:
        raise AssertionError("not used")


def group(spec: dict[str, Any], docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(compile_pipeline([{"$group": spec}]).run(docs, Context()))


def one(spec: dict[str, Any], docs: list[dict[str, Any]]) -> Any:
    (out,) = group({"_id": None, "v": spec}, docs)
    return out["v"]


SALES = [
    {"_id": 1, "item": "abc", "price": 10, "quantity": 2},
    {"_id": 2, "item": "jkl", "price": 20, "quantity": 1},
    {"_id": 3, "item": "xyz", "price": 5, "quantity": 10},
    {"_id": 4, "item": "xyz", "price": 5, "quantity": 20},
    {"_id": 5, "item": "abc", "price": 10, "quantity": 10},
]


def test_group_by_item() -> None:
    # Manual, "$group": the total sale amount, average quantity and count per item.
    out = group(
        {
            "_id": "$item",
            "total": {"$sum": {"$multiply": ["$price", "$quantity"]}},
            "avgQty": {"$avg": "$quantity"},
            "count": {"$count": {}},
            "ids": {"$push": "$_id"},
        },
        SALES,
    )
    assert out == [
        {"_id": "abc", "total": 120, "avgQty": 6.0, "count": 2, "ids": [1, 5]},
        {"_id": "jkl", "total": 20, "avgQty": 1.0, "count": 1, "ids": [2]},
        {"_id": "xyz", "total": 150, "avgQty": 15.0, "count": 2, "ids": [3, 4]},
    ]
    assert list(out[0]) == ["_id", "total", "avgQty", "count", "ids"]


def test_no_input_no_output() -> None:
    assert group({"_id": None, "n": {"$sum": 1}}, []) == []


@pytest.mark.parametrize(
    ("key", "docs", "expected"),
    [
        # A missing _id value groups with null.
        ("$a", [{"a": None}, {}, {"a": 1}], [None, 1]),
        # 1, 1.0 and NumberLong(1) are one group; the first value is reported.
        ("$a", [{"a": 1.0}, {"a": Int64(1)}, {"a": 1}], [1.0]),
        # Composite keys leave missing members out, so {} differs from {a: null}.
        ({"a": "$a"}, [{"a": None}, {}, {}], [{"a": None}, {}]),
        (
            {"a": "$a", "b": {"$add": ["$b", 1]}},
            [{"a": 1, "b": 1}, {"a": 1, "b": 1.0}],
            [{"a": 1, "b": 2}],
        ),
        ({}, [{"a": 1}, {"a": 2}], [{}]),
        ({"$toLower": "$s"}, [{"s": "A"}, {"s": "a"}], ["a"]),
        ("$arr", [{"arr": [1, 2]}, {"arr": [1, 2]}, {"arr": [2, 1]}], [[1, 2], [2, 1]]),
    ],
)
def test_group_keys(key: Any, docs: list[dict[str, Any]], expected: list[Any]) -> None:
    out = group({"_id": key, "n": {"$sum": 1}}, docs)
    assert [doc["_id"] for doc in out] == expected


@pytest.mark.parametrize(
    ("accumulator", "values", "expected"),
    [
        # Manual, "$sum": non-numeric values are ignored; the type widens as needed.
        ({"$sum": "$v"}, [1, 2, "x", None, [5]], 3),
        ({"$sum": "$v"}, [], 0),
        ({"$sum": "$v"}, [2**31 - 1, 1], Int64(2**31)),
        ({"$sum": "$v"}, [Int64(2**63 - 1), 1], float(2**63)),
        ({"$sum": "$v"}, [1, 2.5], 3.5),
        ({"$sum": "$v"}, [0.1, 0.2, 0.3], 0.6),  # summed exactly, rounded once
        # Doubles enter a decimal sum with their exact binary values (34 digits).
        (
            {"$sum": "$v"},
            [Decimal128("0.1"), 0.2, 1],
            Decimal128("1.300000000000000011102230246251565"),
        ),
        ({"$sum": "$v"}, [Decimal128("0.1"), 1], Decimal128("1.1")),
        ({"$sum": "$v"}, [1.7e308, 1.7e308], math.inf),
        ({"$sum": "$v"}, [-1.7e308, -1.7e308], -math.inf),
        ({"$sum": "$v"}, [Decimal128("1"), math.inf], Decimal128("Infinity")),
        ({"$sum": 1}, [None, None], 2),
        ({"$avg": "$v"}, [1, 2, "x"], 1.5),
        ({"$avg": "$v"}, ["x"], None),
        ({"$avg": "$v"}, [Decimal128("1"), 2], Decimal128("1.5")),
        # Manual, "$min"/"$max": null and missing are ignored; BSON order otherwise.
        ({"$min": "$v"}, [None, 3, "a", 1], 1),
        ({"$max": "$v"}, [None, 3, "a", 1], "a"),
        ({"$max": "$v"}, [None, None], None),
        ({"$max": "$v"}, [[1, 2], [3]], [3]),
        # Manual, "$first"/"$last": a missing value is null.
        ({"$first": "$v"}, ["MISSING", 2], None),
        ({"$first": "$v"}, [1, 2], 1),
        ({"$last": "$v"}, [1, "MISSING"], None),
        ({"$last": "$v"}, [1, 2], 2),
        # Manual, "$push"/"$addToSet": missing values are skipped, null kept.
        ({"$push": "$v"}, [1, "MISSING", None, 1], [1, None, 1]),
        ({"$addToSet": "$v"}, [1, 1.0, "MISSING", [1], [1], None], [1, [1], None]),
        ({"$addToSet": "$v"}, [], []),
        ({"$mergeObjects": "$v"}, [{"a": 1}, None, {"a": 2, "b": 1}], {"a": 2, "b": 1}),
        ({"$mergeObjects": "$v"}, [], {}),
        ({"$stdDevPop": "$v"}, [2, 4, 4, 4, 5, 5, 7, 9], 2.0),
        ({"$stdDevSamp": "$v"}, [1, 2, 3, 4], statistics.stdev([1, 2, 3, 4])),
        ({"$stdDevSamp": "$v"}, [1, "x"], None),
        ({"$stdDevPop": "$v"}, [], None),
    ],
)
def test_accumulators(accumulator: dict[str, Any], values: list[Any], expected: Any) -> None:
    docs = [{} if value == "MISSING" else {"v": value} for value in values] or [{}]
    result = one(accumulator, docs)
    assert (type(result), result) == (type(expected), expected)


def test_add_to_set_and_min_use_the_collation() -> None:
    pipeline = compile_pipeline(
        [{"$group": {"_id": None, "s": {"$addToSet": "$v"}, "m": {"$max": "$v"}}}],
        string_key=Collation("en", 2).key,
    )
    (out,) = pipeline.run([{"v": "b"}, {"v": "B"}, {"v": "a"}], Context())
    assert out == {"_id": None, "s": ["b", "a"], "m": "b"}


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        (1, 15947, "a group's fields must be specified in an object"),
        ({"n": {"$sum": 1}}, 15955, "a group specification must include an _id"),
        ({"_id": None, "n": 1}, 40234, "The field 'n' must be an accumulator object"),
        ({"_id": None, "n": {}}, 40234, "The field 'n' must be an accumulator object"),
        ({"_id": None, "n": {"a": 1}}, 40234, "The field 'n' must be an accumulator object"),
        ({"_id": None, "n.m": {"$sum": 1}}, 40235, "The field name 'n.m' cannot contain '.'"),
        ({"_id": None, "$n": {"$sum": 1}}, 40236, "The field name '$n' cannot be an operator name"),
        (
            {"_id": None, "n": {"$sum": 1, "$avg": 1}},
            40238,
            "The field 'n' must specify one accumulator",
        ),
        ({"_id": None, "n": {"$sum": [1, 2]}}, 40237, "The $sum accumulator is a unary operator"),
        ({"_id": None, "n": {"$foo": 1}}, 15952, "unknown group operator '$foo'"),
        (
            {"_id": None, "n": {"$top": {}}},
            115,
            "the $top accumulator is not supported by fakemongo",
        ),
        ({"_id": None, "n": {"$count": 1}}, 14, "$count takes no arguments, i.e. $count: {}"),
        (
            {"_id": None, "n": {"$count": {"a": 1}}},
            14,
            "$count takes no arguments, i.e. $count: {}",
        ),
        ({"_id": {"a": 1}}, 17390, "$group does not support inclusion-style expressions"),
        ({"_id": {"a": True}}, 17390, "$group does not support inclusion-style expressions"),
        ({"_id": "$$nope"}, 17276, "Use of undefined variable: nope"),
        ({"_id": None, "n": {"$sum": "$$nope"}}, 17276, "Use of undefined variable: nope"),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        compile_pipeline([{"$group": spec}])
    assert (info.value.code, info.value.errmsg) == (code, message)


def test_merge_objects_refuses_non_objects() -> None:
    with pytest.raises(CommandError) as info:
        one({"$mergeObjects": "$v"}, [{"v": 1}])
    assert (info.value.code, info.value.errmsg) == (
        40400,
        "$mergeObjects requires object inputs, but input 1 is of type int",
    )


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-(2**20), 2**20)), max_size=40))
def test_sum_count_and_avg_match_python(rows: list[tuple[int, int]]) -> None:
    docs = [{"k": k, "v": v} for k, v in rows]
    out = group(
        {
            "_id": "$k",
            "s": {"$sum": "$v"},
            "n": {"$sum": 1},
            "a": {"$avg": "$v"},
            "lo": {"$min": "$v"},
        },
        docs,
    )
    expected: dict[int, list[int]] = defaultdict(list)
    for k, v in rows:
        expected[k].append(v)
    assert {d["_id"]: (d["s"], d["n"], d["a"], d["lo"]) for d in out} == {
        k: (sum(vs), len(vs), sum(vs) / len(vs), min(vs)) for k, vs in expected.items()
    }
    assert [d["_id"] for d in out] == list(expected)  # first-appearance order


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=30))
def test_double_sum_is_correctly_rounded(values: list[float]) -> None:
    docs = [{"v": v} for v in values] or [{}]
    result = one({"$sum": "$v"}, docs)
    assert result == (math.fsum(values) if values else 0)
