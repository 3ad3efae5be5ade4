"""$out and $merge (manual, "$out (aggregation)", "$merge (aggregation)")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from bson import ObjectId

from fakemongo._aggregate import compile_pipeline
from fakemongo._bsonorder import values_equal
from fakemongo._errors import CommandError
from fakemongo._stages import nested_value


class Target:
    """A MergeTarget over a list, with unique indexes on the given key tuples."""

    def __init__(self, docs: list[dict[str, Any]], unique: Iterable[tuple[str, ...]] = ()) -> None:
        self.docs = docs
        self.unique = {("_id",), *unique}

    def has_unique_index(self, on: tuple[str, ...]) -> bool:
        return tuple(sorted(on)) in {tuple(sorted(key)) for key in self.unique}

    def find_matching(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        for doc in self.docs:
            if all(values_equal(nested_value(doc, k.split(".")), v) for k, v in key.items()):
                return doc
        return None

    def insert(self, doc: dict[str, Any]) -> None:
        for key in self.unique:
            if any(all(values_equal(d.get(k), doc.get(k)) for k in key) for d in self.docs):
                raise CommandError(11000, "E11000 duplicate key error")
        self.docs.append(doc)

    def replace(self, existing: Mapping[str, Any], doc: dict[str, Any]) -> None:
        self.docs[self.docs.index(dict(existing))] = doc


class Context:
    db = "test"
    string_key: Any = None

    def __init__(self, target: Target | None = None) -> None:
        self.variables: dict[str, Any] = {}
        self.target = target or Target([])
        self.written: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.targets: list[tuple[str, str]] = []

    def collection_documents(self, db: str, coll: str) -> Iterable[dict[str, Any]]:
        return []

    def write_out(self, db: str, coll: str, docs: list[dict[str, Any]]) -> None:
        self.written[(db, coll)] = docs

    def merge_target(self, db: str, coll: str) -> Target:
        self.targets.append((db, coll))
        return self.target


def merge(spec: Any, docs: list[dict[str, Any]], target: Target) -> Context:
    ctx = Context(target)
    assert list(compile_pipeline([{"$merge": spec}]).run(docs, ctx)) == []
    return ctx


def test_out_replaces_the_target_with_everything() -> None:
    ctx = Context()
    pipeline = compile_pipeline([{"$match": {"a": {"$gt": 1}}}, {"$out": "copy"}])
    assert list(pipeline.run([{"_id": 1, "a": 1}, {"_id": 2, "a": 2}], ctx)) == []
    assert ctx.written == {("test", "copy"): [{"_id": 2, "a": 2}]}
    list(compile_pipeline([{"$out": {"db": "other", "coll": "c"}}]).run([], ctx))
    assert ctx.written[("other", "c")] == []


def test_merge_defaults_merge_and_insert() -> None:
    # Manual, "$merge": default whenMatched "merge", whenNotMatched "insert", on "_id".
    target = Target([{"_id": 1, "a": 1, "b": 1}])
    ctx = merge("t", [{"_id": 1, "b": 2, "c": 3}, {"_id": 2, "a": 9}], target)
    assert target.docs == [{"_id": 1, "a": 1, "b": 2, "c": 3}, {"_id": 2, "a": 9}]
    assert ctx.targets == [("test", "t")]


def test_merge_generates_missing_ids() -> None:
    target = Target([])
    merge({"into": {"db": "d", "coll": "t"}}, [{"a": 1}], target)
    (doc,) = target.docs
    assert isinstance(doc["_id"], ObjectId)
    assert doc["a"] == 1


@pytest.mark.parametrize(
    ("when_matched", "when_not_matched", "expected"),
    [
        ("replace", "insert", [{"_id": 1, "b": 2}, {"_id": 2, "b": 5}]),
        ("replace", "discard", [{"_id": 1, "b": 2}]),
        ("keepExisting", "insert", [{"_id": 1, "a": 1}, {"_id": 2, "b": 5}]),
        ("merge", "discard", [{"_id": 1, "a": 1, "b": 2}]),
        (
            [{"$set": {"a": {"$add": ["$a", "$$new.b"]}, "seen": True}}],
            "insert",
            [{"_id": 1, "a": 3, "seen": True}, {"_id": 2, "b": 5}],
        ),
        ([{"$replaceWith": "$$new"}], "discard", [{"_id": 1, "b": 2}]),
        ([{"$project": {"a": 1}}], "discard", [{"_id": 1, "a": 1}]),
        ([{"$unset": "_id"}], "discard", [{"_id": 1, "a": 1}]),  # the _id is kept
    ],
)
def test_merge_modes(
    when_matched: Any, when_not_matched: str, expected: list[dict[str, Any]]
) -> None:
    target = Target([{"_id": 1, "a": 1}])
    spec = {"into": "t", "whenMatched": when_matched, "whenNotMatched": when_not_matched}
    merge(spec, [{"_id": 1, "b": 2}, {"_id": 2, "b": 5}], target)
    assert target.docs == expected


def test_merge_on_other_fields_keeps_the_existing_id() -> None:
    target = Target([{"_id": "x", "k": 1, "v": 0}], unique=[("k",)])
    merge({"into": "t", "on": "k", "whenMatched": "replace"}, [{"k": 1, "v": 1}], target)
    assert target.docs == [{"_id": "x", "k": 1, "v": 1}]
    target = Target([{"_id": "x", "o": {"k": 1}, "j": 2}], unique=[("o.k", "j")])
    merge({"into": "t", "on": ["o.k", "j", "j"]}, [{"o": {"k": 1}, "j": 2, "w": 1}], target)
    assert target.docs == [{"_id": "x", "o": {"k": 1}, "j": 2, "w": 1}]


def test_merge_with_let_variables() -> None:
    target = Target([{"_id": 1, "a": 1}])
    spec = {
        "into": "t",
        "let": {"inc": {"$multiply": ["$b", 10]}},
        "whenMatched": [{"$set": {"a": {"$add": ["$a", "$$inc"]}, "from": "$$new._id"}}],
    }
    merge(spec, [{"_id": 1, "b": 2}], target)
    assert target.docs == [{"_id": 1, "a": 21, "from": 1}]


@pytest.mark.parametrize(
    ("spec", "docs", "code", "message"),
    [
        ({"into": "t", "whenMatched": "fail"}, [{"_id": 1}], 11000, "E11000 duplicate key error"),
        (
            {"into": "t", "whenNotMatched": "fail"},
            [{"_id": 2}],
            13113,
            "$merge could not find a "
            "matching document in the target collection for at least one document in the source "
            "collection",
        ),
        (
            {"into": "t", "on": "k"},
            [{"k": 1}],
            51183,
            "Cannot find index to verify that join fields will be unique",
        ),
        (
            {"into": "t", "on": "_id"},
            [{"_id": None}],
            51132,
            "$merge write error: 'on' field '_id' cannot be missing, null, undefined or an array",
        ),
        (
            {"into": "t", "on": ["_id", "k"]},
            [{"_id": 1, "k": [1]}],
            51183,
            "Cannot find index to verify that join fields will be unique",
        ),
        (
            {"into": "t", "whenMatched": [{"$set": {"_id": 5}}]},
            [{"_id": 1}],
            66,
            "$merge failed to "
            "update the matching document, did you attempt to modify the _id or the shard key? :: "
            "caused by :: Performing an update on the path '_id' would modify the immutable field "
            "'_id'",
        ),
    ],
)
def test_merge_failures(spec: Any, docs: list[dict[str, Any]], code: int, message: str) -> None:
    target = Target([{"_id": 1, "a": 1}])
    with pytest.raises(CommandError) as info:
        merge(spec, docs, target)
    assert (info.value.code, info.value.errmsg) == (code, message)


def test_merge_on_array_values_is_refused() -> None:
    target = Target([], unique=[("k",)])
    with pytest.raises(CommandError) as info:
        merge({"into": "t", "on": "k"}, [{"k": [1]}], target)
    assert info.value.code == 51132


def test_merge_refuses_changing_the_id_on_other_keys() -> None:
    target = Target([{"_id": 1, "k": 1}], unique=[("k",)])
    with pytest.raises(CommandError) as info:
        merge({"into": "t", "on": "k", "whenMatched": "merge"}, [{"_id": 2, "k": 1}], target)
    assert info.value.code == 66


@pytest.mark.parametrize(
    ("stage", "code", "message"),
    [
        ({"$out": 1}, 16990, "$out only supports a string or object argument, but found int"),
        (
            {"$out": {"db": "a", "coll": "b", "x": 1}},
            40415,
            "BSON field '$out.x' is an unknown field.",
        ),
        (
            {"$out": {"db": "a", "coll": 1}},
            14,
            "BSON field '$out.coll' is the wrong type 'int', expected type 'string'",
        ),
        ({"$out": {"coll": "b"}}, 40414, "BSON field '$out.db' is missing but a required field"),
        (
            {"$out": {"db": "a", "coll": "b", "timeseries": {}}},
            115,
            "$out to a time-series collection is not supported by fakemongo",
        ),
        ({"$out": ""}, 73, "Invalid $out target namespace, db."),
        ({"$out": "a$b"}, 73, "Invalid $out target namespace, db.a$b"),
        ({"$out": {"db": "a.b", "coll": "c"}}, 73, "Invalid $out target namespace, a.b.c"),
        ({"$out": "system.views"}, 17385, "Can't $out to special collection: system.views"),
        ({"$merge": 1}, 51182, "$merge only supports a string or object argument, but found int"),
        ({"$merge": {}}, 40414, "BSON field '$merge.into' is missing but a required field"),
        ({"$merge": {"into": "t", "x": 1}}, 40415, "BSON field '$merge.x' is an unknown field."),
        ({"$merge": {"into": ""}}, 5786800, "{into: ...} field cannot be an empty string"),
        (
            {"$merge": {"into": 1}},
            51178,
            "{into: ...} must be either a string or an object, but found int",
        ),
        (
            {"$merge": {"into": {"db": "d"}}},
            5786801,
            "{into: {db: ..., coll: ...}} 'coll' field cannot be an empty string",
        ),
        (
            {"$merge": {"into": {"coll": "c", "x": 1}}},
            40415,
            "BSON field 'into.x' is an unknown field.",
        ),
        (
            {"$merge": {"into": {"coll": 1}}},
            14,
            "BSON field 'into.coll' is the wrong type 'int', expected type 'string'",
        ),
        (
            {"$merge": {"into": "t", "on": 1}},
            51186,
            "{on: ...} must be either a string or an array of strings, but found int",
        ),
        (
            {"$merge": {"into": "t", "on": [1]}},
            51134,
            "{on: [...]} must be an array of strings, but found int",
        ),
        (
            {"$merge": {"into": "t", "on": []}},
            51187,
            "If explicitly specifying $merge 'on', must include at least one field",
        ),
        (
            {"$merge": {"into": "t", "on": "$a"}},
            16410,
            "FieldPath field names may not start with '$'. Consider using $getField or $setField.",
        ),
        (
            {"$merge": {"into": "t", "whenMatched": 1}},
            51191,
            "{whenMatched: ...} must be either a string or an array, but found int",
        ),
        (
            {"$merge": {"into": "t", "whenMatched": "pipeline"}},
            2,
            "Enumeration value 'pipeline' for field 'whenMatched' is not a valid value.",
        ),
        (
            {"$merge": {"into": "t", "whenNotMatched": "x"}},
            2,
            "Enumeration value 'x' for field 'whenNotMatched' is not a valid value.",
        ),
        (
            {"$merge": {"into": "t", "whenNotMatched": 1}},
            14,
            "BSON field '$merge.whenNotMatched' is the wrong type 'int', expected type 'string'",
        ),
        (
            {"$merge": {"into": "t", "let": 1}},
            14,
            "BSON field '$merge.let' is the wrong type 'int', expected type 'object'",
        ),
        (
            {"$merge": {"into": "t", "whenMatched": "fail", "whenNotMatched": "discard"}},
            51181,
            "Combination of {whenMatched: fail, whenNotMatched: discard} is not supported",
        ),
        (
            {"$merge": {"into": "t", "let": {"a": 1}}},
            51199,
            "Cannot use 'let' variables with 'whenMatched: merge' mode",
        ),
        (
            {"$merge": {"into": "t", "let": {"A": 1}, "whenMatched": []}},
            16867,
            "'A' starts with an invalid character for a user variable name",
        ),
        (
            {"$merge": {"into": "t", "whenMatched": [{"$match": {}}]}},
            72,
            "$match is not allowed to be used within an update",
        ),
        (
            {"$merge": {"into": "t", "whenMatched": [{"$set": {"a": "$$x"}}]}},
            17276,
            "Invalid $set :: caused by :: Use of undefined variable: x",
        ),
        ({"$merge": "system.x"}, 17385, "Can't $merge to special collection: system.x"),
    ],
)
def test_errors(stage: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        compile_pipeline([stage])
    assert (info.value.code, info.value.errmsg) == (code, message)
