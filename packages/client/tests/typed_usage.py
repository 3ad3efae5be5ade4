"""A typed program using both APIs: ``test_typing`` runs mypy --strict on it.
(Not a test module: it is type-checked, never imported by pytest.)"""

from __future__ import annotations

from typing import Any

from mongotor.client import (
    BulkWriteResult,
    Client,
    Cursor,
    InsertOne,
    ReturnDocument,
    UpdateOne,
    WriteConcern,
)
from mongotor.database import Database
from mongotor.errors import DuplicateKeyError, IntegrityError, OperationFailure


async def modern(db: Database[dict[str, Any]]) -> int:
    users: Client[dict[str, Any]] = db.users
    result = await users.insert_one({"name": "ana"})
    inserted: object = result.inserted_id
    cursor: Cursor[dict[str, Any]] = users.find({"name": "ana"}).sort("name").limit(5)
    names: list[str] = [document["name"] async for document in cursor]
    found: dict[str, Any] | None = await users.find_one_and_update(
        {"name": "ana"}, {"$set": {"seen": True}}, return_document=ReturnDocument.AFTER
    )
    bulk: BulkWriteResult = await users.with_options(write_concern=WriteConcern(w=1)).bulk_write(
        [InsertOne({"name": "bob"}), UpdateOne({"name": "bob"}, {"$inc": {"n": 1}})]
    )
    try:
        await users.insert_one({"_id": inserted})
    except DuplicateKeyError as exc:
        print(exc.code, exc.key_value)
    count: int = await users.count_documents({})
    return count + len(names) + bulk.inserted_count + (1 if found else 0)


async def legacy() -> list[dict[str, Any]]:
    db = Database.connect(["localhost:27017"], "test_db", maxconnections=10)
    try:
        await db.user.insert({"_id": 1, "name": "ana"}, safe=True)
    except IntegrityError as exc:
        print(exc.code)
    try:
        info = await db.command("buildinfo")
    except OperationFailure as exc:
        print(exc.code_name, exc.details)
    else:
        print(info["version"])
    documents: list[dict[str, Any]] = await db.user.find({"name": "ana"}, ["name"], limit=10)
    await Database.disconnect()
    return documents
