"""Inheritance with a stored type tag: one collection, the right class loaded,
subclass queries that match only their own kind."""

from __future__ import annotations

from typing import Any

import pytest

from mongotor.database import Database
from mongotor.orm import (
    Collection,
    EmbeddedDocument,
    EmbeddedField,
    IntegerField,
    ListField,
    ObjectIdField,
    StringField,
)

from .conftest import Commands


class Animal(Collection):
    __collection__ = "animal"
    __polymorphic__ = True
    _id = ObjectIdField()
    name = StringField()


class Dog(Animal):
    barks = IntegerField()


class Puppy(Dog):
    __type_name__ = "puppy"


class Cat(Animal):
    lives = IntegerField(default=9)


class Shape(EmbeddedDocument):
    __polymorphic__ = True
    __type_key__ = "kind"


class Circle(Shape):
    radius = IntegerField()


class Square(Shape):
    side = IntegerField()


class Drawing(Collection):
    __collection__ = "drawing"
    _id = ObjectIdField()
    main = EmbeddedField(Shape)
    shapes = ListField(EmbeddedField(Shape), default=list)


async def seed() -> None:
    for animal in (
        Animal(name="generic"),
        Dog(name="rex", barks=3),
        Puppy(name="bit"),
        Cat(name="tom"),
    ):
        await animal.save()


@pytest.mark.asyncio
async def test_documents_carry_their_type_tag(db: Database[Any], commands: Commands) -> None:
    await seed()
    documents = [insert["documents"][0] for insert in commands.named("insert")]
    assert [d["_cls"] for d in documents] == ["Animal", "Dog", "puppy", "Cat"]
    assert await db.animal.count_documents({}) == 4


@pytest.mark.asyncio
async def test_the_root_loads_each_document_as_its_class(db: Database[Any]) -> None:
    await seed()
    await db.animal.insert_one({"name": "untagged"})
    await db.animal.insert_one({"name": "unknown", "_cls": "Dragon"})
    loaded = {a.name: type(a) for a in await Animal.objects.all()}
    assert loaded == {
        "generic": Animal,
        "rex": Dog,
        "bit": Puppy,
        "tom": Cat,
        "untagged": Animal,
        "unknown": Animal,
    }


@pytest.mark.asyncio
async def test_subclass_queries_match_their_kind(db: Database[Any], commands: Commands) -> None:
    await seed()
    dogs = await Dog.objects.sort("name")
    assert [(type(d).__name__, d.name) for d in dogs] == [("Puppy", "bit"), ("Dog", "rex")]
    assert commands.last("find")["filter"] == {"_cls": {"$in": ["Dog", "puppy"]}}
    assert await Cat.objects.count() == 1
    assert await Puppy.objects.find_one({"name": "rex"}) is None
    assert sorted(await Dog.objects.distinct("name")) == ["bit", "rex"]
    rows = await Dog.objects.aggregate([{"$count": "n"}])
    assert rows == [{"n": 2}]
    assert await Dog.objects.sum(None, "barks") == 3
    names = await Dog.objects.only("name").sort("name")
    assert [(type(d), d.name) for d in names] == [(Puppy, "bit"), (Dog, "rex")]
    assert commands.last("find")["projection"] == {"_id": 1, "name": 1, "_cls": 1}
    assert await Cat.objects.truncate() == 1
    assert await Animal.objects.count() == 3


@pytest.mark.asyncio
async def test_a_loaded_subclass_saves_its_changes(db: Database[Any], commands: Commands) -> None:
    await seed()
    rex = await Animal.objects.find_one({"name": "rex"})
    assert isinstance(rex, Dog)
    rex.barks = 5
    commands.clear()
    await rex.save()
    assert commands.last("update")["updates"][0]["u"] == {"$set": {"barks": 5}}


def test_loading_a_document_of_another_branch_is_refused() -> None:
    with pytest.raises(TypeError, match="is a Cat"):
        Dog.from_mongo({"_cls": "Cat", "name": "tom"})
    assert type(Dog.from_mongo({"_cls": "puppy"})) is Puppy
    assert type(Dog.from_mongo({"_cls": "Dog"})) is Dog
    assert type(Dog.from_mongo({"_cls": 3})) is Dog


def test_type_tags_must_be_distinct_and_not_fields() -> None:
    with pytest.raises(TypeError, match="both have the type tag 'Dog'"):

        class Dog(Animal):  # type: ignore[no-redef]
            pass

    with pytest.raises(TypeError, match="stored as its type tag '_cls'"):

        class Tagged(Animal):
            cls = StringField(name="_cls")


@pytest.mark.asyncio
async def test_embedded_documents_can_be_polymorphic(db: Database[Any]) -> None:
    drawing = Drawing(main=Circle(radius=2), shapes=[Square(side=1), Circle(radius=3)])
    await drawing.save()
    stored = await db.drawing.find_one(drawing._id)
    assert stored is not None
    assert stored["main"] == {"radius": 2, "kind": "Circle"}
    assert stored["shapes"] == [{"side": 1, "kind": "Square"}, {"radius": 3, "kind": "Circle"}]
    again = await Drawing.objects.find_one(drawing._id)
    assert again is not None
    assert isinstance(again.main, Circle)
    assert [type(s) for s in again.shapes] == [Square, Circle]
    assert again.dirty_fields == []
