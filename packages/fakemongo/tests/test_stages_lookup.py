"""$lookup, $unionWith and $facet (manual, "$lookup (aggregation)",
"$unionWith (aggregation)", "$facet (aggregation)")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from bson import Regex

from fakemongo._aggregate import compile_pipeline
from fakemongo._errors import CommandError

ORDERS: list[dict[str, Any]] = [
    {"_id": 1, "item": "almonds", "price": 12, "quantity": 2},
    {"_id": 2, "item": "pecans", "price": 20, "quantity": 1},
    {"_id": 3},
]
INVENTORY: list[dict[str, Any]] = [
    {"_id": 1, "sku": "almonds", "instock": 120},
    {"_id": 2, "sku": "bread", "instock": 80},
    {"_id": 3, "sku": "cashews", "instock": 60},
    {"_id": 4, "sku": "pecans", "instock": 70},
    {"_id": 5, "sku": None},
    {"_id": 6},
]


class Context:
    db = "test"
    string_key: Any = None

    def __init__(self) -> None:
        self.variables: dict[str, Any] = {}
        self.collections: dict[tuple[str, str], list[dict[str, Any]]] = {
            ("test", "inventory"): INVENTORY,
            ("test", "orders"): ORDERS,
            ("test", "members"): [
                {"_id": 1, "name": "artie", "tags": ["a", "b"]},
                {"_id": 2, "name": "giraffe1", "tags": "c"},
                {"_id": 3, "name": "pandabear", "tags": []},
                {"_id": 4, "name": "giraffe2"},
            ],
            ("other", "inventory"): [{"_id": "elsewhere"}],
        }

    def collection_documents(self, db: str, coll: str) -> Iterable[dict[str, Any]]:
        return [dict(doc) for doc in self.collections.get((db, coll), [])]

    def write_out(self, db: str, coll: str, docs: list[dict[str, Any]]) -> None:
        raise AssertionError("not used")

    def merge_target(self, db: str, coll: str) -> Any:
        raise AssertionError("not used")


def run(pipeline: list[Any], docs: list[Any], **options: Any) -> list[dict[str, Any]]:
    return list(compile_pipeline(pipeline, **options).run(docs, Context()))


def ids(docs: list[dict[str, Any]]) -> list[Any]:
    return [doc["_id"] for doc in docs]


def test_equality_match_treats_missing_as_null() -> None:
    # Manual, "$lookup", "Perform a Single Equality Join": order 3 has no item and
    # matches the inventory documents whose sku is null or missing.
    out = run(
        [
            {
                "$lookup": {
                    "from": "inventory",
                    "localField": "item",
                    "foreignField": "sku",
                    "as": "inv",
                }
            }
        ],
        ORDERS,
    )
    assert [(doc["_id"], ids(doc["inv"])) for doc in out] == [(1, [1]), (2, [4]), (3, [5, 6])]
    assert list(out[0]) == ["_id", "item", "price", "quantity", "inv"]


@pytest.mark.parametrize(
    ("local", "foreign", "doc", "expected"),
    [
        # Manual, "Use $lookup with an Array": every element of localField matches.
        ("names", "name", {"names": ["giraffe2", "pandabear", "nobody"]}, [3, 4]),
        ("names", "name", {"names": []}, []),  # an empty array matches as null: none here
        ("n", "tags", {"n": "b"}, [1]),  # a foreign array matches by element
        ("n", "tags", {"n": ["c", "a"]}, [1, 2]),
        ("n", "tags", {"n": None}, [4]),
        ("n.m", "name", {"n": [{"m": "artie"}, {"m": "giraffe1"}]}, [1, 2]),
        ("n", "name", {"n": Regex("^gir")}, []),  # regexes compare as values
        ("n", "name", {"n": [Regex("^gir"), "artie"]}, [1]),
    ],
)
def test_equality_match_shapes(
    local: str, foreign: str, doc: dict[str, Any], expected: list[int]
) -> None:
    stage = {
        "$lookup": {"from": "members", "localField": local, "foreignField": foreign, "as": "m"}
    }
    (out,) = run([stage], [doc])
    assert ids(out["m"]) == expected


def test_pipeline_form_with_let() -> None:
    # Manual, "Join Conditions and Subqueries": let variables and $expr.
    stage = {
        "$lookup": {
            "from": "inventory",
            "let": {"want": "$item", "qty": "$quantity"},
            "pipeline": [
                {
                    "$match": {
                        "$expr": {
                            "$and": [{"$eq": ["$sku", "$$want"]}, {"$gte": ["$instock", "$$qty"]}]
                        }
                    }
                },
                {"$project": {"_id": 0, "instock": 1, "qty": "$$qty"}},
            ],
            "as": "stock",
        }
    }
    out = run([stage], ORDERS[:2])
    assert [doc["stock"] for doc in out] == [
        [{"instock": 120, "qty": 2}],
        [{"instock": 70, "qty": 1}],
    ]


def test_combined_form_matches_first_then_runs_the_pipeline() -> None:
    # Manual, "Correlated Subqueries Using Concise Syntax" (5.0).
    stage = {
        "$lookup": {
            "from": "inventory",
            "localField": "item",
            "foreignField": "sku",
            "let": {"q": "$quantity"},
            "pipeline": [{"$addFields": {"q": "$$q"}}],
            "as": "inv",
        }
    }
    out = run([stage], ORDERS[:2])
    assert [doc["inv"] for doc in out] == [
        [{"_id": 1, "sku": "almonds", "instock": 120, "q": 2}],
        [{"_id": 4, "sku": "pecans", "instock": 70, "q": 1}],
    ]


def test_lookup_without_from_uses_documents() -> None:
    stage = {
        "$lookup": {
            "localField": "item",
            "foreignField": "k",
            "pipeline": [{"$documents": [{"k": "almonds", "v": 1}, {"k": "x", "v": 2}]}],
            "as": "found",
        }
    }
    out = run([stage], ORDERS[:2])
    assert [doc["found"] for doc in out] == [[{"k": "almonds", "v": 1}], []]


def test_nested_lookups_see_outer_variables_and_as_paths_nest() -> None:
    inner = {
        "$lookup": {
            "from": "members",
            "pipeline": [
                {"$match": {"$expr": {"$eq": ["$_id", "$$outer"]}}},
                {"$project": {"name": 1}},
            ],
            "as": "deep.m",
        }
    }
    stage = {
        "$lookup": {
            "from": "orders",
            "let": {"outer": "$k"},
            "pipeline": [inner, {"$limit": 1}],
            "as": "o",
        }
    }
    (out,) = run([stage], [{"_id": 0, "k": 2, "deep": 5}])
    assert out["o"] == [{**ORDERS[0], "deep": {"m": [{"_id": 2, "name": "giraffe1"}]}}]


def test_let_values_may_be_missing() -> None:
    stage = {
        "$lookup": {
            "from": "orders",
            "let": {"x": "$nope"},
            "pipeline": [
                {"$project": {"_id": 1, "x": {"$ifNull": ["$$x", "none"]}}},
                {"$limit": 1},
            ],
            "as": "o",
        }
    }
    assert run([stage], [{"_id": 9}]) == [{"_id": 9, "o": [{"_id": 1, "x": "none"}]}]


def test_union_with() -> None:
    # Manual, "$unionWith": the input, then the other collection's documents.
    docs = [{"_id": "input"}]
    assert ids(run([{"$unionWith": "orders"}], docs)) == ["input", 1, 2, 3]
    assert ids(
        run([{"$unionWith": {"coll": "orders", "pipeline": [{"$match": {"_id": 2}}]}}], docs)
    ) == [
        "input",
        2,
    ]
    assert run([{"$unionWith": {"pipeline": [{"$documents": [{"d": 1}]}]}}], docs) == [
        {"_id": "input"},
        {"d": 1},
    ]
    assert ids(run([{"$unionWith": "nothing"}, {"$count": "_id"}], docs)) == [1]


def test_facet() -> None:
    # Manual, "$facet": several sub-pipelines over the same input, one output document.
    stage = {
        "$facet": {
            "cheap": [{"$match": {"price": {"$lt": 15}}}, {"$project": {"item": 1}}],
            "count": [{"$count": "n"}],
            "byPrice": [{"$sortByCount": "$price"}],
            "nested": [
                {
                    "$lookup": {
                        "from": "inventory",
                        "localField": "item",
                        "foreignField": "sku",
                        "as": "i",
                    }
                },
                {"$project": {"n": {"$size": "$i"}}},
            ],
        }
    }
    assert run([stage], ORDERS) == [
        {
            "cheap": [{"_id": 1, "item": "almonds"}],
            "count": [{"n": 3}],
            "byPrice": [
                {"_id": 12, "count": 1},
                {"_id": 20, "count": 1},
                {"_id": None, "count": 1},
            ],
            "nested": [{"_id": 1, "n": 1}, {"_id": 2, "n": 1}, {"_id": 3, "n": 2}],
        }
    ]
    assert run([stage], []) == [{"cheap": [], "count": [], "byPrice": [], "nested": []}]


@pytest.mark.parametrize(
    ("stage", "code", "message"),
    [
        ({"$lookup": 1}, 9, "the $lookup specification must be an Object"),
        (
            {"$lookup": {"from": 1, "as": "x"}},
            9,
            "$lookup 'from' field must be a string, but found int",
        ),
        (
            {"$lookup": {"from": {"db": "a", "coll": "b"}, "as": "x"}},
            9,
            "$lookup with syntax "
            "{from: {db:<>, coll:<>},..} is not supported for db: a and coll: b",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "let": 1, "pipeline": []}},
            9,
            "$lookup argument 'let: 1' must be an object, is type int",
        ),
        (
            {"$lookup": {"from": "a", "as": 1}},
            9,
            "$lookup argument 'as' must be a string, found as: 1: int",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "extra": "y"}},
            9,
            "unknown argument to $lookup: extra",
        ),
        ({"$lookup": {"as": "x"}}, 9, "must specify 'pipeline' when 'from' is empty"),
        (
            {"$lookup": {"as": "x", "pipeline": [{"$match": {}}]}},
            9,
            "$lookup stage without "
            "explicit collection must have a pipeline with $documents as first stage",
        ),
        (
            {"$lookup": {"from": "a", "localField": "b", "foreignField": "c"}},
            9,
            "must specify 'as' field for a $lookup",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "localField": "b"}},
            9,
            "$lookup requires either "
            "'pipeline' or both 'localField' and 'foreignField' to be specified",
        ),
        (
            {
                "$lookup": {
                    "from": "a",
                    "as": "x",
                    "localField": "b",
                    "foreignField": "c",
                    "let": {},
                }
            },
            9,
            "$lookup with a 'let' argument must also specify 'pipeline'",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "localField": "b", "pipeline": []}},
            9,
            "$lookup requires both or neither of 'localField' and 'foreignField' to be specified",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "pipeline": 1}},
            14,
            "'pipeline' option must be specified as an array",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "pipeline": [1]}},
            14,
            "Each element of the 'pipeline' array must be an object",
        ),
        (
            {"$lookup": {"from": "a", "as": "$x", "pipeline": []}},
            16410,
            "FieldPath field names may not start with '$'. Consider using $getField or $setField.",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "localField": "b", "foreignField": "c."}},
            15998,
            "FieldPath field names may not be empty strings.",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "let": {"Bad": 1}, "pipeline": []}},
            16867,
            "'Bad' starts with an invalid character for a user variable name",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "pipeline": [{"$project": {"v": "$$v"}}]}},
            17276,
            "Invalid $project :: caused by :: Use of undefined variable: v",
        ),
        (
            {"$lookup": {"from": "a", "as": "x", "pipeline": [{"$out": "b"}]}},
            51047,
            "$out is not allowed within a $lookup's sub-pipeline",
        ),
        (
            {"$unionWith": 1},
            9,
            "the $unionWith stage specification must be an object or string, but found int",
        ),
        (
            {"$unionWith": {"coll": 1}},
            14,
            "BSON field '$unionWith.coll' is the wrong type 'int', expected type 'string'",
        ),
        (
            {"$unionWith": {"coll": "a", "x": 1}},
            40415,
            "BSON field '$unionWith.x' is an unknown field.",
        ),
        (
            {"$unionWith": {"pipeline": []}},
            9,
            "$unionWith stage without explicit collection must "
            "have a pipeline with $documents as first stage",
        ),
        (
            {"$unionWith": {"coll": "a", "pipeline": [{"$merge": "b"}]}},
            31441,
            "$merge is not allowed within a $unionWith's sub-pipeline",
        ),
        (
            {"$facet": {}},
            40169,
            "the $facet specification must be a non-empty object, but found: $facet: {}",
        ),
        (
            {"$facet": []},
            40169,
            "the $facet specification must be a non-empty object, but found: $facet: []",
        ),
        (
            {"$facet": {"a.b": []}},
            16412,
            "$facet pipeline names must follow the naming rules of "
            "field path expressions. :: caused by :: FieldPath field names may not contain '.'.",
        ),
        (
            {"$facet": {"$a": []}},
            16410,
            "$facet pipeline names must follow the naming rules of field path expressions. :: "
            "caused by :: FieldPath field names may not start with '$'. Consider using $getField "
            "or $setField.",
        ),
        ({"$facet": {"a": 1}}, 40170, "arguments to $facet must be arrays, a is type int"),
        (
            {"$facet": {"a": [{"$limit": 1}, 5]}},
            40171,
            "elements of arrays in $facet spec must be "
            "non-empty objects, a argument contained an element of type int: 1: 5",
        ),
        ({"$facet": {"a": []}}, 2, "sub-pipeline in $facet stage cannot be empty"),
        (
            {"$facet": {"a": [{"$facet": {"b": [{"$limit": 1}]}}]}},
            40600,
            "$facet is not allowed to be used within a $facet stage",
        ),
        (
            {"$facet": {"a": [{"$documents": []}]}},
            40600,
            "$documents is not allowed to be used within a $facet stage",
        ),
        (
            {"$facet": {"a": [{"$out": "x"}]}},
            40600,
            "$out is not allowed to be used within a $facet stage",
        ),
    ],
)
def test_errors(stage: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        compile_pipeline([stage])
    assert (info.value.code, info.value.errmsg) == (code, message)
