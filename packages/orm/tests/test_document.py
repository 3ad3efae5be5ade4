"""Documents without a server: construction and validation, loading stored
documents lazily, the stored and plain forms, JSON, extra keys, schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from bson import Decimal128, ObjectId

from mongotor.orm import (
    BaseDocument,
    Collection,
    DateTimeField,
    DecimalField,
    EmbeddedDocument,
    EmbeddedField,
    FieldNotLoadedError,
    IntegerField,
    ListField,
    ObjectField,
    StringField,
    UuidField,
    ValidationError,
)
from mongotor.orm._document import model_named


class Address(EmbeddedDocument):
    city = StringField(required=True)
    zip = StringField(name="z")


class Person(Collection):
    __collection__ = "person"
    name = StringField(required=True, name="n")
    age = IntegerField(min_value=0)
    tags = ListField(StringField(), default=list)
    address = EmbeddedField(Address)
    places = ListField(EmbeddedField(Address))
    prefs = ObjectField()
    balance = DecimalField()
    token = UuidField()
    seen = DateTimeField(default=lambda: datetime(2024, 1, 1))


def test_a_model_gets_an_id_field_first() -> None:
    assert Person._fields[0].attname == "_id"
    assert Person._by_key["n"] is Person.name
    assert Person().to_dict() == {"tags": [], "seen": datetime(2024, 1, 1)}


def test_every_error_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        Person(name=3, age=-1, address={"zip": 1}, places=[{"city": "a"}, 5], nope=1)
    assert caught.value.errors == {
        "name": "must be a string, not int",
        "age": "must be at least 0",
        "address.zip": "must be a string, not int",
        "places.1": "must be a Address, not int",
        "nope": "Person has no such field",
    }


def test_callable_defaults_are_called_per_document() -> None:
    one, two = Person(), Person()
    assert one.tags == [] and one.tags is not two.tags
    assert one.seen == datetime(2024, 1, 1)


def test_an_invalid_made_default_is_an_error() -> None:
    class Odd(Collection):
        n = IntegerField(default=lambda: -1, min_value=0)
        m = IntegerField()

    with pytest.raises(ValidationError) as caught:
        Odd()
    assert caught.value.errors == {"n": "must be at least 0"}
    with pytest.raises(ValidationError) as caught:
        Odd(m="x")
    assert caught.value.errors == {"m": "must be an integer, not str", "n": "must be at least 0"}
    loaded = Odd.from_mongo({"_id": 1})
    with pytest.raises(ValidationError):
        _ = loaded.n


def test_a_mutable_constant_default_is_copied() -> None:
    class Tagged(Collection):
        tags = ListField(StringField(), default=["a"])  # type: ignore[call-overload]

    one, two = Tagged(), Tagged()
    one.tags.append("b")
    assert two.tags == ["a"]


def test_loading_converts_nothing_until_read() -> None:
    stored = {
        "_id": 1,
        "n": "ana",
        "address": {"city": "x", "z": "1"},
        "places": [{"city": "p"}],
        "balance": Decimal128("1.5"),
        "tags": ["a"],
        "extra": {"kept": True},
    }
    person = Person.from_mongo(stored)
    assert person._data == stored and person._data is not stored
    assert person._touched == set()
    assert person.name == "ana"
    assert person._touched == set()  # a plain string needs no conversion
    assert person.balance == Decimal("1.5")
    assert isinstance(person.address, Address)
    assert person.address.zip == "1"
    assert person.places[0].city == "p"
    assert person._touched == {"balance", "address", "places"}
    person.tags.append("b")
    assert stored["tags"] == ["a"]  # what was loaded is never changed
    assert person.age is None
    assert person.prefs is None


def test_a_stored_null_reads_as_none() -> None:
    person = Person.from_mongo({"_id": 1, "balance": None, "address": None})
    assert person.balance is None
    assert person.address is None
    assert person._dump() == {"_id": 1, "balance": None, "address": None}  # reading changed nothing
    assert person.pending_update() == {}


def test_reading_an_absent_field_with_a_default_keeps_it() -> None:
    person = Person.from_mongo({"_id": 1, "n": "ana"})
    assert person.tags == []
    assert person._data["tags"] == []
    assert "tags" in person._touched  # type: ignore[operator]


def test_a_field_left_out_by_a_projection_cannot_be_read() -> None:
    person = Person.from_mongo({"_id": 1, "n": "ana"})
    person._loaded = frozenset({"_id", "n"})
    assert person.name == "ana"
    with pytest.raises(FieldNotLoadedError) as caught:
        _ = person.age
    assert caught.value.field == "age"
    assert str(caught.value) == "Person.age was not loaded (the query's only() left it out)"
    person.age = 3
    assert person.age == 3
    assert person.to_dict() == {"_id": 1, "name": "ana", "age": 3}


def test_extra_stored_keys_read_as_attributes_and_are_kept() -> None:
    person = Person.from_mongo({"_id": 1, "n": "ana", "legacy": 7})
    assert person.legacy == 7  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no attribute or stored key 'other'"):
        _ = person.other  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = person.__missing__  # type: ignore[attr-defined]
    assert person._dump()["legacy"] == 7


def test_stored_form() -> None:
    token = uuid.uuid4()
    person = Person(
        name="ana",
        age=None,
        address=Address(city="x"),
        places=[Address(city="y", zip="2")],
        balance=Decimal("2.5"),
        token=token,
        prefs={"a": [1]},
    )
    stored = person.to_mongo()
    assert stored == {
        "n": "ana",
        "address": {"city": "x"},
        "places": [{"city": "y", "z": "2"}],
        "balance": Decimal128("2.5"),
        "token": stored["token"],
        "prefs": {"a": [1]},
        "tags": [],
        "seen": datetime(2024, 1, 1),
    }
    assert Person.token.to_python(stored["token"]) == token
    stored["prefs"]["a"].append(2)
    assert person.prefs == {"a": [1]}


def test_plain_form() -> None:
    person = Person(name="ana", address=Address(city="x"), places=[Address(city="y")])
    assert person.to_dict() == {
        "name": "ana",
        "tags": [],
        "address": {"city": "x"},
        "places": [{"city": "y"}],
        "seen": datetime(2024, 1, 1),
    }
    assert person.as_dict(["name", "age"]) == {"name": "ana"}
    assert person.address is not None
    assert person.address.to_plain() == {"city": "x"}
    plain = person.to_dict()
    plain["tags"].append("x")
    assert person.tags == []


def test_json_round_trip() -> None:
    person = Person(name="ana", balance=Decimal("1.25"), token=uuid.uuid4(), age=4)
    person._data["_id"] = ObjectId()
    text = person.to_json()
    again = Person.from_json(text)
    assert again.to_mongo() == person.to_mongo()
    assert again.is_new
    assert again.balance == Decimal("1.25")


def test_json_keeps_extra_keys_and_nulls() -> None:
    again = Person.from_json('{"n": "ana", "legacy": 1, "age": null}')
    assert again.legacy == 1  # type: ignore[attr-defined]
    assert again.age is None
    assert again.to_mongo() == {
        "n": "ana",
        "legacy": 1,
    }


def test_json_is_validated() -> None:
    with pytest.raises(ValidationError) as caught:
        Person.from_json('{"n": 3, "age": -2}')
    assert caught.value.errors == {"name": "must be a string, not int", "age": "must be at least 0"}
    with pytest.raises(ValidationError) as caught:
        Person.from_json("[1]")
    assert caught.value.errors == {"": "the JSON is not an object"}
    with pytest.raises(ValidationError) as caught:
        Person.from_json("{}")
    assert caught.value.errors == {"name": "required"}


def test_from_dict_and_create() -> None:
    person = Person.from_dict({"name": "ana", "age": 3})
    assert (person.name, person.age, person.is_new) == ("ana", 3, True)
    cleaned = Person.create({"name": "bob"}, cleaned=True)
    assert not cleaned.is_new
    assert cleaned.dirty_fields == []


def test_validate_checks_everything() -> None:
    Person(name="ana").validate()
    person = Person()
    with pytest.raises(ValidationError) as caught:
        person.validate()
    assert caught.value.errors == {"name": "required"}
    person.name = "ana"
    person.tags.append(3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        person.validate()
    assert caught.value.errors == {"tags.0": "must be a string, not int"}


def test_stored_values_are_checked_when_everything_is() -> None:
    stored = {"_id": ObjectId(), "n": 5, "balance": Decimal128("-0"), "age": None}
    person = Person.from_mongo(stored)
    with pytest.raises(ValidationError) as caught:
        person.validate()
    assert caught.value.errors == {"name": "must be a string, not int"}
    assert person._touched == set()  # checking converted nothing for keeps


def test_stored_paths() -> None:
    assert Person._stored_path("name") == "n"
    assert Person._stored_path("address.zip") == "address.z"
    assert Person._stored_path("places.0.zip") == "places.0.z"
    assert Person._stored_path("places.zip") == "places.z"
    assert Person._stored_path("prefs.a.b") == "prefs.a.b"
    assert Person._stored_path("unknown.x") == "unknown.x"


def test_two_fields_stored_under_one_name_are_refused() -> None:
    with pytest.raises(TypeError, match="both stored as 'x'"):

        class Clash(Collection):
            a = StringField(name="x")
            b = StringField(name="x")


def test_a_subclass_can_hide_an_inherited_field() -> None:
    class Base(Collection):
        a = StringField()
        b = StringField()

    class Child(Base):
        b = None  # type: ignore[assignment]

    assert [f.attname for f in Child._fields] == ["_id", "a"]
    assert [f.attname for f in Base._fields] == ["_id", "a", "b"]


def test_models_are_found_by_name() -> None:
    class FoundByName(EmbeddedDocument):
        pass

    assert model_named("FoundByName") is FoundByName
    with pytest.raises(LookupError, match="no model named 'Nobody'"):
        model_named("Nobody")


def test_repr_shows_attribute_names() -> None:
    person = Person.from_mongo({"_id": 1, "n": "ana", "legacy": 2})
    assert repr(person) == "Person(_id=1, name='ana', legacy=2)"


def test_embedded_documents_have_no_collection() -> None:
    assert not issubclass(Address, Collection)
    assert issubclass(Address, BaseDocument)
    assert "_id" not in Address._by_key


def test_stored_data_of_another_shape_is_kept_as_it_is() -> None:
    person = Person.from_mongo({"_id": 1, "address": "not a document", "tags": "x"})
    assert person.address == "not a document"
    assert person.tags == "x"


def test_the_loaded_dict_may_be_any_mapping() -> None:
    class Frozen(dict[str, Any]):
        pass

    person = Person.from_mongo(Frozen(_id=1, n="ana"))
    assert type(person._raw) is dict
    assert person.name == "ana"
