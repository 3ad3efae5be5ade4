"""update, findAndModify and aggregate through PyMongo, as MongoDB 8.0 answers
them (manual: "update", "findAndModify", "aggregate", "$out", "$merge")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure, WriteError

from fakemongo import FakeMongoThread

_names = iter(range(1_000_000))


@pytest.fixture(scope="module")
def client() -> Iterator[MongoClient[dict[str, Any]]]:
    with FakeMongoThread() as server:
        client: MongoClient[dict[str, Any]] = MongoClient(server.uri)
        yield client
        client.close()


@pytest.fixture
def db(client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    name = f"write_{next(_names)}"
    database = client[name]
    database.c.insert_many(
        [{"_id": i, "v": i % 3, "tags": ["a", "b"] if i % 2 else []} for i in range(6)]
    )
    yield database
    client.drop_database(name)


# ---------------------------------------------------------------- update


def test_update_counts_matched_and_modified(db: Database[dict[str, Any]]) -> None:
    # Manual, "update" output: nModified counts only documents that changed.
    result = db.c.update_many({"v": 1}, {"$set": {"v": 1}})
    assert (result.matched_count, result.modified_count) == (2, 0)
    result = db.c.update_many({"v": 1}, {"$inc": {"n": 1}})
    assert (result.matched_count, result.modified_count) == (2, 2)
    result = db.c.update_one({"v": 0}, {"$set": {"x": True}})
    assert (result.matched_count, result.modified_count) == (1, 1)
    assert db.c.count_documents({"x": True}) == 1
    assert db.c.update_one({"nope": 1}, {"$set": {"x": 1}}).matched_count == 0
    assert db.missing.update_one({}, {"$set": {"x": 1}}).matched_count == 0


def test_upsert_seeds_from_the_filter(db: Database[dict[str, Any]]) -> None:
    # Manual, "upsert": the new document starts from the filter's equality
    # conditions, then the update applies; $setOnInsert only on insert.
    result = db.c.update_one(
        {"name": "ana", "age": {"$gt": 3}},
        {"$set": {"k": 1}, "$setOnInsert": {"s": 1}},
        upsert=True,
    )
    assert result.upserted_id is not None and result.matched_count == 0
    doc = db.c.find_one({"_id": result.upserted_id})
    assert doc == {"_id": result.upserted_id, "name": "ana", "k": 1, "s": 1}
    replaced = db.c.replace_one({"_id": 99}, {"w": 1}, upsert=True)
    assert replaced.upserted_id == 99
    assert db.c.find_one({"_id": 99}) == {"_id": 99, "w": 1}
    fresh = db.new_collection.update_one({"a": 1}, {"$set": {"b": 2}}, upsert=True)
    assert isinstance(fresh.upserted_id, ObjectId)
    raw = db.command(
        "update",
        "c",
        updates=[
            {"q": {"z": 1}, "u": {"$set": {"y": 1}}, "upsert": True},
            {"q": {"_id": 0}, "u": {"$set": {"y": 2}}},
        ],
    )
    assert raw["n"] == 2 and raw["nModified"] == 1 and raw["upserted"][0]["index"] == 0


def test_replacement_and_immutable_id(db: Database[dict[str, Any]]) -> None:
    db.c.replace_one({"_id": 1}, {"only": "this"})
    assert db.c.find_one({"_id": 1}) == {"_id": 1, "only": "this"}
    with pytest.raises(WriteError) as info:
        db.c.replace_one({"_id": 1}, {"_id": 2})
    assert info.value.code == 66
    raw = db.command(
        "update", "c", updates=[{"q": {}, "u": {"x": 1}, "multi": True}], ordered=False
    )
    assert raw["writeErrors"][0]["code"] == 9


def test_update_write_errors_and_ordering(db: Database[dict[str, Any]]) -> None:
    db.c.create_index("u", unique=True, sparse=True)
    db.c.update_one({"_id": 0}, {"$set": {"u": 1}})
    with pytest.raises(DuplicateKeyError):
        db.c.update_one({"_id": 1}, {"$set": {"u": 1}})
    raw = db.command(
        "update",
        "c",
        updates=[
            {"q": {"_id": 2}, "u": {"$inc": {"tags": 1}}},
            {"q": {"_id": 3}, "u": {"$set": {"ok": 1}}},
        ],
        ordered=False,
    )
    assert (
        raw["n"] == 1
        and raw["writeErrors"][0]["index"] == 0
        and raw["writeErrors"][0]["code"] == 14
    )
    raw = db.command(
        "update",
        "c",
        updates=[
            {"q": {"_id": 2}, "u": {"$inc": {"tags": 1}}},
            {"q": {"_id": 4}, "u": {"$set": {"ok": 1}}},
        ],
    )
    assert raw["n"] == 0 and len(raw["writeErrors"]) == 1
    for bad, code in [
        ([{"q": {}}], 40414),
        ([{"u": {}}], 40414),
        ([{"q": {}, "u": {}, "bogus": 1}], 40415),
        ([{"q": {}, "u": {"$set": {"a": 1}}, "c": {"x": 1}}], 2),
    ]:
        raw = db.command("update", "c", updates=bad, ordered=False)
        assert raw["writeErrors"][0]["code"] == code
    with pytest.raises(OperationFailure) as failure:
        db.command("update", "c", updates=[{"q": {}, "u": {"$set": {"a": 1}}}], let={"x": 1})
    assert failure.value.code == 2


def test_update_with_sort_and_array_filters(db: Database[dict[str, Any]]) -> None:
    # MongoDB 8.0: updateOne may sort to choose which document it updates.
    db.command(
        "update", "c", updates=[{"q": {"v": 2}, "u": {"$set": {"last": True}}, "sort": {"_id": -1}}]
    )
    assert db.c.find_one({"last": True})["_id"] == 5  # type: ignore[index]
    raw = db.command(
        "update",
        "c",
        updates=[{"q": {}, "u": {"$set": {"a": 1}}, "sort": {"_id": 1}, "multi": True}],
        ordered=False,
    )
    assert raw["writeErrors"][0]["code"] == 9
    db.c.update_many({}, {"$set": {"tags.$[t]": "z"}}, array_filters=[{"t": "a"}])
    assert db.c.find_one({"_id": 1})["tags"] == ["z", "b"]  # type: ignore[index]
    raw = db.command(
        "update",
        "c",
        updates=[{"q": {}, "u": {"$set": {"a": 1}}, "arrayFilters": [1]}],
        ordered=False,
    )
    assert raw["writeErrors"][0]["code"] == 14


def test_positional_update(db: Database[dict[str, Any]]) -> None:
    db.c.update_one({"_id": 1, "tags": "b"}, {"$set": {"tags.$": "B"}})
    assert db.c.find_one({"_id": 1})["tags"] == ["a", "B"]  # type: ignore[index]


# ---------------------------------------------------------------- findAndModify


def test_find_one_and_update_replace_delete(db: Database[dict[str, Any]]) -> None:
    before = db.c.find_one_and_update({"v": 2}, {"$set": {"hit": 1}}, sort=[("_id", -1)])
    assert before == {"_id": 5, "v": 2, "tags": ["a", "b"]}
    after = db.c.find_one_and_update(
        {"_id": 5},
        {"$inc": {"hit": 1}},
        projection={"hit": 1, "_id": 0},
        return_document=ReturnDocument.AFTER,
    )
    assert after == {"hit": 2}
    replaced = db.c.find_one_and_replace({"_id": 4}, {"r": 1}, return_document=ReturnDocument.AFTER)
    assert replaced == {"_id": 4, "r": 1}
    deleted = db.c.find_one_and_delete({"v": 0}, sort=[("_id", 1)])
    assert deleted is not None and deleted["_id"] == 0
    assert db.c.find_one({"_id": 0}) is None
    assert db.c.find_one_and_update({"none": 1}, {"$set": {"a": 1}}) is None
    assert db.c.find_one_and_delete({"none": 1}) is None


def test_find_one_and_update_upsert_and_last_error_object(db: Database[dict[str, Any]]) -> None:
    raw = db.command(
        "findAndModify", "c", query={"_id": 50}, update={"$set": {"u": 1}}, upsert=True, new=True
    )
    assert raw["value"] == {"_id": 50, "u": 1}
    assert raw["lastErrorObject"] == {"n": 1, "updatedExisting": False, "upserted": 50}
    raw = db.command(
        "findAndModify", "c", query={"_id": 51}, update={"$set": {"u": 1}}, upsert=True
    )
    assert raw["value"] is None
    raw = db.command("findAndModify", "c", query={"_id": 50}, update={"$set": {"u": 2}})
    assert raw["lastErrorObject"] == {"n": 1, "updatedExisting": True} and raw["value"]["u"] == 1
    raw = db.command("findAndModify", "c", query={"_id": 50}, remove=True)
    assert raw["lastErrorObject"] == {"n": 1}
    raw = db.new.find_one_and_update(
        {"k": 1}, {"$set": {"j": 2}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert raw is not None and raw["k"] == 1 and raw["j"] == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"remove": True, "update": {"$set": {"a": 1}}},
            "Cannot specify both an update and remove=true",
        ),
        ({"remove": True, "upsert": True}, "Cannot specify both upsert=true and remove=true "),
        (
            {"remove": True, "new": True},
            "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
        ),
        ({}, "Either an update or remove=true must be specified"),
    ],
)
def test_find_and_modify_argument_errors(
    db: Database[dict[str, Any]], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(OperationFailure) as info:
        db.command("findAndModify", "c", query={}, **options)
    assert (info.value.code, info.value.details["errmsg"]) == (9, message)  # type: ignore[index]


def test_find_and_modify_let_is_refused(db: Database[dict[str, Any]]) -> None:
    with pytest.raises(OperationFailure) as info:
        db.command("findAndModify", "c", query={}, remove=True, let={"a": 1})
    assert info.value.code == 2


# ---------------------------------------------------------------- aggregate


def test_aggregate_through_pymongo(db: Database[dict[str, Any]]) -> None:
    grouped = list(
        db.c.aggregate(
            [
                {"$match": {"v": {"$gte": 1}}},
                {"$group": {"_id": "$v", "n": {"$sum": 1}}},
                {"$sort": {"_id": 1}},
            ]
        )
    )
    assert grouped == [{"_id": 1, "n": 2}, {"_id": 2, "n": 2}]
    assert db.c.count_documents({"v": 1}) == 2
    assert db.c.estimated_document_count() == 6
    many = db.big.insert_many([{"i": i} for i in range(250)])
    assert len(many.inserted_ids) == 250
    assert len(list(db.big.aggregate([{"$match": {}}], batchSize=10))) == 250


def test_aggregate_out_and_merge(db: Database[dict[str, Any]]) -> None:
    db.target.create_index("v")
    assert list(db.c.aggregate([{"$match": {"v": 1}}, {"$out": "target"}])) == []
    assert sorted(d["_id"] for d in db.target.find()) == [1, 4]
    assert [i["name"] for i in db.target.list_indexes()] == ["_id_", "v_1"]  # $out keeps indexes
    db.c.aggregate([{"$project": {"v": 1}}, {"$merge": {"into": "merged"}}])
    db.c.aggregate(
        [{"$project": {"w": "$v"}}, {"$merge": {"into": "merged", "whenMatched": "merge"}}]
    )
    assert db.merged.find_one({"_id": 2}) == {"_id": 2, "v": 2, "w": 2}
    db.c.aggregate([{"$project": {"_id": 0, "v": 1}}, {"$out": "no_ids"}])
    assert db.no_ids.count_documents({}) == 6
    # $merge on fields other than _id needs a unique index on them (manual: "$merge").
    with pytest.raises(OperationFailure) as info:
        db.c.aggregate([{"$merge": {"into": "absent", "on": "v"}}])
    assert info.value.code == 51183
    with pytest.raises(OperationFailure):
        db.c.aggregate([{"$merge": {"into": "merged", "on": "v"}}])
    db.keyed.create_index("v", unique=True)
    db.c.aggregate(
        [
            {"$match": {"v": 1}},
            {"$limit": 1},
            {"$project": {"_id": 0, "v": 1}},
            {"$merge": {"into": "keyed", "on": "v"}},
        ]
    )
    assert db.keyed.find_one({}, {"_id": 0}) == {"v": 1}


def test_aggregate_lookup_reads_other_collections(db: Database[dict[str, Any]]) -> None:
    db.other.insert_many([{"_id": 1, "k": 1}, {"_id": 2, "k": 2}])
    joined = list(
        db.c.aggregate(
            [
                {"$match": {"_id": {"$lt": 3}}},
                {"$lookup": {"from": "other", "localField": "v", "foreignField": "k", "as": "o"}},
                {"$lookup": {"from": "nothing", "localField": "v", "foreignField": "k", "as": "n"}},
                {"$project": {"o": "$o._id", "n": 1}},
            ]
        )
    )
    assert joined == [
        {"_id": 0, "o": [], "n": []},
        {"_id": 1, "o": [1], "n": []},
        {"_id": 2, "o": [2], "n": []},
    ]


def test_aggregate_errors(db: Database[dict[str, Any]]) -> None:
    with pytest.raises(OperationFailure) as info:
        db.command("aggregate", "c", pipeline=[])
    assert info.value.code == 9
    with pytest.raises(OperationFailure) as info:
        db.command("aggregate", "c", pipeline={}, cursor={})
    assert info.value.code == 14
    with pytest.raises(OperationFailure) as info:
        db.command("aggregate", 1, pipeline=[{"$match": {}}], cursor={})
    assert info.value.code == 73
    with pytest.raises(OperationFailure) as info:
        db.command("aggregate", 5, pipeline=[], cursor={})
    assert info.value.code == 73
    with pytest.raises(OperationFailure) as info:
        db.command("aggregate", "c", pipeline=[], cursor={"batchSize": -1})
    assert info.value.code == 51024
    with pytest.raises(OperationFailure) as info:
        db.command("aggregate", "c", pipeline=[{"$nope": 1}], cursor={})
    assert info.value.code == 40324


def test_aggregate_collectionless_and_explain(db: Database[dict[str, Any]]) -> None:
    reply = db.command("aggregate", 1, pipeline=[{"$documents": [{"a": 1}, {"a": 2}]}], cursor={})
    assert reply["cursor"]["firstBatch"] == [{"a": 1}, {"a": 2}]
    explained = db.command("aggregate", "c", pipeline=[{"$match": {"v": 1}}], explain=True)
    assert explained["stages"] == [{"$match": {}}]
    zero = db.command("aggregate", "c", pipeline=[], cursor={"batchSize": 0})
    assert zero["cursor"]["firstBatch"] == [] and zero["cursor"]["id"] != 0
    invalid_match = db.command("aggregate", "c", pipeline=[{"$match": {"$expr": 1}}], cursor={})
    assert len(invalid_match["cursor"]["firstBatch"]) == 6


def test_find_and_modify_that_changes_nothing(db: Database[dict[str, Any]]) -> None:
    raw = db.command("findAndModify", "c", query={"_id": 1}, update={"$set": {"v": 1}}, new=True)
    assert raw["value"] == {"_id": 1, "v": 1, "tags": ["a", "b"]}
    assert raw["lastErrorObject"] == {"n": 1, "updatedExisting": True}
