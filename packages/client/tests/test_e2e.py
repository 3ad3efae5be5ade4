"""End to end against fakemongo: real sockets, the pool's topology, both APIs,
cursors and their killCursors, monitoring, and PyMongo as an oracle."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient

from fakemongo import FakeMongo, FakeMongoThread
from mongotor.client import (
    CommandEvent,
    CommandFailedEvent,
    CommandStartedEvent,
    CommandSucceededEvent,
    DeleteMany,
    InsertOne,
    ReplaceOne,
    ReturnDocument,
    UpdateOne,
)
from mongotor.database import Database
from mongotor.errors import (
    BulkWriteError,
    CursorNotFound,
    DocumentTooLarge,
    DuplicateKeyError,
    IntegrityError,
    InvalidOperationError,
    OperationFailure,
    ProgrammingError,
)


@pytest.fixture(autouse=True)
def _no_default() -> Iterator[None]:
    Database._default = None
    yield
    Database._default = None


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeMongo]:
    async with FakeMongo() as running:
        yield running


class Events:
    def __init__(self) -> None:
        self.all: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.all.append(event)

    def commands(self, kind: type = CommandStartedEvent) -> list[str]:
        return [e.command_name for e in self.all if isinstance(e, kind)]


@pytest_asyncio.fixture
async def events() -> Events:
    return Events()


@pytest_asyncio.fixture
async def db(server: FakeMongo, events: Events) -> AsyncIterator[Database[Any]]:
    database = Database.connect(server.uri + "/test_db", event_listeners=[events])
    yield database
    await Database.disconnect()


@pytest.mark.asyncio
async def test_the_2012_api(server: FakeMongo) -> None:
    db = Database.connect([server.address], "test_db", maxconnections=2)
    assert Database() is db
    assert (await db.command("buildinfo"))["version"].startswith("8.")
    new_id = await db.user.insert({"name": "ana", "age": 30})
    assert isinstance(new_id, ObjectId)
    assert await db.user.insert([{"_id": 1, "name": "bob", "age": 20}, {"_id": 2, "age": 40}]) == [
        1,
        2,
    ]
    with pytest.raises(IntegrityError) as caught:
        await db.user.insert({"_id": 1})
    assert caught.value.code == 11000 and "E11000" in str(caught.value)
    assert (await db.command("collstats", "user"))["count"] == 3
    assert await db.user.find_one(1) == {"_id": 1, "name": "bob", "age": 20}
    assert await db["user"].count() == 3
    assert sorted(await db.user.distinct("age")) == [20, 30, 40]
    found = await db.user.find({"age": {"$gte": 30}}, ["age"], sort=[("age", -1)])
    assert [d["age"] for d in found] == [40, 30] and "name" not in found[0]
    assert await db.user.update({"_id": 2}, {"$set": {"name": "cy"}}) == {
        "n": 1,
        "nModified": 1,
        "updatedExisting": True,
        "ok": 1.0,
    }
    upserted = await db.user.update({"_id": 9}, {"name": "dee"}, upsert=True)
    assert upserted is not None and upserted["upserted"] == 9
    assert await db.user.remove({"_id": 9}) == {"n": 1, "ok": 1.0}
    total = await db.user.group(
        None, {"age": {"$gt": 0}}, {"n": 0, "sum": 0}, "function(d, r) { r.n++; r.sum += d.age }"
    )
    assert total == [{"n": 3, "sum": 90}]
    pipeline = [{"$group": {"_id": None, "oldest": {"$max": "$age"}}}]
    assert await db.user.aggregate(pipeline, "primaryPreferred") == [{"_id": None, "oldest": 40}]
    with pytest.raises(ProgrammingError) as missing:
        await db.user.map_reduce("function(){}", "function(){}", {"inline": 1})
    assert missing.value.code == 59  # fakemongo has no mapReduce
    await Database.disconnect()
    with pytest.raises(InvalidOperationError, match="closed"):
        await db.user.find_one()


@pytest.mark.asyncio
async def test_unacknowledged_writes_are_sent_and_not_read(server: FakeMongo) -> None:
    db = Database.connect(server.uri, "test_db", maxPoolSize=1)
    assert await db.user.insert({"_id": 1}, safe=False) == 1
    assert await db.user.update({"_id": 1}, {"$set": {"a": 1}}, safe=False) is None
    # One connection: the server read the writes before this find.
    assert await db.user.find_one(1) == {"_id": 1, "a": 1}
    assert await db.user.remove(1, safe=False) is None
    assert await db.user.count() == 0
    await db.close()


@pytest.mark.asyncio
async def test_the_modern_api(db: Database[Any]) -> None:
    users = db.users
    one = await users.insert_one({"name": "ana", "n": 1})
    many = await users.insert_many([{"name": f"u{i}", "n": i} for i in range(2, 6)])
    assert len(many.inserted_ids) == 4
    assert await users.count_documents({"n": {"$gt": 2}}) == 3
    assert await users.estimated_document_count() == 5
    updated = await users.update_many({"n": {"$gte": 4}}, {"$inc": {"n": 10}})
    assert (updated.matched_count, updated.modified_count) == (2, 2)
    replaced = await users.replace_one({"_id": one.inserted_id}, {"name": "ana", "n": 0})
    assert replaced.modified_count == 1
    upsert = await users.update_one({"name": "zed"}, {"$set": {"n": 99}}, upsert=True)
    assert upsert.upserted_id is not None and upsert.matched_count == 0
    before = await users.find_one_and_update(
        {"name": "zed"}, {"$set": {"n": 100}}, projection={"_id": 0}
    )
    assert before == {"name": "zed", "n": 99}
    after = await users.find_one_and_replace(
        {"name": "zed"}, {"name": "zed", "n": 1}, return_document=ReturnDocument.AFTER
    )
    assert after is not None and after["n"] == 1
    assert (await users.find_one_and_delete({"name": "zed"}, sort=[("n", 1)]))["n"] == 1  # type: ignore[index]
    assert (await users.delete_one({"name": "u2"})).deleted_count == 1
    assert (await users.delete_many({"n": {"$gte": 10}})).deleted_count == 2
    assert await users.distinct("name") == ["ana", "u3"]
    result = await users.bulk_write(
        [
            InsertOne({"_id": "b1"}),
            UpdateOne({"_id": "b1"}, {"$set": {"x": 1}}),
            ReplaceOne({"_id": "b2"}, {"x": 2}, upsert=True),
            DeleteMany({"name": "ana"}),
        ]
    )
    assert (result.inserted_count, result.modified_count, result.deleted_count) == (1, 1, 1)
    assert result.upserted_ids == {2: "b2"}
    assert await users.create_index([("x", -1)], unique=True, sparse=True) == "x_-1"
    assert "x_-1" in await users.index_information()
    await users.drop_index("x_-1")
    await users.rename("people")
    assert await db.list_collection_names() == ["people"]
    assert "test_db" in await db.list_database_names()
    await db.people.drop()
    await db.people.drop()  # dropping what does not exist is fine
    assert await db.people.list_indexes().to_list() == []
    with pytest.raises(OperationFailure):
        await db.missing.rename("other")


@pytest.mark.asyncio
async def test_write_errors(db: Database[Any]) -> None:
    await db.c.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError) as caught:
        await db.c.insert_one({"_id": 1})
    assert caught.value.key_value == {"_id": 1}
    with pytest.raises(BulkWriteError) as bulk:
        await db.c.insert_many([{"_id": 2}, {"_id": 1}, {"_id": 3}], ordered=False)
    details = bulk.value.details
    assert details["nInserted"] == 2 and details["writeErrors"][0]["index"] == 1
    with pytest.raises(BulkWriteError) as ordered:
        await db.c.insert_many([{"_id": 4}, {"_id": 1}, {"_id": 5}])
    assert ordered.value.details["nInserted"] == 1
    with pytest.raises(DocumentTooLarge):
        await db.c.insert_one({"big": "x" * (16 * 1024 * 1024)})
    await db.c.create_index("u", unique=True, sparse=True)
    await db.c.update_one({"_id": 1}, {"$set": {"u": 1}})
    with pytest.raises(DuplicateKeyError):  # a command error (ok: 0) for findAndModify
        await db.c.find_one_and_update({"_id": 4}, {"$set": {"u": 1}})
    with pytest.raises(ProgrammingError):  # ImmutableField
        await db.c.find_one_and_update({"_id": 4}, {"$set": {"_id": 1}})


@pytest.mark.asyncio
async def test_cursors_stream_and_kill(db: Database[Any], events: Events) -> None:
    await db.c.insert_many([{"i": i} for i in range(25)])
    cursor = db.c.find().sort("i").batch_size(10)
    assert [d["i"] async for d in cursor] == list(range(25))
    assert events.commands().count("getMore") == 2
    async with db.c.find(batch_size=5) as early:
        assert (await early.next())["i"] == 0
    assert events.commands(CommandSucceededEvent)[-1] == "killCursors"
    limited = await db.c.find(limit=7, batch_size=3).to_list()
    assert len(limited) == 7
    aggregated = db.c.aggregate([{"$match": {"i": {"$lt": 12}}}], batch_size=4)
    assert len(await aggregated) == 12
    await db.c.create_index("i")
    plan = await db.c.find({"i": 3}).explain()
    assert "queryPlanner" in plan


@pytest.mark.asyncio
async def test_a_killed_cursor_is_gone(db: Database[Any]) -> None:
    await db.c.insert_many([{"i": i} for i in range(10)])
    cursor = db.c.find(batch_size=2)
    await cursor.next()
    cursor_id = cursor.cursor_id
    await db.command("killCursors", "c", cursors=[cursor_id])
    with pytest.raises(CursorNotFound):
        await cursor.to_list()


@pytest.mark.asyncio
async def test_abandoned_and_cancelled_cursors_are_killed(
    db: Database[Any], events: Events
) -> None:
    await db.c.insert_many([{"i": i} for i in range(10)])
    killed = asyncio.Event()
    events_seen = events.all

    def on_event(event: CommandEvent) -> None:
        if isinstance(event, CommandSucceededEvent) and event.command_name == "killCursors":
            killed.set()

    db.executor.monitor.listeners.append(on_event)  # type: ignore[attr-defined]
    cursor = db.c.find(batch_size=2)
    await cursor.next()
    del cursor
    gc.collect()
    async with asyncio.timeout(5):
        await killed.wait()
    assert any(
        isinstance(e, CommandStartedEvent) and e.command_name == "killCursors" for e in events_seen
    )


@pytest.mark.asyncio
async def test_tailable_cursor_follows_a_capped_collection(db: Database[Any]) -> None:
    # Manual, "Tailable Cursors": the cursor stays open at the end of the
    # capped collection and later returns the documents inserted after it.
    await db.create_collection("capped", capped=True, size=4096)
    await db.capped.insert_many([{"_id": 1}, {"_id": 2}])
    cursor = db.capped.find(tailable=True)
    assert [doc["_id"] async for doc in cursor] == [1, 2]
    assert cursor.alive
    await db.capped.insert_one({"_id": 3})
    assert [doc["_id"] async for doc in cursor] == [3]
    await cursor.close()


@pytest.mark.asyncio
async def test_command_events(db: Database[Any], events: Events) -> None:
    with pytest.raises(ProgrammingError):
        await db.command("noSuchCommand")
    failed = [e for e in events.all if isinstance(e, CommandFailedEvent)]
    assert failed[-1].command_name == "noSuchCommand"
    assert isinstance(failed[-1].failure, ProgrammingError)
    assert (await db.command("ping", check=False))["ok"] == 1
    assert (await db.command("noSuchCommand", check=False))["code"] == 59
    statistics = db.statistics()
    assert statistics.failed >= 2 and statistics.topology.servers[0].pool.total >= 1


@pytest.mark.asyncio
async def test_pymongo_is_an_oracle(db: Database[Any], server: FakeMongo) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri)
    try:
        await db.c.insert_many([{"_id": i, "v": i * i} for i in range(20)])
        theirs = await client.test_db.c.find({"v": {"$gt": 10}}).sort("v", -1).to_list()
        ours = await db.c.find({"v": {"$gt": 10}}).sort("v", -1).to_list()
        assert ours == theirs
        await client.test_db.c.insert_one({"_id": "theirs"})
        assert await db.c.find_one("theirs") == {"_id": "theirs"}
    finally:
        await client.close()


def test_a_database_is_bound_to_its_event_loop() -> None:
    with FakeMongoThread() as server:
        db = Database.connect(server.uri, "test_db")
        first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
        try:
            first.run_until_complete(db.c.insert_one({"a": 1}))
            with pytest.raises(InvalidOperationError, match="another event loop"):
                second.run_until_complete(db.c.find_one())
            first.run_until_complete(db.close())
        finally:
            first.close()
            second.close()
