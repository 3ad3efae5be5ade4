"""Aggregation expressions: the core used by $expr (manual, "Expression Operators")."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from bson import Decimal128, Int64
from bson.datetime_ms import DatetimeMS

from fakemongo._bsonorder import MISSING, type_alias
from fakemongo._errors import CommandError
from fakemongo._expr import OPERATORS, Scope, compile_expression, evaluate, to_bool

UTC = datetime.UTC
DOC: dict[str, Any] = {
    "a": 5,
    "b": {"c": [1, 2]},
    "arr": [{"x": 1}, {"y": 2}, {"x": 3}],
    "s": "str",
    "n": None,
    "d": datetime.datetime(2020, 1, 1, tzinfo=UTC),
    "e": datetime.datetime(2020, 1, 2, tzinfo=UTC),
    "l": Int64(7),
    "f": 1.5,
    "dec": Decimal128("2.5"),
    "zero": 0,
}


def run(spec: Any, doc: dict[str, Any] | None = None) -> Any:
    return evaluate(compile_expression(spec), DOC if doc is None else doc)


def fails(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(spec)
    assert info.value.code == code
    assert info.value.errmsg == message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (1, 1),
        ("plain", "plain"),
        (None, None),
        ("$a", 5),
        ("$b.c", [1, 2]),
        ("$arr.x", [1, 3]),  # manual, "Field Paths": arrays are mapped over
        ("$nope", MISSING),
        ("$$ROOT.a", 5),
        ("$$CURRENT.b.c", [1, 2]),
        ("$$REMOVE", MISSING),
        ({"$literal": "$a"}, "$a"),
        (["$a", "$nope", 1], [5, 1]),
        ({"k": "$a", "gone": "$nope", "o": {"p": 1}}, {"k": 5, "o": {"p": 1}}),
        ({}, {}),
    ],
)
def test_values(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


def test_root_is_the_whole_document() -> None:
    assert run("$$ROOT") is DOC


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$eq": ["$a", 5.0]}, True),
        ({"$eq": ["$a", "$l"]}, False),
        ({"$ne": ["$a", "5"]}, True),
        ({"$gt": ["$s", 100]}, True),  # strings sort after numbers
        ({"$gte": ["$a", 5]}, True),
        ({"$lt": ["$nope", None]}, True),  # missing sorts below null in aggregation
        ({"$eq": ["$nope", None]}, False),
        ({"$lte": [[1, 2], "$b.c"]}, True),  # arrays compare as wholes
        ({"$cmp": ["$a", 7]}, -1),
        ({"$cmp": ["$s", "str"]}, 0),
        ({"$and": [1, "$a", True]}, True),
        ({"$and": [1, "$zero"]}, False),
        ({"$and": []}, True),
        ({"$or": [0, None, "$nope"]}, False),
        ({"$or": [0, ""]}, True),  # empty string is true
        ({"$not": ["$zero"]}, True),
        ({"$not": "$a"}, False),
        ({"$cond": [{"$gt": ["$a", 1]}, "big", "small"]}, "big"),
        ({"$cond": {"if": "$zero", "then": 1, "else": 2}}, 2),
        ({"$ifNull": ["$nope", "$n", "fallback"]}, "fallback"),
        ({"$ifNull": ["$n", "$a"]}, 5),
        ({"$ifNull": ["$s", "x"]}, "str"),
        ({"$ifNull": ["$nope", "$nope"]}, MISSING),
        ({"$in": ["$a", [1, 5.0]]}, True),
        ({"$in": ["$s", ["STR"]]}, False),
    ],
)
def test_comparison_boolean_conditional(spec: Any, expected: Any) -> None:
    result = run(spec)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$add": [1, 2]}, 3),
        ({"$add": []}, 0),
        ({"$add": [2**31 - 1, 1]}, Int64(2**31)),  # int32 overflow widens to long
        ({"$add": [Int64(2**63 - 1), 1]}, float(2**63)),  # long overflow widens to double
        ({"$add": ["$a", "$l"]}, Int64(12)),
        ({"$add": ["$a", "$f"]}, 6.5),
        ({"$add": ["$a", "$dec"]}, Decimal128("7.5")),
        ({"$add": ["$f", "$dec"]}, Decimal128("4.0")),
        ({"$add": ["$a", None, "$s"]}, None),  # null short-circuits
        ({"$add": ["$nope", 1]}, None),
        ({"$add": ["$d", 1000]}, datetime.datetime(2020, 1, 1, 0, 0, 1, tzinfo=UTC)),
        ({"$add": [1.6, "$d"]}, datetime.datetime(2020, 1, 1, 0, 0, 0, 2000, tzinfo=UTC)),
        ({"$add": [DatetimeMS(10), Decimal128("5")]}, DatetimeMS(15)),
        ({"$multiply": [2, 3]}, 6),
        ({"$multiply": []}, 1),
        ({"$multiply": [2**20, 2**20]}, Int64(2**40)),
        ({"$multiply": ["$a", "$f"]}, 7.5),
        ({"$multiply": ["$dec", 2]}, Decimal128("5.0")),
        ({"$multiply": [2, "$nope"]}, None),
        ({"$subtract": [5, 7]}, -2),
        ({"$subtract": ["$l", 1]}, Int64(6)),
        ({"$subtract": ["$f", 1]}, 0.5),
        ({"$subtract": ["$dec", 1]}, Decimal128("1.5")),
        ({"$subtract": ["$e", "$d"]}, Int64(86_400_000)),
        ({"$subtract": ["$d", 1000]}, datetime.datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (
            {"$subtract": ["$d", Decimal128("1")]},
            datetime.datetime(2019, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        ),
        ({"$subtract": [None, 1]}, None),
        ({"$subtract": [1, "$nope"]}, None),
        ({"$divide": [7, 2]}, 3.5),
        ({"$divide": [6, 3]}, 2.0),  # always a double
        ({"$divide": ["$dec", 5]}, Decimal128("0.5")),
        ({"$divide": [None, 0]}, None),
        ({"$divide": [1, "$nope"]}, None),
    ],
)
def test_arithmetic(spec: Any, expected: Any) -> None:
    result = run(spec)
    assert result == expected
    assert type_alias(result) == type_alias(expected)


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ("$", 16872, "'$' by itself is not a valid FieldPath"),
        ("$$", 16869, "empty variable name"),
        ("$$foo", 17276, "Use of undefined variable: foo"),
        ("$a..b", 15998, "FieldPath field names may not be empty strings."),
        ({"$foo": 1}, 168, "Unrecognized expression '$foo'"),
        (
            {"$eq": [1, 1], "$ne": [1, 2]},
            15983,
            "an expression specification must contain exactly one field, the name of the "
            "expression. Found 2 fields in { $eq: [ 1, 1 ], $ne: [ 1, 2 ] }, while parsing "
            "object { $eq: [ 1, 1 ], $ne: [ 1, 2 ] }",
        ),
        ({"a.b": 1}, 16412, "FieldPath field names may not contain '.'."),
        (
            {"a": 1, "$b": 2},
            16410,
            "FieldPath field names may not start with '$'. Consider using $getField or $setField.",
        ),
        ({"$eq": [1]}, 16020, "Expression $eq takes exactly 2 arguments. 1 were passed in."),
        ({"$not": [1, 2]}, 16020, "Expression $not takes exactly 1 arguments. 2 were passed in."),
        ({"$cond": [1, 2]}, 16020, "Expression $cond takes exactly 3 arguments. 2 were passed in."),
        ({"$cond": {"if": 1, "then": 2}}, 17082, "Missing 'else' parameter to $cond"),
        ({"$cond": {"then": 2, "else": 1}}, 17080, "Missing 'if' parameter to $cond"),
        ({"$cond": {"if": 1, "else": 2}}, 17081, "Missing 'then' parameter to $cond"),
        (
            {"$cond": {"if": 1, "then": 2, "else": 3, "x": 4}},
            17083,
            "Unrecognized parameter to $cond: x",
        ),
        ({"$ifNull": ["$a"]}, 1257300, "$ifNull needs at least two arguments, had: 1"),
        ({"$in": ["$a", "$a"]}, 40081, "$in requires an array as a second argument, found: int"),
        (
            {"$in": ["$a", "$nope"]},
            40081,
            "$in requires an array as a second argument, found: missing",
        ),
        ({"$add": ["$d", "$e"]}, 16612, "only one date allowed in an $add expression"),
        ({"$add": [1, "$s"]}, 14, "$add only supports numeric or date types, not string"),
        ({"$add": ["$d", float("nan")]}, 15, "date overflow in $add"),
        ({"$add": ["$d", 1e300]}, 15, "date overflow in $add"),
        ({"$multiply": [1, True]}, 14, "$multiply only supports numeric types, not bool"),
        ({"$subtract": ["$s", 1]}, 14, "can't $subtract int from string"),
        ({"$subtract": [1, "$d"]}, 14, "can't $subtract date from int"),
        ({"$divide": [1, "$s"]}, 14, "$divide only supports numeric types, not int and string"),
        ({"$divide": [1, 0]}, 2, "can't $divide by zero"),
        ({"$divide": ["$dec", 0.0]}, 2, "can't $divide by zero"),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    fails(spec, code, message)


def test_scope_variables_and_collation() -> None:
    scope = Scope().with_variables(frozenset({"x"}))
    evaluator = scope.compile("$$x.y")
    assert evaluator({"ROOT": {}, "CURRENT": {}, "x": {"y": 3}}) == 3
    folded = compile_expression({"$eq": ["$s", "STR"]}, str.casefold)
    assert evaluate(folded, DOC) is True
    assert evaluate(compile_expression({"$in": ["STR", ["$s"]]}, str.casefold), DOC) is True
    assert "$add" in OPERATORS


@pytest.mark.parametrize(
    ("value", "truth"),
    [
        (None, False),
        (MISSING, False),
        (False, False),
        (0, False),
        (0.0, False),
        (Decimal128("0"), False),
        (Decimal128("-0.0"), False),
        (Decimal128("1"), True),
        (float("nan"), True),
        ("", True),
        ([], True),
        ({}, True),
        (True, True),
    ],
)
def test_to_bool(value: Any, truth: bool) -> None:
    assert to_bool(value) is truth
