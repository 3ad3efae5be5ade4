"""The one-pass form of a new document for an insert (``_write_new``, from each
class's write plan) agrees with the full check before a write and ``_dump``:
the same stored document, key for key and in the same order, or, when it
cannot tell or the document is invalid, the full check's errors (every one)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from bson import ObjectId

from mongotor.database import Database
from mongotor.orm import (
    Collection,
    DateTimeField,
    DecimalField,
    EmbeddedDocument,
    EmbeddedField,
    FloatField,
    IntegerField,
    ListField,
    ObjectField,
    StringField,
    UuidField,
    ValidationError,
)
from mongotor.orm._document import BaseDocument

from .conftest import Commands


def no_x(value: Any) -> None:
    if "x" in value:
        raise ValueError("no x")


class Part(EmbeddedDocument):
    label = StringField(required=True)
    weight = FloatField()


class Special(Part):
    extra = StringField()


class Tagged(EmbeddedDocument):
    __polymorphic__ = True
    tag = StringField()


class Kit(Collection):
    __collection__ = "kit"
    name = StringField(required=True)
    count = IntegerField()
    ratio = FloatField()
    price = DecimalField()
    code = UuidField()
    when = DateTimeField()
    tags = ListField(StringField(), default=list)
    ratios = ListField(FloatField())
    anything = ListField()
    grid = ListField(ListField(StringField()))
    checked_tags = ListField(StringField(), validators=[no_x])
    part = EmbeddedField(Part)
    checked_part = EmbeddedField(Part, validators=[lambda part: None])
    parts = ListField(EmbeddedField(Part), default=list)
    tagged = EmbeddedField(Tagged)
    extras = ObjectField(default=dict)


def full(document: BaseDocument) -> tuple[str, Any]:
    """What an insert did before write plans: the full check, then ``_dump``."""
    try:
        problems = document._problems(everything=document._touched is not None)
        if problems:
            raise ValidationError(problems, model=type(document).__name__)
    except ValidationError as exc:
        return ("errors", exc.errors)
    return ("stored", document._dump())


def planned(document: Kit) -> tuple[str, Any]:
    try:
        return ("stored", document._insert_form())
    except ValidationError as exc:
        return ("errors", exc.errors)


def keys(value: Any) -> Any:
    """Every dict's keys, in order, all the way down."""
    if isinstance(value, dict):
        return [(key, keys(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [keys(item) for item in value]
    return None


def kit(**values: Any) -> Kit:
    return Kit(name="k", **values)


def with_change(change: Callable[[Kit], None], **values: Any) -> Kit:
    document = kit(**values)
    change(document)
    return document


def loaded_part() -> Part:
    return Part.from_mongo({"label": "loaded"})


# Documents the one pass stores itself.
TOLD = [
    kit,
    lambda: kit(
        count=3,
        ratio=0.5,
        price=Decimal("1.5"),
        code=uuid.uuid4(),
        when=datetime(2024, 1, 2, 3, 4, 5, 6000),
        tags=["a", "b"],
        ratios=[1.0, 2],
        anything=[{"a": [1]}],
        grid=[["a"], []],
        checked_tags=["a"],
        part=Part(label="p", weight=1.0),
        checked_part=Part(label="q"),
        parts=[Part(label="r"), Special(label="s", extra="e")],
        tagged=Tagged(tag="t"),
        extras={"a": {"b": 1}},
    ),
    lambda: kit(count=None, part=None, tags=None),
    lambda: with_change(lambda d: d.tags.append("c"), tags=["a"]),
    lambda: with_change(lambda d: d.extras.update(z=1)),
    # A None assigned after the constructor: the write leaves it out.
    lambda: with_change(lambda d: setattr(d, "count", None), count=3),
    lambda: with_change(lambda d: setattr(d.part, "weight", None), part=Part(label="p")),
]

# Documents it hands to the full check (invalid, or not for one pass to tell).
UNTOLD = [
    lambda: with_change(lambda d: d._data.pop("name")),
    lambda: kit(part=Part.from_mongo({"weight": 1.0})),  # a loaded one: checked in full
    lambda: kit(part=loaded_part(), parts=[loaded_part()]),
    lambda: with_change(lambda d: d.tags.append(3)),
    lambda: with_change(lambda d: d._data.update(tags=("a", "b"))),
    lambda: with_change(lambda d: d.parts.append(Part.from_mongo({}))),
    lambda: with_change(lambda d: d.parts.append({"label": "from a dict"})),
    lambda: with_change(lambda d: d.parts.append(None)),
    lambda: with_change(lambda d: d._data.update(parts=(Part(label="t"),))),
    lambda: with_change(lambda d: d._data.update(part={"label": "a dict"})),
    lambda: with_change(lambda d: d.checked_tags.append("x"), checked_tags=["a"]),
    lambda: with_change(lambda d: d.extras.update({1: "not a string key"})),
    lambda: with_change(lambda d: d.ratios.append("nan"), ratios=[]),
    lambda: with_change(lambda d: d.part._data.pop("label"), part=Part(label="p")),  # type: ignore[union-attr]
]


@pytest.mark.parametrize("make", TOLD)
def test_one_pass_stores_what_dump_stores(make: Callable[[], Kit]) -> None:
    document = make()
    expected = full(document)
    assert expected[0] == "stored"
    compiled = document._write_new()
    assert compiled is not None
    generic = BaseDocument._write_new(document)
    assert compiled == generic
    assert keys(compiled) == keys(generic)
    outcome = planned(document)
    assert outcome == expected
    assert keys(outcome[1]) == keys(expected[1])


@pytest.mark.parametrize("make", UNTOLD)
def test_what_one_pass_cannot_tell_gets_the_full_check(make: Callable[[], Kit]) -> None:
    document = make()
    assert document._write_new() is None
    assert BaseDocument._write_new(document) is None
    assert planned(document) == full(document)


def test_only_a_new_document_holding_no_none_is_fresh() -> None:
    """What lets a write skip looking for values to leave out."""
    document = kit(count=3, part=Part(label="p"))
    assert document._fresh is True
    assert document.part._fresh is True  # type: ignore[union-attr]
    document.count = 4
    assert document._fresh is True
    document.count = None
    assert document._fresh is False
    assert kit(count=None)._fresh is False
    assert Kit.from_mongo({"name": "k"})._fresh is False
    assert Kit.from_json('{"name": "k"}')._fresh is False


def test_a_polymorphic_model_stores_its_tag() -> None:
    class Animal(Collection):
        __collection__ = "animal"
        __polymorphic__ = True
        name = StringField()

    class Dog(Animal):
        barks = ListField(StringField(), default=list)

    dog = Dog(name="rex", barks=["woof"])
    assert dog._write_new() == {"name": "rex", "barks": ["woof"], "_cls": "Dog"}
    assert dog._write_new() == dog._dump() == BaseDocument._write_new(dog)
    animal = Animal(name="any")
    assert animal._write_new() == {"name": "any", "_cls": "Animal"}
    assert animal._write_new() == animal._dump() == BaseDocument._write_new(animal)


def test_a_new_document_read_from_json_keeps_keys_it_does_not_declare() -> None:
    document = Kit.from_json('{"name": "k", "legacy": [1, 2], "tags": ["a"]}')
    assert (
        document._write_new()
        == document._dump()
        == {
            "name": "k",
            "legacy": [1, 2],
            "tags": ["a"],
        }
    )


def test_a_float_field_holding_an_int_read_from_json_stores_a_double() -> None:
    document = Kit.from_json('{"name": "k", "ratio": 2}')
    assert type(document._data["ratio"]) is int
    stored = document._write_new()
    assert stored is not None
    assert type(stored["ratio"]) is float
    assert stored == document._dump() == BaseDocument._write_new(document)


def test_stored_lists_are_copies() -> None:
    document = kit(tags=["a"], parts=[Part(label="p")])
    stored = document._write_new()
    assert stored is not None
    assert stored["tags"] == document.tags
    assert stored["tags"] is not document.tags
    assert stored["parts"] == [{"label": "p"}]


@pytest.mark.asyncio
async def test_save_inserts_the_one_pass_form_and_tracks_from_it(
    db: Database[Any], commands: Commands
) -> None:
    document = kit(tags=["a"], parts=[Part(label="p")])
    await document.save()
    inserted = commands.last("insert")["documents"][0]
    assert inserted == {
        "name": "k",
        "tags": ["a"],
        "parts": [{"label": "p"}],
        "extras": {},
        "_id": document._id,
    }
    # Changed in place: the snapshot taken at the insert was a copy, so these are changes.
    document.tags.append("b")
    document.parts[0].label = "q"
    assert document.pending_update() == {"$set": {"tags": ["a", "b"], "parts": [{"label": "q"}]}}
    await document.save()
    assert await db.kit.find_one(document._id) == {
        "_id": document._id,
        "name": "k",
        "tags": ["a", "b"],
        "parts": [{"label": "q"}],
        "extras": {},
    }


@pytest.mark.asyncio
async def test_an_invalid_new_document_is_not_inserted(
    db: Database[Any], commands: Commands
) -> None:
    document = kit(parts=[Part(label="p")])
    document.parts[0]._data.pop("label")
    document.tags.append(3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        await document.save()
    assert caught.value.errors == {
        "parts.0.label": "required",
        "tags.0": "must be a string, not int",
    }
    assert commands.named("insert") == []


@pytest.mark.asyncio
async def test_a_removed_document_is_inserted_again_after_the_full_check(
    db: Database[Any],
) -> None:
    await db.kit.insert_one({"_id": ObjectId(), "name": "k", "legacy": 1})
    found = await Kit.objects.find_one({"name": "k"})
    assert found is not None
    await found.remove()
    assert found._write_new() is None  # loaded: every field is checked
    assert BaseDocument._write_new(found) is None
    await found.save()
    assert await db.kit.count_documents({}) == 1
