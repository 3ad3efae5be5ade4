"""The 2012 tutorial's and README's ORM snippets, as written there, with ``await``
for ``yield gen.Task(...)`` (and a fakemongo address for localhost)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId

from fakemongo import FakeMongo
from mongotor.database import Database
from mongotor.errors import InterfaceError
from mongotor.orm import Collection, ValidationError, collection, field
from mongotor.orm.field import BooleanField, DateTimeField, ObjectIdField, StringField
from mongotor.orm.signal import pre_save, receiver


class User(Collection):
    __collection__ = "user"

    _id = ObjectIdField()
    name = StringField()
    active = BooleanField()
    created = DateTimeField()


@pytest.mark.asyncio
async def test_creating_a_new_document(server: FakeMongo) -> None:
    Database.connect(server.address, "test_db")

    new_user = User()
    new_user.name = "New user"
    new_user.active = True
    await new_user.save()

    new_user = User.create({"name": "Some user name"})
    assert new_user.name == "Some user name"
    await new_user.save()

    assert await User.objects.count() == 2
    await Database.disconnect()


@pytest.mark.asyncio
async def test_using_the_orm_in_a_handler(server: FakeMongo) -> None:
    Database.connect([server.address], "asyncmongo_test")

    user = User()
    user.name = "User name"
    user.active = True
    user.created = datetime.now()

    await user.save()

    # update date
    user.name = "New name"
    await user.update()

    # find one object
    user_found = await User.objects.find_one(user._id)
    assert user_found is not None and user_found.name == "New name"

    # find many objects
    new_user = User()
    new_user.name = "new user name"
    new_user.active = True
    new_user.created = datetime.now()
    await new_user.save()

    users_actives = await User.objects.find({"active": True})
    assert len(users_actives) == 2

    users_actives[0].active = False
    await users_actives[0].save()
    assert await User.objects.count({"active": True}) == 1

    # remove object
    await user_found.remove()
    assert await User.objects.count() == 1
    await Database.disconnect()


@pytest.mark.asyncio
async def test_using_signals(server: FakeMongo) -> None:
    Database.connect([server.address], "test")

    class User(collection.Collection):
        __collection__ = "user"

        _id = field.ObjectIdField()
        name = field.StringField()
        active = field.BooleanField()
        created = field.DateTimeField()

    @receiver(pre_save, User)
    def set_object_id(sender: type[User], instance: User) -> None:
        if not instance._id:
            instance._id = ObjectId()

    user = User()
    user.name = "User name"
    user.active = True
    user.created = datetime.now()

    await user.save()
    assert isinstance(user._id, ObjectId)
    stored = await Database().user.find_one(user._id)
    assert stored is not None and stored["name"] == "User name"
    await Database.disconnect()


@pytest.mark.asyncio
async def test_what_the_2012_library_did_silently_is_now_refused(server: FakeMongo) -> None:
    """2012: ``create`` kept undeclared keys as attributes and logged (then
    ignored) values of the wrong type. Now both are validation errors."""
    with pytest.raises(ValidationError) as caught:
        User.create({"name": "ana", "integer_attr": 1, "created": "duvido"})
    assert caught.value.errors == {
        "integer_attr": "User has no such field",
        "created": "must be a datetime, not str",
    }
    with pytest.raises(InterfaceError, match="no default Database"):
        await User().save()


@pytest.mark.asyncio
async def test_the_2012_collection_tests(server: FakeMongo) -> None:
    Database.connect([server.address], "test")

    class CollectionTest(Collection):
        __collection__ = "collection_test"
        _id = ObjectIdField()
        string_attr = StringField()
        object_field = field.ObjectField()

    doc_test = CollectionTest()
    doc_test._id = ObjectId()
    doc_test.string_attr = "should be string value"
    await doc_test.save()

    doc_test.string_attr = "should be new string value"
    assert "string_attr" in doc_test.dirty_fields
    assert "_id" not in doc_test.dirty_fields
    doc_test.object_field = {"name": "should be a new"}
    assert "object_field" in doc_test.dirty_fields
    await doc_test.update()

    db_doc_test = await CollectionTest.objects.find_one(doc_test._id)
    assert db_doc_test is not None
    assert db_doc_test.dirty_fields == []

    doc_test.string_attr = "changed"
    await doc_test.update(force=True)
    db_doc_test = await CollectionTest.objects.find_one(doc_test._id)
    assert db_doc_test is not None and db_doc_test.string_attr == "changed"

    assert await doc_test.update() is None  # nothing to update (2012: an empty tuple)
    assert await CollectionTest.objects.distinct("string_attr") == ["changed"]
    await CollectionTest.objects.truncate()
    assert await CollectionTest.objects.count() == 0
    await Database.disconnect()


def test_the_2012_create_from_a_dictionary() -> None:
    object_id = ObjectId()
    object_dict: dict[str, Any] = {
        "string_attr": "string_attr",
        "integer_attr": 1,
        "bool_attr": True,
        "float_attr": 1.0,
        "list_attr": [1, 2, 3],
        "object_attr": {"chave": "valor"},
        "object_id_attr": object_id,
    }

    class CollectionTest(Collection):
        string_attr = StringField()
        integer_attr = field.IntegerField()
        bool_attr = BooleanField()
        float_attr = field.FloatField()
        list_attr = field.ListField()
        object_attr = field.ObjectField()
        object_id_attr = ObjectIdField()
        unknow_object = StringField()

    object_instance = CollectionTest.create(object_dict)
    assert object_instance.string_attr == "string_attr"
    assert object_instance.integer_attr == 1
    assert object_instance.bool_attr
    assert object_instance.float_attr == 1.0
    assert object_instance.list_attr == [1, 2, 3]
    assert object_instance.object_attr == {"chave": "valor"}
    assert object_instance.object_id_attr == object_id
    assert object_instance.unknow_object is None
