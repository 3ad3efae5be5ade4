"""Storage, indexes, the planner and TTL, below the wire.

Expected behaviours cite the manual: "Unique Indexes", "Multikey Indexes",
"Sparse Indexes", "Partial Indexes", "Capped Collections", "TTL Indexes".
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from bson import Int64, MaxKey, MinKey, ObjectId

from fakemongo._errors import CommandError
from fakemongo._indexes import DuplicateKeyError, Index
from fakemongo._match import compile_filter
from fakemongo._planner import plan_query
from fakemongo._storage import Collection, Storage, id_key, validate_namespace
from fakemongo._ttl import expire_documents


def _index(key: list[tuple[str, Any]], **options: Any) -> Index:
    name = "_".join(f"{k}_{v}" for k, v in key)
    return Index(name, key, {"v": 2, "key": dict(key), "name": name}, **options)


def _collection(*docs: dict[str, Any], indexes: tuple[Index, ...] = ()) -> Collection:
    collection = Collection("db", "c")
    for index in indexes:
        collection.add_index(index)
    for doc in docs:
        collection.insert(doc)
    return collection


def test_ids_are_equal_across_numeric_types() -> None:
    # Manual, "Comparison/Sort Order": 1, 1.0 and NumberLong(1) are one value,
    # so they are one _id in the unique _id index.
    collection = _collection({"_id": 1})
    for same in (1.0, Int64(1)):
        with pytest.raises(DuplicateKeyError) as info:
            collection.insert({"_id": same})
        assert (
            info.value.errmsg
            == "E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: "
            + ("1.0 }" if isinstance(same, float) else "1 }")
        )
    assert id_key(1) == id_key(Int64(1))
    assert len(collection) == 1


def test_unique_index_violation_changes_nothing() -> None:
    unique = _index([("email", 1)], unique=True)
    other = _index([("name", 1)])
    collection = _collection({"_id": 1, "email": "a", "name": "x"}, indexes=(other, unique))
    with pytest.raises(DuplicateKeyError) as info:
        collection.insert({"_id": 2, "email": "a", "name": "y"})
    assert info.value.write_error(3) == {
        "index": 3,
        "code": 11000,
        "errmsg": 'E11000 duplicate key error collection: db.c index: email_1 dup key: { email: "a" }',
        "keyPattern": {"email": 1},
        "keyValue": {"email": "a"},
    }
    assert len(collection) == 1
    assert list(other.entries) == [(id_key("x"),)]  # the other index was not touched
    with pytest.raises(DuplicateKeyError):
        collection.replace(
            id_key(1), {"_id": 1, "email": "a", "name": "z"}
        ) if False else collection.insert({"_id": 3, "email": "a"})


def test_missing_fields_key_as_null_in_unique_indexes() -> None:
    # Manual, "Unique Indexes": a document without the field indexes null, so
    # a second one violates the index ... unless the index is sparse.
    collection = _collection({"_id": 1}, indexes=(_index([("a", 1)], unique=True),))
    with pytest.raises(DuplicateKeyError, match=r"dup key: \{ a: null \}"):
        collection.insert({"_id": 2})
    sparse = _collection({"_id": 1}, indexes=(_index([("a", 1)], unique=True, sparse=True),))
    sparse.insert({"_id": 2})
    assert len(sparse) == 2


def test_partial_index_only_holds_matching_documents() -> None:
    index = _index([("a", 1)], unique=True, partial=compile_filter({"b": {"$gt": 5}}))
    collection = _collection(
        {"_id": 1, "a": 1, "b": 1}, {"_id": 2, "a": 1, "b": 2}, indexes=(index,)
    )
    collection.insert({"_id": 3, "a": 1, "b": 6})
    with pytest.raises(DuplicateKeyError):
        collection.insert({"_id": 4, "a": 1, "b": 7})


def test_multikey_keys_and_parallel_arrays() -> None:
    index = _index([("a", 1), ("b", 1)])
    collection = _collection({"_id": 1, "a": [1, 2, 2], "b": 3}, indexes=(index,))
    assert index.multikey
    assert sorted(index.entries) == [(id_key(1), id_key(3)), (id_key(2), id_key(3))]
    # Manual, "Multikey Indexes": at most one indexed field may be an array.
    with pytest.raises(CommandError) as info:
        collection.insert({"_id": 2, "a": [1], "b": [2, 3]})
    assert info.value.code == 171
    empty = _collection({"_id": 1, "a": []}, indexes=(_index([("a", 1)]),))
    assert len(empty.indexes["a_1"].entries) == 1


def test_replace_and_delete_keep_indexes_in_step() -> None:
    index = _index([("a", 1)], unique=True)
    collection = _collection({"_id": 1, "a": 1}, {"_id": 2, "a": 2}, indexes=(index,))
    collection.replace(id_key(1), {"_id": 1, "a": 3})
    assert sorted(index.entries) == [(id_key(2),), (id_key(3),)]
    with pytest.raises(DuplicateKeyError):
        collection.replace(id_key(1), {"_id": 1, "a": 2})
    assert collection.get(id_key(1)) == {"_id": 1, "a": 3}
    assert collection.delete(id_key(2)) == {"_id": 2, "a": 2}
    assert sorted(index.entries) == [(id_key(3),)]
    index.remove(id_key(9), [(id_key(99),)])  # removing an absent key is a no-op
    collection.truncate()
    assert len(collection) == 0
    assert not index.entries


def test_building_an_index_over_duplicates_fails_and_leaves_no_index() -> None:
    collection = _collection({"_id": 1, "a": 1}, {"_id": 2, "a": 1})
    with pytest.raises(DuplicateKeyError):
        collection.add_index(_index([("a", 1)], unique=True))
    assert list(collection.indexes) == ["_id_"]


def test_capped_collections_drop_the_oldest() -> None:
    by_count = Collection("db", "c", {"capped": True, "size": 10_000, "max": 2})
    for i in range(4):
        by_count.insert({"_id": i})
    assert [d["_id"] for d in by_count] == [2, 3]
    # Manual, "create": a cap below 4096 bytes is 4096; above, a multiple of 256.
    by_size = Collection("db", "c", {"capped": True, "size": 100})
    assert by_size.capped_size == 4096
    assert Collection("db", "c", {"capped": True, "size": 5000}).capped_size == 5120
    for i in range(200):
        by_size.insert({"_id": i, "pad": "x" * 20})
    assert 4096 - 50 <= by_size.data_size() <= 4096
    assert [d["_id"] for d in by_size][-1] == 199


@pytest.mark.parametrize(
    ("db", "collection"),
    [
        ("", None),
        ("a/b", None),
        ("a.b", None),
        ("x" * 64, None),
        ("db", ""),
        ("db", ".c"),
        ("db", "a$b"),
        ("db", "c" * 300),
    ],
)
def test_invalid_namespaces(db: str, collection: str | None) -> None:
    # Manual, "Naming Restrictions".
    with pytest.raises(CommandError) as info:
        validate_namespace(db, collection)
    assert info.value.code == 73


def test_storage_create_drop_rename() -> None:
    storage = Storage()
    assert storage.collection("db", "c") is None
    created = storage.get_or_create("db", "c")
    assert storage.get_or_create("db", "c") is created
    with pytest.raises(CommandError) as info:
        storage.create("db", "c")
    assert info.value.code == 48
    storage.rename(created, "db2", "d")
    assert storage.collection("db2", "d") is created
    assert "db" not in storage.databases  # its last collection moved away
    assert not storage.drop("db", "c")
    assert storage.drop("db2", "d")
    assert not storage.drop_database("db2")


# ---------------------------------------------------------------- planner


def _planned(
    filter: dict[str, Any], *docs: dict[str, Any], index: Index | None = None, **kw: Any
) -> list[Any]:
    collection = _collection(*docs, indexes=(index,) if index else ())
    plan = plan_query(collection, filter, **kw)
    assert plan is not None
    matcher = compile_filter(filter)
    return [d["_id"] for d in plan.candidates() if matcher.matches(d)]


DOCS = [
    {"_id": i, "a": v}
    for i, v in enumerate([5, 1, "x", 3.5, None, [2, 9], {"k": 1}, Int64(7), ObjectId()])
]


@pytest.mark.parametrize(
    "filter",
    [
        {"a": 5},
        {"a": {"$eq": 3.5}},
        {"a": {"$in": [1, 7, "x"]}},
        {"a": {"$gt": 2}},
        {"a": {"$gte": 5, "$lt": 9}},
        {"a": {"$lte": 5}},
        {"a": {"$gt": "a"}},
        {"a": {"$gt": 3, "$lt": "z"}},
        {"a": {"$gt": 8, "$lt": 3}},
        {"$and": [{"a": {"$gt": 1}}, {"b": 1}]},
        {"a": None},
        {"a": [2, 9]},
        {"a": {"$gt": MinKey()}},
        {"a": {"$ne": 5}},
        {"a": {"$in": [None]}},
    ],
)
def test_index_plans_find_what_a_scan_finds(filter: dict[str, Any]) -> None:
    scan = _planned(filter, *DOCS)
    indexed = _planned(filter, *DOCS, index=_index([("a", 1)]))
    assert sorted(map(str, indexed)) == sorted(map(str, scan))


def test_plan_choice_and_explain() -> None:
    a_index, b_index = _index([("a", 1)]), _index([("b", 1), ("c", 1)], unique=True)
    collection = _collection({"_id": 1, "a": 1, "b": 2, "c": 3}, indexes=(a_index, b_index))
    assert plan_query(collection, {"_id": 1}).stage == "IDHACK"  # type: ignore[union-attr]
    assert plan_query(collection, {"_id": 1}).explain() == {"stage": "IDHACK"}  # type: ignore[union-attr]
    plan = plan_query(collection, {"a": {"$gt": 0}, "b": 2})
    assert plan is not None and plan.index is b_index
    explained = plan.explain()
    assert explained["inputStage"]["indexBounds"] == {"b": ["[2, 2]"]}
    ranged = plan_query(collection, {"a": {"$gt": 0, "$lte": 4}})
    assert ranged is not None and ranged.explain()["inputStage"]["indexBounds"] == {"a": ["(0, 4]"]}
    assert plan_query(collection, {"z": 1}).stage == "COLLSCAN"  # type: ignore[union-attr]
    assert plan_query(collection, {"a": 1}, collated=True).stage == "COLLSCAN"  # type: ignore[union-attr]
    assert plan_query(None, {}) is None
    hinted = plan_query(collection, {"z": 1}, hint="a_1")
    assert hinted is not None and hinted.explain()["inputStage"]["indexBounds"] == {
        "a": ["[MinKey, MaxKey]"]
    }
    assert plan_query(collection, {"b": 2}, hint={"b": 1, "c": 1}).index is b_index  # type: ignore[union-attr]
    assert plan_query(collection, {"a": 1}, hint={"$natural": 1}).stage == "COLLSCAN"  # type: ignore[union-attr]
    with pytest.raises(
        CommandError, match="hint provided does not correspond to an existing index"
    ):
        plan_query(collection, {}, hint="nope")


def test_index_scans_examine_only_matching_keys() -> None:
    # The promise: equality and range on an indexed field do not scan.
    docs = [{"_id": i, "a": i} for i in range(1000)]
    collection = _collection(*docs, indexes=(_index([("a", 1)]),))
    plan = plan_query(collection, {"a": {"$gte": 10, "$lt": 20}})
    assert plan is not None
    assert [d["_id"] for d in plan.candidates()] == list(range(10, 20))
    assert (plan.stats.keys_examined, plan.stats.docs_examined) == (10, 10)


def test_multikey_ranges_use_one_bound() -> None:
    # Manual, "Multikey Index Bounds": {a: [1, 10]} matches {$gt: 3, $lt: 5}
    # through different elements, so bounds may not be intersected.
    index = _index([("a", 1)])
    found = _planned({"a": {"$gt": 3, "$lt": 5}}, {"_id": 1, "a": [1, 10]}, index=index)
    assert found == [1]


def test_sparse_and_partial_indexes_are_not_chosen() -> None:
    sparse = _index([("a", 1)], sparse=True)
    assert _planned({"a": None}, {"_id": 1}, index=sparse) == [1]


def test_bson_keys_of_special_values() -> None:
    index = _index([("a", 1)])
    collection = _collection({"_id": 1, "a": MaxKey()}, indexes=(index,))
    assert plan_query(collection, {"a": MaxKey()}).stage == "COLLSCAN"  # type: ignore[union-attr]


# ---------------------------------------------------------------- TTL


def test_ttl_removes_documents_past_their_expiry() -> None:
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    old = now - datetime.timedelta(seconds=120)
    storage = Storage()
    collection = storage.create("db", "c")
    collection.add_index(_index([("at", 1)], expire_after_seconds=60.0))
    collection.add_index(_index([("b", 1)]))
    collection.insert({"_id": 1, "at": old.replace(tzinfo=None)})  # naive = UTC, as bson decodes
    collection.insert({"_id": 2, "at": now})
    collection.insert({"_id": 3, "at": [now, old]})  # the earliest date in an array counts
    collection.insert({"_id": 4, "at": "not a date"})
    collection.insert({"_id": 5})
    assert expire_documents(storage, now) == 2
    assert [d["_id"] for d in collection] == [2, 4, 5]
    assert expire_documents(storage, now) == 0
    assert expire_documents(storage) == 1  # by the real clock, 2026-01-01 is long gone


def test_plans_prefer_the_better_index_and_scan_everything_when_hinted() -> None:
    first, second = _index([("a", 1), ("b", 1)]), _index([("a", 1)], unique=True)
    third = _index([("a", 1), ("c", -1)])
    collection = _collection(
        *({"_id": i, "a": i} for i in range(9)), indexes=(first, second, third)
    )
    plan = plan_query(collection, {"a": 1})
    assert plan is not None and plan.index is second
    hinted = plan_query(collection, {}, hint="a_1_b_1")
    assert hinted is not None and len(list(hinted.candidates())) == 9
    narrower = plan_query(collection, {"a": {"$gt": 0, "$gte": 1, "$lt": 3, "$lte": 2}})
    assert narrower is not None and narrower.explain()["inputStage"]["indexBounds"] == {
        "a": ["[1, 2]"]
    }
    wider = plan_query(collection, {"a": {"$gte": 1, "$gt": 0, "$lte": 2, "$lt": 3}})
    assert wider is not None and wider.explain()["inputStage"]["indexBounds"] == {"a": ["[1, 2]"]}
    loose = plan_query(collection, {"a": {"$lt": 2, "$lte": 3}})
    assert loose is not None and loose.explain()["inputStage"]["indexBounds"] == {
        "a": ["[-inf, 2)"]
    }
    mixed = plan_query(collection, {"a": {"$gt": 3, "$lt": "z"}})
    assert mixed is not None and list(mixed.candidates()) == []
    assert validate_namespace("db") is None
