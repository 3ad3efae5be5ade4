"""Field update operators (manual, "Field Update Operators"), operator by operator:
$set $setOnInsert $unset $inc $mul $min $max $currentDate $rename, and $bit."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from bson import Decimal128, Int64, Timestamp

from fakemongo._errors import CommandError
from fakemongo._update import compile_update
from fakemongo._update_ops import next_timestamp

Doc = dict[str, Any]


def apply(spec: Doc, doc: Doc, **options: Any) -> tuple[Doc, bool]:
    return compile_update(spec).apply(doc, **options)


def failure(spec: Doc, doc: Doc | None = None) -> tuple[int, str]:
    """The error of compiling ``spec`` or, given ``doc``, of applying it (which compiles)."""
    if doc is None:
        with pytest.raises(CommandError) as caught:
            compile_update(spec)
    else:
        update = compile_update(spec)
        with pytest.raises(CommandError) as caught:
            update.apply(doc)
    return caught.value.code, caught.value.errmsg


def typed(value: Any) -> tuple[type, Any]:
    return type(value), value


# ---------------------------------------------------------------- $set, $setOnInsert, $unset


@pytest.mark.parametrize(
    ("old", "new", "modified"),
    [
        (1, 1, False),
        # A change of type is a change (manual, "$set"; the server compares the bytes).
        (1, 1.0, True),
        (1, Int64(1), True),
        (0.0, -0.0, True),
        (float("nan"), float("nan"), False),
        (True, 1, True),
        ({"a": 1, "b": 2}, {"a": 1, "b": 2}, False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),
        ([1, [2]], [1, [2]], False),
        ("x", "x", False),
        (None, None, False),
        (datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), False),
    ],
)
def test_set_reports_real_changes(old: Any, new: Any, modified: bool) -> None:
    out, changed = apply({"$set": {"a": new}}, {"_id": 1, "a": old})
    assert changed == modified
    assert typed(out["a"]) == typed(new) if modified else out["a"] is old


def test_set_copies_its_value() -> None:
    update = compile_update({"$set": {"a": {"b": [1]}}})
    out, _ = update.apply({"_id": 1})
    out["a"]["b"].append(2)
    assert update.apply({"_id": 2})[0] == {"_id": 2, "a": {"b": [1]}}


def test_set_on_insert() -> None:
    # Manual, "$setOnInsert": only when the update inserts a document.
    spec = {"$set": {"item": "apple"}, "$setOnInsert": {"defaultQty": 100}}
    assert apply(spec, {"_id": 1}) == ({"_id": 1, "item": "apple"}, True)
    assert apply({"$setOnInsert": {"a": 1}}, {"_id": 1}) == ({"_id": 1}, False)
    assert apply(spec, {"_id": 1}, upsert_insert=True) == (
        {"_id": 1, "defaultQty": 100, "item": "apple"},
        True,
    )


@pytest.mark.parametrize(
    ("spec", "doc", "expected", "modified"),
    [
        # Manual, "$unset": the value in the spec does not matter.
        ({"$unset": {"a": ""}}, {"_id": 1, "a": 1, "b": 2}, {"_id": 1, "b": 2}, True),
        (
            {"$unset": {"a.b": 1}},
            {"_id": 1, "a": {"b": 1, "c": 2}},
            {"_id": 1, "a": {"c": 2}},
            True,
        ),
        # A missing field, or a path that cannot exist, changes nothing.
        ({"$unset": {"x": 1}}, {"_id": 1}, {"_id": 1}, False),
        ({"$unset": {"a.b.z": 1}}, {"_id": 1, "a": {"b": 1}}, {"_id": 1, "a": {"b": 1}}, False),
        ({"$unset": {"a.b": 1}}, {"_id": 1, "a": [{"b": 1}]}, {"_id": 1, "a": [{"b": 1}]}, False),
        # In an array, the element becomes null: the array keeps its length...
        ({"$unset": {"a.1": 1}}, {"_id": 1, "a": [1, 2, 3]}, {"_id": 1, "a": [1, None, 3]}, True),
        # ...even when it already was null: the server counts that as a change.
        ({"$unset": {"a.0": 1}}, {"_id": 1, "a": [None]}, {"_id": 1, "a": [None]}, True),
        ({"$unset": {"a.5": 1}}, {"_id": 1, "a": [1]}, {"_id": 1, "a": [1]}, False),
    ],
)
def test_unset(spec: Doc, doc: Doc, expected: Doc, modified: bool) -> None:
    assert apply(spec, doc) == (expected, modified)


# ---------------------------------------------------------------- $inc, $mul


@pytest.mark.parametrize(
    ("spec", "old", "new"),
    [
        # Manual, "$inc" / "$mul": the result has the widest type of the two.
        ({"$inc": {"a": 1}}, 1, 2),
        ({"$inc": {"a": -2}}, 1, -1),
        ({"$inc": {"a": 1}}, Int64(1), Int64(2)),
        ({"$inc": {"a": Int64(1)}}, 1, Int64(2)),
        ({"$inc": {"a": 0.5}}, 1, 1.5),
        ({"$inc": {"a": 1}}, 1.5, 2.5),
        ({"$inc": {"a": Int64(1)}}, 1.5, 2.5),
        # int32 overflow widens to int64 (manual, "$mul": "Mixed Types").
        ({"$inc": {"a": 2**31 - 1}}, 1, Int64(2**31)),
        ({"$mul": {"a": 2**30}}, 4, Int64(2**32)),
        ({"$mul": {"a": -1}}, -(2**31), Int64(2**31)),
        ({"$mul": {"a": 2}}, Int64(3), Int64(6)),
        ({"$mul": {"a": 1.5}}, 2, 3.0),
        # A double enters decimal arithmetic rounded to 15 digits.
        ({"$inc": {"a": 1.5}}, Decimal128("1"), Decimal128("2.50000000000000")),
        ({"$inc": {"a": Decimal128("0.1")}}, 0.2, Decimal128("0.300000000000000")),
        ({"$inc": {"a": 1}}, Decimal128("1.5"), Decimal128("2.5")),
        ({"$mul": {"a": Decimal128("2")}}, Int64(3), Decimal128("6")),
        ({"$mul": {"a": 2}}, Decimal128("1.25"), Decimal128("2.50")),
    ],
)
def test_arithmetic(spec: Doc, old: Any, new: Any) -> None:
    out, modified = apply(spec, {"_id": 1, "a": old})
    assert typed(out["a"]) == typed(new)
    assert modified


@pytest.mark.parametrize(
    ("spec", "old"),
    [
        ({"$inc": {"a": 0}}, 5),
        ({"$inc": {"a": 0}}, Int64(5)),
        ({"$inc": {"a": 0}}, 1.5),
        ({"$inc": {"a": Decimal128("0")}}, Decimal128("1.0")),
        ({"$mul": {"a": 1}}, 7),
        ({"$inc": {"a": 1}}, float("inf")),
    ],
)
def test_arithmetic_without_change(spec: Doc, old: Any) -> None:
    out, modified = apply(spec, {"_id": 1, "a": old})
    assert not modified
    assert out["a"] is old


@pytest.mark.parametrize(
    ("spec", "old"),
    [
        # A change of type is a change; NaN never equals itself.
        ({"$inc": {"a": 0.0}}, 5),
        ({"$inc": {"a": Int64(0)}}, 5),
        ({"$inc": {"a": 1}}, float("nan")),
        ({"$mul": {"a": 1}}, Decimal128("NaN")),
    ],
)
def test_arithmetic_changes_type_or_nan(spec: Doc, old: Any) -> None:
    assert apply(spec, {"_id": 1, "a": old})[1]


@pytest.mark.parametrize(
    ("spec", "new"),
    [
        # Manual, "$inc": a missing field is set to the amount.
        ({"$inc": {"a": 5}}, 5),
        ({"$inc": {"a": Int64(5)}}, Int64(5)),
        # Manual, "$mul": a missing field is set to zero of the operand's type.
        ({"$mul": {"a": 5}}, 0),
        ({"$mul": {"a": Int64(5)}}, Int64(0)),
        ({"$mul": {"a": 2.5}}, 0.0),
        ({"$mul": {"a": Decimal128("2.5")}}, Decimal128("0.0")),
    ],
)
def test_arithmetic_on_a_missing_field(spec: Doc, new: Any) -> None:
    out, modified = apply(spec, {"_id": 1})
    assert typed(out["a"]) == typed(new)
    assert modified


def test_mul_of_a_missing_field_by_a_negative_double_is_negative_zero() -> None:
    out, _ = apply({"$mul": {"a": -2.5}}, {"_id": 1})
    assert math.copysign(1, out["a"]) == -1


@pytest.mark.parametrize(
    ("spec", "doc", "code", "message"),
    [
        (
            {"$inc": {"v": "string"}},
            None,
            14,
            'Cannot increment with non-numeric argument: {v: "string"}',
        ),
        ({"$mul": {"bar": "x"}}, None, 14, 'Cannot multiply with non-numeric argument: {bar: "x"}'),
        (
            {"$inc": {"a.b": True}},
            None,
            14,
            "Cannot increment with non-numeric argument: {a.b: true}",
        ),
        (
            {"$inc": {"a": 1}},
            {"_id": 1, "a": {"b": 1}},
            14,
            "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of "
            "non-numeric type object",
        ),
        (
            {"$mul": {"v.0.bar": 1}},
            {"_id": "x", "v": [{"bar": "hello"}]},
            14,
            "Cannot apply $mul to a value of non-numeric type. {_id: \"x\"} has the field 'bar' of "
            "non-numeric type string",
        ),
        (
            {"$inc": {"a": 1}},
            {"a": None},
            14,
            "Cannot apply $inc to a value of non-numeric type. {no id} has the field 'a' of "
            "non-numeric type null",
        ),
        (
            {"$inc": {"v": Int64(2**63 - 1)}},
            {"_id": "int64-max", "v": Int64(2**63 - 1)},
            2,
            "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) "
            "for "
            'document {_id: "int64-max"}',
        ),
        (
            {"$inc": {"v": Int64(2**63 - 1)}},
            {"_id": "int32", "v": 42},
            2,
            "Failed to apply $inc operations to current value ((NumberInt)42) for document {_id: "
            '"int32"}',
        ),
        (
            {"$mul": {"v": Int64(2**62)}},
            {"v": -4},
            2,
            "Failed to apply $mul operations to current value ((NumberInt)-4) for document {no id}",
        ),
    ],
)
def test_arithmetic_errors(spec: Doc, doc: Doc | None, code: int, message: str) -> None:
    assert failure(spec, doc) == (code, message)


# ---------------------------------------------------------------- $min, $max


@pytest.mark.parametrize(
    ("spec", "old", "new", "modified"),
    [
        # Manual, "$min" / "$max": replace when the new value is lower / higher.
        ({"$min": {"a": 150}}, 200, 150, True),
        ({"$min": {"a": 250}}, 200, 200, False),
        ({"$max": {"a": 250}}, 200, 250, True),
        ({"$max": {"a": 150}}, 200, 200, False),
        # Equal values keep the stored one, whatever its numeric type.
        ({"$min": {"a": 1.0}}, 1, 1, False),
        ({"$max": {"a": Int64(1)}}, 1, 1, False),
        # Values of different types compare in BSON order (numbers < strings).
        ({"$max": {"a": "x"}}, 5, "x", True),
        ({"$min": {"a": None}}, 5, None, True),
        (
            {"$min": {"d": datetime.datetime(2013, 9, 25)}},
            datetime.datetime(2014, 1, 1),
            datetime.datetime(2013, 9, 25),
            True,
        ),
    ],
)
def test_min_max(spec: Doc, old: Any, new: Any, modified: bool) -> None:
    field = next(iter(next(iter(spec.values()))))
    out, changed = apply(spec, {"_id": 1, field: old})
    assert typed(out[field]) == typed(new)
    assert changed == modified


def test_min_max_create_and_collation() -> None:
    assert apply({"$max": {"a": 5}}, {"_id": 1}) == ({"_id": 1, "a": 5}, True)
    update = compile_update({"$min": {"a": "B"}}, string_key=str.lower)
    assert update.apply({"_id": 1, "a": "b"}) == ({"_id": 1, "a": "b"}, False)


# ---------------------------------------------------------------- $currentDate

NOW = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC)


def test_current_date() -> None:
    # Manual, "$currentDate": true or {$type: "date"} sets a date, {$type: "timestamp"} a
    # timestamp; dates have millisecond precision.
    spec = {
        "$currentDate": {"a": True, "b": {"$type": "date"}, "c": {"$type": "timestamp"}, "d": False}
    }
    out, modified = apply(spec, {"_id": 1, "a": 1}, now=NOW)
    assert modified
    assert out["a"] == out["b"] == out["d"] == NOW.replace(microsecond=123000)
    assert isinstance(out["c"], Timestamp)
    assert out["c"].time == int(NOW.timestamp())
    # A date always changes, even to the same value.
    assert apply({"$currentDate": {"a": True}}, {"_id": 1, "a": out["a"]}, now=NOW)[1]


def test_current_date_without_now_uses_the_clock() -> None:
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    out, _ = apply({"$currentDate": {"a": True}}, {"_id": 1})
    assert out["a"] >= before


def test_timestamps_count_within_a_second() -> None:
    # Manual, "Timestamps": the increment orders the timestamps of one second.
    moment = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    first = next_timestamp(moment)
    second = next_timestamp(moment.replace(microsecond=5))
    naive = next_timestamp(datetime.datetime(2100, 1, 1))  # naive datetimes are UTC
    assert first == Timestamp(int(moment.timestamp()), 1)
    assert (second.time, second.inc, naive.time, naive.inc) == (first.time, 2, first.time, 3)
    assert next_timestamp(NOW) == Timestamp(int(NOW.timestamp()), 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            None,
            "null is not valid type for $currentDate. Please use a boolean ('true') or a $type "
            "expression ({$type: 'timestamp/date'}).",
        ),
        (
            123.456,
            "double is not valid type for $currentDate. Please use a boolean ('true') or a "
            "$type expression ({$type: 'timestamp/date'}).",
        ),
        (
            {"$type": "foo"},
            "The '$type' string field is required to be 'date' or 'timestamp': "
            "{$currentDate: {field : {$type: 'date'}}}",
        ),
        (
            {"$type": 1},
            "The '$type' string field is required to be 'date' or 'timestamp': "
            "{$currentDate: {field : {$type: 'date'}}}",
        ),
        (
            {},
            "The '$type' string field is required to be 'date' or 'timestamp': "
            "{$currentDate: {field : {$type: 'date'}}}",
        ),
        ({"$type": "date", "x": 1}, "Unrecognized $currentDate option: x"),
    ],
)
def test_current_date_errors(value: Any, message: str) -> None:
    assert failure({"$currentDate": {"lastModified": value}}) == (2, message)


# ---------------------------------------------------------------- $rename


@pytest.mark.parametrize(
    ("spec", "doc", "expected", "modified"),
    [
        # Manual, "$rename": the field moves; the new name goes where $set would put it.
        (
            {"$rename": {"foo": "foo2", "bar": "bar2"}},
            {"_id": 1, "foo": "x", "bar": "y"},
            {"_id": 1, "bar2": "y", "foo2": "x"},
            True,
        ),
        (
            {"$rename": {"bar2": "foo", "foo2": "bar"}},
            {"_id": 1, "foo2": "x", "bar2": "y"},
            {"_id": 1, "bar": "x", "foo": "y"},
            True,
        ),
        # A missing source changes nothing, even where the target could not be made.
        ({"$rename": {"missing": "foo"}}, {"_id": 1, "foo": "y"}, {"_id": 1, "foo": "y"}, False),
        ({"$rename": {"missing.a": "missing.b"}}, {"_id": 1}, {"_id": 1}, False),
        ({"$rename": {"a.5": "b"}}, {"_id": 1, "a": {"0": 1}}, {"_id": 1, "a": {"0": 1}}, False),
        # An existing target is overwritten (manual: "$rename performs an $unset of both
        # the old and the new name, then a $set with the new name").
        ({"$rename": {"a": "b"}}, {"_id": 1, "a": 1, "b": 2}, {"_id": 1, "b": 1}, True),
        ({"$rename": {"a": "b"}}, {"_id": 1, "a": 1, "b": 1.0}, {"_id": 1, "b": 1.0}, True),
        # Within and out of embedded documents.
        (
            {"$rename": {"foo.a": "foo.z", "bar.c": "bar.x"}},
            {"_id": 1, "foo": {"a": 1, "b": 2}, "bar": {"c": 3, "d": 4}},
            {"_id": 1, "foo": {"b": 2, "z": 1}, "bar": {"d": 4, "x": 3}},
            True,
        ),
        (
            {"$rename": {"foo.a": "a"}},
            {"_id": 1, "foo": {"a": 1, "b": 2}},
            {"_id": 1, "foo": {"b": 2}, "a": 1},
            True,
        ),
        ({"$rename": {"a": "x.y"}}, {"_id": 1, "a": [1]}, {"_id": 1, "x": {"y": [1]}}, True),
        (
            {"$rename": {"a": "x.y"}},
            {"_id": 1, "a": 1, "x": {"y": 0}},
            {"_id": 1, "x": {"y": 1}},
            True,
        ),
        ({"$rename": {"a.5": "b"}}, {"_id": 1, "a": [1]}, {"_id": 1, "a": [1]}, False),
        # A source inside a document inside an array index path is fine when no array
        # is crossed; an array itself may be renamed.
        (
            {"$rename": {"a.b": "c"}},
            {"_id": 1, "a": {"b": [1, 2]}},
            {"_id": 1, "a": {}, "c": [1, 2]},
            True,
        ),
    ],
)
def test_rename(spec: Doc, doc: Doc, expected: Doc, modified: bool) -> None:
    out, changed = apply(spec, doc)
    assert out == expected
    assert list(out) == list(expected)
    assert changed == modified


@pytest.mark.parametrize(
    ("spec", "doc", "code", "message"),
    [
        (
            {"$rename": {"foo": 12345}},
            None,
            2,
            "The 'to' field for $rename must be a string: foo: 12345",
        ),
        (
            {"$rename": {"a": "a"}},
            None,
            2,
            'The source and target field for $rename must differ: a: "a"',
        ),
        (
            {"$rename": {"a": "a.b"}},
            None,
            2,
            'The source and target field for $rename must not be on the same path: a: "a.b"',
        ),
        (
            {"$rename": {"a.b": "a"}},
            None,
            2,
            'The source and target field for $rename must not be on the same path: a.b: "a"',
        ),
        (
            {"$rename": {"a.$": "b"}},
            None,
            2,
            "The source field for $rename may not be dynamic: a.$",
        ),
        (
            {"$rename": {"a.$[]": "b"}},
            None,
            2,
            "The source field for $rename may not be dynamic: a.$[]",
        ),
        (
            {"$rename": {"a": "b.$"}},
            None,
            2,
            "The destination field for $rename may not be dynamic: b.$",
        ),
        (
            {"$rename": {"a": "b\0"}},
            None,
            2,
            "The 'to' field for $rename cannot contain an embedded null byte",
        ),
        ({"$rename": {"": "b"}}, None, 56, "An empty update path is not valid."),
        (
            {"$rename": {"v.": "v"}},
            None,
            56,
            "The update path 'v.' contains an empty field name, which is not allowed.",
        ),
        (
            {"$rename": {"a": "b."}},
            None,
            56,
            "The update path 'b.' contains an empty field name, which is not allowed.",
        ),
        (
            {"$rename": {"_id": "id"}},
            {"_id": 1},
            66,
            "Performing an update on the path '_id' would modify the immutable field '_id'",
        ),
        (
            {"$rename": {"foo": "_id"}},
            {"_id": 1, "foo": "x"},
            66,
            "Performing an update on the path '_id' would modify the immutable field '_id'",
        ),
        (
            {"$rename": {"foo": "_id.x"}},
            {"_id": {"a": 1}, "foo": "x"},
            66,
            "Updating the path '_id' to _id: { a: 1, x: \"x\" } would modify the immutable field "
            "'_id'",
        ),
        (
            {"$rename": {"v.foo": "foo"}},
            {"_id": 1, "v": [{"foo": [{"bar": "hello"}, {"bar": "world"}]}]},
            28,
            "cannot use the part (v of v.foo) to traverse the element ({v: [ { foo: [ { bar: "
            '"hello" }, '
            '{ bar: "world" } ] } ]})',
        ),
        (
            {"$rename": {"v.0.foo.0.bar.z": "f"}},
            {"_id": 1, "v": [{"foo": [{"bar": "hello"}]}]},
            28,
            'cannot use the part (bar of v.0.foo.0.bar.z) to traverse the element ({bar: "hello"})',
        ),
        (
            {"$rename": {"contact.3.primaryEmail": "primaryEmail"}},
            {"_id": 7, "contact": [[1], "B", "C", {"primaryEmail": "x"}]},
            2,
            "The source field cannot be an array element, 'contact.3.primaryEmail' in doc with "
            "_id: 7 "
            "has an array field called 'contact'",
        ),
        (
            {"$rename": {"a.0.0.b": "c"}},
            {"a": [[{"b": 1}]]},
            2,
            "The source field cannot be an array element, 'a.0.0.b' in doc with no id has an array "
            "field called '0'",
        ),
        (
            {"$rename": {"branch": "contact.3.branch"}},
            {"_id": 7, "branch": "b", "contact": [[1], "B", "C", {}]},
            2,
            "The destination field cannot be an array element, 'contact.3.branch' in doc with "
            "_id: 7 "
            "has an array field called 'contact'",
        ),
        (
            {"$rename": {"branch": "contact.1"}},
            {"_id": 7, "branch": "b", "contact": [0, 1]},
            2,
            "The destination field cannot be an array element, 'contact.1' in doc with _id: 7 has "
            "an "
            "array field called 'contact'",
        ),
        (
            {"$rename": {"branch": "contact.5"}},
            {"_id": 7, "branch": "b", "contact": [0, 1]},
            2,
            "The destination field cannot be an array element, 'contact.5' in doc with _id: 7 has "
            "an "
            "array field called 'contact'",
        ),
        (
            {"$rename": {"a": "b.c"}},
            {"_id": 1, "a": 1, "b": 5},
            28,
            "Cannot create field 'c' in element {b: 5}",
        ),
    ],
)
def test_rename_errors(spec: Doc, doc: Doc | None, code: int, message: str) -> None:
    assert failure(spec, doc) == (code, message)


# ---------------------------------------------------------------- $bit


@pytest.mark.parametrize(
    ("spec", "old", "new", "modified"),
    [
        # Manual, "$bit".
        ({"$bit": {"a": {"and": 10}}}, 13, 8, True),
        ({"$bit": {"a": {"or": Int64(5)}}}, Int64(3), Int64(7), True),
        ({"$bit": {"a": {"xor": 5}}}, 1, 4, True),
        ({"$bit": {"a": {"and": 7, "or": 8}}}, 5, 13, True),
        # An int64 operand makes the result int64, which is a change of type.
        ({"$bit": {"a": {"and": Int64(5)}}}, 5, Int64(5), True),
        ({"$bit": {"a": {"or": 0}}}, 5, 5, False),
        ({"$bit": {"a": {"and": -1}}}, -8, -8, False),
    ],
)
def test_bit(spec: Doc, old: Any, new: Any, modified: bool) -> None:
    out, changed = apply(spec, {"_id": 1, "a": old})
    assert typed(out["a"]) == typed(new)
    assert changed == modified


def test_bit_on_a_missing_field_starts_from_zero() -> None:
    assert apply({"$bit": {"a": {"or": 5}}}, {"_id": 1}) == ({"_id": 1, "a": 5}, True)
    out, _ = apply({"$bit": {"a": {"xor": Int64(5)}}}, {"_id": 1})
    assert typed(out["a"]) == (Int64, Int64(5))


@pytest.mark.parametrize(
    ("spec", "doc", "message"),
    [
        (
            {"$bit": {"v": {"not": 1}}},
            None,
            "The $bit modifier only supports 'and', 'or', and 'xor', not 'not' which is an unknown "
            "operator: {not: 1}",
        ),
        (
            {"$bit": {"v": {}}},
            None,
            "You must pass in at least one bitwise operation. The format is: {$bit: {field: "
            "{and/or/xor: #}}",
        ),
        (
            {"$bit": {"test": "and"}},
            None,
            "The $bit modifier is not compatible with a string. You must pass in an embedded "
            "document: "
            "{$bit: {field: {and/or/xor: #}}",
        ),
        (
            {"$bit": {"v": {"and": "test"}}},
            None,
            "The $bit modifier field must be an Integer(32/64 bit); a 'string' is not supported "
            "here: "
            '{and: "test"}',
        ),
        (
            {"$bit": {"v": {"and": 1.0}}},
            None,
            "The $bit modifier field must be an Integer(32/64 bit); a 'double' is not supported "
            "here: "
            "{and: 1.0}",
        ),
        (
            {"$bit": {"v.0.foo": {"and": 1}}},
            {"_id": "x", "v": [{"foo": [1]}]},
            'Cannot apply $bit to a value of non-integral type._id: "x" has the field foo of '
            "non-integer "
            "type array",
        ),
        (
            {"$bit": {"v": {"and": 1}}},
            {"v": 1.0},
            "Cannot apply $bit to a value of non-integral type. has the field v of non-integer "
            "type double",
        ),
    ],
)
def test_bit_errors(spec: Doc, doc: Doc | None, message: str) -> None:
    assert failure(spec, doc) == (2, message)
