"""Array update operators (manual, "Array Update Operators"): $push with its modifiers
$each $position $sort $slice, $addToSet, $pop, $pull and $pullAll."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bson import Decimal128, Int64, Regex

from fakemongo._errors import CommandError
from fakemongo._update import compile_update

Doc = dict[str, Any]


def apply(spec: Doc, doc: Doc, **options: Any) -> tuple[Doc, bool]:
    return compile_update(spec, string_key=options.pop("string_key", None)).apply(doc, **options)


def failure(spec: Doc, doc: Doc | None = None) -> tuple[int, str]:
    """The error of compiling ``spec`` or, given ``doc``, of applying it (which compiles)."""
    if doc is None:
        with pytest.raises(CommandError) as caught:
            compile_update(spec)
    else:
        update = compile_update(spec)
        with pytest.raises(CommandError) as caught:
            update.apply(doc)
    return caught.value.code, caught.value.errmsg


# ---------------------------------------------------------------- $push


@pytest.mark.parametrize(
    ("push", "old", "new", "modified"),
    [
        # Manual, "$push": append one value (an array is one value)...
        (89, [1], [1, 89], True),
        ([1, 2], [0], [0, [1, 2]], True),
        ({"a": 1, "$slice": 1}, [], [{"a": 1, "$slice": 1}], True),
        # ...or each of $each.
        ({"$each": [90, 92]}, [1], [1, 90, 92], True),
        ({"$each": []}, [1], [1], False),
        # $position: an index from the start, or from the end when negative.
        ({"$each": [50, 60], "$position": 0}, [1, 2], [50, 60, 1, 2], True),
        ({"$each": [50], "$position": 1}, [1, 2], [1, 50, 2], True),
        ({"$each": [50], "$position": 2}, [1, 2], [1, 2, 50], True),
        ({"$each": [50], "$position": 9}, [1, 2], [1, 2, 50], True),
        ({"$each": [50], "$position": -1}, [1, 2], [1, 50, 2], True),
        ({"$each": [50], "$position": -2}, [1, 2], [50, 1, 2], True),
        ({"$each": [50], "$position": -9}, [1, 2], [50, 1, 2], True),
        ({"$each": [50], "$position": -1}, [], [50], True),
        ({"$each": [50], "$position": 2.0}, [1, 2, 3], [1, 2, 50, 3], True),
        ({"$each": [50], "$position": Decimal128("1")}, [1, 2], [1, 50, 2], True),
        # $slice keeps the first (positive) or last (negative) elements; 0 empties.
        ({"$each": [80, 78, 86], "$slice": -5}, [89, 90], [89, 90, 80, 78, 86], True),
        ({"$each": [100, 20], "$slice": 3}, [89, 90], [89, 90, 100], True),
        ({"$each": [], "$slice": 0}, [89, 90], [], True),
        ({"$each": [], "$slice": 2}, [1, 2], [1, 2], False),
        ({"$each": [], "$slice": -1}, [1, 2], [2], True),
        ({"$each": [3], "$slice": Int64(-(2**63))}, [1, 2], [1, 2, 3], True),
        # $sort: whole elements by BSON order, or documents by fields; a sort counts as
        # a change even when the order holds (push_node.cpp).
        ({"$each": [40, 60], "$sort": 1}, [89, 70], [40, 60, 70, 89], True),
        ({"$each": [], "$sort": -1}, [1, "a", None], ["a", 1, None], True),
        ({"$each": [], "$sort": 1}, [1, 2], [1, 2], True),
        (
            {"$each": [{"id": 3, "score": 6}], "$sort": {"score": 1}, "$slice": -2},
            [{"id": 1, "score": 7}, {"id": 2, "score": 6}, {"id": 0, "score": 9}],
            [{"id": 1, "score": 7}, {"id": 0, "score": 9}],
            True,
        ),
        (
            # Ties keep their order; fields compare in pattern order.
            {"$each": [], "$sort": {"a": -1, "b": 1}},
            [{"a": 1, "b": 2}, {"a": 2, "b": 9}, {"a": 1, "b": 1}, {"a": 2, "b": 9, "c": 0}],
            [{"a": 2, "b": 9}, {"a": 2, "b": 9, "c": 0}, {"a": 1, "b": 1}, {"a": 1, "b": 2}],
            True,
        ),
        (
            # A missing sort field sorts as null, as does a scalar element; dotted fields
            # reach embedded documents and array indexes, never traverse arrays.
            {"$each": [], "$sort": {"x.y": 1}},
            [{"x": {"y": 3}}, 5, {"x": [{"y": 0}]}, {"x": {"y": 1}}, {}],
            [5, {"x": [{"y": 0}]}, {}, {"x": {"y": 1}}, {"x": {"y": 3}}],
            True,
        ),
        (
            {"$each": [], "$sort": {"x.1": -1}},
            [{"x": [5, 1]}, {"x": [0, 2]}, {"x": [9]}, {"x": {"01": 9}}],
            [{"x": [0, 2]}, {"x": [5, 1]}, {"x": [9]}, {"x": {"01": 9}}],
            True,
        ),
        # Applied in the order $position, $sort, $slice whatever the order given.
        ({"$slice": 2, "$sort": -1, "$each": [5, 0]}, [3], [5, 3], True),
    ],
)
def test_push(push: Any, old: list[Any], new: list[Any], modified: bool) -> None:
    out, changed = apply({"$push": {"a": push}}, {"_id": 1, "a": old})
    assert out["a"] == new
    assert changed == modified


def test_push_creates_the_array() -> None:
    # Manual, "$push": a missing field becomes an array holding the value(s).
    assert apply({"$push": {"a": 1}}, {"_id": 1}) == ({"_id": 1, "a": [1]}, True)
    spec = {"$push": {"a": {"$each": [3, 1, 2], "$sort": 1, "$slice": 2}}}
    assert apply(spec, {"_id": 1}) == ({"_id": 1, "a": [1, 2]}, True)
    assert apply({"$push": {"a": {"$each": []}}}, {"_id": 1}) == ({"_id": 1, "a": []}, True)


def test_push_sorts_with_the_collation() -> None:
    spec = {"$push": {"a": {"$each": ["B"], "$sort": 1}}}
    assert apply(spec, {"_id": 1, "a": ["c", "a"]}, string_key=str.lower)[0]["a"] == ["a", "B", "c"]
    spec = {"$push": {"a": {"$each": [{"k": "B"}], "$sort": {"k": 1}}}}
    out, _ = apply(spec, {"_id": 1, "a": [{"k": "c"}, {"k": "a"}]}, string_key=str.lower)
    assert out["a"] == [{"k": "a"}, {"k": "B"}, {"k": "c"}]


@pytest.mark.parametrize(
    ("push", "message"),
    [
        ({"$each": [1, 2, 3], "$illegal": 1}, "Unrecognized clause in $push: $illegal"),
        ({"$each": 1}, "The argument to $each in $push must be an array but it was of type: int"),
        (
            {"$each": [1], "$slice": "abc"},
            "The value for $slice must be an integer value but was given type: string",
        ),
        (
            {"$each": [1], "$slice": 1.5},
            "The value for $slice must be an integer value but was given type: double",
        ),
        (
            {"$each": [1], "$sort": "abc"},
            "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort "
            "embedded "
            "fields",
        ),
        ({"$each": [1], "$sort": 2}, "The $sort element value must be either 1 or -1"),
        (
            {"$each": [1], "$sort": {}},
            "The $sort pattern is empty when it should be a set of fields.",
        ),
        ({"$each": [1], "$sort": {"a": 0}}, "The $sort element value must be either 1 or -1"),
        ({"$each": [1], "$sort": {"a": True}}, "The $sort element value must be either 1 or -1"),
        ({"$each": [1], "$sort": {"": 1}}, "The $sort field cannot be empty"),
        (
            {"$each": [1], "$sort": {"a..b": 1}},
            "The $sort field is a dotted field but has an empty part: a..b",
        ),
        (
            {"$each": [1], "$position": "abc"},
            "The value for $position must be an integer value, not of type: string",
        ),
    ],
)
def test_push_argument_errors(push: Any, message: str) -> None:
    assert failure({"$push": {"a": push}}) == (2, message)


def test_push_on_a_non_array() -> None:
    assert failure({"$push": {"field": "value"}}, {"_id": 1, "field": "x"}) == (
        2,
        "The field 'field' must be an array but is of type string in document {_id: 1}",
    )
    assert failure({"$push": {"a.b": 1}}, {"a": {"b": 5}}) == (
        2,
        "The field 'a.b' must be an array but is of type int in document {no id}",
    )


# ---------------------------------------------------------------- $addToSet


@pytest.mark.parametrize(
    ("add", "old", "new", "modified"),
    [
        # Manual, "$addToSet": add the value unless already present.
        ("accessories", ["a"], ["a", "accessories"], True),
        ("a", ["a"], ["a"], False),
        # BSON equality: 1 == 1.0, documents must match field by field in order.
        (1.0, [1], [1], False),
        ({"a": 1, "b": 2}, [{"b": 2, "a": 1}], [{"b": 2, "a": 1}, {"a": 1, "b": 2}], True),
        ([1, 2], [1, 2], [1, 2, [1, 2]], True),
        # $each adds each new value once, in order.
        (
            {"$each": ["camera", "electronics", "camera", "a"]},
            ["a"],
            ["a", "camera", "electronics"],
            True,
        ),
        ({"$each": []}, ["a"], ["a"], False),
        # Only a first field named $each makes $each.
        ({"key": 2, "$each": [1]}, [], [{"key": 2, "$each": [1]}], True),
    ],
)
def test_add_to_set(add: Any, old: list[Any], new: list[Any], modified: bool) -> None:
    out, changed = apply({"$addToSet": {"a": add}}, {"_id": 1, "a": old})
    assert out["a"] == new
    assert changed == modified


def test_add_to_set_creates_and_uses_the_collation() -> None:
    spec = {"$addToSet": {"a": {"$each": [1, 1, 2]}}}
    assert apply(spec, {"_id": 1}) == ({"_id": 1, "a": [1, 2]}, True)
    spec = {"$addToSet": {"a": {"$each": ["X", "x", "y"]}}}
    assert apply(spec, {"_id": 1, "a": ["x"]}, string_key=str.lower)[0] == {
        "_id": 1,
        "a": ["x", "y"],
    }


@pytest.mark.parametrize(
    ("spec", "doc", "code", "message"),
    [
        (
            {"$addToSet": {"a": {"$each": 1}}},
            None,
            14,
            "The argument to $each in $addToSet must be an array but it was of type int",
        ),
        (
            {"$addToSet": {"value": {"$each": [1, 2, 3], "$slice": 2}}},
            None,
            2,
            "Found unexpected fields after $each in $addToSet: { $each: [ 1, 2, 3 ], $slice: 2 }",
        ),
        (
            {"$addToSet": {"a.b": 1}},
            {"_id": 1, "a": {"b": "x"}},
            2,
            "Cannot apply $addToSet to non-array field. Field named 'b' has non-array type string",
        ),
    ],
)
def test_add_to_set_errors(spec: Doc, doc: Doc | None, code: int, message: str) -> None:
    assert failure(spec, doc) == (code, message)


# ---------------------------------------------------------------- $pop


@pytest.mark.parametrize(
    ("spec", "doc", "expected", "modified"),
    [
        # Manual, "$pop": -1 removes the first element, 1 the last.
        ({"$pop": {"a": -1}}, {"a": [8, 9, 10]}, {"a": [9, 10]}, True),
        ({"$pop": {"a": 1}}, {"a": [8, 9, 10]}, {"a": [8, 9]}, True),
        ({"$pop": {"a": 1.0}}, {"a": [8]}, {"a": []}, True),
        ({"$pop": {"a": Int64(-1)}}, {"a": [8]}, {"a": []}, True),
        ({"$pop": {"a": 1}}, {"a": []}, {"a": []}, False),
        # A missing field, or one past an array's end, changes nothing.
        ({"$pop": {"b": 1}}, {"a": []}, {"a": []}, False),
        ({"$pop": {"a.b.c": 1}}, {"a": {"b": {}}}, {"a": {"b": {}}}, False),
        (
            {"$pop": {"a.2.b": 1}},
            {"a": [{"b": [0]}, {"b": [1]}]},
            {"a": [{"b": [0]}, {"b": [1]}]},
            False,
        ),
        ({"$pop": {"a.0.b": 1}}, {"a": [{"b": [0, 1]}]}, {"a": [{"b": [0]}]}, True),
    ],
)
def test_pop(spec: Doc, doc: Doc, expected: Doc, modified: bool) -> None:
    assert apply(spec, doc) == (expected, modified)


@pytest.mark.parametrize(
    ("spec", "doc", "code", "message"),
    [
        ({"$pop": {"foo.bar": None}}, None, 9, "Expected a number in: foo.bar: null"),
        ({"$pop": {"foo.bar": "x"}}, None, 9, 'Expected a number in: foo.bar: "x"'),
        ({"$pop": {"foo.bar": 2}}, None, 9, "$pop expects 1 or -1, found: 2"),
        ({"$pop": {"a": 0.5}}, None, 9, "Expected an integer: a: 0.5"),
        ({"$pop": {"a": 1}}, {"a": 1}, 14, "Path 'a' contains an element of non-array type 'int'"),
        (
            {"$pop": {"a.b": 1}},
            {"a": {"b": {}}},
            14,
            "Path 'a.b' contains an element of non-array type 'object'",
        ),
        # A path that could never exist is an error even for $pop (UpdateLeafNode::checkViability).
        (
            {"$pop": {"a.b": 1}},
            {"a": 5},
            28,
            "Cannot use the part (b) of (a.b) to traverse the element ({a: 5})",
        ),
        (
            {"$pop": {"a.x.y": 1}},
            {"a": [1]},
            28,
            "Cannot use the part (x) of (a.x.y) to traverse the element ({a: [ 1 ]})",
        ),
    ],
)
def test_pop_errors(spec: Doc, doc: Doc | None, code: int, message: str) -> None:
    assert failure(spec, doc) == (code, message)


# ---------------------------------------------------------------- $pull, $pullAll


@pytest.mark.parametrize(
    ("pull", "old", "new"),
    [
        # Manual, "$pull": remove every element equal to a value...
        ("apples", ["apples", "pears", "apples"], ["pears"]),
        (1, [1, 1.0, Int64(1), "1"], ["1"]),
        ([1, 2], [[1, 2], [2, 1], 1], [[2, 1], 1]),
        # ...or matching a condition on the element itself (arrays are traversed)...
        ({"$gte": 6}, [3, 6, 9, [7], "z"], [3, "z"]),
        ({"$in": ["a", "b"]}, ["a", "c", "b"], ["c"]),
        ({"$not": {"$gt": 2}}, [1, 2, 3], [3]),
        (Regex("^a"), ["ab", "ba", "ac"], ["ba"]),
        (re.compile("^a"), ["ab", "ba"], ["ba"]),
        # ...or a query on the fields of embedded documents; {} removes every document.
        (
            {"score": 8, "item": "B"},
            [{"item": "A", "score": 5}, {"item": "B", "score": 8, "x": 1}],
            [{"item": "A", "score": 5}],
        ),
        (
            {"answers": {"$elemMatch": {"q": 2, "a": {"$gte": 8}}}},
            [{"answers": [{"q": 2, "a": 9}]}, {"answers": [{"q": 2, "a": 1}]}],
            [{"answers": [{"q": 2, "a": 1}]}],
        ),
        ({}, [{"a": 1}, 1, {}, [2]], [1, [2]]),
        ({"$or": [{"a": 1}, {"b": 2}]}, [{"a": 1}, {"b": 2}, {"c": 3}], [{"c": 3}]),
    ],
)
def test_pull(pull: Any, old: list[Any], new: list[Any]) -> None:
    out, modified = apply({"$pull": {"a": pull}}, {"_id": 1, "a": old})
    assert out["a"] == new
    assert modified


def test_pull_details() -> None:
    assert apply({"$pull": {"a": 5}}, {"_id": 1, "a": [1]}) == ({"_id": 1, "a": [1]}, False)
    assert apply({"$pull": {"a": 5}}, {"_id": 1}) == ({"_id": 1}, False)
    # Embedded arrays through a $[] path (manual, "$pull": "Remove Items from an Array of
    # Documents").
    doc = {"_id": 1, "r": [{"v": [1, 5]}, {"v": [5]}]}
    assert apply({"$pull": {"r.$[].v": 5}}, doc) == ({"_id": 1, "r": [{"v": [1]}, {"v": []}]}, True)
    # The collation applies to every kind of condition.
    assert apply({"$pull": {"a": "X"}}, {"_id": 1, "a": ["x", "y"]}, string_key=str.lower)[0][
        "a"
    ] == ["y"]
    out, _ = apply(
        {"$pull": {"a": {"k": "X"}}},
        {"_id": 1, "a": [{"k": "x"}, {"k": "y"}]},
        string_key=str.lower,
    )
    assert out["a"] == [{"k": "y"}]


@pytest.mark.parametrize(
    ("pull", "code", "message"),
    [
        # An unknown $-name is no element operator: the condition is a top-level query.
        (
            {"$foo": 1},
            2,
            "unknown top level operator: $foo. If you have a field name that starts with a '$' "
            "symbol, consider using $getField or $setField.",
        ),
        ({"b": {"$foo": 1}}, 2, "unknown operator: $foo"),
        # A $pull condition bans the special query features (pull_node.cpp:
        # kBanAllSpecialFeatures; expression_parser.cpp words and codes the refusals).
        ({"$expr": {"$eq": ["$a", 1]}}, 224, "$expr is not allowed in this context"),
        ({"$and": [{"$where": "1"}]}, 2, "$where is not allowed in this context"),
        (
            {"$or": [{"a": 1}, {"$text": {"$search": "x"}}]},
            2,
            "$text is not allowed in this context",
        ),
        (
            {"loc": {"$near": [0, 0]}},
            2,
            "$geoNear, $near, and $nearSphere are not allowed in this context",
        ),
        ({"$and": [1]}, 2, "$or/$and/$nor entries need to be full objects"),
    ],
)
def test_pull_condition_errors(pull: Doc, code: int, message: str) -> None:
    assert failure({"$pull": {"a": pull}}) == (code, message)


@pytest.mark.parametrize(
    ("pull_all", "old", "new", "modified"),
    [
        # Manual, "$pullAll": remove every element equal to one of the values.
        ([0, 5], [0, 2, 5, 5, 1, 0], [2, 1], True),
        ([1.0, "x"], [1, Int64(1), "x", "y"], ["y"], True),
        ([[1]], [[1], 1], [1], True),
        ([7], [1], [1], False),
        ([], [1], [1], False),
    ],
)
def test_pull_all(pull_all: list[Any], old: list[Any], new: list[Any], modified: bool) -> None:
    assert apply({"$pullAll": {"a": pull_all}}, {"_id": 1, "a": old}) == (
        {"_id": 1, "a": new},
        modified,
    )


@pytest.mark.parametrize(
    ("spec", "doc", "code", "message"),
    [
        (
            {"$pullAll": {"field": "value"}},
            None,
            2,
            "$pullAll requires an array argument but was given a string",
        ),
        (
            {"$pull": {"field": "value"}},
            {"field": "x"},
            2,
            "Cannot apply $pull to a non-array value",
        ),
        ({"$pullAll": {"field": [1]}}, {"field": {}}, 2, "Cannot apply $pull to a non-array value"),
        (
            {"$pull": {"a.b": 1}},
            {"a": "x"},
            28,
            'Cannot use the part (b) of (a.b) to traverse the element ({a: "x"})',
        ),
        (
            {"$pullAll": {"a.b.c": [1]}},
            {"a": {"b": [1]}},
            28,
            "Cannot use the part (c) of (a.b.c) to traverse the element ({b: [ 1 ]})",
        ),
    ],
)
def test_pull_errors(spec: Doc, doc: Doc | None, code: int, message: str) -> None:
    assert failure(spec, doc) == (code, message)
