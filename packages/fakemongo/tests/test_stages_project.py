"""$project, $addFields/$set and $unset (manual, "$project (aggregation)",
"$addFields (aggregation)", "$unset (aggregation)")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from bson import Decimal128

from fakemongo._aggregate import compile_pipeline
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


def apply(stage: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    (out,) = compile_pipeline([stage]).run([doc], Context())
    return out


BOOK = {
    "_id": 1,
    "title": "abc123",
    "isbn": "0001122223334",
    "author": {"last": "zzz", "first": "aaa", "middle": ""},
    "copies": 5,
    "lastModified": "2016-07-28",
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$project" examples on the books collection.
        ({"title": 1, "author": 1}, {"_id": 1, "title": "abc123", "author": BOOK["author"]}),
        ({"_id": 0, "title": 1, "author": 1}, {"title": "abc123", "author": BOOK["author"]}),
        (
            {"lastModified": 0},
            {k: v for k, v in BOOK.items() if k != "lastModified"},
        ),
        (
            {"author.first": 0, "lastModified": 0},
            {
                "_id": 1,
                "title": "abc123",
                "isbn": "0001122223334",
                "author": {"last": "zzz", "middle": ""},
                "copies": 5,
            },
        ),
        (
            {
                "title": 1,
                "author.first": 1,
                "author.last": 1,
                "author.middle": {
                    "$cond": {
                        "if": {"$eq": ["", "$author.middle"]},
                        "then": "$$REMOVE",
                        "else": "$author.middle",
                    }
                },
            },
            {"_id": 1, "title": "abc123", "author": {"last": "zzz", "first": "aaa"}},
        ),
        (
            {"title": 1, "isbn": {"prefix": {"$substr": ["$isbn", 0, 3]}}, "copiesSold": "$copies"},
            {"_id": 1, "title": "abc123", "isbn": {"prefix": "000"}, "copiesSold": 5},
        ),
        ({"myArray": ["$title", "$nope"]}, {"_id": 1, "myArray": ["abc123"]}),
        ({"_id": 0}, {k: v for k, v in BOOK.items() if k != "_id"}),
        ({"_id": 1}, {"_id": 1}),
        ({"_id": True, "copies": 0}, {k: v for k, v in BOOK.items() if k != "copies"}),
        ({"_id": "$title"}, {"_id": "abc123"}),
        ({"_id": 0, "t": "lit", "n": None, "e": []}, {"t": "lit", "n": None, "e": []}),
        ({"_id": 0, "copies": Decimal128("1")}, {"copies": 5}),
        (
            {"_id": 0, "copies": Decimal128("0")},
            {k: v for k, v in BOOK.items() if k not in ("_id", "copies")},
        ),
        (
            {"author": {"first": 1, "initial": {"$substrCP": ["$author.first", 0, 1]}}},
            {"_id": 1, "author": {"first": "aaa", "initial": "a"}},
        ),
    ],
)
def test_project_manual_examples(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    out = apply({"$project": spec}, BOOK)
    assert out == expected
    assert list(out) == list(expected)


@pytest.mark.parametrize(
    ("spec", "doc", "expected"),
    [
        # Included fields keep input order; computed fields come after them.
        ({"x": "$a", "b": 1}, {"_id": 1, "a": 5, "b": 2}, [("_id", 1), ("b", 2), ("x", 5)]),
        ({"b": 1, "_id": "$a"}, {"_id": 1, "a": 5, "b": 2}, [("b", 2), ("_id", 5)]),
        # A computed sub-field replaces a scalar with a document, in place.
        (
            {"a.b": "$x", "z": 1},
            {"_id": 1, "a": 1, "x": 2, "z": 3},
            [("_id", 1), ("a", {"b": 2}), ("z", 3)],
        ),
        ({"_id": 0, "a.b": "$x"}, {"x": 2}, [("a", {"b": 2})]),
        (
            {"_id": 0, "a.b": 1, "a.c": "x"},
            {"a": [1, {"b": 2, "d": 0}]},
            [("a", [{"c": "x"}, {"b": 2, "c": "x"}])],
        ),
        ({"_id": 0, "a.c": "x"}, {"a": [[{"b": 1}], 7]}, [("a", [[{"c": "x"}], {"c": "x"}])]),
        # Manual: an inclusion drops scalars where documents were expected;
        # aggregation projections recurse into nested arrays.
        (
            {"_id": 0, "a.b": 1},
            {"a": [1, {"b": 2, "c": 3}, [{"b": 4}, 5]]},
            [("a", [{"b": 2}, [{"b": 4}]])],
        ),
        ({"_id": 0, "a.b": 1}, {"a": 5}, []),
        (
            {"_id": 0, "a.b": 1, "c": "$x"},
            {"a": [{"b": 1, "d": 1}, 2], "x": 7},
            [("a", [{"b": 1}]), ("c", 7)],
        ),
        (
            {"_id": 0, "a.b": 0},
            {"a": [1, {"b": 2, "c": 3}, [{"b": 4, "d": 5}]]},
            [("a", [1, {"c": 3}, [{"d": 5}]])],
        ),
        ({"a.b": 0}, {"_id": 1, "a": "s"}, [("_id", 1), ("a", "s")]),
    ],
)
def test_project_shapes(spec: dict[str, Any], doc: dict[str, Any], expected: list[Any]) -> None:
    assert list(apply({"$project": spec}, doc).items()) == expected


@pytest.mark.parametrize(
    ("stage", "doc", "expected"),
    [
        # Manual, "$addFields": an existing field is replaced in place, new ones appended.
        (
            {"$addFields": {"b": 9, "c": 1}},
            {"_id": 1, "b": 2, "z": 0},
            [("_id", 1), ("b", 9), ("z", 0), ("c", 1)],
        ),
        ({"$set": {"a": "$$REMOVE"}}, {"_id": 1, "a": 2}, [("_id", 1)]),
        ({"$set": {}}, {"_id": 1}, [("_id", 1)]),
        # A nested object merges into the embedded document; {} sets an empty one (6.1+).
        ({"$addFields": {"o": {"y": 2}}}, {"o": {"x": 1}}, [("o", {"x": 1, "y": 2})]),
        ({"$addFields": {"o": {}}}, {"o": {"x": 1}}, [("o", {})]),
        ({"$set": {"o": {"p": {}}}}, {"o": 3}, [("o", {"p": {}})]),
        ({"$addFields": {"o": {"$literal": {"y": 2}}}}, {"o": {"x": 1}}, [("o", {"y": 2})]),
        (
            {"$addFields": {"arr.z": 1}},
            {"arr": [{"x": 1}, 2, [{"x": 3}]]},
            [("arr", [{"x": 1, "z": 1}, {"z": 1}, [{"x": 3, "z": 1}]])],
        ),
        (
            {"$addFields": {"t": {"$add": ["$a", "$b"]}}},
            {"a": 1, "b": 2},
            [("a", 1), ("b", 2), ("t", 3)],
        ),
        ({"$unset": "a"}, {"_id": 1, "a": 1, "b": 2}, [("_id", 1), ("b", 2)]),
        (
            {"$unset": ["a", "b.c", "_id"]},
            {"_id": 1, "a": 1, "b": {"c": 1, "d": 2}},
            [("b", {"d": 2})],
        ),
    ],
)
def test_add_fields_and_unset(
    stage: dict[str, Any], doc: dict[str, Any], expected: list[Any]
) -> None:
    assert list(apply(stage, doc).items()) == expected


@pytest.mark.parametrize(
    ("stage", "code", "message"),
    [
        ({"$project": 1}, 15969, "$project specification must be an object"),
        (
            {"$project": {}},
            51272,
            "Invalid $project :: caused by :: projection specification "
            "must have at least one field",
        ),
        (
            {"$project": {"a": 1, "b": 0}},
            31254,
            "Invalid $project :: caused by :: Cannot do "
            "exclusion on field b in inclusion projection",
        ),
        (
            {"$project": {"a": {"b": 1, "c": 0}}},
            31254,
            "Invalid $project :: caused by :: Cannot "
            "do exclusion on field a.c in inclusion projection",
        ),
        (
            {"$project": {"a": 0, "b": 1}},
            31253,
            "Invalid $project :: caused by :: Cannot do "
            "inclusion on field b in exclusion projection",
        ),
        (
            {"$project": {"a": 0, "b": {"$add": [1]}}},
            31252,
            "Invalid $project :: caused by :: "
            "Cannot use expression other than $meta in exclusion projection",
        ),
        (
            {"$project": {"a": 0, "b": "x"}},
            31310,
            "Invalid $project :: caused by :: Cannot use "
            'an expression b: "x" in an exclusion projection',
        ),
        (
            {"$project": {"a": {}}},
            51270,
            "Invalid $project :: caused by :: An empty "
            "sub-projection is not a valid value. Found empty object at path",
        ),
        (
            {"$project": {"a.$": 1}},
            31324,
            "Invalid $project :: caused by :: Cannot use positional "
            "projection in aggregation projection",
        ),
        (
            {"$project": {"$a": 1}},
            16410,
            "Invalid $project :: caused by :: FieldPath field names "
            "may not start with '$'. Consider using $getField or $setField.",
        ),
        (
            {"$project": {"a": 1, "a.b": 1}},
            31249,
            "Invalid $project :: caused by :: Path collision at a.b remaining portion b",
        ),
        (
            {"$project": {"a.b": 1, "a": 1}},
            31250,
            "Invalid $project :: caused by :: Path collision at a",
        ),
        (
            {"$project": {"a.b.c": 1, "a.b": {"$add": [1]}}},
            31250,
            "Invalid $project :: caused by :: Path collision at a.b",
        ),
        (
            {"$project": {"a": 1, "a.b.c": 1}},
            31249,
            "Invalid $project :: caused by :: Path collision at a.b.c remaining portion b.c",
        ),
        (
            {"$project": {"a.b": 1, "a": {"b": {"c": 1}}}},
            31250,
            "Invalid $project :: caused by :: Path collision at a.b",
        ),
        (
            {"$project": {"a.b": 1, "a": {"b.c": {"d": 1}}}},
            31249,
            "Invalid $project :: caused by :: Path collision at a.b.c remaining portion c",
        ),
        (
            {"$project": {"a": {"$nope": 1}}},
            168,
            "Invalid $project :: caused by :: Unrecognized expression '$nope'",
        ),
        (
            {"$project": {"a": {"$add": [1], "b": 1}}},
            15983,
            "Invalid $project :: caused by :: an "
            "expression specification must contain exactly one field, the name of the expression. "
            "Found 2 fields in { $add: [ 1 ], b: 1 }, while parsing object { $add: [ 1 ], b: 1 }",
        ),
        ({"$addFields": 1}, 40272, "$addFields specification stage must be an object, got int"),
        ({"$set": []}, 40272, "$set specification stage must be an object, got array"),
        (
            {"$set": {"$a": 1}},
            16410,
            "Invalid $set :: caused by :: FieldPath field names may not "
            "start with '$'. Consider using $getField or $setField.",
        ),
        (
            {"$addFields": {"a": 1, "a.b": 2}},
            31249,
            "Invalid $addFields :: caused by :: Path collision at a.b remaining portion b",
        ),
        ({"$unset": 1}, 31002, "$unset specification must be a string or an array"),
        (
            {"$unset": []},
            31119,
            "$unset specification must be a string or an array with at least one field",
        ),
        (
            {"$unset": ["a", 1]},
            31120,
            "$unset specification must be a string or an array containing only string values",
        ),
        (
            {"$unset": "$a"},
            16410,
            "Invalid $unset :: caused by :: FieldPath field names may not "
            "start with '$'. Consider using $getField or $setField.",
        ),
    ],
)
def test_errors(stage: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        compile_pipeline([stage])
    assert (info.value.code, info.value.errmsg) == (code, message)


def test_projection_reuse_does_not_leak_between_documents() -> None:
    pipeline = compile_pipeline([{"$project": {"_id": 0, "a.b": 1, "a.c": "$k"}}])
    docs: list[dict[str, Any]] = [{"a": {"b": 1}, "k": 1}, {"a": 3, "k": 2}, {"k": 3}]
    assert list(pipeline.run(docs, Context())) == [
        {"a": {"b": 1, "c": 1}},
        {"a": {"c": 2}},
        {"a": {"c": 3}},
    ]
