"""The per-request fast paths give the results of the general ones.

Index key extraction has a shortcut for a one-field index on a top-level
name, and the planner answers a point on a one-field index with one dict
lookup instead of a sorted range scan; these tests hold them to what the
general code (and the manual) says. Expected behaviours cite the manual:
"Sparse Indexes", "Multikey Indexes", "Query on Null or Missing Fields".
"""

from __future__ import annotations

import datetime
from typing import Any

import bson
import pytest
from bson import Binary, Int64, ObjectId

from fakemongo._errors import CommandError
from fakemongo._identity import MAX_BSON_OBJECT_SIZE
from fakemongo._indexes import Index
from fakemongo._planner import plan_query
from fakemongo._storage import Collection, id_key, validate_namespace
from fakemongo._writes import check_document_size


def _index(key: list[tuple[str, Any]], **options: Any) -> Index:
    name = "_".join(f"{k}_{v}" for k, v in key)
    return Index(name, key, {"v": 2, "key": dict(key), "name": name}, **options)


def _ids(collection: Collection, filter: dict[str, Any], hint: str | None = None) -> list[Any]:
    plan = plan_query(collection, filter, hint=hint)
    assert plan is not None
    return [doc["_id"] for doc in plan.candidates()]


def test_top_level_field_keys_match_the_general_walk() -> None:
    top = _index([("k", 1)])
    dotted = _index([("k.x", 1)])
    # A scalar and an embedded document give one key; a missing field keys as
    # null (manual, "Sparse Indexes": a non-sparse index holds null for it).
    assert len(top.keys_for({"k": 5})) == 1
    assert top.keys_for({"k": {"x": 1}}) == _index([("k.x", 1)]).keys_for({"k": {"x": {"x": 1}}})
    assert top.keys_for({}) == top.keys_for({"k": None})
    assert top.keys_for({"k": 5}) == dotted.keys_for({"k": {"x": 5}})
    # An array goes the general way: one key per element, and multikey.
    assert sorted(top.keys_for({"k": [2, 1, 2]})) == sorted(
        dotted.keys_for({"k": {"x": [2, 1, 2]}})
    )
    assert top.multikey and dotted.multikey


def test_sparse_indexes_skip_documents_without_the_field() -> None:
    # Manual, "Sparse Indexes": only documents that have the indexed field get
    # an entry, for a top-level field, a dotted path and a compound key alike.
    for key in ([("k", 1)], [("k.x", 1)], [("k.x", 1), ("j", 1)]):
        index = _index(key, sparse=True)
        assert index.keys_for({"other": 1}) == []
        assert index.keys_for({"k": {"x": 1}}) != []


def test_point_lookup_on_one_field_index_returns_insertion_order() -> None:
    collection = Collection("db", "c")
    collection.add_index(_index([("k", 1)]))
    for i, k in enumerate(["b", "a", "b", 1, 1.0, "b"]):
        collection.insert({"_id": i, "k": k})
    assert _ids(collection, {"k": "b"}) == [0, 2, 5]
    # 1 and 1.0 are one value (manual, "Comparison/Sort Order").
    assert _ids(collection, {"k": 1}) == [3, 4]
    assert _ids(collection, {"k": {"$in": ["a", "zzz", 1]}}) == [1, 3, 4]
    assert _ids(collection, {"k": "zzz"}) == []
    # A closed range of one value is the same point.
    assert _ids(collection, {"k": {"$gte": "b", "$lte": "b"}}) == [0, 2, 5]
    plan = plan_query(collection, {"k": "b"})
    assert plan is not None and plan.explain()["inputStage"]["indexName"] == "k_1"
    list(plan.candidates())
    assert (plan.stats.keys_examined, plan.stats.docs_examined) == (3, 3)


def test_point_lookup_follows_index_changes() -> None:
    collection = Collection("db", "c")
    index = _index([("k", 1)])
    collection.add_index(index)
    collection.insert({"_id": 1, "k": "a"})
    collection.insert({"_id": 2, "k": "a"})
    collection.replace(id_key(1), {"_id": 1, "k": "z"})
    assert _ids(collection, {"k": "a"}) == [2]
    assert _ids(collection, {"k": "z"}) == [1]
    collection.delete(id_key(2))
    assert _ids(collection, {"k": "a"}) == []
    collection.drop_index("k_1")
    plan = plan_query(collection, {"k": "z"})
    assert plan is not None and plan.index is None  # a collection scan now


def test_point_on_compound_index_still_scans_the_prefix() -> None:
    collection = Collection("db", "c")
    collection.add_index(_index([("k", 1), ("j", 1)]))
    collection.insert({"_id": 1, "k": "a", "j": 2})
    collection.insert({"_id": 2, "k": "a", "j": 1})
    collection.insert({"_id": 3, "k": "b", "j": 1})
    # Key order within the prefix: (a, 1) before (a, 2).
    assert _ids(collection, {"k": "a"}) == [2, 1]


@pytest.mark.parametrize("name", ["a/b", "a\\b", "a.b", "a b", 'a"b', "a$b", "a\x00b"])
def test_database_names_with_forbidden_characters_are_refused(name: str) -> None:
    # Manual, "Naming Restrictions": these characters are not allowed.
    with pytest.raises(CommandError) as caught:
        validate_namespace(name)
    assert caught.value.code == 73


def test_database_names_without_forbidden_characters_pass() -> None:
    validate_namespace("my-db_1", "c")


def test_a_hinted_one_field_index_without_a_condition_is_walked_whole() -> None:
    # The whole-index bound [MinKey, MaxKey] is not a point: a hint with no
    # condition on the field scans every key in order (manual: cursor.hint()).
    collection = Collection("db", "c")
    collection.add_index(_index([("k", 1)]))
    for i, k in enumerate(["b", "a", "c"]):
        collection.insert({"_id": i, "k": k})
    assert _ids(collection, {}, hint="k_1") == [1, 0, 2]
    assert _ids(collection, {"other": 1}, hint="k_1") == [1, 0, 2]  # filtered later, not here


def _size_verdict(doc: dict[str, Any], *, from_request: bool) -> int | None:
    """None when ``doc`` may be stored, else the error code."""
    try:
        check_document_size(doc, from_request=from_request)
    except CommandError as exc:
        return exc.code
    return None


@pytest.mark.parametrize(
    "doc",
    [
        # {_id: int32, s: string} encodes to 22 bytes plus the string's.
        {"_id": 1, "s": "x" * (MAX_BSON_OBJECT_SIZE - 22)},
        {"_id": 1, "s": "x" * (MAX_BSON_OBJECT_SIZE - 21)},
        # Two-byte characters: the bound (4 bytes each) is above the limit,
        # the document itself below it, then above.
        {"_id": 1, "s": "\u00e9" * ((MAX_BSON_OBJECT_SIZE - 22) // 2)},
        {"_id": 1, "s": "\u00e9" * ((MAX_BSON_OBJECT_SIZE - 22) // 2 + 1)},
        # Scalars of every bounded type, and a binary, which is measured.
        {
            "_id": ObjectId(),
            "a": 1.5,
            "b": True,
            "c": None,
            "d": Int64(2**62),
            "e": datetime.datetime(2024, 1, 1),
            "f": -(2**40),
            "\u00e9t\u00e9": "\U0001f600",
        },
        {"_id": 1, "b": Binary(b"x" * (MAX_BSON_OBJECT_SIZE - 25))},
        {"_id": 1, "b": Binary(b"x" * (MAX_BSON_OBJECT_SIZE - 24))},
        {"_id": 1, "nested": {"s": "x" * (MAX_BSON_OBJECT_SIZE - 20)}},
    ],
    ids=lambda doc: str(len(bson.encode(doc))),
)
def test_a_requests_document_is_measured_only_when_it_may_be_too_large(
    doc: dict[str, Any],
) -> None:
    # Manual, "BSON Document Size": at most 16 MiB, exactly. The shortcut for
    # a decoded document must agree with encoding it, on both sides of the limit.
    expected = None if len(bson.encode(doc)) <= MAX_BSON_OBJECT_SIZE else 10334
    assert _size_verdict(doc, from_request=False) == expected
    assert _size_verdict(doc, from_request=True) == expected


def test_keys_added_since_the_last_range_scan_are_sorted_in_when_one_needs_them() -> None:
    collection = Collection("db", "c")
    collection.add_index(_index([("k", 1)]))
    for i, k in enumerate([5, 3, 9, 1]):
        collection.insert({"_id": i, "k": k})
    collection.delete(id_key(2))  # k 9, never sorted in
    # Manual, "Comparison Query Operators": a range returns keys in index order.
    assert _ids(collection, {"k": {"$gt": 0}}) == [3, 1, 0]
    collection.delete(id_key(1))  # k 3, sorted in by that scan
    collection.insert({"_id": 4, "k": 4})
    collection.insert({"_id": 5, "k": 9})
    assert _ids(collection, {"k": {"$gte": 1, "$lt": 9}}) == [3, 4, 0]
    assert _ids(collection, {"k": {"$gt": 4}}) == [0, 5]
    assert _ids(collection, {"k": 9}) == [5]  # a point needs no sorting
    collection.truncate()
    collection.insert({"_id": 6, "k": 2})
    assert _ids(collection, {"k": {"$lt": 10}}) == [6]


def test_replies_encode_with_their_codec_options_as_with_the_default() -> None:
    # The connection encodes replies with a marked document class (to spare
    # bson's C encoder a failed attribute lookup per reply); the bytes must be
    # those of the default options, for every type a reply can carry.
    from bson.codec_options import DEFAULT_CODEC_OPTIONS
    from bson.regex import Regex
    from bson.son import SON

    from fakemongo._connection import _REPLY_CODEC_OPTIONS

    reply = {
        "cursor": {
            "firstBatch": [
                {
                    "_id": ObjectId("5f0000000000000000000001"),
                    "n": [1, 2**40, Int64(3), 1.5, bson.Decimal128("1.1"), True, None],
                    "when": datetime.datetime(2024, 5, 6, 7, 8, 9, 123000),
                    "bin": Binary(b"\x00" * 16, 4),
                    "raw": b"bytes",
                    "re": Regex("^a", "i"),
                    "code": bson.Code("x", {"y": 1}),
                    "son": SON([("b", 1), ("a", 2)]),
                    "nested": {"a": {"b": [{"c": "d"}]}},
                    "min": bson.MinKey(),
                    "ts": bson.Timestamp(1, 2),
                }
            ],
            "id": Int64(0),
            "ns": "db.c",
        },
        "ok": 1.0,
    }
    assert bson.encode(reply, codec_options=_REPLY_CODEC_OPTIONS) == bson.encode(
        reply, codec_options=DEFAULT_CODEC_OPTIONS
    )
