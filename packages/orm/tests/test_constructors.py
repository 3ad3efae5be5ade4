"""Generated constructors do exactly what the generic one does: the same values
kept, the same errors, for every kind of field and input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId

from mongotor.orm import (
    Collection,
    DateTimeField,
    EmbeddedDocument,
    EmbeddedField,
    IntegerField,
    ListField,
    ObjectField,
    ReferenceField,
    StringField,
    ValidationError,
    VersionField,
)
from mongotor.orm._document import BaseDocument
from mongotor.orm._init import UNSET


class Part(EmbeddedDocument):
    label = StringField(required=True)


class Owner(Collection):
    __collection__ = "owner"


class Thing(Collection):
    __collection__ = "thing"
    name = StringField(name="n")
    count = IntegerField(default=1, min_value=0)
    when = DateTimeField(default=lambda: datetime(2024, 1, 1))
    tags = ListField(StringField(), default=list)
    part = EmbeddedField(Part)
    parts = ListField(EmbeddedField(Part))
    owner = ReferenceField(Owner)
    version = VersionField()
    plain_count = IntegerField()
    extras = ObjectField(default=dict)
    stamp = DateTimeField(validators=[lambda value: None])


class Empty(EmbeddedDocument):
    pass


def outcome(cls: type[BaseDocument], init: Any, values: dict[str, Any]) -> Any:
    instance = object.__new__(cls)
    try:
        init(instance, **values)
    except ValidationError as exc:
        return ("errors", exc.errors)
    return ("data", sorted(instance._data), instance.to_mongo(), instance._refs, instance._fresh)


saved_owner = Owner()
saved_owner._id = ObjectId()

CASES: list[dict[str, Any]] = [
    {},
    {"name": "a", "count": 3, "tags": ["x"], "part": Part(label="p"), "parts": [Part(label="q")]},
    {"name": 3, "count": -1, "tags": [1], "parts": [{"label": 2}], "nope": 1},
    {"part": {"label": "from a dict"}, "owner": saved_owner, "when": datetime(2020, 1, 1)},
    {"owner": Owner(), "name": None},
    {"owner": ObjectId()},
    # The one-literal path with a list element that is not plain, and with
    # values its inline checks refuse or leave to validate.
    {"tags": ["x", 2]},
    {"parts": [Part(label="p"), {"label": "from a dict"}]},
    {"when": datetime(2020, 1, 1, 0, 0, 0, 1500)},
    {"plain_count": 2**70},
    {"plain_count": True},
    {"plain_count": 7, "stamp": datetime(2020, 1, 1)},
    {"extras": {"a": 1}, "tags": "not a list"},
    # The per-field path (a value refused up front), lists valid or not.
    {"name": 3, "tags": ["x"], "parts": [Part(label="p")]},
    {"name": 3, "tags": "not a list"},
    # A new document given its _id (kept first) or an _id of the wrong kind.
    {"_id": ObjectId(), "name": "a"},
    {"_id": "0123456789ab0123456789ab"},
]


@pytest.mark.parametrize("values", CASES)
def test_generated_and_generic_constructors_agree(values: dict[str, Any]) -> None:
    generated = outcome(Thing, Thing.__init__, values)
    generic = outcome(Thing, BaseDocument._init_generic, values)
    assert generated == generic


def test_a_generated_constructor_keeps_declaration_order_with_the_id_first() -> None:
    given = ObjectId()
    assert list(Thing(_id=given, name="a", tags=["t"]).to_mongo()) == [
        "_id",
        "n",
        "count",
        "when",
        "tags",
        "version",
        "extras",
    ]
    assert list(Thing(name="a")._data)[:2] == ["n", "count"]


class Plain(Collection):
    """Every field checked inline or left to its default: constructors given
    all the checked ones take the one-test, one-literal path."""

    __collection__ = "plain"
    name = StringField(required=True)
    tags = ListField(StringField(), default=list)
    parts = ListField(EmbeddedField(Part))
    owner = ReferenceField(Owner)
    version = VersionField()
    extras = ObjectField(default=dict)


@pytest.mark.parametrize(
    "values",
    [
        {"name": "a", "tags": ["x"], "parts": [Part(label="p")]},
        {"_id": ObjectId(), "name": "a", "tags": [], "parts": []},
        {"_id": "not an id", "name": "a", "tags": [], "parts": []},
        {"name": "a", "tags": ["x", 1], "parts": []},
        {"name": "a", "tags": [], "parts": [{"label": "from a dict"}]},
        {"name": "a", "tags": [], "parts": [], "owner": saved_owner},
        {"name": None, "tags": [], "parts": []},
        {"name": "a", "tags": [], "parts": [], "nope": 1},
        {"name": "a", "tags": [], "parts": [], "extras": {"a": 1}},
    ],
)
def test_the_one_literal_path_agrees(values: dict[str, Any]) -> None:
    generated = outcome(Plain, Plain.__init__, values)
    generic = outcome(Plain, BaseDocument._init_generic, values)
    assert generated == generic


def test_the_one_literal_path_keeps_declaration_order() -> None:
    given = ObjectId()
    document = Plain(tags=["t"], _id=given, parts=[], name="a")
    assert list(document._data) == ["_id", "name", "tags", "parts", "version", "extras"]
    assert document._data["tags"] == ["t"]
    other = Plain(parts=[], tags=[], name="a")
    assert list(other._data) == ["name", "tags", "parts", "version", "extras"]
    assert other.extras == document.extras == {}
    assert other.extras is not document.extras  # a new one each


def test_given_lists_are_copied_on_every_path() -> None:
    tags = ["x"]
    for document in (Plain(name="a", tags=tags, parts=[]), Plain(name="a", tags=tags)):
        assert document.tags == tags
        assert document.tags is not tags


class NoneDefault(Collection):
    """A made default that is None: the document holds a None, so it is not fresh."""

    n = IntegerField(default=lambda: None)


def test_a_made_default_of_none_is_held_and_the_document_is_not_fresh() -> None:
    generated = outcome(NoneDefault, NoneDefault.__init__, {})
    assert generated == outcome(NoneDefault, BaseDocument._init_generic, {})
    document = NoneDefault()
    assert document._data == {"n": None}
    assert document._fresh is False
    assert document._write_new() == document._dump() == {}


class BadDefault(Collection):
    n = IntegerField(default=lambda: -1, min_value=0)
    m = IntegerField()


@pytest.mark.parametrize("values", [{}, {"m": "x"}, {"n": 2}])
def test_made_defaults_agree(values: dict[str, Any]) -> None:
    generated = outcome(BadDefault, BadDefault.__init__, values)
    generic = outcome(BadDefault, BaseDocument._init_generic, values)
    assert generated == generic


def test_the_version_cannot_be_given_either_way() -> None:
    with pytest.raises(Exception, match="kept by the ORM"):
        Thing(version=2)
    with pytest.raises(Exception, match="kept by the ORM"):
        BaseDocument._init_generic(object.__new__(Thing), version=2)


def test_a_model_without_fields() -> None:
    assert Empty()._data == {}
    with pytest.raises(ValidationError) as caught:
        Empty(x=1)
    assert caught.value.errors == {"x": "Empty has no such field"}


def test_a_constructor_of_its_own_is_kept_and_may_call_the_generated_one() -> None:
    class Custom(Thing):
        extra = StringField()

        def __init__(self, **values: Any) -> None:
            values.setdefault("extra", "from custom")
            super().__init__(**values)

    class Child(Custom):
        more = StringField()

    custom = Custom(name="c")
    assert (custom.name, custom.extra) == ("c", "from custom")
    child = Child(more="m")
    assert (child.more, child.extra, child.count) == ("m", "from custom", 1)
    assert Child.__init__ is Custom.__init__  # inherited, not replaced
    with pytest.raises(ValidationError) as caught:
        Custom(nope=1)
    assert caught.value.errors == {"nope": "Custom has no such field"}


def test_fields_with_names_python_cannot_take_use_the_generic_constructor() -> None:
    Odd = type("Odd", (Collection,), {"__collection__": "odd", "not-a-name": StringField()})
    assert "__init__" not in Odd.__dict__  # Collection's, which hands it to the generic one
    odd = Odd(**{"not-a-name": "x"})
    assert odd._data == {"not-a-name": "x"}


def test_unset_has_a_name() -> None:
    assert repr(UNSET) == "UNSET"
