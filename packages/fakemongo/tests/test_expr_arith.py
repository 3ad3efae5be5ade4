"""Arithmetic expression operators (manual, "Arithmetic Expression Operators")."""

from __future__ import annotations

import math
from typing import Any

import pytest
from bson import Decimal128, Int64
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._bsonorder import MISSING, type_alias
from fakemongo._errors import CommandError
from fakemongo._expr import compile_expression, evaluate

DOC: dict[str, Any] = {"n": None, "s": "x", "i": 7, "neg": -7, "l": Int64(5), "f": 2.5}
INT_MIN, LONG_MIN = -(2**31), -(2**63)


def run(spec: Any, doc: dict[str, Any] | None = None) -> Any:
    return evaluate(compile_expression(spec), DOC if doc is None else doc)


def typed(value: Any) -> tuple[str, Any]:
    return (type_alias(value), value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$abs": -5}, 5),
        ({"$abs": "$neg"}, 7),
        ({"$abs": Int64(-3)}, Int64(3)),
        ({"$abs": -2.5}, 2.5),
        ({"$abs": Decimal128("-1.5")}, Decimal128("1.5")),
        ({"$abs": INT_MIN}, Int64(2**31)),  # manual: the result widens to long
        ({"$abs": None}, None),
        ({"$abs": "$nope"}, None),
        ({"$ceil": 2.1}, 3.0),
        ({"$ceil": -2.1}, -2.0),
        ({"$ceil": 4}, 4),
        ({"$ceil": Decimal128("1.2")}, Decimal128("2")),
        ({"$ceil": Decimal128("Infinity")}, Decimal128("Infinity")),
        ({"$ceil": math.inf}, math.inf),
        ({"$floor": -2.1}, -3.0),
        ({"$floor": Int64(9)}, Int64(9)),
        ({"$floor": Decimal128("-1.2")}, Decimal128("-2")),
        ({"$sqrt": 25}, 5.0),
        ({"$sqrt": Decimal128("4")}, Decimal128("2")),
        ({"$sqrt": math.nan}, "nan"),
        ({"$exp": 0}, 1.0),
        ({"$exp": 1000}, math.inf),
        ({"$exp": Decimal128("0")}, Decimal128("1")),
        ({"$ln": 1}, 0.0),
        ({"$ln": Decimal128("1")}, Decimal128("0")),
        ({"$log10": 100}, 2.0),
        ({"$log10": Decimal128("1000")}, Decimal128("3")),
        ({"$log": [8, 2]}, 3.0),
        ({"$log": [Decimal128("100"), 10]}, Decimal128("2")),
        ({"$log": [None, 10]}, None),
        ({"$log": [math.nan, 10]}, "nan"),
        ({"$log": [10, math.nan]}, "nan"),
        ({"$mod": [7, 3]}, 1),
        ({"$mod": [-7, 3]}, -1),  # manual: the result has the sign of the dividend
        ({"$mod": [7, -3]}, 1),
        ({"$mod": [Int64(7), 3]}, Int64(1)),
        ({"$mod": [7.5, 2]}, 1.5),
        ({"$mod": [-7.5, 2]}, -1.5),
        ({"$mod": [Decimal128("7.5"), 2]}, Decimal128("1.5")),
        ({"$mod": [None, 2]}, None),
        ({"$pow": [2, 10]}, 1024),
        ({"$pow": [2, 31]}, Int64(2**31)),  # int overflow widens to long
        ({"$pow": [2, 63]}, float(2**63)),  # long overflow falls back to double
        ({"$pow": [3, 40]}, float(3**40)),
        ({"$pow": [2, 64]}, float(2**64)),
        ({"$pow": [Int64(2), 3]}, Int64(8)),
        ({"$pow": [2, -1]}, 0.5),
        ({"$pow": [1, -5]}, 1),
        ({"$pow": [-1, -3]}, -1),
        ({"$pow": [0, 0]}, 1),
        ({"$pow": [2.0, 3]}, 8.0),
        ({"$pow": [10.0, 400]}, math.inf),
        ({"$pow": [Decimal128("1.5"), 2]}, Decimal128("2.25")),
        ({"$pow": ["$nope", 2]}, None),
    ],
)
def test_values(spec: Any, expected: Any) -> None:
    result = run(spec)
    if expected == "nan":
        assert math.isnan(result)
    else:
        assert typed(result) == typed(expected)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$round": half to even; a negative place rounds to the left.
        ({"$round": [19.25, 1]}, 19.2),
        ({"$round": [28.73, 1]}, 28.7),
        ({"$round": [-45.39, 1]}, -45.4),
        ({"$round": [2.5]}, 2.0),
        ({"$round": 3.5}, 4.0),
        ({"$round": [1234.5678, -2]}, 1200.0),
        ({"$round": [1250, -2]}, 1200),
        ({"$round": [1350, -2]}, 1400),
        ({"$round": [Int64(1350), -2]}, Int64(1400)),
        ({"$round": [2147483647, -1]}, Int64(2147483650)),  # beyond int32: a long
        ({"$round": [7, 2]}, 7),
        ({"$round": [Decimal128("1.2345"), 2]}, Decimal128("1.23")),
        ({"$round": [Decimal128("Infinity"), 2]}, Decimal128("Infinity")),
        ({"$round": [math.inf, 1]}, math.inf),
        ({"$round": [None, 1]}, None),
        ({"$round": [1.5, None]}, None),
        ({"$round": [1.25, 1.0]}, 1.2),
        # Manual, "$trunc": toward zero.
        ({"$trunc": [19.25, 1]}, 19.2),
        ({"$trunc": -2.9}, -2.0),
        ({"$trunc": [1299, -2]}, 1200),
        ({"$trunc": [-1299, -2]}, -1200),
        ({"$trunc": [Decimal128("-1.99"), 1]}, Decimal128("-1.9")),
    ],
)
def test_round_and_trunc(spec: Any, expected: Any) -> None:
    assert typed(run(spec)) == typed(expected)


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ({"$abs": "x"}, 28765, "$abs only supports numeric types, not string"),
        ({"$abs": LONG_MIN}, 28680, "can't take $abs of long long min"),
        ({"$abs": [1, 2]}, 16020, "Expression $abs takes exactly 1 arguments. 2 were passed in."),
        ({"$sqrt": -1}, 28714, "$sqrt's argument must be greater than or equal to 0"),
        ({"$ln": 0}, 28766, "$ln's argument must be a positive number, but is 0"),
        ({"$ln": -1.5}, 28766, "$ln's argument must be a positive number, but is -1.5"),
        ({"$log10": -1}, 28761, "$log10's argument must be a positive number, but is -1"),
        ({"$log": ["x", 2]}, 28756, "$log's argument must be numeric, not string"),
        ({"$log": [2, "x"]}, 28757, "$log's base must be numeric, not string"),
        ({"$log": [0, 2]}, 28758, "$log's argument must be a positive number, but is 0"),
        (
            {"$log": [2, 1]},
            28759,
            "$log's base must be a positive number not equal to 1, but is 1",
        ),
        (
            {"$log": [Decimal128("2"), -1]},
            28759,
            "$log's base must be a positive number not equal to 1, but is -1",
        ),
        ({"$mod": ["a", 2]}, 16611, "$mod only supports numeric types, not string and int"),
        ({"$mod": [1, 0]}, 16610, "can't $mod by zero"),
        ({"$mod": [1.5, 0]}, 16610, "can't $mod by zero"),
        ({"$mod": [Decimal128("1"), 0]}, 16610, "can't $mod by zero"),
        ({"$pow": ["a", 2]}, 28762, "$pow's base must be numeric, not string"),
        ({"$pow": [2, "a"]}, 28763, "$pow's exponent must be numeric, not string"),
        ({"$pow": [0, -1]}, 28764, "$pow cannot take a base of 0 and a negative exponent"),
        ({"$round": "x"}, 51081, "$round only supports numeric types, not string"),
        (
            {"$round": [1, 2, 3]},
            28667,
            "Expression $round takes at least 1 arguments, and at most 2, but 3 were passed in.",
        ),
        ({"$round": [1, 1.5]}, 51082, "precision argument to  $round must be a integral value"),
        ({"$trunc": [1, "x"]}, 51082, "precision argument to  $trunc must be a integral value"),
        (
            {"$round": [1, 101]},
            51083,
            "cannot apply $round with precision value 101 value must be in [-20, 100]",
        ),
        ({"$round": [LONG_MIN, -1]}, 51080, "Invalid conversion to long during $round."),
        ({"$round": [2**63 - 1, -1]}, 51080, "Invalid conversion to long during $round."),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(spec)
    assert (info.value.code, info.value.errmsg) == (code, message)


def test_missing_operands_stay_null() -> None:
    assert run({"$sqrt": "$nope"}) is None
    assert run({"$mod": ["$i", "$nope"]}) is None
    assert run({"$floor": "$n"}) is None
    assert MISSING is not None


@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1))
def test_mod_matches_c_remainder(a: int, b: int) -> None:
    if b == 0:
        return
    result = run({"$mod": [a, b]})
    assert result == int(math.fmod(a, b)) or abs(a) > 2**52
    assert isinstance(result, int)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_trunc_is_toward_zero(x: float) -> None:
    assert run({"$trunc": x}) == float(math.trunc(x))
