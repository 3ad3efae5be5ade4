"""Embedded documents and in-place changes, saved as dotted paths: the updates
sent are checked, and what the server holds afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from mongotor.database import Database
from mongotor.orm import (
    Collection,
    EmbeddedDocument,
    EmbeddedField,
    ListField,
    ObjectField,
    ObjectIdField,
    StringField,
    ValidationError,
)

from .conftest import Commands


class Geo(EmbeddedDocument):
    lat = StringField()


class Address(EmbeddedDocument):
    city = StringField(required=True)
    zip = StringField(name="z")
    geo = EmbeddedField(Geo)


class Person(Collection):
    __collection__ = "person"
    _id = ObjectIdField()
    name = StringField()
    address = EmbeddedField(Address)
    places = ListField(EmbeddedField(Address), default=list)
    prefs = ObjectField()


def sent(commands: Commands) -> dict[str, Any]:
    update: dict[str, Any] = commands.last("update")["updates"][0]["u"]
    return update


async def stored(db: Database[Any], person: Person) -> dict[str, Any]:
    document = await db.person.find_one(person._id)
    assert document is not None
    return document


async def loaded(db: Database[Any]) -> Person:
    await db.person.insert_one(
        {
            "_id": ObjectId(),
            "name": "ana",
            "address": {"city": "Lisbon", "z": "1000", "geo": {"lat": "38"}},
            "places": [{"city": "Porto"}, {"city": "Faro"}, {"city": "Braga"}],
            "prefs": {"theme": {"color": "blue", "size": 1}, "lang": "pt"},
        }
    )
    person = await Person.objects.first()
    assert person is not None
    return person


@pytest.mark.asyncio
async def test_a_field_of_an_embedded_document(db: Database[Any], commands: Commands) -> None:
    person = await loaded(db)
    assert person.address is not None and person.address.geo is not None
    person.address.city = "Sintra"
    person.address.geo.lat = "39"
    await person.save()
    assert sent(commands) == {"$set": {"address.city": "Sintra", "address.geo.lat": "39"}}
    assert (await stored(db, person))["address"] == {
        "city": "Sintra",
        "z": "1000",
        "geo": {"lat": "39"},
    }


@pytest.mark.asyncio
async def test_an_element_of_a_list_of_embedded_documents(
    db: Database[Any], commands: Commands
) -> None:
    person = await loaded(db)
    person.places[1].zip = "8000"
    await person.save()
    assert sent(commands) == {"$set": {"places.1.z": "8000"}}
    places = (await stored(db, person))["places"]
    assert places[1] == {"city": "Faro", "z": "8000"}


@pytest.mark.asyncio
async def test_in_place_list_changes(db: Database[Any], commands: Commands) -> None:
    person = await loaded(db)
    person.places.append(Address(city="Evora"))
    await person.save()
    assert sent(commands) == {
        "$set": {
            "places": [{"city": "Porto"}, {"city": "Faro"}, {"city": "Braga"}, {"city": "Evora"}]
        }
    }
    person.places.pop(0)
    person.places.append({"city": "Beja", "zip": "7800"})  # type: ignore[arg-type]
    await person.save()
    assert (await stored(db, person))["places"] == [
        {"city": "Faro"},
        {"city": "Braga"},
        {"city": "Evora"},
        {"city": "Beja", "z": "7800"},
    ]
    person.places.reverse()
    await person.save()
    assert [p["city"] for p in (await stored(db, person))["places"]] == [
        "Beja",
        "Evora",
        "Braga",
        "Faro",
    ]


@pytest.mark.asyncio
async def test_in_place_dict_changes(db: Database[Any], commands: Commands) -> None:
    person = await loaded(db)
    assert person.prefs is not None
    person.prefs["theme"]["color"] = "red"
    del person.prefs["lang"]
    person.prefs["new"] = [1]
    await person.save()
    assert sent(commands) == {
        "$set": {"prefs.theme.color": "red", "prefs.new": [1]},
        "$unset": {"prefs.lang": ""},
    }
    assert (await stored(db, person))["prefs"] == {
        "theme": {"color": "red", "size": 1},
        "new": [1],
    }


@pytest.mark.asyncio
async def test_a_replaced_embedded_document_is_diffed(
    db: Database[Any], commands: Commands
) -> None:
    person = await loaded(db)
    person.address = Address(city="Lisbon", zip="1100")
    await person.save()
    assert sent(commands) == {"$set": {"address.z": "1100"}, "$unset": {"address.geo": ""}}
    person.address = None
    await person.save()
    assert sent(commands) == {"$unset": {"address": ""}}
    assert "address" not in await stored(db, person)


@pytest.mark.asyncio
async def test_a_document_kept_aside_is_still_tracked(
    db: Database[Any], commands: Commands
) -> None:
    person = Person(name="ana", address=Address(city="Lisbon"))
    await person.save()
    address = person.address
    assert address is not None
    address.city = "Porto"
    await person.save()
    assert sent(commands) == {"$set": {"address.city": "Porto"}}
    address.zip = "4000"
    await person.save()
    assert sent(commands) == {"$set": {"address.z": "4000"}}
    assert (await stored(db, person))["address"] == {"city": "Porto", "z": "4000"}


@pytest.mark.asyncio
async def test_embedded_documents_are_validated_before_writes(db: Database[Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        await Person(address=Address(zip="1")).save()
    assert caught.value.errors == {"address.city": "required"}
    person = await loaded(db)
    person.places.append(3)  # type: ignore[arg-type]
    person.places.append({"zip": 5})  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        await person.save()
    assert caught.value.errors == {
        "places.3": "must be a Address, not int",
        "places.4.zip": "must be a string, not int",
    }


@pytest.mark.asyncio
async def test_an_embedded_document_reads_back_the_same(db: Database[Any]) -> None:
    person = Person(name="ana", address=Address(city="x", geo=Geo(lat="1")))
    await person.save()
    again = await Person.objects.find_one(person._id)
    assert again is not None
    assert again.to_dict() == person.to_dict()
    assert again.dirty_fields == []
