"""Array and set expression operators (manual, "Array Expression Operators",
"Set Expression Operators")."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Decimal128, Int64
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._bsonorder import MISSING
from fakemongo._collation import Collation
from fakemongo._errors import CommandError
from fakemongo._expr import compile_expression, evaluate

DOC: dict[str, Any] = {
    "a": [1, 2, 3],
    "e": [],
    "n": None,
    "docs": [{"x": 2, "y": "b"}, {"x": 1, "y": "a"}, {"x": 3}],
    "o": {"a": 1, "b": [2]},
}


def run(spec: Any, doc: dict[str, Any] | None = None) -> Any:
    return evaluate(compile_expression(spec), DOC if doc is None else doc)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$arrayElemAt": ["$a", 0]}, 1),
        ({"$arrayElemAt": ["$a", -1]}, 3),
        ({"$arrayElemAt": ["$a", 15]}, MISSING),  # manual: out of bounds is missing
        ({"$arrayElemAt": ["$a", Int64(1)]}, 2),
        ({"$arrayElemAt": ["$a", 1.0]}, 2),
        ({"$arrayElemAt": ["$nope", 1]}, None),
        ({"$arrayElemAt": ["$a", None]}, None),
        ({"$first": "$a"}, 1),
        ({"$last": ["$a"]}, 3),
        ({"$first": "$e"}, MISSING),
        ({"$last": None}, None),
        ({"$size": "$a"}, 3),
        ({"$isArray": "$a"}, True),
        ({"$isArray": ["$o"]}, False),
        ({"$slice": ["$a", 2]}, [1, 2]),
        ({"$slice": ["$a", -2]}, [2, 3]),
        ({"$slice": ["$a", -5]}, [1, 2, 3]),
        ({"$slice": ["$a", 1, 1]}, [2]),
        ({"$slice": ["$a", -2, 5]}, [2, 3]),
        ({"$slice": ["$a", -9, 1]}, [1]),
        ({"$slice": ["$a", 7, 1]}, []),
        ({"$slice": ["$nope", 1]}, None),
        ({"$slice": ["$a", 1, None]}, None),
        ({"$concatArrays": ["$a", [4], "$e"]}, [1, 2, 3, 4]),
        ({"$concatArrays": ["$a", "$nope"]}, None),
        ({"$reverseArray": "$a"}, [3, 2, 1]),
        ({"$reverseArray": "$n"}, None),
        ({"$indexOfArray": ["$a", 2]}, 1),
        ({"$indexOfArray": ["$a", 2.0]}, 1),
        ({"$indexOfArray": ["$a", 9]}, -1),
        ({"$indexOfArray": [[1, 2, 1, 2], 2, 2]}, 3),
        ({"$indexOfArray": [[1, 2, 1, 2], 2, 0, 1]}, -1),
        ({"$indexOfArray": [[1, 2], 2, 0, 100]}, 1),
        ({"$indexOfArray": [None, 2]}, None),
        ({"$range": [0, 5]}, [0, 1, 2, 3, 4]),
        ({"$range": [0, 10, 3]}, [0, 3, 6, 9]),
        ({"$range": [5, 0, -2]}, [5, 3, 1]),
        ({"$range": [0, -1]}, []),
        ({"$range": [0, 2.0, Int64(1)]}, [0, 1]),
        ({"$filter": {"input": "$a", "cond": {"$gte": ["$$this", 2]}}}, [2, 3]),
        ({"$filter": {"input": "$a", "as": "v", "cond": {"$lt": ["$$v", 3]}, "limit": 1}}, [1]),
        ({"$filter": {"input": "$a", "cond": True, "limit": None}}, [1, 2, 3]),
        ({"$filter": {"input": "$nope", "cond": True}}, None),
        ({"$map": {"input": "$a", "in": {"$multiply": ["$$this", 2]}}}, [2, 4, 6]),
        ({"$map": {"input": "$docs", "as": "d", "in": "$$d.y"}}, ["b", "a", None]),  # missing: null
        ({"$map": {"input": None, "in": 1}}, None),
        (
            {"$reduce": {"input": "$a", "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}},
            6,
        ),
        (
            {
                "$reduce": {
                    "input": [[1], [2, 3]],
                    "initialValue": [],
                    "in": {"$concatArrays": ["$$value", "$$this"]},
                }
            },
            [1, 2, 3],
        ),
        ({"$reduce": {"input": "$nope", "initialValue": 0, "in": 1}}, None),
        # Manual, "$zip": shortest by default; defaults only with useLongestLength.
        ({"$zip": {"inputs": [[1, 2], ["a"]]}}, [[1, "a"]]),
        ({"$zip": {"inputs": [[1, 2], ["a"]], "useLongestLength": True}}, [[1, "a"], [2, None]]),
        (
            {"$zip": {"inputs": [[1, 2], ["a"]], "useLongestLength": True, "defaults": [0, "z"]}},
            [[1, "a"], [2, "z"]],
        ),
        ({"$zip": {"inputs": [[1], "$nope"]}}, None),
        ({"$objectToArray": "$o"}, [{"k": "a", "v": 1}, {"k": "b", "v": [2]}]),
        ({"$objectToArray": None}, None),
        ({"$arrayToObject": [[["a", 1], ["b", 2], ["a", 3]]]}, {"a": 3, "b": 2}),
        ({"$arrayToObject": {"$literal": [{"k": "x", "v": 1}]}}, {"x": 1}),
        ({"$arrayToObject": "$e"}, {}),
        ({"$arrayToObject": "$n"}, None),
    ],
)
def test_values(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$setUnion": [[1, 2, 1], [2.0, 3]]}, [1, 2, 3]),
        ({"$setUnion": []}, []),
        ({"$setUnion": [[1], None]}, None),
        ({"$setIntersection": [[1, 2, 3], [3, 1, 4], [1, 3]]}, [1, 3]),
        ({"$setIntersection": []}, []),
        ({"$setDifference": [[1, 2, 3, 3], [2]]}, [1, 3]),
        ({"$setDifference": [[1], "$nope"]}, None),
        ({"$setEquals": [[1, 2], [2, 1, 1]]}, True),
        ({"$setEquals": [[1, 2], [2], [1, 2]]}, False),
        ({"$setIsSubset": [[1, [2]], [[2], 1, 3]]}, True),  # nested arrays are elements
        ({"$setIsSubset": [[1, 2], [1]]}, False),
        ({"$allElementsTrue": [[1, True, "x"]]}, True),
        ({"$allElementsTrue": [[1, 0]]}, False),
        ({"$allElementsTrue": [[]]}, True),
        ({"$anyElementTrue": [[0, None, False]]}, False),
        ({"$anyElementTrue": [[0, [0]]]}, True),
        ({"$sortArray": {"input": [3, "a", 1, None], "sortBy": 1}}, [None, 1, 3, "a"]),
        ({"$sortArray": {"input": [3, 1, 2], "sortBy": -1}}, [3, 2, 1]),
        (
            {"$sortArray": {"input": "$docs", "sortBy": {"x": -1}}},
            [{"x": 3}, {"x": 2, "y": "b"}, {"x": 1, "y": "a"}],
        ),
        ({"$sortArray": {"input": None, "sortBy": 1}}, None),
    ],
)
def test_sets_and_sorting(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


def test_set_operators_use_the_collation() -> None:
    evaluator = compile_expression({"$setUnion": [["a", "A", "b"]]}, Collation("en", 2).key)
    assert evaluate(evaluator, {}) == ["a", "b"]
    evaluator = compile_expression({"$indexOfArray": [["x", "A"], "a"]}, Collation("en", 1).key)
    assert evaluate(evaluator, {}) == 1


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        (
            {"$arrayElemAt": [1, 0]},
            28689,
            "$arrayElemAt's first argument must be an array, but is int",
        ),
        ({"$first": "x"}, 28689, "$first's argument must be an array, but is string"),
        (
            {"$arrayElemAt": ["$a", "x"]},
            28690,
            "$arrayElemAt's second argument must be a numeric value, but is string",
        ),
        (
            {"$arrayElemAt": ["$a", 1.5]},
            28691,
            "$arrayElemAt's second argument must be representable as a 32-bit integer: 1.5",
        ),
        ({"$size": None}, 17124, "The argument to $size must be an array. Type of argument: null"),
        (
            {"$slice": [1, 1]},
            28724,
            "First argument to $slice must be an array, but is of type: int",
        ),
        (
            {"$slice": ["$a", "x"]},
            28725,
            "Second argument to $slice must be a numeric value, but is of type: string",
        ),
        (
            {"$slice": ["$a", 2**40]},
            28726,
            "Second argument to $slice can't be represented as a 32-bit integer: 1099511627776",
        ),
        (
            {"$slice": ["$a", 0, "x"]},
            28727,
            "Third argument to $slice must be numeric, but is of type: string",
        ),
        (
            {"$slice": ["$a", 0, 1.5]},
            28728,
            "Third argument to $slice can't be represented as a 32-bit integer: 1.5",
        ),
        ({"$slice": ["$a", 0, 0]}, 28729, "Third argument to $slice must be positive: 0"),
        (
            {"$slice": ["$a"]},
            28667,
            "Expression $slice takes at least 2 arguments, and at most 3, but 1 were passed in.",
        ),
        ({"$concatArrays": [1]}, 28664, "$concatArrays only supports arrays, not int"),
        (
            {"$reverseArray": 1},
            34435,
            "The argument to $reverseArray must be an array, but was of type: int",
        ),
        (
            {"$indexOfArray": [1, 1]},
            40090,
            "$indexOfArray requires an array as a first argument, found: int",
        ),
        (
            {"$indexOfArray": ["$a", 1, -1]},
            40097,
            "$indexOfArray requires a nonnegative starting index, found: -1",
        ),
        (
            {"$indexOfArray": ["$a", 1, 0, 1.5]},
            40096,
            "$indexOfArrayrequires an integral ending index, found a value of type: double, "
            "with value: 1.5",
        ),
        (
            {"$range": ["a", 1]},
            34443,
            "$range requires a numeric starting value, found value of type: string",
        ),
        (
            {"$range": [0.5, 1]},
            34444,
            "$range requires a starting value that can be represented as a 32-bit integer, "
            "found value: 0.5",
        ),
        (
            {"$range": [0, None]},
            34445,
            "$range requires a numeric ending value, found value of type: null",
        ),
        (
            {"$range": [0, 2**40]},
            34446,
            "$range requires an ending value that can be represented as a 32-bit integer, "
            "found value: 1099511627776",
        ),
        (
            {"$range": [0, 1, "x"]},
            34447,
            "$range requires a numeric step value, found value of type: string",
        ),
        (
            {"$range": [0, 1, 0.5]},
            34448,
            "$range requires a step value that can be represented as a 32-bit integer, "
            "found value: 0.5",
        ),
        ({"$range": [0, 1, 0]}, 34449, "$range requires a non-zero step value"),
        ({"$filter": 1}, 28646, "$filter only supports an object as its argument"),
        (
            {"$filter": {"input": [], "cond": 1, "x": 1}},
            28647,
            "Unrecognized parameter to $filter: x",
        ),
        ({"$filter": {"cond": 1}}, 28648, "Missing 'input' parameter to $filter"),
        ({"$filter": {"input": []}}, 28650, "Missing 'cond' parameter to $filter"),
        ({"$filter": {"input": 1, "cond": 1}}, 28651, "input to $filter must be an array not int"),
        (
            {"$filter": {"input": [], "cond": 1, "limit": 1.5}},
            327391,
            "$filter: limit must be represented as a 32-bit integral value: 1.5",
        ),
        (
            {"$filter": {"input": [], "cond": 1, "limit": 0}},
            327392,
            "$filter: limit must be greater than 0: 0",
        ),
        (
            {"$filter": {"input": [], "as": "X", "cond": 1}},
            16867,
            "'X' starts with an invalid character for a user variable name",
        ),
        (
            {"$filter": {"input": [], "as": 1, "cond": 1}},
            16866,
            "empty variable names are not allowed",
        ),
        ({"$map": []}, 16878, "$map only supports an object as its argument"),
        ({"$map": {"input": [], "in": 1, "y": 2}}, 16879, "Unrecognized parameter to $map: y"),
        ({"$map": {"in": 1}}, 16880, "Missing 'input' parameter to $map"),
        ({"$map": {"input": []}}, 16882, "Missing 'in' parameter to $map"),
        ({"$map": {"input": "x", "in": 1}}, 16883, "input to $map must be an array not string"),
        ({"$map": {"input": [], "in": "$$that"}}, 17276, "Use of undefined variable: that"),
        ({"$reduce": 1}, 40076, "$reduce requires an object as an argument, found: int"),
        (
            {"$reduce": {"input": [], "initialValue": 0, "in": 1, "x": 1}},
            40075,
            "Unrecognized parameter to $reduce: x",
        ),
        (
            {"$reduce": {"initialValue": 0, "in": 1}},
            40077,
            "$reduce requires 'input' to be specified",
        ),
        (
            {"$reduce": {"input": [], "in": 1}},
            40078,
            "$reduce requires 'initialValue' to be specified",
        ),
        (
            {"$reduce": {"input": [], "initialValue": 0}},
            40079,
            "$reduce requires 'in' to be specified",
        ),
        (
            {"$reduce": {"input": 5, "initialValue": 0, "in": 1}},
            40080,
            "$reduce requires that 'input' be an array, found: 5",
        ),
        ({"$zip": 1}, 34460, "$zip only supports an object as an argument, found int"),
        ({"$zip": {"inputs": 1}}, 34461, "inputs must be an array of expressions, found int"),
        (
            {"$zip": {"inputs": [[1]], "defaults": 1}},
            34462,
            "defaults must be an array of expressions, found int",
        ),
        (
            {"$zip": {"inputs": [[1]], "useLongestLength": 1}},
            34463,
            "useLongestLength must be a bool, found int",
        ),
        ({"$zip": {"inputs": [[1]], "x": 1}}, 34464, "$zip found an unknown argument: x"),
        ({"$zip": {"inputs": []}}, 34465, "$zip requires at least one input array"),
        (
            {"$zip": {"inputs": [[1]], "defaults": [1]}},
            34466,
            "cannot specify defaults unless useLongestLength is true",
        ),
        (
            {"$zip": {"inputs": [[1]], "defaults": [1, 2], "useLongestLength": True}},
            34467,
            "defaults and inputs must have the same length",
        ),
        ({"$zip": {"inputs": [[1], 5]}}, 34468, "$zip found a non-array expression in input: 5"),
        ({"$objectToArray": 1}, 40390, "$objectToArray requires a document input, found: int"),
        ({"$arrayToObject": 1}, 40386, "$arrayToObject requires an array input, found: int"),
        (
            {"$arrayToObject": [[["a", 1, 2]]]},
            40397,
            "$arrayToObject requires an array of size 2 arrays,found array of size: 3",
        ),
        (
            {"$arrayToObject": [[[1, 1]]]},
            40395,
            "$arrayToObject requires an array of key-value pairs, where the key must be of type "
            "string. Found key type: int",
        ),
        (
            {"$arrayToObject": {"$literal": [{"k": "a"}]}},
            40392,
            "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of "
            "keys:1",
        ),
        (
            {"$arrayToObject": {"$literal": [{"k": "a", "x": 1}]}},
            40393,
            "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both "
            'keys from: {k: "a", x: 1}',
        ),
        (
            {"$arrayToObject": {"$literal": [{"k": 1, "v": 1}]}},
            40394,
            "$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' "
            "must be of type string. Found type: int",
        ),
        (
            {"$arrayToObject": [[1]]},
            40398,
            "Unrecognised input type format for $arrayToObject: int",
        ),
        (
            {"$arrayToObject": {"$literal": [["a", 1], {"k": "b", "v": 2}]}},
            40396,
            "$arrayToObject requires a consistent input format. Elements must all be arrays or "
            "all be objects. Found object",
        ),
        (
            {"$arrayToObject": [[["a\0", 1]]]},
            4940400,
            "Key field cannot contain an embedded null byte",
        ),
        (
            {"$setUnion": [[1], 2]},
            17043,
            "All operands of $setUnion must be arrays. One argument is of type: int",
        ),
        (
            {"$setIntersection": ["x"]},
            17047,
            "All operands of $setIntersection must be arrays. One argument is of type: string",
        ),
        (
            {"$setDifference": [1, []]},
            17048,
            "both operands of $setDifference must be arrays. First argument is of type: int",
        ),
        (
            {"$setDifference": [[], 1]},
            17049,
            "both operands of $setDifference must be arrays. Second argument is of type: int",
        ),
        (
            {"$setIsSubset": [None, []]},
            17046,
            "both operands of $setIsSubset must be arrays. First argument is of type: null",
        ),
        (
            {"$setIsSubset": [[], None]},
            17042,
            "both operands of $setIsSubset must be arrays. Second argument is of type: null",
        ),
        (
            {"$setEquals": [[], "$nope"]},
            17044,
            "All operands of $setEquals must be arrays. One argument is of type: missing",
        ),
        ({"$setEquals": [[1]]}, 17045, "$setEquals needs at least two arguments had: 1"),
        (
            {"$allElementsTrue": [1]},
            17040,
            "$allElementsTrue's argument must be an array, but is int",
        ),
        (
            {"$anyElementTrue": [None]},
            17041,
            "$anyElementTrue's argument must be an array, but is null",
        ),
        ({"$sortArray": 1}, 2942500, "$sortArray requires an object as input, found: int"),
        (
            {"$sortArray": {"input": [], "sortBy": 1, "x": 1}},
            2942501,
            "$sortArray found an unknown argument: x",
        ),
        ({"$sortArray": {"sortBy": 1}}, 2942502, "$sortArray requires 'input' to be specified"),
        ({"$sortArray": {"input": []}}, 2942503, "$sortArray requires 'sortBy' to be specified"),
        (
            {"$sortArray": {"input": 1, "sortBy": 1}},
            2942504,
            "The input argument to $sortArray must be an array, but was of type: int",
        ),
        (
            {"$sortArray": {"input": [], "sortBy": 2}},
            2942505,
            "$sortArray sortBy must be either 1, -1, or an object, found: int",
        ),
        (
            {"$sortArray": {"input": [], "sortBy": {"a": 2}}},
            15975,
            "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
        ),
        # Not emulated, so an unknown operator (the server has it since 5.2).
        ({"$maxN": {"n": 1, "input": []}}, 168, "Unrecognized expression '$maxN'"),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(spec)
    assert (info.value.code, info.value.errmsg) == (code, message)


def test_decimal_index() -> None:
    assert run({"$arrayElemAt": ["$a", Decimal128("2")]}) == 3
    with pytest.raises(CommandError) as info:
        run({"$arrayElemAt": ["$a", Decimal128("1.5")]})
    assert info.value.code == 28691


@given(st.lists(st.integers(-50, 50), max_size=12), st.integers(-15, 15))
def test_slice_matches_python(values: list[int], n: int) -> None:
    expected = values[:n] if n >= 0 else values[max(0, len(values) + n) :]
    assert run({"$slice": [{"$literal": values}, n]}) == expected


@given(st.lists(st.integers(-5, 5), max_size=10), st.lists(st.integers(-5, 5), max_size=10))
def test_set_union_is_a_set_union(left: list[int], right: list[int]) -> None:
    result = run({"$setUnion": [{"$literal": left}, {"$literal": right}]})
    assert sorted(result) == sorted(set(left) | set(right))
    assert len(result) == len(set(result))
