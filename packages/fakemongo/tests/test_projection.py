"""find() projections (manual, "Project Fields to Return from Query", "Projection")."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Decimal128, Int64

from fakemongo._collation import parse_collation
from fakemongo._errors import CommandError
from fakemongo._match import compile_filter
from fakemongo._projection import compile_projection

DOC: dict[str, Any] = {
    "_id": 1,
    "a": 1,
    "b": {"c": 2, "d": 3},
    "arr": [{"x": 1, "y": 2}, 5, [{"x": 3, "z": 4}]],
    "nums": [1, 2, 3, 4, 5],
    "grades": [{"g": 80, "m": "A"}, {"g": 95, "m": "B"}, {"g": 90, "m": "C"}],
}


def project(spec: dict[str, Any], doc: dict[str, Any] = DOC, query: Any = None) -> Any:
    projection = compile_projection(spec, query)
    index = compile_filter(query).match_index(doc)[1] if query is not None else None
    return projection.apply(doc, index)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, DOC),
        ({"a": 1}, {"_id": 1, "a": 1}),
        ({"a": True, "_id": 0}, {"a": 1}),
        ({"_id": 0, "a": 1}, {"a": 1}),
        ({"a": 1, "_id": 1}, {"_id": 1, "a": 1}),
        ({"_id": 1}, {"_id": 1}),  # inclusion
        ({"_id": 0}, {k: v for k, v in DOC.items() if k != "_id"}),  # exclusion
        ({"b": 1, "a": Int64(1)}, {"_id": 1, "a": 1, "b": {"c": 2, "d": 3}}),  # doc order
        ({"b.c": 1}, {"_id": 1, "b": {"c": 2}}),
        ({"b": {"c": 1}}, {"_id": 1, "b": {"c": 2}}),
        ({"nope": 1}, {"_id": 1}),
        ({"a.b": 1}, {"_id": 1}),  # a scalar where a document is expected: dropped
        # Inclusion through arrays: documents kept (projected), scalars dropped.
        ({"arr.x": 1, "_id": 0}, {"arr": [{"x": 1}, [{"x": 3}]]}),
        # Exclusion keeps everything else, scalars in arrays included.
        (
            {"arr.x": 0, "b": 0, "nums": 0, "grades": 0},
            {"_id": 1, "a": 1, "arr": [{"y": 2}, 5, [{"z": 4}]]},
        ),
        ({"a": 0, "b.c": 0, "arr": 0, "nums": 0, "grades": 0}, {"_id": 1, "b": {"d": 3}}),
        ({"_id": 1, "a": 0, "b": 0, "arr": 0, "nums": 0, "grades": 0}, {"_id": 1}),
        ({"a": False, "b": 0.0, "arr": Decimal128("0"), "nums": 0, "grades": 0}, {"_id": 1}),
        # Manual, "$slice" (projection).
        ({"nums": {"$slice": 2}}, {**DOC, "nums": [1, 2]}),
        ({"_id": 0, "nums": {"$slice": -2}, "a": 1}, {"a": 1, "nums": [4, 5]}),
        ({"_id": 0, "nums": {"$slice": [1, 2]}, "a": 1}, {"a": 1, "nums": [2, 3]}),
        ({"_id": 0, "nums": {"$slice": [-2, 5]}, "a": 1}, {"a": 1, "nums": [4, 5]}),
        ({"_id": 0, "nums": {"$slice": [-9, 2]}, "a": 1}, {"a": 1, "nums": [1, 2]}),
        ({"_id": 0, "nums": {"$slice": -9}, "a": 1}, {"a": 1, "nums": [1, 2, 3, 4, 5]}),
        ({"_id": 0, "a": {"$slice": 1}, "b": 1}, {"b": {"c": 2, "d": 3}, "a": 1}),
        ({"_id": 1, "nums": {"$slice": 1}}, {"_id": 1, "nums": [1]}),  # _id:1 -> inclusion
        ({"_id": 0, "nope": {"$slice": 1}, "a": 1}, {"a": 1}),
        ({"_id": 0, "nums": {"$slice": 1.9}, "a": 1}, {"a": 1, "nums": [1]}),
        ({"_id": 0, "nums": {"$slice": Decimal128("1")}, "a": 1}, {"a": 1, "nums": [1]}),
        ({"_id": 0, "nums": {"$slice": float("nan")}, "a": 1}, {"a": 1, "nums": []}),
        (
            {"grades.g": {"$slice": 1}, "_id": 0, "a": 0, "b": 0, "arr": 0, "nums": 0},
            {"grades": [{"g": 80, "m": "A"}, {"g": 95, "m": "B"}, {"g": 90, "m": "C"}]},
        ),
        # Manual, "$elemMatch" (projection): the first matching element, after others.
        (
            {"grades": {"$elemMatch": {"g": {"$gt": 85}}}, "a": 1},
            {"_id": 1, "a": 1, "grades": [{"g": 95, "m": "B"}]},
        ),
        ({"grades": {"$elemMatch": {"g": 1}}, "_id": 0}, {}),
        ({"a": {"$elemMatch": {"g": 1}}, "_id": 0}, {}),
        # Expressions and literals (4.4+).
        ({"x": "$b.c", "_id": 0}, {"x": 2}),
        ({"x": {"$literal": 1}, "_id": 0}, {"x": 1}),
        ({"x": "text", "_id": 0}, {"x": "text"}),
        ({"x": None, "_id": 0}, {"x": None}),
        ({"x": "$nope", "_id": 0}, {}),
        ({"x": {"$add": ["$a", 1]}, "a": 1}, {"_id": 1, "a": 1, "x": 2}),
        ({"b.e": {"$literal": 9}, "b.c": 1, "_id": 0}, {"b": {"c": 2, "e": 9}}),
        ({"new.e": {"$literal": 9}, "_id": 0}, {"new": {"e": 9}}),
        ({"a.e": {"$literal": 9}, "_id": 0}, {"a": {"e": 9}}),
        ({"arr.e": {"$literal": 9}, "_id": 0}, {"arr": [{"e": 9}, [{"e": 9}]]}),
    ],
)
def test_projection(spec: dict[str, Any], expected: Any) -> None:
    assert project(spec) == expected


def test_computed_fields_come_after_included_ones() -> None:
    assert list(project({"x": "$a", "b": 1, "_id": 0})) == ["b", "x"]
    assert list(project({"nums": {"$slice": 1}, "a": 1})) == ["_id", "a", "nums"]
    assert list(project({"nums": {"$slice": 1}, "_id": 0})) == [k for k in DOC if k != "_id"]


@pytest.mark.parametrize(
    ("spec", "query", "expected"),
    [
        # Manual, "$ (projection)": the first element matching the query.
        ({"grades.$": 1}, {"grades.g": {"$gte": 90}}, {"_id": 1, "grades": [{"g": 95, "m": "B"}]}),
        ({"nums.$": 1, "_id": 0}, {"nums": {"$gt": 3}}, {"nums": [4]}),
        # The first array along the path is cut to the matched element, whole.
        ({"grades.m.$": 1, "_id": 0}, {"grades.g": 90}, {"grades": [{"g": 90, "m": "C"}]}),
        ({"b.$": 1, "_id": 0}, {"b.c": 2, "nums": 3}, {"b": {"c": 2, "d": 3}}),
        ({"arr.$": 1, "_id": 0}, {"arr": 5}, {"arr": [5]}),
        ({"arr.z.$": 1, "_id": 0}, {"arr": 5}, {"arr": [5]}),
        ({"arr.$": 1, "_id": 0}, {"arr": 5, "nums": 5}, 51247),  # nums' index 4 wins
        ({"b.c.$": 1, "_id": 0}, {"b.c": 2, "nums": 3}, {"b": {"c": 2}}),
        ({"b.q.$": 1, "_id": 0}, {"b.c": 2, "nums": 3}, {"b": {}}),
        ({"a.q.$": 1, "_id": 0}, {"a": 1, "nums": 3}, {}),
        (
            {"grades.$": 1},
            {"$and": [{"grades.g": 95}]},
            {"_id": 1, "grades": [{"g": 95, "m": "B"}]},
        ),
        ({"nums.$": 1, "_id": 0}, {"$and": [{"a": 1}], "nums": 2}, {"nums": [2]}),
        ({"grades.$": 1, "_id": 0}, {"$or": [{"x": 1}, {"grades.g": 95}]}, 51246),
    ],
)
def test_positional(spec: dict[str, Any], query: dict[str, Any], expected: Any) -> None:
    if isinstance(expected, int):
        with pytest.raises(CommandError) as info:
            project(spec, query=query)
        assert info.value.code == expected
        return
    assert project(spec, query=query) == expected


def test_positional_past_the_end() -> None:
    projection = compile_projection({"nums.$": 1}, {"nums": 1})
    with pytest.raises(CommandError) as info:
        projection.apply({"nums": [1]}, 3)
    assert info.value.code == 51247
    assert info.value.errmsg == "positional operator '.$' element mismatch"
    assert projection.positional == ("nums",)


def test_elem_match_uses_the_collation() -> None:
    en = parse_collation({"locale": "en", "strength": 1})
    assert en is not None
    projection = compile_projection({"t": {"$elemMatch": {"$eq": "A"}}}, None, en.key)
    assert projection.apply({"_id": 1, "t": ["b", "a"]}) == {"_id": 1, "t": ["a"]}


ERRORS: list[tuple[dict[str, Any], Any, int, str]] = [
    ({"a": 1, "b": 0}, None, 31254, "Cannot do exclusion on field b in inclusion projection"),
    ({"b": 0, "a": 1}, None, 31253, "Cannot do inclusion on field a in exclusion projection"),
    ({"a": 1, "a.b": 1}, None, 31249, "Path collision at a.b remaining portion b"),
    ({"a.b": 1, "a": 1}, None, 31250, "Path collision at a"),
    ({"x.y": 1, "x": {"y": 1}}, None, 31250, "Path collision at y"),
    ({"a": 1, "a.b": {"c": 1}}, None, 31250, "Path collision at a.b"),
    (
        {"a": 0, "x": {"$add": [1]}},
        None,
        31252,
        "Cannot use expression other than $meta in exclusion projection",
    ),
    (
        {"a": 0, "x": "lit"},
        None,
        31310,
        'Cannot use an expression x: "lit" in an exclusion projection',
    ),
    ({"a": {"$slice": "x"}}, None, 31273, "$slice only supports numbers and [skip, limit] arrays"),
    ({"a": {"$slice": [1]}}, None, 31272, "$slice array argument should be of form [skip, limit]"),
    (
        {"a": {"$slice": ["x", 1]}},
        None,
        31257,
        "$slice expects the skip argument to be a number, got string",
    ),
    (
        {"a": {"$slice": [1, None]}},
        None,
        31258,
        "$slice expects the limit argument to be a number, got null",
    ),
    ({"a": {"$slice": [1, 0]}}, None, 31259, "$slice limit must be positive, got 0"),
    (
        {"a": {"$elemMatch": 1}},
        None,
        31274,
        "elemMatch: Invalid argument, object required, but got int",
    ),
    (
        {"a.b": {"$elemMatch": {}}},
        None,
        31275,
        "Cannot use $elemMatch projection on a nested field.",
    ),
    (
        {"a": {"b": {"$elemMatch": {}}}},
        None,
        31275,
        "Cannot use $elemMatch projection on a nested field.",
    ),
    (
        {"a.$": 1, "b": {"$elemMatch": {}}},
        {"a": 1},
        31255,
        "Cannot specify positional operator and $elemMatch.",
    ),
    (
        {"b": {"$elemMatch": {}}, "a.$": 1},
        {"a": 1},
        31256,
        "Cannot specify positional operator and $elemMatch.",
    ),
    (
        {"a.$": 1, "b.$": 1},
        {"a": 1, "b": 1},
        31276,
        "Cannot specify more than one positional projection per query.",
    ),
    ({"a.$": 1}, None, 51050, "Projections with a positional operator require a matcher"),
    ({"a.$": 1}, {"b": 1}, 31277, "Positional projection 'a.$' does not match the query document."),
    (
        {"a.$": 1},
        {"$expr": {"$eq": ["$a", 1]}},
        31277,
        "Positional projection 'a.$' does not match",
    ),
    (
        {"a": {"b.$": 1}},
        {"b": 1},
        31277,
        "Positional projection 'b.$' does not match the query document.",
    ),
    ({"a.$.": 1}, {"a": 1}, 31270, "Path cannot end with '.$.'"),
    ({"a.$.b.$": 1}, {"a": 1}, 31287, "Cannot use positional operator twice: a.$.b.$"),
    ({"a.$.$": 1}, {"a": 1}, 31287, "Cannot use positional operator twice: a.$.$"),
    (
        {"a.$": {"b": 1}},
        {"a": 1},
        31271,
        "positional projection cannot be used with an expression or sub object",
    ),
    ({"a.$": "x"}, {"a": 1}, 31308, "positional projection cannot be used with a literal"),
    (
        {"a": {}},
        None,
        51270,
        "An empty sub-projection is not a valid value. Found empty object at path",
    ),
    ({"a": {"$meta": "textScore"}}, None, 115, "$meta projections are not supported by fakemongo"),
    ({"a": {"$notAnOperator": 1}}, None, 168, "Unrecognized expression '$notAnOperator'"),
    ({"$a": 1}, None, 16410, "FieldPath field names may not start with '$'."),
    ({"a..b": 0}, None, 15998, "FieldPath field names may not be empty strings."),
]


@pytest.mark.parametrize(("spec", "query", "code", "message"), ERRORS)
def test_errors(spec: dict[str, Any], query: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        compile_projection(spec, query)
    assert info.value.code == code
    assert info.value.errmsg.startswith(message)


def test_positional_inside_a_sub_object() -> None:
    projection = compile_projection({"a": {"b.$": 1}}, {"a.b": 1})
    assert projection.positional == ("a", "b")
    assert projection.apply({"_id": 0, "a": {"b": [0, 1]}}, 1) == {"_id": 0, "a": {"b": [1]}}
