"""Every field: what it takes (and converts), what it refuses (with which
message), how it stores and reads values. Unit tests: no server."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from bson.binary import UuidRepresentation

from mongotor.orm import (
    BooleanField,
    Collection,
    DateTimeField,
    DecimalField,
    EmailField,
    EmbeddedDocument,
    EmbeddedField,
    Field,
    FloatField,
    IntegerField,
    ListField,
    LongField,
    Md5Field,
    ObjectField,
    ObjectIdField,
    ReferenceField,
    Sha1Field,
    StringField,
    UrlField,
    UuidField,
    ValidationError,
    VersionField,
)
from mongotor.orm._field import Invalid


def accepts(field: Field[Any], value: Any) -> Any:
    """What the field keeps when ``value`` is assigned."""
    return field.validate(value)


def refuses(field: Field[Any], value: Any) -> str:
    """The message the field gives for ``value``."""
    with pytest.raises(Invalid) as caught:
        field.validate(value)
    return caught.value.errors[""]


# -- strings ----------------------------------------------------------------------------------------


def test_string() -> None:
    field: StringField[Any] = StringField()
    assert accepts(field, "x") == "x"
    assert accepts(field, None) is None
    assert refuses(field, 3) == "must be a string, not int"
    assert field.to_python("x") == "x"
    assert field.to_mongo("x") == "x"


def test_string_regex_matches_the_whole_value() -> None:
    field = StringField(regex=r"[a-z]+")
    assert accepts(field, "abc") == "abc"
    assert refuses(field, "abc1") == "must match '[a-z]+'"
    compiled = StringField(regex=re.compile(r"\d+"))
    assert accepts(compiled, "12") == "12"


def test_string_lengths() -> None:
    field = StringField(min_length=2, max_length=3)
    assert accepts(field, "ab") == "ab"
    assert refuses(field, "a") == "must be at least 2 characters long"
    assert refuses(field, "abcd") == "must be at most 3 characters long"


def test_email() -> None:
    field = EmailField()
    assert accepts(field, "ana@example.com") == "ana@example.com"
    for bad in ("ana", "ana@example", "a b@example.com", "ana@example."):
        assert refuses(field, bad) == "must be an e-mail address"


def test_url() -> None:
    field = UrlField()
    assert accepts(field, "https://example.com/a?b=1") == "https://example.com/a?b=1"
    assert refuses(field, "example.com") == "must be an absolute URL (http, https) with a host"
    assert refuses(field, "ftp://example.com") == (
        "must be an absolute URL (http, https) with a host"
    )
    assert refuses(field, "http://exa mple.com") == "must be a URL without spaces"
    ftp = UrlField(schemes=("ftp",))
    assert accepts(ftp, "ftp://example.com/file") == "ftp://example.com/file"


def test_digests() -> None:
    assert accepts(Md5Field(), "d41d8cd98f00b204e9800998ecf8427e")
    assert refuses(Md5Field(), "d41d8c") == "must be an MD5 digest (32 hexadecimal digits)"
    assert accepts(Sha1Field(), "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709")
    assert refuses(Sha1Field(), "x" * 40) == "must be a SHA-1 digest (40 hexadecimal digits)"


# -- numbers ----------------------------------------------------------------------------------------


def test_integer() -> None:
    field = IntegerField(min_value=0, max_value=10)
    assert accepts(field, 3) == 3
    assert accepts(field, Int64(4)) == 4
    assert refuses(field, True) == "must be an integer, not bool"
    assert refuses(field, 1.5) == "must be an integer, not float"
    assert refuses(field, -1) == "must be at least 0"
    assert refuses(field, 11) == "must be at most 10"
    assert field.to_python(3) == 3


def test_integer_beyond_64_bits_is_refused() -> None:
    field: IntegerField[Any] = IntegerField()
    assert accepts(field, 2**63 - 1) == 2**63 - 1
    assert refuses(field, 2**63) == "must fit in 64 bits"

    class Big(int):
        pass

    assert accepts(field, Big(5)) == 5
    assert refuses(field, Big(2**64)) == "must fit in 64 bits"


def test_long_is_stored_as_int64() -> None:
    field = LongField(min_value=1)
    assert accepts(field, 5) == 5
    stored = field.to_mongo(5)
    assert type(stored) is Int64
    assert field.to_mongo(stored) is stored
    assert refuses(field, 0) == "must be at least 1"


def test_float() -> None:
    field = FloatField(max_value=1.5)
    assert accepts(field, 1) == 1.0
    assert type(accepts(field, 1)) is float
    assert accepts(field, 0.5) == 0.5
    assert refuses(field, "1") == "must be a number, not str"
    assert refuses(field, False) == "must be a number, not bool"
    assert refuses(field, 2.0) == "must be at most 1.5"
    assert field.to_mongo(2) == 2.0
    assert type(field.to_mongo(2)) is float
    assert field.to_python(0.5) == 0.5


def test_decimal() -> None:
    field = DecimalField(min_value=0, max_value=Decimal("100.00"))
    assert accepts(field, Decimal("1.10")) == Decimal("1.10")
    assert accepts(field, 3) == Decimal(3)
    assert accepts(field, "2.5") == Decimal("2.5")
    assert accepts(field, Decimal128("7.25")) == Decimal("7.25")
    assert refuses(field, 1.5) == "must be a Decimal, not float"
    assert refuses(field, "abc") == "'abc' is not a decimal number"
    assert refuses(field, Decimal("-1")) == "must be at least 0"
    assert refuses(field, Decimal("100.01")) == "must be at most 100.00"
    assert refuses(field, Decimal("NaN")) == "must be a finite number"
    assert refuses(field, Decimal("1." + "1" * 40)) == (
        "cannot be stored exactly as a Decimal128 (34 digits)"
    )
    assert field.to_mongo(Decimal("1.5")) == Decimal128("1.5")
    assert field.to_python(Decimal128("1.5")) == Decimal("1.5")
    assert field.to_python(Decimal("2")) == Decimal("2")


# -- the rest --------------------------------------------------------------------------------------


def test_datetime_is_cut_to_milliseconds() -> None:
    field = DateTimeField()
    exact = datetime(2024, 5, 6, 7, 8, 9, 123000)
    assert accepts(field, exact) is exact
    assert accepts(field, datetime(2024, 5, 6, 7, 8, 9, 123456)) == exact
    assert refuses(field, "2024-05-06") == "must be a datetime, not str"
    assert field.to_python(exact) is exact
    checked = DateTimeField(choices=[exact])
    assert accepts(checked, exact) is exact


def test_boolean() -> None:
    field = BooleanField()
    assert accepts(field, False) is False
    assert accepts(BooleanField(choices=[True]), True) is True
    assert refuses(field, 0) == "must be a boolean, not int"
    assert field.to_python(True) is True


def test_object_id() -> None:
    field = ObjectIdField()
    oid = ObjectId()
    assert accepts(field, oid) is oid
    assert accepts(field, str(oid)) == oid
    assert refuses(field, "nope") == "must be an ObjectId, not str"
    assert field.to_python(oid) is oid


def test_uuid() -> None:
    field = UuidField()
    value = uuid.uuid4()
    assert accepts(field, value) is value
    assert accepts(field, str(value)) == value
    assert accepts(field, Binary.from_uuid(value)) == value
    assert refuses(field, "nope") == "'nope' is not a UUID"
    assert refuses(field, 3) == "must be a UUID, not int"
    assert refuses(field, Binary(b"x", 0)) == "must be a UUID, not Binary"
    stored = field.to_mongo(value)
    assert stored == Binary.from_uuid(value)
    assert field.to_python(stored) == value
    legacy = Binary.from_uuid(value, UuidRepresentation.PYTHON_LEGACY)
    assert legacy.subtype == 3
    assert field.to_python(legacy) == value
    assert field.to_python(Binary(b"x", 0)) == Binary(b"x", 0)
    assert field.to_python(value) is value


def test_object_field_copies_and_wants_string_keys() -> None:
    field = ObjectField()
    given = {"a": [1]}
    kept = accepts(field, given)
    assert kept == given
    assert kept["a"] is not given["a"]
    assert refuses(field, [1]) == "must be a dict, not list"
    assert refuses(field, {1: 2}) == "keys must be strings, not int"
    assert field.to_python(given) == given
    assert field.to_python(given) is not given
    assert field.to_mongo(given) is not given


def test_list_of_a_field_checks_each_element() -> None:
    field = ListField(IntegerField(min_value=0))
    assert accepts(field, (1, 2)) == [1, 2]
    with pytest.raises(Invalid) as caught:
        field.validate([1, -1, "x"])
    assert caught.value.errors == {"1": "must be at least 0", "2": "must be an integer, not str"}
    assert refuses(field, "abc") == "must be a list, not str"
    assert refuses(field, {"a": 1}) == "must be a list, not dict"


def test_list_none_and_required() -> None:
    assert accepts(ListField(StringField()), None) is None
    assert refuses(ListField(StringField(), required=True), None) == "required"


def test_list_copies_what_it_is_given() -> None:
    given = ["a"]
    kept = accepts(ListField(StringField()), given)
    assert kept == given
    assert kept is not given
    untyped: ListField[Any, Any] = ListField()
    nested = [{"a": [1]}]
    kept = accepts(untyped, nested)
    assert kept == nested
    assert kept[0] is not nested[0]


def test_list_conversions() -> None:
    assert ListField(StringField()).to_python(["a"]) == ["a"]
    assert ListField().to_python([{"a": 1}]) == [{"a": 1}]
    decimals = ListField(DecimalField())
    assert decimals.to_python([Decimal128("1"), None]) == [Decimal("1"), None]
    assert decimals.to_mongo([Decimal("1"), None]) == [Decimal128("1"), None]
    assert ListField().to_mongo([{"a": 1}]) == [{"a": 1}]
    assert ListField(StringField()).to_mongo(["a"]) == ["a"]
    assert ListField(StringField()).to_python("not a list") == "not a list"
    assert ListField().to_plain([{"a": 1}]) == [{"a": 1}]


def test_list_rules_apply_to_the_whole_list() -> None:
    def two_at_most(value: list[Any]) -> None:
        if len(value) > 2:
            raise ValueError("at most two")

    field = ListField(StringField(), validators=[two_at_most])
    assert accepts(field, ["a", "b"]) == ["a", "b"]
    assert refuses(field, ["a", "b", "c"]) == "at most two"


def test_list_holds_fields_not_references() -> None:
    class Target(Collection):
        __collection__ = "target"

    with pytest.raises(TypeError, match="holds a field"):
        ListField(ReferenceField(Target))  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="holds a field"):
        ListField(str)  # type: ignore[call-overload]


def test_embedded_field_takes_documents_and_dicts() -> None:
    class Point(EmbeddedDocument):
        x = IntegerField(required=True)

    field = EmbeddedField(Point)
    point = Point(x=1)
    assert accepts(field, point) is point
    assert accepts(field, {"x": 2}).x == 2
    with pytest.raises(Invalid) as caught:
        field.validate({"x": "a"})
    assert caught.value.errors == {"x": "must be an integer, not str"}
    assert refuses(field, 3) == "must be a Point, not int"
    assert field.to_python("stored otherwise") == "stored otherwise"
    assert field.to_plain({"x": 1}) == {"x": 1}
    assert field.to_mongo({"x": 3}) == {"x": 3}
    listed = ListField(EmbeddedField(Point))
    assert listed.to_mongo([point, None, {"x": 4}]) == [{"x": 1}, None, {"x": 4}]

    def origin_only(value: Point) -> None:
        if value.x:
            raise ValueError("must be the origin")

    checked = EmbeddedField(Point, validators=[origin_only])
    assert accepts(checked, Point(x=0)).x == 0
    assert refuses(checked, Point(x=1)) == "must be the origin"


def test_embedded_field_needs_a_document_class_and_a_callable_default() -> None:
    class Point(EmbeddedDocument):
        x = IntegerField()

    with pytest.raises(TypeError, match="holds a document class"):
        EmbeddedField(dict)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="callable"):
        EmbeddedField(Point, default=Point())  # type: ignore[call-overload]


def test_required_choices_and_validators() -> None:
    def even(value: int) -> None:
        if value % 2:
            raise ValueError("must be even")

    field = IntegerField(required=True, choices=[2, 3, 4], validators=[even])
    assert accepts(field, 4) == 4
    assert refuses(field, None) == "required"
    assert refuses(field, 5) == "must be one of [2, 3, 4]"
    assert refuses(field, 3) == "must be even"


def test_stored_names_must_be_usable_in_paths() -> None:
    for bad in ("", "a.b", "$a", "a\x00"):
        with pytest.raises(ValueError, match="stored field name"):
            StringField(name=bad)


def test_a_field_repr_names_its_model_and_stored_name() -> None:
    class Thing(Collection):
        title = StringField(name="t")

    assert repr(Thing.title) == "<StringField Thing.title stored as 't'>"
    assert repr(StringField()) == "<StringField ?.? stored as ''>"


def test_a_field_without_sub_fields_has_no_paths() -> None:
    with pytest.raises(AttributeError, match="has no sub-field"):
        StringField()._subfield("x")
    with pytest.raises(AttributeError, match="has no sub-field"):
        ListField(StringField())._subfield("x")
    with pytest.raises(AttributeError):
        _ = ListField(StringField())._private  # type: ignore[attr-defined]


def test_version_field_is_kept_by_the_orm() -> None:
    field = VersionField(name="_v")
    assert accepts(field, 3) == 3
    assert refuses(field, "3") == "must be an integer, not str"
    assert field.key == "_v"


def test_an_invalid_constant_default_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"default of Bad\.n is invalid"):

        class Bad(Collection):
            n = IntegerField(default=-1, min_value=0)


def test_assignment_errors_name_the_field_and_model() -> None:
    class Thing(Collection):
        n = IntegerField(name="num")

    thing = Thing()
    with pytest.raises(ValidationError) as caught:
        thing.n = "x"  # type: ignore[assignment]
    assert caught.value.errors == {"n": "must be an integer, not str"}
    assert caught.value.model == "Thing"
    assert str(caught.value) == "Thing is invalid: n: must be an integer, not str"
    assert str(ValidationError({"a": "b"})) == "invalid: a: b"
