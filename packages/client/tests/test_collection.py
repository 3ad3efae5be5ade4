"""The modern CRUD API over a fake executor: the commands it sends, the results
it builds, the errors it raises."""

from __future__ import annotations

from typing import Any

import bson
import pytest

from mongotor.client import (
    Client,
    DeleteOne,
    IndexModel,
    InsertOne,
    OperationKind,
    ReadConcern,
    ReadPreference,
    ReadPreferenceMode,
    ReplaceOne,
    ReturnDocument,
    UpdateMany,
    WriteConcern,
)
from mongotor.errors import (
    DuplicateKeyError,
    InvalidName,
    InvalidOperationError,
    OperationFailure,
    WriteConcernError,
)

from ._fakes import FakeExecutor, cursor_reply, fake_database


def _decoded(request: Any) -> list[dict[str, Any]]:
    (sequence,) = request.sequences
    return [
        bson.decode(bytes(d)) if isinstance(d, bytes | memoryview) else dict(d)
        for d in sequence.documents
    ]


@pytest.mark.asyncio
async def test_insert_one_adds_an_id_and_sends_one_document() -> None:
    executor = FakeExecutor().answer({"ok": 1, "n": 1})
    users = fake_database(executor).users
    document: dict[str, Any] = {"name": "ana"}
    result = await users.insert_one(document, comment="hi", bypass_document_validation=True)
    assert result.acknowledged and result.inserted_id == document["_id"]
    assert "InsertOneResult(" in repr(result)
    (request,) = executor.requests
    assert request.kind is OperationKind.WRITE and request.retryable
    assert request.command == {
        "insert": "users",
        "ordered": True,
        "bypassDocumentValidation": True,
        "comment": "hi",
    }
    assert _decoded(request) == [document]


@pytest.mark.asyncio
async def test_insert_one_raises_the_write_error() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1, "n": 0, "writeErrors": [{"index": 0, "code": 11000, "errmsg": "E11000"}]},
        {"ok": 1, "n": 1, "writeConcernError": {"code": 64, "errmsg": "timeout"}},
    )
    users = fake_database(executor).users
    with pytest.raises(DuplicateKeyError):
        await users.insert_one({"_id": 1})
    with pytest.raises(WriteConcernError):
        await users.insert_one({"_id": 2})


@pytest.mark.asyncio
async def test_unacknowledged_writes() -> None:
    executor = FakeExecutor().answer({}, {}, {})
    users = fake_database(executor).users.with_options(write_concern={"w": 0})
    result = await users.insert_one({"_id": 1})
    assert not result.acknowledged and result.inserted_id == 1
    update = await users.update_one({}, {"$set": {"a": 1}})
    with pytest.raises(InvalidOperationError):
        _ = update.matched_count
    assert update.raw_result == {}
    delete = await users.delete_one({})
    with pytest.raises(InvalidOperationError):
        _ = delete.deleted_count
    assert all(not r.acknowledged for r in executor.requests)
    assert all(r.command["writeConcern"] == {"w": 0} for r in executor.requests)


@pytest.mark.asyncio
async def test_insert_many() -> None:
    executor = FakeExecutor().answer({"ok": 1, "n": 3})
    users = fake_database(executor).users
    documents = [{"i": i} for i in range(3)]
    result = await users.insert_many(iter(documents), ordered=False)
    assert result.inserted_ids == [d["_id"] for d in documents]
    assert repr(result) == "InsertManyResult(3 ids, acknowledged=True)"
    assert executor.requests[0].command["ordered"] is False
    with pytest.raises(TypeError):
        await users.insert_many([])


@pytest.mark.asyncio
async def test_updates_replacements_and_deletes() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1, "n": 1, "nModified": 1},
        {"ok": 1, "n": 1, "nModified": 0, "upserted": [{"index": 0, "_id": 9}]},
        {"ok": 1, "n": 2, "nModified": 2},
        {"ok": 1, "n": 1},
        {"ok": 1, "n": 4},
    )
    users = fake_database(executor).users
    one = await users.update_one(
        {"a": 1}, {"$set": {"b": 1}}, let={"x": 1}, comment="c", bypass_document_validation=False
    )
    assert (one.matched_count, one.modified_count, one.upserted_id) == (1, 1, None)
    assert "UpdateResult(" in repr(one)
    replaced = await users.replace_one({"a": 1}, {"b": 2}, upsert=True)
    assert (replaced.matched_count, replaced.upserted_id) == (0, 9)
    many = await users.update_many({}, {"$inc": {"n": 1}})
    assert many.modified_count == 2
    deleted = await users.delete_one({"a": 1}, hint="a_1")
    assert deleted.deleted_count == 1 and deleted.raw_result["n"] == 1
    assert "DeleteResult(" in repr(deleted)
    all_deleted = await users.delete_many({}, let={"y": 1})
    assert all_deleted.deleted_count == 4
    commands = executor.commands
    assert commands[0] == {
        "update": "users",
        "ordered": True,
        "bypassDocumentValidation": False,
        "comment": "c",
        "let": {"x": 1},
    }
    assert commands[4] == {"delete": "users", "ordered": True, "let": {"y": 1}}
    assert [r.retryable for r in executor.requests] == [True, True, False, True, False]
    assert _decoded(executor.requests[3]) == [{"q": {"a": 1}, "limit": 1, "hint": "a_1"}]


@pytest.mark.asyncio
async def test_bulk_write() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1, "n": 1},
        {"ok": 1, "n": 2, "nModified": 2},
        {"ok": 1, "n": 1},
    )
    users = fake_database(executor).users
    document: dict[str, Any] = {"a": 1}
    result = await users.bulk_write(
        [
            InsertOne(document),
            UpdateMany({}, {"$set": {"b": 1}}),
            ReplaceOne({"a": 2}, {"a": 3}),
            DeleteOne({"a": 3}),
        ],
        comment="bulk",
        let={"v": 1},
    )
    assert "_id" in document
    assert (result.inserted_count, result.matched_count, result.modified_count) == (1, 2, 2)
    assert (result.deleted_count, result.upserted_count, result.upserted_ids) == (1, 0, {})
    assert result.bulk_api_result["nInserted"] == 1
    assert repr(result).startswith("BulkWriteResult({'nInserted': 1")
    assert executor.names == ["insert", "update", "delete"]
    with pytest.raises(TypeError):
        await users.bulk_write([])
    with pytest.raises(TypeError):
        await users.bulk_write([{"insertOne": {}}])  # type: ignore[list-item]


@pytest.mark.asyncio
async def test_bulk_write_unacknowledged() -> None:
    executor = FakeExecutor().answer({})
    users = fake_database(executor).users
    result = await users.bulk_write([InsertOne({"a": 1})], write_concern=WriteConcern(w=0))
    assert not result.acknowledged
    with pytest.raises(InvalidOperationError):
        _ = result.inserted_count
    with pytest.raises(InvalidOperationError):
        _ = result.upserted_ids


@pytest.mark.asyncio
async def test_find_one_and_modify() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1, "value": {"_id": 1}},
        {"ok": 1, "value": {"_id": 1, "a": 2}},
        {"ok": 1, "value": None},
    )
    users = fake_database(executor).users
    assert await users.find_one_and_delete({"_id": 1}, ["a"], sort="a", max_time_ms=5) == {"_id": 1}
    after = await users.find_one_and_update(
        {"_id": 1},
        {"$set": {"a": 2}},
        return_document=ReturnDocument.AFTER,
        upsert=True,
        array_filters=[{"x": 1}],
        bypass_document_validation=True,
        hint="a_1",
        collation={"locale": "en"},
        let={"v": 1},
        comment="c",
    )
    assert after == {"_id": 1, "a": 2}
    assert (
        await users.find_one_and_replace(
            {"_id": 1}, {"a": 3}, upsert=True, bypass_document_validation=False
        )
        is None
    )
    commands = executor.commands
    assert commands[0] == {
        "findAndModify": "users",
        "query": {"_id": 1},
        "remove": True,
        "fields": {"a": 1},
        "sort": {"a": 1},
        "maxTimeMS": 5,
    }
    assert commands[1]["new"] is True and commands[1]["upsert"] is True
    assert commands[1]["arrayFilters"] == [{"x": 1}]
    assert commands[2]["update"] == {"a": 3} and commands[2]["new"] is False
    assert all(r.kind is OperationKind.WRITE and r.retryable for r in executor.requests)
    acknowledged = users.with_options(write_concern=WriteConcern(w="majority", j=True))
    await acknowledged.find_one_and_delete({})
    assert executor.commands[-1]["writeConcern"] == {"w": "majority", "j": True}


@pytest.mark.asyncio
async def test_reads() -> None:
    executor = FakeExecutor().answer(
        cursor_reply([{"_id": 1, "n": 7}]),
        cursor_reply([]),
        {"ok": 1, "n": 42},
        {"ok": 1, "values": [1, 2]},
        {"ok": 1, "values": []},
    )
    users = fake_database(executor).users.with_options(read_concern=ReadConcern("majority"))
    assert await users.count_documents({"a": 1}, skip=1, limit=5, hint="a_1", max_time_ms=9) == 7
    assert await users.count_documents({}) == 0
    assert await users.estimated_document_count(max_time_ms=3, comment="c") == 42
    assert await users.distinct("a", {"b": 1}, collation={"locale": "en"}) == [1, 2]
    assert await users.distinct("a") == []
    commands = executor.commands
    assert commands[0] == {
        "aggregate": "users",
        "pipeline": [
            {"$match": {"a": 1}},
            {"$skip": 1},
            {"$limit": 5},
            {"$group": {"_id": 1, "n": {"$sum": 1}}},
        ],
        "cursor": {},
        "maxTimeMS": 9,
        "hint": "a_1",
        "readConcern": {"level": "majority"},
    }
    assert commands[2] == {
        "count": "users",
        "maxTimeMS": 3,
        "comment": "c",
        "readConcern": {"level": "majority"},
    }
    assert commands[3]["query"] == {"b": 1}
    assert "query" not in commands[4]
    assert all(r.kind is OperationKind.READ and r.retryable for r in executor.requests)


@pytest.mark.asyncio
async def test_failed_reads_raise() -> None:
    executor = FakeExecutor().answer({"ok": 0, "code": 2, "errmsg": "bad"})
    with pytest.raises(OperationFailure):
        await fake_database(executor).users.distinct("a")


@pytest.mark.asyncio
async def test_aggregate_commands() -> None:
    executor = FakeExecutor().answer(cursor_reply([{"x": 1}]), cursor_reply([]), cursor_reply([]))
    users = fake_database(executor).users.with_options(
        read_preference="secondary",
        write_concern=WriteConcern(w=1),
        read_concern=ReadConcern("local"),
    )
    cursor = users.aggregate(
        [{"$match": {}}],
        batch_size=10,
        allow_disk_use=True,
        hint=[("a", 1)],
        let={"v": 1},
        comment="c",
        max_time_ms=5,
    )
    assert cursor.read_preference.mode is ReadPreferenceMode.SECONDARY
    assert await cursor == [{"x": 1}]
    assert await users.aggregate([{"$out": "other"}]).to_list() == []
    assert await users.aggregate([], read_preference=ReadPreference()).to_list() == []
    first, out, empty = executor.requests
    assert first.command == {
        "aggregate": "users",
        "pipeline": [{"$match": {}}],
        "cursor": {"batchSize": 10},
        "allowDiskUse": True,
        "maxTimeMS": 5,
        "hint": {"a": 1},
        "comment": "c",
        "let": {"v": 1},
        "readConcern": {"level": "local"},
    }
    assert first.kind is OperationKind.READ and first.retryable
    assert out.kind is OperationKind.WRITE and not out.retryable
    assert out.command["writeConcern"] == {"w": 1}
    assert empty.read_preference.mode is ReadPreferenceMode.PRIMARY
    no_concern = fake_database(FakeExecutor().answer(cursor_reply([]))).c
    await no_concern.aggregate([{"$merge": "x"}]).to_list()
    assert "writeConcern" not in no_concern._executor.requests[0].command  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_indexes() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1},
        {"ok": 1},
        cursor_reply(
            [
                {"v": 2, "key": {"_id": 1}, "name": "_id_"},
                {"v": 2, "key": {"a": -1}, "name": "a_-1", "unique": True},
            ]
        ),
        {"ok": 1},
        {"ok": 1},
        {"ok": 0, "code": 26, "errmsg": "ns not found"},
    )
    users = fake_database(executor).users
    assert await users.create_index("a", unique=True) == "a_1"
    model = IndexModel([("a", 1), ("b", -1)], name="ab")
    assert model.name == "ab" and "IndexModel(" in repr(model)
    assert await users.create_indexes([model, IndexModel("c")], comment="x") == ["ab", "c_1"]
    information = await users.index_information()
    assert information == {
        "_id_": {"key": [("_id", 1)]},
        "a_-1": {"key": [("a", -1)], "unique": True},
    }
    await users.drop_index([("a", -1)])
    await users.drop_indexes()
    assert [r async for r in users.list_indexes(comment="c")] == []
    commands = executor.commands
    assert commands[0] == {
        "createIndexes": "users",
        "indexes": [{"key": {"a": 1}, "name": "a_1", "unique": True}],
    }
    assert commands[1]["comment"] == "x"
    assert commands[3] == {"dropIndexes": "users", "index": "a_-1"}
    assert commands[4] == {"dropIndexes": "users", "index": "*"}
    assert commands[5] == {"listIndexes": "users", "cursor": {}, "comment": "c"}
    with pytest.raises(ValueError, match="drop_indexes"):
        await users.drop_index("*")


@pytest.mark.asyncio
async def test_list_indexes_raises_other_errors() -> None:
    executor = FakeExecutor().answer({"ok": 0, "code": 13, "errmsg": "unauthorized"})
    with pytest.raises(OperationFailure):
        await fake_database(executor).users.list_indexes().to_list()


@pytest.mark.asyncio
async def test_drop_rename_options() -> None:
    executor = FakeExecutor().answer(
        {"ok": 0, "code": 26, "errmsg": "ns not found"},
        {"ok": 1},
        {"ok": 1},
        cursor_reply([{"name": "users", "options": {"capped": True}}]),
        cursor_reply([]),
        {"ok": 0, "code": 13, "errmsg": "no"},
    )
    users = fake_database(executor).users
    await users.drop()
    await users.rename("people", drop_target=True)
    await users.with_options(write_concern={"w": "majority"}).rename("folk")
    assert await users.options() == {"capped": True}
    assert await users.options() == {}
    with pytest.raises(OperationFailure):
        await users.drop()
    rename = executor.requests[1]
    assert rename.database == "admin"
    assert rename.command == {
        "renameCollection": "app.users",
        "to": "app.people",
        "dropTarget": True,
    }
    assert executor.commands[2]["writeConcern"] == {"w": "majority"}
    with pytest.raises(InvalidName):
        await users.rename("bad$name")


def test_identity_and_options() -> None:
    database = fake_database()
    users = database.users
    assert users == database["users"] and hash(users) == hash(database["users"])
    assert users != database.people and users.__eq__(5) is NotImplemented
    assert users.name == "users" and users.full_name == "app.users"
    assert users.database is database
    assert repr(users).startswith("Client(Database('app'")
    files = database.fs.files
    assert files.name == "fs.files" and database.fs["chunks"].name == "fs.chunks"
    with pytest.raises(AttributeError):
        _ = users._private
    custom = users.with_options(
        read_preference=2, write_concern=WriteConcern(w=2), read_concern=ReadConcern("local")
    )
    assert custom.read_preference.mode is ReadPreferenceMode.SECONDARY
    assert custom.write_concern.w == 2 and custom.read_concern.level == "local"
    assert users.with_options().read_preference == users.read_preference
    assert isinstance(custom, Client)
    with pytest.raises(InvalidName):
        _ = database[""]
