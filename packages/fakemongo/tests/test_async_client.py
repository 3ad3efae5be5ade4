"""The same server through PyMongo's asyncio client (AsyncMongoClient), in
the test's own event loop: fakemongo runs in-process with ``async with``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from fakemongo import FakeMongo


@pytest_asyncio.fixture
async def client() -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    async with FakeMongo() as server:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri, compressors="zlib")
        yield client
        await client.close()


@pytest.mark.asyncio
async def test_crud_round_trip(client: AsyncMongoClient[dict[str, Any]]) -> None:
    users = client.app.users
    await users.create_index("email", unique=True)
    inserted = await users.insert_many([{"email": f"u{i}@x", "age": 20 + i} for i in range(150)])
    assert len(inserted.inserted_ids) == 150
    with pytest.raises(DuplicateKeyError):
        await users.insert_one({"email": "u1@x"})
    assert await users.count_documents({"age": {"$gte": 100}}) == 70
    page = await users.find({}, {"_id": 0, "email": 1}).sort("age", -1).skip(10).limit(5).to_list()
    assert page == [{"email": f"u{i}@x"} for i in range(139, 134, -1)]
    assert len([doc async for doc in users.find().batch_size(20)]) == 150
    updated = await users.update_many({"age": {"$lt": 25}}, {"$inc": {"age": 100}})
    assert (updated.matched_count, updated.modified_count) == (5, 5)
    doc = await users.find_one_and_update(
        {"email": "u0@x"}, {"$set": {"vip": True}}, return_document=ReturnDocument.AFTER
    )
    assert doc is not None and doc["vip"] is True and doc["age"] == 120
    grouped = await (await users.aggregate([{"$group": {"_id": None, "n": {"$sum": 1}}}])).to_list()
    assert grouped == [{"_id": None, "n": 150}]
    # ages 120..169, plus the five raised from 20..24 to 120..124
    assert (await users.delete_many({"age": {"$gte": 120}})).deleted_count == 55
    assert await users.estimated_document_count() == 95
    assert sorted(await client.list_database_names()) == ["app"]
    with pytest.raises(OperationFailure) as info:
        await client.app.command("noSuchCommand")
    assert info.value.code == 59
