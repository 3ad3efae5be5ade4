"""Type expression operators (manual, "$convert", "$toInt" ... "$type", "$isNumber")."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from bson import Decimal128, Int64, ObjectId, Regex, Timestamp
from bson.datetime_ms import DatetimeMS
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._bsonorder import MISSING, type_alias
from fakemongo._errors import CommandError
from fakemongo._expr import compile_expression, evaluate

UTC = datetime.UTC
OID = ObjectId("5ab9cbfa31c2ab715d42129e")
DATE = datetime.datetime(2018, 3, 27, 16, 58, 51, 538000, tzinfo=UTC)


def run(spec: Any) -> Any:
    return evaluate(compile_expression(spec), {"n": None})


def convert(value: Any, to: Any) -> Any:
    return run({"$convert": {"input": {"$literal": value}, "to": to}})


@pytest.mark.parametrize(
    ("value", "to", "expected"),
    [
        # Manual, "$toInt" / "$convert" conversion tables.
        (True, "int", 1),
        (5.9, "int", 5),  # doubles truncate
        (-5.9, 16, -5),
        (Decimal128("-5.5"), "int", -5),
        (Int64(7), "int", 7),
        ("-42", "int", -42),
        (3, "long", Int64(3)),
        ("12345678901", "long", Int64(12345678901)),
        (DATE, "long", Int64(1522169931538)),
        (1.0e10, "long", Int64(10**10)),
        (False, "long", Int64(0)),
        (1, "double", 1.0),
        (True, "double", 1.0),
        ("-5.5", "double", -5.5),
        ("1e3", "double", 1000.0),
        ("-Infinity", "double", -math.inf),
        (Decimal128("2.5"), "double", 2.5),
        (DATE, "double", 1522169931538.0),
        (Int64(5), 1, 5.0),
        # Manual, "$toDecimal": a double keeps 15 significant digits.
        (2.5, "decimal", Decimal128("2.50000000000000")),
        (0.1, "decimal", Decimal128("0.100000000000000")),
        (1e20, "decimal", Decimal128("1.00000000000000E+20")),
        (0.0, "decimal", Decimal128("0.0")),
        (math.inf, "decimal", Decimal128("Infinity")),
        (5, "decimal", Decimal128("5")),
        (True, 19, Decimal128("1")),
        ("1.25", "decimal", Decimal128("1.25")),
        ("-Infinity", "decimal", Decimal128("-Infinity")),
        (DATE, "decimal", Decimal128("1522169931538")),
        (Decimal128("3"), "decimal", Decimal128("3")),
        # Manual, "$toString".
        (2.5, "string", "2.5"),
        (1.0, "string", "1"),
        (1e20, "string", "1e+20"),
        (math.inf, "string", "Infinity"),
        (-math.inf, "string", "-Infinity"),
        (math.nan, "string", "NaN"),
        (-0.0, "string", "-0"),
        (123456789.125, "string", "1.23457e+08"),
        (1 / 3, "string", "0.333333"),
        (Int64(9), "string", "9"),
        (Decimal128("1.50"), "string", "1.50"),
        (True, "string", "true"),
        (OID, "string", "5ab9cbfa31c2ab715d42129e"),
        (DATE, "string", "2018-03-27T16:58:51.538Z"),
        ("s", 2, "s"),
        # Manual, "$toBool": strings, ObjectIds and dates are true.
        ("", "bool", True),
        ("false", "bool", True),
        (0, "bool", False),
        (Decimal128("0"), "bool", False),
        (0.5, "bool", True),
        (OID, "bool", True),
        (DATE, "bool", True),
        (Timestamp(0, 0), "bool", True),
        (False, 8, False),
        ("5ab9cbfa31c2ab715d42129e", "objectId", OID),
        (OID, 7, OID),
        # Manual, "$toDate".
        ("2018-03-27T16:58:51.538Z", "date", DATE),
        (Int64(1522169931538), "date", DATE),
        (1522169931538.9, "date", DATE),
        (Decimal128("1522169931538"), "date", DATE),
        (2**40, "date", datetime.datetime(2004, 11, 3, 19, 53, 47, 776000, tzinfo=UTC)),
        (OID, "date", datetime.datetime(2018, 3, 27, 4, 43, 38, tzinfo=UTC)),
        (Timestamp(1522169931, 1), "date", datetime.datetime(2018, 3, 27, 16, 58, 51, tzinfo=UTC)),
        (DATE, 9, DATE),
        (Int64(2**62), "date", DatetimeMS(2**62)),
    ],
)
def test_conversions(value: Any, to: Any, expected: Any) -> None:
    result = convert(value, to)
    assert (type_alias(result), result) == (type_alias(expected), expected)
    assert str(result) == str(expected) or not isinstance(result, Decimal128)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$convert": {"input": None, "to": "int", "onNull": "none"}}, "none"),
        ({"$convert": {"input": "$nope", "to": "int"}}, None),
        ({"$convert": {"input": 1, "to": None}}, None),
        ({"$convert": {"input": None, "to": "$nope"}}, None),
        ({"$convert": {"input": "x", "to": "int", "onError": "bad"}}, "bad"),
        ({"$convert": {"input": [1], "to": "int", "onError": "$n"}}, None),
        ({"$convert": {"input": 1, "to": Int64(16)}}, 1),
        ({"$convert": {"input": 1, "to": 2.0}}, "1"),
        ({"$toInt": "12"}, 12),
        ({"$toLong": None}, None),
        ({"$toDouble": "1.5"}, 1.5),
        ({"$toDecimal": 1}, Decimal128("1")),
        ({"$toString": 7}, "7"),
        ({"$toBool": 1}, True),
        ({"$toObjectId": "5ab9cbfa31c2ab715d42129e"}, OID),
        ({"$toDate": Int64(0)}, datetime.datetime(1970, 1, 1, tzinfo=UTC)),
        ({"$type": "$n"}, "null"),
        ({"$type": "$nope"}, "missing"),
        ({"$type": [[1]]}, "array"),
        ({"$type": Int64(1)}, "long"),
        ({"$isNumber": Decimal128("1")}, True),
        ({"$isNumber": "1"}, False),
        ({"$isNumber": True}, False),
    ],
)
def test_forms(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


@pytest.mark.parametrize(
    ("value", "to", "message"),
    [
        (
            "x",
            "int",
            "Failed to parse number 'x' in $convert with no onError value: "
            "Did not consume whole string.",
        ),
        (
            "1.5",
            "int",
            "Failed to parse number '1.5' in $convert with no onError value: "
            "Did not consume whole string.",
        ),
        (
            "99999999999",
            "int",
            "Failed to parse number '99999999999' in $convert with no onError value: Overflow",
        ),
        (
            2**31,
            "int",
            "Conversion would overflow target type in $convert with no onError value: 2147483648",
        ),
        (
            math.nan,
            "long",
            "Attempt to convert NaN value to integer type in $convert with no onError value",
        ),
        (
            math.inf,
            "int",
            "Conversion would overflow target type in $convert with no onError value: inf",
        ),
        (
            "1_0",
            "double",
            "Failed to parse number '1_0' in $convert with no onError value: "
            "Did not consume whole string.",
        ),
        (
            Decimal128("1E+400"),
            "double",
            "Conversion would overflow target type in $convert with no onError value: 1E+400",
        ),
        (
            "abc",
            "decimal",
            "Failed to parse number 'abc' in $convert with no onError value: "
            "Failed to parse string to decimal",
        ),
        (
            "abc",
            "objectId",
            "Failed to parse objectId 'abc' in $convert with no onError value: "
            "Invalid string length for parsing to OID, expected 24 but found 3",
        ),
        (
            "z" * 24,
            "objectId",
            "Failed to parse objectId 'zzzzzzzzzzzzzzzzzzzzzzzz' in $convert "
            "with no onError value: Invalid character found in hex",
        ),
        (
            "nope",
            "date",
            "Error parsing date string 'nope'; the string does not match the "
            "expected format in $convert with no onError value",
        ),
        (5, "date", "Unsupported conversion from int to date in $convert with no onError value"),
        (DATE, "int", "Unsupported conversion from date to int in $convert with no onError value"),
        (
            [1],
            "double",
            "Unsupported conversion from array to double in $convert with no onError value",
        ),
        (
            [1],
            "decimal",
            "Unsupported conversion from array to decimal in $convert with no onError value",
        ),
        (
            {"a": 1},
            "string",
            "Unsupported conversion from object to string in $convert with no onError value",
        ),
        (
            None or Regex("a"),
            "bool",
            "Unsupported conversion from regex to bool in $convert with no onError value",
        ),
        (
            1,
            "objectId",
            "Unsupported conversion from int to objectId in $convert with no onError value",
        ),
        (1, "array", "Unsupported conversion from int to array in $convert with no onError value"),
        (1, 3, "Unsupported conversion from int to object in $convert with no onError value"),
    ],
)
def test_conversion_failures(value: Any, to: Any, message: str) -> None:
    with pytest.raises(CommandError) as info:
        convert(value, to)
    assert (info.value.code, info.value.errmsg) == (241, message)


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ({"$convert": 1}, 9, "$convert expects an object of named arguments but found: int"),
        (
            {"$convert": {"input": 1, "to": "int", "x": 1}},
            9,
            "$convert found an unknown argument: x",
        ),
        ({"$convert": {"to": "int"}}, 9, "Missing 'input' parameter to $convert"),
        ({"$convert": {"input": 1}}, 9, "Missing 'to' parameter to $convert"),
        ({"$convert": {"input": 1, "to": "integer"}}, 2, "Unknown type name: integer"),
        (
            {"$convert": {"input": 1, "to": 1.5}},
            9,
            "In $convert, numeric 'to' argument is not an integer",
        ),
        (
            {"$convert": {"input": 1, "to": 99}},
            9,
            "In $convert, numeric value for 'to' does not correspond to a BSON type: 99",
        ),
        (
            {"$convert": {"input": 1, "to": True}},
            9,
            "$convert's 'to' argument must be a string or number, but is bool",
        ),
        ({"$convert": {"input": 1, "to": "x", "onError": 0}}, 2, "Unknown type name: x"),
        (
            {"$toInt": [1, 2]},
            16020,
            "Expression $toInt takes exactly 1 arguments. 2 were passed in.",
        ),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(spec)
    assert (info.value.code, info.value.errmsg) == (code, message)


@given(st.integers(-(2**31), 2**31 - 1))
def test_int_string_round_trip(number: int) -> None:
    assert run({"$toInt": {"$toString": number}}) == number


@given(st.integers(-999_999, 999_999))
def test_six_digit_doubles_round_trip_through_strings(number: int) -> None:
    # Manual, "$toString": doubles print with printf's %g (six significant digits).
    assert run({"$toDouble": {"$toString": float(number)}}) == float(number)


def test_missing_is_not_a_value() -> None:
    assert run({"$toInt": "$nope"}) is None
    assert MISSING is not None
