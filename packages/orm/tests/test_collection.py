"""A model's writes against fakemongo: insert, ``$set`` / ``$unset`` of what
changed and nothing else, forced and raw updates, remove, reload, and what is
raised when things go wrong. The commands sent are checked, not just results."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from mongotor.database import Database
from mongotor.errors import (
    DuplicateKeyError,
    EncodingError,
    IntegrityError,
    InterfaceError,
    InvalidOperationError,
    WriteError,
)
from mongotor.orm import (
    Collection,
    DocumentNotFoundError,
    IntegerField,
    ListField,
    ObjectField,
    ObjectIdField,
    StringField,
    ValidationError,
)

from .conftest import Commands


class User(Collection):
    __collection__ = "user"
    _id = ObjectIdField()
    name = StringField(required=True)
    age = IntegerField()
    tags = ListField(StringField())
    prefs = ObjectField()


def updates(commands: Commands) -> list[dict[str, Any]]:
    return [
        statement["u"] for command in commands.named("update") for statement in command["updates"]
    ]


@pytest.mark.asyncio
async def test_save_inserts_a_new_document(db: Database[Any], commands: Commands) -> None:
    user = User(name="ana", age=30)
    assert user.is_new
    await user.save()
    assert not user.is_new
    assert isinstance(user._id, ObjectId)
    (insert,) = commands.named("insert")
    assert insert["documents"] == [{"name": "ana", "age": 30, "_id": user._id}]
    stored = await db.user.find_one(user._id)
    assert stored == {"_id": user._id, "name": "ana", "age": 30}


@pytest.mark.asyncio
async def test_save_of_a_loaded_document_sets_only_what_changed(
    db: Database[Any], commands: Commands
) -> None:
    await db.user.insert_one({"_id": 1, "name": "ana", "age": 30, "tags": ["a"], "legacy": True})
    user = await User.objects.find_one(1)
    assert user is not None
    user.age = 31
    user.tags.append("b")  # type: ignore[union-attr]
    commands.clear()
    await user.save()
    assert updates(commands) == [{"$set": {"age": 31, "tags": ["a", "b"]}}]
    assert await db.user.find_one(1) == {
        "_id": 1,
        "name": "ana",
        "age": 31,
        "tags": ["a", "b"],
        "legacy": True,
    }


@pytest.mark.asyncio
async def test_a_field_set_to_none_is_unset(db: Database[Any], commands: Commands) -> None:
    await db.user.insert_one({"_id": 1, "name": "ana", "age": 30})
    user = await User.objects.find_one(1)
    assert user is not None
    user.age = None
    commands.clear()
    await user.save()
    assert updates(commands) == [{"$unset": {"age": ""}}]
    assert await db.user.find_one(1) == {"_id": 1, "name": "ana"}


@pytest.mark.asyncio
async def test_none_for_a_field_never_stored_writes_nothing(
    db: Database[Any], commands: Commands
) -> None:
    await db.user.insert_one({"_id": 1, "name": "ana"})
    user = await User.objects.find_one(1)
    assert user is not None
    user.age = None
    assert user.pending_update() == {}
    user.tags = None
    user.age = 3
    assert user.pending_update() == {"$set": {"age": 3}}


@pytest.mark.asyncio
async def test_a_forced_update_leaves_out_fields_set_to_none(
    db: Database[Any], commands: Commands
) -> None:
    oid = ObjectId()
    await db.user.insert_one({"_id": oid, "name": "ana", "age": 3})
    user = await User.objects.find_one(oid)
    assert user is not None
    user.age = None
    assert user.pending_update() == {"$unset": {"age": ""}}
    await user.update(force=True)
    assert await db.user.find_one(oid) == {"_id": oid, "name": "ana"}


@pytest.mark.asyncio
async def test_nothing_changed_nothing_written(db: Database[Any], commands: Commands) -> None:
    user = User(name="ana")
    await user.save()
    user.name = "ana"  # the same value
    _ = user.tags
    commands.clear()
    await user.save()
    assert await user.update() is None
    assert commands.named("update") == []
    assert user.dirty_fields == []
    assert user.pending_update() == {}


@pytest.mark.asyncio
async def test_saves_after_saves_write_the_new_changes_only(
    db: Database[Any], commands: Commands
) -> None:
    user = User(name="ana", prefs={"a": 1})
    await user.save()
    assert user.prefs is not None
    user.prefs["b"] = 2
    await user.save()
    user.prefs["a"] = 3
    del user.prefs["b"]
    commands.clear()
    await user.save()
    assert updates(commands) == [{"$set": {"prefs.a": 3}, "$unset": {"prefs.b": ""}}]
    assert await db.user.find_one(user._id) == {"_id": user._id, "name": "ana", "prefs": {"a": 3}}


@pytest.mark.asyncio
async def test_dirty_fields_and_pending_update(db: Database[Any]) -> None:
    user = User(name="ana")
    await user.save()
    user.name = "bob"
    user.prefs = {"x": 1}
    assert sorted(user.dirty_fields) == ["name", "prefs"]
    assert "_id" not in user.dirty_fields
    assert user.pending_update() == {"$set": {"name": "bob", "prefs": {"x": 1}}}
    user.clean_fields()
    assert user.dirty_fields == []


@pytest.mark.asyncio
async def test_a_write_validates_first_and_sends_nothing_if_invalid(
    db: Database[Any], commands: Commands
) -> None:
    with pytest.raises(ValidationError) as caught:
        await User(age=3).save()
    assert caught.value.errors == {"name": "required"}
    user = User(name="ana", tags=[])
    await user.save()
    assert user.tags is not None
    user.tags.append(7)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        await user.save()
    assert caught.value.errors == {"tags.0": "must be a string, not int"}
    with pytest.raises(ValidationError):
        await user.update()
    assert commands.named("update") == []


@pytest.mark.asyncio
async def test_update_sets_the_changes_and_takes_an_upsert(
    db: Database[Any], commands: Commands
) -> None:
    user = User(name="ana")
    user._id = ObjectId()
    result = await user.update(upsert=True)
    assert result is not None and result.upserted_id == user._id
    assert updates(commands) == [{"$set": {"name": "ana"}}]
    assert not user.is_new
    assert await db.user.find_one(user._id) == {"_id": user._id, "name": "ana"}
    assert user._raw == {"_id": user._id, "name": "ana"}
    assert user.dirty_fields == []


@pytest.mark.asyncio
async def test_update_of_a_document_that_is_gone_raises(db: Database[Any]) -> None:
    user = User(name="ana")
    await user.save()
    await db.user.delete_many({})
    user.name = "bob"
    with pytest.raises(DocumentNotFoundError) as caught:
        await user.update()
    assert caught.value.id == user._id
    assert caught.value.model == "User"
    with pytest.raises(DocumentNotFoundError):
        await user.save()
    with pytest.raises(DocumentNotFoundError):
        await user.update(force=True)
    with pytest.raises(DocumentNotFoundError):
        await user.update({"$inc": {"age": 1}})


@pytest.mark.asyncio
async def test_forced_update_replaces_the_whole_document(
    db: Database[Any], commands: Commands
) -> None:
    oid = ObjectId()
    await db.user.insert_one({"_id": oid, "name": "ana", "age": 3, "legacy": 1})
    user = await User.objects.find_one(oid)
    assert user is not None
    user.name = "changed"
    commands.clear()
    await user.update(force=True)
    assert updates(commands) == [{"_id": oid, "name": "changed", "age": 3, "legacy": 1}]
    user.age = 4
    commands.clear()
    await user.save()
    assert updates(commands) == [{"$set": {"age": 4}}]


@pytest.mark.asyncio
async def test_update_with_a_document_sends_it_as_it_is(
    db: Database[Any], commands: Commands
) -> None:
    user = User(name="ana", age=1)
    await user.save()
    await user.update({"$inc": {"age": 5}})
    assert updates(commands) == [{"$inc": {"age": 5}}]
    assert user.age == 1  # not refreshed
    await user.reload()
    assert user.age == 6
    await user.update({"name": "replaced"})
    assert await db.user.find_one(user._id) == {"_id": user._id, "name": "replaced"}


@pytest.mark.asyncio
async def test_unacknowledged_writes(db: Database[Any], commands: Commands) -> None:
    user = User(name="ana")
    await user.save(safe=False)
    user.age = 3
    await user.save(safe=False)
    result = await user.update({"$set": {"age": 4}}, safe=False)
    assert result is not None and not result.acknowledged
    deleted = await user.remove(safe=False)
    assert not deleted.acknowledged
    assert [c.command_name for c in commands.started if c.command_name != "endSessions"][-4:] == [
        "insert",
        "update",
        "update",
        "delete",
    ]


@pytest.mark.asyncio
async def test_remove_and_save_again(db: Database[Any], commands: Commands) -> None:
    user = User(name="ana")
    await user.save()
    result = await user.remove()
    assert result.deleted_count == 1
    assert user.is_new
    assert commands.last("delete")["deletes"] == [{"q": {"_id": user._id}, "limit": 1}]
    await user.save()
    assert await User.objects.count() == 1


@pytest.mark.asyncio
async def test_remove_and_update_need_an_id(db: Database[Any]) -> None:
    user = User(name="ana")
    with pytest.raises(InvalidOperationError, match="has no _id: save it first"):
        await user.remove()
    with pytest.raises(InvalidOperationError):
        await user.update()


@pytest.mark.asyncio
async def test_reload(db: Database[Any]) -> None:
    user = User(name="ana")
    await user.save()
    await db.user.update_one({"_id": user._id}, {"$set": {"age": 9}})
    user.name = "lost"
    await user.reload()
    assert (user.name, user.age, user.dirty_fields) == ("ana", 9, [])
    await db.user.delete_many({})
    with pytest.raises(DocumentNotFoundError):
        await user.reload()


@pytest.mark.asyncio
async def test_a_duplicate_key_is_the_2012_integrity_error(db: Database[Any]) -> None:
    user = User(name="ana")
    await user.save()
    again = User(name="bob")
    again._id = user._id
    with pytest.raises(IntegrityError) as caught:
        await again.save()
    assert isinstance(caught.value, DuplicateKeyError)
    assert again.is_new


@pytest.mark.asyncio
async def test_check_keys_refuses_bad_keys_on_insert(db: Database[Any]) -> None:
    user = User(name="ana", prefs={"a.b": 1})
    with pytest.raises(EncodingError):
        await user.save()
    await user.save(check_keys=False)


@pytest.mark.asyncio
async def test_without_a_database_or_a_collection_name(server: Any) -> None:
    with pytest.raises(InterfaceError, match="no default Database"):
        await User(name="ana").save()

    class Nameless(Collection):
        name = StringField()

    with pytest.raises(InterfaceError, match="Nameless has no __collection__"):
        await Nameless(name="x").save()


@pytest.mark.asyncio
async def test_the_collection_client_follows_the_default_database(server: Any) -> None:
    first = Database.connect(server.uri + "/one")
    client = User.get_collection()
    assert client is User.get_collection()
    assert client.full_name == "one.user"
    await first.close()
    second = Database.connect(server.uri + "/two")
    assert User.get_collection().full_name == "two.user"
    await second.close()


@pytest.mark.asyncio
async def test_changing_the_id_of_a_stored_document_is_refused_by_the_server(
    db: Database[Any], commands: Commands
) -> None:
    user = User(name="ana")
    await user.save()
    stored_id = user._id
    user._id = ObjectId()
    with pytest.raises(WriteError) as caught:
        await user.save()
    assert caught.value.code == 66  # ImmutableField
    statement = commands.last("update")["updates"][0]
    assert statement["q"] == {"_id": stored_id}
    assert statement["u"] == {"$set": {"_id": user._id}}
