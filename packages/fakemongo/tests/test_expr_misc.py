"""Variables, conditionals, object operators and the accumulator expression forms
(manual, "$let", "$switch", "$getField", "$setField", "$unsetField", "$rand",
"$sum"/"$avg"/"$min"/"$max"/"$stdDevPop"/"$stdDevSamp"/"$mergeObjects" in $project)."""

from __future__ import annotations

import datetime
import math
import statistics
from typing import Any

import pytest
from bson import Decimal128, Int64, ObjectId, Regex
from bson.datetime_ms import DatetimeMS
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._bsonorder import MISSING
from fakemongo._errors import CommandError
from fakemongo._expr import bound_variables, compile_expression, evaluate
from fakemongo._expr_util import value_text

DOC: dict[str, Any] = {"a": 5, "b": 2, "o": {"x": 1, "$dollar": 2, "a.b": 3}, "n": None, "s": "t"}


def run(spec: Any, doc: dict[str, Any] | None = None) -> Any:
    return evaluate(compile_expression(spec), DOC if doc is None else doc)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$let": {"vars": {"x": 2, "y": "$a"}, "in": {"$multiply": ["$$x", "$$y"]}}}, 10),
        ({"$let": {"in": "$$z", "vars": {"z": "$b"}}}, 2),
        ({"$let": {"vars": {"x": 1}, "in": {"$let": {"vars": {"x": 2}, "in": "$$x"}}}}, 2),
        # Manual, "$let": CURRENT may be rebound, which moves "$field" paths.
        ({"$let": {"vars": {"CURRENT": "$o"}, "in": "$x"}}, 1),
        ({"$let": {"vars": {"é": 1}, "in": "$$é"}}, 1),
        ({"$let": {"vars": {"m": "$nope"}, "in": "$$m"}}, MISSING),
        (
            {
                "$switch": {
                    "branches": [
                        {"case": {"$gt": ["$a", 9]}, "then": "big"},
                        {"case": {"$gt": ["$a", 1]}, "then": "mid"},
                    ]
                }
            },
            "mid",
        ),
        ({"$switch": {"branches": [{"case": False, "then": 1}], "default": "d"}}, "d"),
        # Manual, "$getField": names with "$" or "." are reachable.
        ({"$getField": {"field": {"$literal": "$dollar"}, "input": "$o"}}, 2),
        ({"$getField": {"field": "a.b", "input": "$o"}}, 3),
        ({"$getField": "a"}, 5),
        ({"$getField": {"field": "x", "input": None}}, None),
        ({"$getField": {"field": "x", "input": "$nope"}}, None),
        ({"$getField": {"field": "zz", "input": "$o"}}, MISSING),
        (
            {"$setField": {"field": "y", "input": "$o", "value": 9}},
            {"x": 1, "$dollar": 2, "a.b": 3, "y": 9},
        ),
        (
            {"$setField": {"field": "x", "input": "$o", "value": "$$REMOVE"}},
            {"$dollar": 2, "a.b": 3},
        ),
        ({"$setField": {"field": "x", "input": None, "value": 1}}, None),
        ({"$unsetField": {"field": "a.b", "input": "$o"}}, {"x": 1, "$dollar": 2}),
        ({"$unsetField": {"field": "q", "input": {}}}, {}),
    ],
)
def test_values(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$sum" in $project: one array operand sums its elements;
        # several operands sum the operands; non-numbers are ignored.
        ({"$sum": [[1, 2, "x", 3.5]]}, 6.5),
        ({"$sum": ["$a", "$b", "$s"]}, 7),
        ({"$sum": "$a"}, 5),
        ({"$sum": []}, 0),
        ({"$sum": [2147483647, 1]}, Int64(2147483648)),
        ({"$sum": [Int64(2**62), Int64(2**62)]}, float(2**63)),
        ({"$sum": [1, Decimal128("0.5")]}, Decimal128("1.5")),
        ({"$sum": [math.inf, -math.inf]}, "nan"),
        ({"$sum": [math.inf, 1]}, math.inf),
        ({"$avg": [[1, 2, 3, 4]]}, 2.5),
        ({"$avg": ["$s"]}, None),
        ({"$avg": [1, Decimal128("2")]}, Decimal128("1.5")),
        ({"$min": [[3, None, 1]]}, 1),
        ({"$max": [3, "x", None]}, "x"),  # strings sort after numbers
        ({"$max": []}, None),
        ({"$max": [[]]}, None),
        ({"$stdDevPop": [[1, 2, 3, 4]]}, statistics.pstdev([1, 2, 3, 4])),
        ({"$stdDevSamp": [[1, 2, 3, 4]]}, statistics.stdev([1, 2, 3, 4])),
        ({"$stdDevSamp": [[1]]}, None),
        ({"$stdDevPop": [["x"]]}, None),
        ({"$stdDevPop": [Decimal128("1"), 3]}, 1.0),
        ({"$mergeObjects": [{"a": 1}, None, {"a": 2, "b": 3}, "$nope"]}, {"a": 2, "b": 3}),
        ({"$mergeObjects": "$o"}, {"x": 1, "$dollar": 2, "a.b": 3}),
    ],
)
def test_accumulator_expressions(spec: Any, expected: Any) -> None:
    result = run(spec)
    if expected == "nan":
        assert math.isnan(result)
    else:
        assert (type(result), result) == (type(expected), expected)


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ({"$let": 1}, 16874, "$let only supports an object as its argument"),
        ({"$let": {"vars": {}, "in": 1, "x": 1}}, 16875, "Unrecognized parameter to $let: x"),
        ({"$let": {"in": 1}}, 16876, "Missing 'vars' parameter to $let"),
        ({"$let": {"vars": {}}}, 16877, "Missing 'in' parameter to $let"),
        ({"$let": {"vars": 1, "in": 1}}, 10065, "invalid parameter: expected an object (vars)"),
        ({"$let": {"vars": {"": 1}, "in": 1}}, 16866, "empty variable names are not allowed"),
        (
            {"$let": {"vars": {"ROOT": 1}, "in": 1}},
            16867,
            "'ROOT' starts with an invalid character for a user variable name",
        ),
        (
            {"$let": {"vars": {"a-b": 1}, "in": 1}},
            16868,
            "'a-b' contains an invalid character for a variable name: '-'",
        ),
        ({"$let": {"vars": {"x": "$$x"}, "in": 1}}, 17276, "Use of undefined variable: x"),
        ({"$switch": 1}, 40060, "$switch requires an object as an argument, found: int"),
        (
            {"$switch": {"branches": 1}},
            40061,
            "$switch expected an array for 'branches', found: int",
        ),
        (
            {"$switch": {"branches": [1]}},
            40062,
            "$switch expected each branch to be an object, found: int",
        ),
        (
            {"$switch": {"branches": [{"case": 1, "x": 1}]}},
            40063,
            "$switch found an unknown argument to a branch: x",
        ),
        (
            {"$switch": {"branches": [{"then": 1}]}},
            40064,
            "$switch requires each branch have a 'case' expression",
        ),
        (
            {"$switch": {"branches": [{"case": 1}]}},
            40065,
            "$switch requires each branch have a 'then' expression.",
        ),
        ({"$switch": {"default": 1, "x": 2}}, 40067, "$switch found an unknown argument: x"),
        ({"$switch": {"default": 1}}, 40068, "$switch requires at least one branch."),
        (
            {"$switch": {"branches": [{"case": False, "then": 1}]}},
            40066,
            "$switch could not find a matching branch for an input, and no default was specified.",
        ),
        ({"$getField": {"field": "a"}}, 3041703, "$getField requires 'input' to be specified"),
        ({"$getField": {"input": {}}}, 3041702, "$getField requires 'field' to be specified"),
        (
            {"$getField": {"field": "a", "input": {}, "x": 1}},
            3041701,
            "$getField found an unknown argument: x",
        ),
        (
            {"$getField": {"field": "$a", "input": {}}},
            5654602,
            "A string that represents a field path can't be used with $getField: $a",
        ),
        (
            {"$getField": {"field": {"$concat": ["a"]}, "input": {}}},
            5654600,
            "$getField requires 'field' to evaluate to a constant, but got a non-constant argument",
        ),
        (
            {"$getField": {"field": ["a"], "input": {}}},
            5654600,
            "$getField requires 'field' to evaluate to a constant, but got a non-constant argument",
        ),
        (
            {"$getField": {"field": 1, "input": {}}},
            5654601,
            "$getField requires 'field' to evaluate to type String, but got int",
        ),
        (
            {"$getField": {"field": "a", "input": "$a"}},
            3041704,
            "$getField requires 'input' to evaluate to type Object, but got int",
        ),
        ({"$setField": 1}, 4161100, "$setField only supports an object as its argument"),
        (
            {"$setField": {"field": "a", "input": {}, "value": 1, "x": 1}},
            4161101,
            "$setField found an unknown argument: x",
        ),
        (
            {"$setField": {"input": {}, "value": 1}},
            4161102,
            "$setField requires 'field' to be specified",
        ),
        (
            {"$setField": {"field": "a", "input": {}}},
            4161103,
            "$setField requires 'value' to be specified",
        ),
        (
            {"$setField": {"field": "a", "value": 1}},
            4161104,
            "$setField requires 'input' to be specified",
        ),
        (
            {"$setField": {"field": "a", "input": 1, "value": 1}},
            4161105,
            "$setField requires 'input' to evaluate to type Object, but got int",
        ),
        (
            {"$unsetField": {"field": "a", "input": {}, "value": 1}},
            4161101,
            "$unsetField found an unknown argument: value",
        ),
        (
            {"$unsetField": {"field": 2, "input": {}}},
            4161107,
            "$unsetField requires 'field' to evaluate to type String, but got int",
        ),
        ({"$rand": 1}, 10065, "$rand does not currently accept arguments: 1"),
        # Operators fakemongo lacks are unknown operators, never silently wrong.
        ({"$meta": "textScore"}, 168, "Unrecognized expression '$meta'"),
        ({"$function": {}}, 168, "Unrecognized expression '$function'"),
        (
            {"$mergeObjects": [1]},
            40400,
            "$mergeObjects requires object inputs, but input 1 is of type int",
        ),
        ({"$sum": "$$nope"}, 17276, "Use of undefined variable: nope"),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(spec)
    assert (info.value.code, info.value.errmsg) == (code, message)


def test_rand_is_a_fraction() -> None:
    values = {run({"$rand": {}}) for _ in range(20)}
    assert all(isinstance(v, float) and 0 <= v < 1 for v in values)
    assert len(values) > 1


def test_now_is_the_current_time_without_a_pipeline() -> None:
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    now = run("$$NOW")
    assert before <= now <= datetime.datetime.now(datetime.UTC)
    assert now.microsecond % 1000 == 0
    assert run({"$year": "$$NOW"}) == now.year


def test_cluster_time_needs_a_replica_set() -> None:
    # Manual, "Variables in Aggregation Expressions": $$CLUSTER_TIME is only
    # available on replica sets and sharded clusters (51144 otherwise).
    with pytest.raises(CommandError) as info:
        run("$$CLUSTER_TIME")
    assert info.value.code == 51144


def test_bound_variables_define_and_bind() -> None:
    with bound_variables({"x": 3, "NOW": "fixed"}):
        evaluator = compile_expression({"$add": ["$a", "$$x"]})
        assert evaluate(evaluator, DOC) == 8
        assert run("$$NOW.length") is MISSING
        assert run("$$NOW") == "fixed"
    with pytest.raises(CommandError):
        compile_expression("$$x")
    with pytest.raises(KeyError):
        evaluate(evaluator, DOC)  # compiled with x bound, evaluated without


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (MISSING, "MISSING"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (1.5, "1.5"),
        (1e300, "1e+300"),
        (math.nan, "nan"),
        (Int64(3), "3"),
        (Decimal128("1.0"), "1.0"),
        ("s", '"s"'),
        (ObjectId("5ab9cbfa31c2ab715d42129e"), "5ab9cbfa31c2ab715d42129e"),
        (datetime.datetime(2020, 1, 2, tzinfo=datetime.UTC), "2020-01-02T00:00:00.000Z"),
        (DatetimeMS(2**62), str(2**62)),
        ([1, [2]], "[1, [2]]"),
        ({"a": {"b": 1}}, "{a: {b: 1}}"),
        (Regex("a", "i"), repr(Regex("a", "i"))),
    ],
)
def test_value_text(value: Any, text: str) -> None:
    assert value_text(value) == text


@given(st.lists(st.integers(-(2**40), 2**40), max_size=20))
def test_sum_matches_python(values: list[int]) -> None:
    assert run({"$sum": [{"$literal": values}]}) == sum(values)


@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=20)
)
def test_avg_matches_exact_mean(values: list[float]) -> None:
    assert run({"$avg": [{"$literal": values}]}) == math.fsum(values) / len(values)
