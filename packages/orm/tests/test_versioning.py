"""Optimistic concurrency: a version field, conditional writes, and the typed
error of a write that lost a race."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from mongotor.database import Database
from mongotor.errors import InvalidOperationError
from mongotor.orm import (
    Collection,
    ConcurrentModificationError,
    IntegerField,
    ObjectIdField,
    StringField,
    VersionField,
)

from .conftest import Commands


class Account(Collection):
    __collection__ = "account"
    _id = ObjectIdField()
    owner = StringField()
    balance = IntegerField()
    version = VersionField(name="_v")


def sent(commands: Commands) -> dict[str, Any]:
    statement: dict[str, Any] = commands.last("update")["updates"][0]
    return statement


@pytest.mark.asyncio
async def test_versions_count_writes(db: Database[Any], commands: Commands) -> None:
    account = Account(owner="ana", balance=10)
    assert account.version == 0
    await account.save()
    assert account.version == 1
    assert commands.last("insert")["documents"][0]["_v"] == 1
    account.balance = 20
    await account.save()
    assert account.version == 2
    statement = sent(commands)
    assert statement["q"] == {"_id": account._id, "_v": 1}
    assert statement["u"] == {"$set": {"balance": 20, "_v": 2}}
    await account.save()  # nothing changed: no write, same version
    assert account.version == 2
    stored = await db.account.find_one(account._id)
    assert stored is not None and stored["_v"] == 2


@pytest.mark.asyncio
async def test_a_lost_race_raises(db: Database[Any]) -> None:
    mine = Account(owner="ana", balance=10)
    await mine.save()
    theirs = await Account.objects.find_one(mine._id)
    assert theirs is not None
    theirs.balance = 99
    await theirs.save()
    mine.balance = 11
    with pytest.raises(ConcurrentModificationError) as caught:
        await mine.save()
    assert (caught.value.model, caught.value.id, caught.value.version) == ("Account", mine._id, 1)
    assert "no longer at version 1" in str(caught.value)
    stored = await db.account.find_one(mine._id)
    assert stored is not None and stored["balance"] == 99
    await mine.reload()
    mine.balance = 12
    await mine.save()
    assert mine.version == 3


@pytest.mark.asyncio
async def test_updates_and_removes_are_guarded_too(db: Database[Any], commands: Commands) -> None:
    account = Account(owner="ana", balance=1)
    await account.save()
    stale = await Account.objects.find_one(account._id)
    assert stale is not None
    await account.update(force=True)
    assert account.version == 2
    assert sent(commands)["u"]["_v"] == 2
    await account.update({"$inc": {"balance": 5}})
    assert account.version == 3
    assert sent(commands)["u"] == {"$inc": {"balance": 5, "_v": 1}}
    await account.update({"$inc": {"_v": 0}, "$set": {"owner": "bob"}})
    assert sent(commands)["u"]["$inc"] == {"_v": 1}
    await account.update({"owner": "carl", "balance": 0})
    assert sent(commands)["u"] == {"owner": "carl", "balance": 0, "_v": 5}
    await account.reload()
    assert (account.owner, account.version) == ("carl", 5)
    stale.balance = 100
    with pytest.raises(ConcurrentModificationError):
        await stale.update()
    with pytest.raises(ConcurrentModificationError):
        await stale.update(force=True)
    with pytest.raises(ConcurrentModificationError):
        await stale.update({"$set": {"balance": 1}})
    with pytest.raises(ConcurrentModificationError):
        await stale.remove()
    assert commands.last("delete")["deletes"][0]["q"] == {"_id": account._id, "_v": 1}
    await account.remove()
    assert await Account.objects.count() == 0


@pytest.mark.asyncio
async def test_a_partial_load_keeps_the_version(db: Database[Any], commands: Commands) -> None:
    account = Account(owner="ana", balance=1)
    await account.save()
    partial = await Account.objects.only("balance").first()
    assert partial is not None and partial.version == 1
    assert commands.last("find")["projection"] == {"_id": 1, "balance": 1, "_v": 1}
    partial.balance = 2
    await partial.save()
    assert partial.version == 2


@pytest.mark.asyncio
async def test_a_document_stored_without_a_version_gets_one(db: Database[Any]) -> None:
    await db.account.insert_one({"_id": 1, "owner": "legacy"})
    account = await Account.objects.find_one(1)
    assert account is not None
    assert account.version == 0
    account.owner = "updated"
    await account.save()
    assert account.version == 1
    assert await db.account.find_one(1) == {"_id": 1, "owner": "updated", "_v": 1}


@pytest.mark.asyncio
async def test_removing_a_new_document_is_not_guarded(db: Database[Any]) -> None:
    account = Account(owner="ana")
    account._id = ObjectId()
    result = await account.remove()
    assert result.deleted_count == 0


def test_the_version_is_kept_by_the_orm() -> None:
    account = Account()
    with pytest.raises(InvalidOperationError, match="kept by the ORM"):
        account.version = 5
    with pytest.raises(InvalidOperationError):
        Account(version=3)


def test_one_version_field_per_model() -> None:
    with pytest.raises(TypeError, match="more than one VersionField"):

        class Twice(Collection):
            a = VersionField()
            b = VersionField()
