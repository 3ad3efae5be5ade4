"""Query expressions built from fields: comparisons, paths into embedded
documents, combination with ``&``, ``|`` and ``~``, and raw dict filters."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from bson import Binary, Decimal128, ObjectId

from mongotor.orm import (
    Collection,
    DecimalField,
    EmbeddedDocument,
    EmbeddedField,
    FieldPath,
    IntegerField,
    ListField,
    LongField,
    Q,
    ReferenceField,
    SortKey,
    StringField,
    UuidField,
)
from mongotor.orm._query import and_filters, or_filters, to_filter


class Point(EmbeddedDocument):
    x = IntegerField(name="px")


class Place(EmbeddedDocument):
    name = StringField(name="nm")
    point = EmbeddedField(Point)


class Author(Collection):
    __collection__ = "author"


class Item(Collection):
    __collection__ = "item"
    name = StringField(name="n")
    age = IntegerField()
    big = LongField()
    price = DecimalField()
    token = UuidField()
    tags = ListField(StringField())
    places = ListField(EmbeddedField(Place))
    place = EmbeddedField(Place)
    author = ReferenceField(Author)
    anything = ListField()


def test_comparisons() -> None:
    assert (Item.age == 3).document == {"age": 3}
    assert (Item.age != 3).document == {"age": {"$ne": 3}}
    assert (Item.age < 3).document == {"age": {"$lt": 3}}
    assert (Item.age <= 3).document == {"age": {"$lte": 3}}
    assert (Item.age > 3).document == {"age": {"$gt": 3}}
    assert (Item.age >= 3).document == {"age": {"$gte": 3}}
    assert (Item.name == "x").document == {"n": "x"}
    assert (Item.name == None).document == {"n": None}  # noqa: E711


def test_operators() -> None:
    assert Item.age.in_([1, 2]).document == {"age": {"$in": [1, 2]}}
    assert Item.age.not_in([1]).document == {"age": {"$nin": [1]}}
    assert Item.age.exists().document == {"age": {"$exists": True}}
    assert Item.age.exists(False).document == {"age": {"$exists": False}}
    assert Item.name.regex("^a").document == {"n": {"$regex": "^a"}}
    assert Item.name.regex("^a", "i").document == {"n": {"$regex": "^a", "$options": "i"}}


def test_values_are_compared_as_stored() -> None:
    token = uuid.uuid4()
    author = Author()
    author._data["_id"] = ObjectId()
    assert (Item.price == Decimal("1.5")).document == {"price": Decimal128("1.5")}
    assert (Item.token == token).document == {"token": Binary.from_uuid(token)}
    assert (Item.big > 3).document["big"]["$gt"].__class__.__name__ == "Int64"
    assert (Item.author == author).document == {"author": author._id}
    assert (Item.author == "raw").document == {"author": "raw"}
    assert (Item.place == Place(name="a")).document == {"place": {"nm": "a"}}
    assert (Item.place == {"nm": "a"}).document == {"place": {"nm": "a"}}
    assert (Item.age == "not a number").document == {"age": "not a number"}


def test_lists_match_elements_or_whole_lists() -> None:
    assert (Item.tags == "a").document == {"tags": "a"}
    assert (Item.tags == ["a", "b"]).document == {"tags": ["a", "b"]}
    assert (Item.anything == {"a": 1}).document == {"anything": {"a": 1}}


def test_paths_into_embedded_documents() -> None:
    path = Item.place.point.x
    assert isinstance(path, FieldPath)
    assert repr(path) == "FieldPath('place.point.px')"
    assert (path > 1).document == {"place.point.px": {"$gt": 1}}
    assert (Item.places.name == "a").document == {"places.nm": "a"}
    assert (Item.places.point.x == 2).document == {"places.point.px": 2}
    with pytest.raises(AttributeError, match="has no sub-field 'nope'"):
        _ = Item.place.nope
    with pytest.raises(AttributeError):
        _ = Item.place._hidden
    with pytest.raises(AttributeError, match="has no sub-field"):
        _ = Item.tags.nope
    with pytest.raises(AttributeError, match="has no sub-field"):
        _ = Item.anything.nope


def test_and_merges_distinct_fields_and_nests_the_rest() -> None:
    assert ((Item.age > 1) & (Item.name == "x")).document == {"age": {"$gt": 1}, "n": "x"}
    both = (Item.age > 1) & (Item.age < 5)
    assert both.document == {"$and": [{"age": {"$gt": 1}}, {"age": {"$lt": 5}}]}
    three = both & (Item.age != 3)  # no shared key: merged beside the $and
    assert three.document == {"$and": both.document["$and"], "age": {"$ne": 3}}
    four = three & (Item.age != 4)
    assert four.document == {"$and": [three.document, {"age": {"$ne": 4}}]}
    flat = both & Q({"$and": [{"n": "x"}]})
    assert flat.document == {"$and": [*both.document["$and"], {"n": "x"}]}
    assert ((Item.age > 1) & {"n": "x"}).document == {"age": {"$gt": 1}, "n": "x"}
    assert ({"n": "x"} & (Item.age > 1)).document == {"n": "x", "age": {"$gt": 1}}


def test_or_and_not() -> None:
    either = (Item.age == 1) | (Item.age == 2)
    assert either.document == {"$or": [{"age": 1}, {"age": 2}]}
    assert (either | {"n": "x"}).document == {"$or": [{"age": 1}, {"age": 2}, {"n": "x"}]}
    assert ({"n": "x"} | (Item.age == 1)).document == {"$or": [{"n": "x"}, {"age": 1}]}
    assert (~(Item.age == 1)).document == {"$nor": [{"age": 1}]}


def test_filters_combine_with_empty_ones() -> None:
    assert and_filters({}, {"a": 1}) == {"a": 1}
    assert and_filters({"a": 1}, {}) == {"a": 1}
    assert or_filters({"$or": [{"a": 1}]}, {"$or": [{"b": 1}]}) == {"$or": [{"a": 1}, {"b": 1}]}
    assert Q().document == {}
    assert repr(Q({"a": 1})) == "Q({'a': 1})"


def test_a_filter_is_an_expression_or_a_dict() -> None:
    assert to_filter(Q({"a": 1})) == {"a": 1}
    assert to_filter({"a": 1}) == {"a": 1}
    with pytest.raises(TypeError, match="a filter is a query expression or a dict"):
        to_filter([("a", 1)])  # type: ignore[arg-type]


def test_expressions_have_no_truth_value() -> None:
    with pytest.raises(TypeError, match=r"combine them with & and \|"):
        bool(Item.age > 1)
    with pytest.raises(TypeError):
        _ = 1 < Item.age < 5  # type: ignore[operator]


def test_sort_keys() -> None:
    assert -Item.name == SortKey("n", -1)
    assert +Item.name == SortKey("n", 1)
    assert -Item.place.point.x == SortKey("place.point.px", -1)


def test_fields_stay_hashable() -> None:
    assert {Item.age: 1}[Item.age] == 1
