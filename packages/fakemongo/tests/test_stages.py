"""The simple stages: $match $skip $limit $count $sort $sample $unwind $replaceRoot
$replaceWith $sortByCount $documents (manual, "Aggregation Pipeline Stages")."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from typing import Any

import pytest
from bson import Decimal128, Int64
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._aggregate import compile_pipeline
from fakemongo._errors import CommandError
from fakemongo._stages import set_path, value_repr

NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


class Context:
    db = "test"
    string_key: Any = None

    def __init__(self) -> None:
        self.variables: dict[str, Any] = {}

    def collection_documents(self, db: str, coll: str) -> Iterable[dict[str, Any]]:
        return []

    def write_out(self, db: str, coll: str, docs: list[dict[str, Any]]) -> None:
        raise AssertionError("not used")

    def merge_target(self, db: str, coll: str) -> Any:
        raise AssertionError("not used")


def run(pipeline: list[Any], docs: list[Any], **options: Any) -> list[dict[str, Any]]:
    compiled = compile_pipeline(pipeline, clock=lambda: NOW, rng=random.Random(3), **options)
    return list(compiled.run(docs, Context()))


def fails(pipeline: list[Any], code: int, message: str, docs: list[Any] | None = None) -> None:
    with pytest.raises(CommandError) as info:
        run(pipeline, docs or [{"_id": 1}])
    assert (info.value.code, info.value.errmsg) == (code, message)


DOCS: list[dict[str, Any]] = [
    {"_id": 1, "a": 3, "tags": ["x", "y"]},
    {"_id": 2, "a": 1, "tags": []},
    {"_id": 3, "a": 2, "tags": "z"},
    {"_id": 4, "tags": None},
    {"_id": 5},
]


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        ([{"$match": {"a": {"$gte": 2}}}], [1, 3]),
        # Manual, "$expr": aggregation comparison, where missing sorts below everything.
        ([{"$match": {"$expr": {"$lt": ["$a", 3]}}}], [2, 3, 4, 5]),
        ([{"$match": {"$expr": {"$eq": ["$a", "$$want"]}}}], [3]),
        ([{"$skip": 3}], [4, 5]),
        ([{"$skip": Int64(0)}], [1, 2, 3, 4, 5]),
        ([{"$skip": 2.0}, {"$limit": Decimal128("2")}], [3, 4]),
        ([{"$limit": 2}], [1, 2]),
        ([{"$limit": 50}], [1, 2, 3, 4, 5]),
        # Manual, "$sort": missing sorts like null, before numbers.
        ([{"$sort": {"a": 1}}], [4, 5, 2, 3, 1]),
        ([{"$sort": {"a": -1, "_id": 1}}], [1, 3, 2, 4, 5]),
    ],
)
def test_filtering_and_ordering(pipeline: list[Any], expected: list[int]) -> None:
    out = run(pipeline, DOCS, variables={"want": 2})
    assert [doc["_id"] for doc in out] == expected


def test_stages_do_not_modify_their_input() -> None:
    docs = [{"_id": 1, "a": {"b": [1, 2]}}]
    run([{"$unwind": "$a.b"}, {"$sort": {"a.b": -1}}, {"$addFields": {"a.c": 1}}], docs)
    assert docs == [{"_id": 1, "a": {"b": [1, 2]}}]


def test_count() -> None:
    assert run([{"$count": "n"}], DOCS) == [{"n": 5}]
    assert run([{"$match": {"a": 9}}, {"$count": "n"}], DOCS) == []  # no input, no output


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$unwind": a non-array value is a one-element array; null,
        # missing and [] produce nothing unless preserveNullAndEmptyArrays.
        ("$tags", [(1, "x"), (1, "y"), (3, "z")]),
        ({"path": "$tags"}, [(1, "x"), (1, "y"), (3, "z")]),
        (
            {"path": "$tags", "preserveNullAndEmptyArrays": True},
            [(1, "x"), (1, "y"), (2, "-"), (3, "z"), (4, None), (5, "-")],
        ),
    ],
)
def test_unwind(spec: Any, expected: list[tuple[int, Any]]) -> None:
    out = run([{"$unwind": spec}], DOCS)
    assert [(doc["_id"], doc.get("tags", "-")) for doc in out] == expected


def test_unwind_index_and_nested_paths() -> None:
    docs = [{"_id": 1, "o": {"arr": [{"v": 1}, {"v": 2}], "k": 0}, "z": 1}, {"_id": 2, "o": 5}]
    out = run([{"$unwind": {"path": "$o.arr", "includeArrayIndex": "meta.i"}}], docs)
    assert out == [
        {"_id": 1, "o": {"arr": {"v": 1}, "k": 0}, "z": 1, "meta": {"i": Int64(0)}},
        {"_id": 1, "o": {"arr": {"v": 2}, "k": 0}, "z": 1, "meta": {"i": Int64(1)}},
    ]
    assert type(out[1]["meta"]["i"]) is Int64
    out = run(
        [
            {
                "$unwind": {
                    "path": "$tags",
                    "includeArrayIndex": "i",
                    "preserveNullAndEmptyArrays": True,
                }
            }
        ],
        DOCS[1:4],
    )
    assert out == [
        {"_id": 2, "a": 1, "i": None},  # the empty array is removed
        {"_id": 3, "a": 2, "tags": "z", "i": None},
        {"_id": 4, "tags": None, "i": None},
    ]


def test_unwind_does_not_traverse_arrays_along_the_path() -> None:
    assert run([{"$unwind": "$a.b"}], [{"_id": 1, "a": [{"b": [1]}]}]) == []


def test_replace_root_and_with() -> None:
    docs = [{"_id": 1, "in": {"x": 1}}, {"_id": 2, "in": {"y": 2}}]
    assert run([{"$replaceRoot": {"newRoot": "$in"}}], docs) == [{"x": 1}, {"y": 2}]
    assert run([{"$replaceWith": {"$mergeObjects": [{"d": 0}, "$in"]}}], docs) == [
        {"d": 0, "x": 1},
        {"d": 0, "y": 2},
    ]


def test_sort_by_count() -> None:
    docs = [{"t": "a"}, {"t": "b"}, {"t": "a"}, {"u": 1}]
    # Manual, "$sortByCount": {$group: {_id: <expr>, count: {$sum: 1}}}, {$sort: {count: -1}}.
    assert run([{"$sortByCount": "$t"}], docs) == [
        {"_id": "a", "count": 2},
        {"_id": "b", "count": 1},
        {"_id": None, "count": 1},
    ]
    assert run([{"$sortByCount": {"$toUpper": "$t"}}], docs)[0] == {"_id": "A", "count": 2}


def test_sample() -> None:
    docs = [{"_id": i} for i in range(20)]
    out = run([{"$sample": {"size": 5}}], docs)
    assert len(out) == 5
    assert len({d["_id"] for d in out}) == 5
    assert sorted(d["_id"] for d in run([{"$sample": {"size": 50}}], docs)) == list(range(20))
    assert len(run([{"$sample": {"size": 2.9}}], docs)) == 2  # the size truncates
    assert len(run([{"$sample": {"size": Decimal128("1e40")}}], docs)) == 20


def test_documents() -> None:
    # Manual, "$documents": literal documents, as the first stage.
    assert run([{"$documents": [{"x": 1}, {"x": "$$NOW"}]}], DOCS) == [{"x": 1}, {"x": NOW}]
    assert run([{"$documents": {"$map": {"input": [1, 2], "in": {"v": "$$this"}}}}], []) == [
        {"v": 1},
        {"v": 2},
    ]


@pytest.mark.parametrize(
    ("pipeline", "code", "message"),
    [
        ([{"$match": 1}], 15959, "the match filter must be an expression in an object"),
        ([{"$match": {"$expr": "$$x"}}], 17276, "Use of undefined variable: x"),
        (
            [{"$skip": "x"}],
            5107200,
            'invalid argument to $skip stage: Expected a number in: $skip: "x"',
        ),
        (
            [{"$skip": -1}],
            5107200,
            "invalid argument to $skip stage: Expected a non-negative number in: $skip: -1",
        ),
        (
            [{"$skip": 1.5}],
            5107200,
            "invalid argument to $skip stage: Expected an integer: $skip: 1.5",
        ),
        (
            [{"$limit": -1.0}],
            5107201,
            "invalid argument to $limit stage: Expected a non-negative number in: $limit: -1.0",
        ),
        ([{"$limit": 0}], 15958, "the limit must be positive"),
        ([{"$count": 1}], 40156, "the count field must be a non-empty string"),
        ([{"$count": ""}], 40157, "the count field must be a non-empty string"),
        ([{"$count": "$n"}], 40158, "the count field cannot be a $-prefixed path"),
        ([{"$count": "a\0b"}], 40159, "the count field cannot contain a null byte"),
        ([{"$count": "a.b"}], 40160, "the count field cannot contain '.'"),
        ([{"$sort": 1}], 15973, "the $sort key specification must be an object"),
        ([{"$sort": {}}], 15976, "$sort stage must have at least one sort key"),
        (
            [{"$sort": {"a": 2}}],
            15975,
            "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
        ),
        ([{"$sample": 5}], 28745, "the $sample stage specification must be an object"),
        ([{"$sample": {"size": "5"}}], 28746, "size argument to $sample must be a number"),
        ([{"$sample": {"size": 1, "x": 1}}], 28748, "unrecognized option to $sample: x"),
        ([{"$sample": {}}], 28749, "$sample stage must specify a size"),
        ([{"$sample": {"size": -1}}], 28747, "size argument to $sample must be a positive integer"),
        (
            [{"$sample": {"size": float("nan")}}],
            28747,
            "size argument to $sample must be a positive integer",
        ),
        (
            [{"$sample": {"size": -1e300}}],
            28747,
            "size argument to $sample must be a positive integer",
        ),
        (
            [{"$unwind": 1}],
            15981,
            "expected either a string or an object as specification for $unwind stage, got int",
        ),
        (
            [{"$unwind": {"path": 1}}],
            28808,
            "expected a string as the path for $unwind stage, got int",
        ),
        (
            [{"$unwind": {"path": "$a", "preserveNullAndEmptyArrays": 1}}],
            28809,
            "expected a "
            "boolean for the preserveNullAndEmptyArrays option to $unwind stage, got int",
        ),
        (
            [{"$unwind": {"path": "$a", "includeArrayIndex": ""}}],
            28810,
            "expected a non-empty "
            "string for the includeArrayIndex  option to $unwind stage, got string",
        ),
        (
            [{"$unwind": {"path": "$a", "includeArrayIndex": "$i"}}],
            28822,
            "includeArrayIndex option to $unwind stage should not be prefixed with a '$': $i",
        ),
        ([{"$unwind": {"path": "$a", "x": 1}}], 28811, "unrecognized option to $unwind stage: x"),
        ([{"$unwind": {}}], 28812, "no path specified to $unwind stage"),
        (
            [{"$unwind": "a"}],
            28818,
            "path option to $unwind stage should be prefixed with a '$': a",
        ),
        ([{"$unwind": "$"}], 40352, "FieldPath cannot be constructed with empty string"),
        (
            [{"$unwind": "$a.$b"}],
            16410,
            "FieldPath field names may not start with '$'. Consider using $getField or $setField.",
        ),
        (
            [{"$replaceRoot": 1}],
            40229,
            "expected an object as specification for $replaceRoot stage, got int",
        ),
        ([{"$replaceRoot": {"x": 1}}], 40415, "BSON field '$replaceRoot.x' is an unknown field."),
        (
            [{"$replaceRoot": {}}],
            40414,
            "BSON field '$replaceRoot.newRoot' is missing but a required field",
        ),
        (
            [{"$replaceRoot": {"newRoot": "$a"}}],
            40228,
            "'newRoot' expression must evaluate to an "
            "object, but resulting value was: 1. Type of resulting value: 'int'. Input document: "
            "{_id: 1, a: 1}",
        ),
        (
            [{"$replaceWith": "$nope"}],
            40228,
            "'replacement document' must evaluate to an object, "
            "but resulting value was: MISSING. Type of resulting value: 'missing'. Input document: "
            "{_id: 1, a: 1}",
        ),
        (
            [{"$sortByCount": {"a": 1}}],
            40147,
            "the sortByCount field must be defined as a "
            "$-prefixed path or an expression inside an object",
        ),
        (
            [{"$sortByCount": {}}],
            40147,
            "the sortByCount field must be defined as a $-prefixed "
            "path or an expression inside an object",
        ),
        (
            [{"$sortByCount": "a"}],
            40148,
            "the sortByCount field must be defined as a $-prefixed "
            "path or an expression inside an object",
        ),
        (
            [{"$sortByCount": 1}],
            40149,
            "the sortByCount field must be specified as a string or as an object",
        ),
        ([{"$documents": 1}], 5858203, "an array is expected"),
        (
            [{"$documents": [1]}],
            40228,
            "'newRoot' expression must evaluate to an object, but "
            "resulting value was: 1. Type of resulting value: 'int'. Input document: "
            "{_tempDocuments: 1}",
        ),
    ],
)
def test_errors(pipeline: list[Any], code: int, message: str) -> None:
    fails(pipeline, code, message, [{"_id": 1, "a": 1}])


def test_set_path_replaces_scalars_along_the_way() -> None:
    assert set_path({"a": 1, "b": 2}, ("a", "c"), 3) == {"a": {"c": 3}, "b": 2}
    assert set_path({"a": {"c": 1, "d": 2}}, ("a", "c"), 5) == {"a": {"c": 5, "d": 2}}


def test_value_repr() -> None:
    assert value_repr({"a": [1.0, "x"]}) == '{a: [1, "x"]}'


@given(st.lists(st.integers(0, 3), max_size=25))
def test_unwind_then_count_equals_total_length(lengths: list[int]) -> None:
    docs = [{"_id": i, "v": list(range(n))} for i, n in enumerate(lengths)]
    out = run([{"$unwind": "$v"}, {"$count": "n"}], docs)
    assert out == ([{"n": sum(lengths)}] if sum(lengths) else [])
