"""What updates take from filters: array filters (manual, "$[<identifier>]") and the
document an upsert starts from (manual, "db.collection.updateOne()": "Upsert", and
"upsert" behaviour of update)."""

from __future__ import annotations

from typing import Any

import pytest
from bson import DBRef, Regex

from fakemongo._errors import CommandError
from fakemongo._update import compile_update, upsert_seed

Doc = dict[str, Any]


def filter_failure(filters: list[Any], spec: Doc | None = None) -> tuple[int, str]:
    with pytest.raises(CommandError) as caught:
        compile_update(spec or {"$set": {"a.$[x]": 1}}, array_filters=filters)
    return caught.value.code, caught.value.errmsg


@pytest.mark.parametrize(
    ("filters", "code", "message"),
    [
        (
            [{"a": {"$gte": 100}, "b": {"$gte": 100}, "c": {"$gte": 10}}],
            9,
            "Error parsing array filter :: caused by :: Expected a single top-level field name, "
            "found 'a' and 'b'",
        ),
        (
            [{"a.b": 10, "b": 12}],
            9,
            "Error parsing array filter :: caused by :: Expected a single top-level field name, "
            "found 'a' and 'b'",
        ),
        (
            [{"$or": [{"x": 1}, {"y": 1}]}],
            9,
            "Error parsing array filter :: caused by :: Expected a single top-level field name, "
            "found 'x' and 'y'",
        ),
        ([{}], 9, "Cannot use an expression without a top-level field name in arrayFilters"),
        (
            [{"$comment": "c"}],
            9,
            "Cannot use an expression without a top-level field name in arrayFilters",
        ),
        (
            [{"some value": {"$gte": 100}}],
            2,
            "Error parsing array filter :: caused by :: The top-level field name must be an "
            "alphanumeric string beginning with a lowercase letter, found 'some value'",
        ),
        (
            [{"I": 0}],
            2,
            "Error parsing array filter :: caused by :: The top-level field name must be an "
            "alphanumeric string beginning with a lowercase letter, found 'I'",
        ),
        (
            [{"x": {"$gte": 100}}, {"x": {"$lt": 100}}],
            9,
            "Found multiple array filters with the same top-level field name x",
        ),
        (
            [{"x.b": 10}, {"x.c": 10}],
            9,
            "Found multiple array filters with the same top-level field name x",
        ),
        (
            [{"x": {"$foo": 1}}],
            2,
            "Error parsing array filter :: caused by :: unknown operator: $foo",
        ),
        (
            [{"$expr": {"$eq": ["$x", 1]}}],
            224,
            "Error parsing array filter :: caused by :: $expr is not allowed in this context",
        ),
    ],
)
def test_array_filter_errors(filters: list[Any], code: int, message: str) -> None:
    assert filter_failure(filters) == (code, message)


def test_array_filter_identifiers() -> None:
    # Logical operators may group conditions on the one identifier; others are ignored.
    spec = {"$set": {"a.$[x]": 0}}
    filters = [
        {"$and": [{"x": {"$gt": 1}}, {"$nor": [{"x": 5}]}, {"$comment": "c"}], "x": {"$lt": 9}}
    ]
    out, modified = compile_update(spec, array_filters=filters).apply({"_id": 1, "a": [1, 2, 5, 9]})
    assert (out["a"], modified) == ([1, 0, 5, 9], True)
    # An array filter with a replacement is parsed, never required to be used.
    assert compile_update({"a": 1}, array_filters=[{"x": 1}]).kind == "replacement"
    with pytest.raises(CommandError):
        compile_update({"a": 1}, array_filters=[{}])


# ---------------------------------------------------------------- upsert seeds


@pytest.mark.parametrize(
    ("query", "seed"),
    [
        # Manual, "upsert": equality conditions become fields...
        ({"name": "Andy", "rating": 1}, {"name": "Andy", "rating": 1}),
        ({"_id": 1, "a": {"$eq": 2}}, {"_id": 1, "a": 2}),
        # ...in path order, _id first; dotted paths build embedded documents.
        ({"b": 1, "B": 2, "_id": 0}, {"_id": 0, "B": 2, "b": 1}),
        ({"a.c": 2, "a.b": 1, "x.0": 3}, {"a": {"b": 1, "c": 2}, "x": {"0": 3}}),
        # Also inside $and, a one-clause $or, a one-value $in and each value of $all.
        ({"$and": [{"a": 1}, {"$and": [{"b": 2}]}]}, {"a": 1, "b": 2}),
        ({"$or": [{"a": 1}]}, {"a": 1}),
        ({"a": {"$in": [5]}}, {"a": 5}),
        ({"a": {"$all": [5]}}, {"a": 5}),
        ({"a": {"$all": [[1, 2]]}}, {"a": [1, 2]}),
        ({"a": {"$eq": Regex("^x")}}, {"a": Regex("^x")}),
        ({"a": None, "d": DBRef("c", 1)}, {"a": None, "d": DBRef("c", 1)}),
        ({"a": {"$eq": {"$gt": 1}}}, {"a": {"$gt": 1}}),
        # Other conditions set nothing.
        (
            {
                "a": {"$gt": 1},
                "b": {"$in": [1, 2]},
                "c": {"$in": [Regex("x")]},
                "d": Regex("^x"),
                "e": {"$all": [Regex("x")]},
                "f": {"$all": [{"$elemMatch": {"x": 1}}]},
                "g": {"$ne": 1},
                "h": {"$all": []},
                "$or": [{"i": 1}, {"j": 1}],
                "$nor": [{"k": 1}],
                "$comment": "x",
            },
            {},
        ),
    ],
)
def test_upsert_seed(query: Doc, seed: Doc) -> None:
    out = upsert_seed(query)
    assert out == seed
    assert list(out) == list(seed)


def test_upsert_seed_copies_values() -> None:
    query = {"a": {"b": [1]}}
    seed = upsert_seed(query)
    seed["a"]["b"].append(2)
    assert query == {"a": {"b": [1]}}


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        (
            {"a": 1, "$and": [{"a": 2}]},
            54,
            "cannot infer query fields to set, path 'a' is matched twice",
        ),
        (
            {"a": {"$all": [1, 2]}},
            54,
            "cannot infer query fields to set, path 'a' is matched twice",
        ),
        (
            {"a.b": 1, "a": {"b": 1}},
            54,
            "cannot infer query fields to set, both paths 'a.b' and 'a' are matched",
        ),
        (
            {"$and": [{"a.b.c": 1}, {"a": 1}]},
            54,
            "cannot infer query fields to set, both paths 'a.b.c' and 'a' are matched",
        ),
        (
            {"$expr": {"$eq": ["$a", 1]}},
            224,
            "$expr is not allowed in the query predicate for an upsert",
        ),
        (
            {"$or": [{"a": 1}, {"$expr": True}]},
            224,
            "$expr is not allowed in the query predicate for an upsert",
        ),
    ],
)
def test_upsert_seed_errors(query: Doc, code: int, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        upsert_seed(query)
    assert (caught.value.code, caught.value.errmsg) == (code, message)


def test_replacement_upsert_seed_takes_only_the_id() -> None:
    # update_driver.cpp: a replacement only takes the immutable _id from the query.
    assert upsert_seed({"a": 1, "a.b": 2, "_id": 5}, replacement=True) == {"_id": 5}
    assert upsert_seed({"_id": {"x": 1}}, replacement=True) == {"_id": {"x": 1}}
    with pytest.raises(CommandError) as caught:
        upsert_seed({"_id.x": 1}, replacement=True)
    assert (caught.value.code, caught.value.errmsg) == (
        111,
        "field at '_id' must be exactly specified, field at sub-path '_id.x'found",
    )


@pytest.mark.parametrize(
    ("query", "update", "expected"),
    [
        # Manual, "upsert": the seed, then the update; $setOnInsert applies.
        (
            {"item": "apple"},
            {"$set": {"qty": 5}, "$setOnInsert": {"d": 1}},
            {"d": 1, "item": "apple", "qty": 5},
        ),
        ({"_id": 1, "a": 1}, {"$inc": {"a": 1}}, {"_id": 1, "a": 2}),
        ({"x.y": 1}, {"$set": {"x.z": 2}}, {"x": {"y": 1, "z": 2}}),
        ({"_id": 7, "a": 1}, {"b": 2}, {"_id": 7, "b": 2}),
        ({"a": 1}, [{"$set": {"b": "$a"}}], {"a": 1, "b": 1}),
        ({"_id": {"a": 1}}, {"$setOnInsert": {"_id.x": 1}}, None),
    ],
)
def test_upsert_flow(query: Doc, update: Any, expected: Doc | None) -> None:
    compiled = compile_update(update)
    seed = upsert_seed(query, replacement=compiled.kind == "replacement")
    if expected is None:
        with pytest.raises(CommandError) as caught:
            compiled.apply(seed, upsert_insert=True)
        assert caught.value.code == 66  # the query's _id is as immutable as a stored one
        return
    out, modified = compiled.apply(seed, upsert_insert=True)
    assert out == expected
    assert modified


def test_upserted_id_is_validated() -> None:
    update = compile_update({"$set": {"_id": [1]}})
    with pytest.raises(CommandError) as caught:
        update.apply({}, upsert_insert=True)
    assert (caught.value.code, caught.value.errmsg) == (
        53,
        "The '_id' value cannot be of type array",
    )
    assert update.apply({}, upsert_insert=False)[0] == {"_id": [1]}  # a stored doc always has one
