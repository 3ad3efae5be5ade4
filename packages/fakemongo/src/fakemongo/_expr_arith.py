"""Arithmetic expression operators beyond the core: ``$abs`` ``$ceil`` ``$floor``
``$round`` ``$trunc`` ``$mod`` ``$pow`` ``$sqrt`` ``$exp`` ``$ln`` ``$log`` ``$log10``.

Manual, "Arithmetic Expression Operators": null or missing operands give null;
integers stay integers where the result fits (int, then long), doubles stay
doubles, decimals stay decimals. ``$round`` rounds half to even and ``$trunc``
toward zero, at a place in [-20, 100]; doubles are rounded through their exact
decimal value. ``$sqrt`` ``$exp`` ``$ln`` ``$log`` ``$log10`` return doubles
(decimals for decimal input). Errors carry the server's codes.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64

from fakemongo._bsonorder import is_nan, type_alias
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import (
    Evaluator,
    Scope,
    Vars,
    _number,
    _to_decimal,
    fixed_args,
)
from fakemongo._expr_util import is_number, nullish, ranged_args, register, value_text
from fakemongo._numbers import DECIMAL as _DECIMAL
from fakemongo._numbers import DECIMAL128_CONTEXT as _DECIMAL_CONTEXT
from fakemongo._numbers import DOUBLE as _DOUBLE
from fakemongo._numbers import INT as _INT
from fakemongo._numbers import INT32 as _INT32
from fakemongo._numbers import INT64 as _INT64
from fakemongo._numbers import number_kind as _kind

__all__: list[str] = []


def _unary(name: str, compute: Callable[[Any], Any]) -> None:
    """An operator of one numeric argument; null in, null out."""

    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        (item,) = (scope.compile(arg) for arg in fixed_args(name, args, 1))

        def evaluate(v: Vars) -> Any:
            value = item(v)
            if nullish(value):
                return None
            if not is_number(value):
                raise CommandError(
                    ErrorCode.Location28765,
                    f"{name} only supports numeric types, not {type_alias(value)}",
                )
            return compute(value)

        return evaluate


def _abs(value: Any) -> Any:
    kind = _kind(value)
    if kind == _DECIMAL:
        return Decimal128(abs(value.to_decimal()))
    if kind == _DOUBLE:
        return abs(value)
    if int(value) == _INT64[0]:
        raise CommandError(ErrorCode.Location28680, "can't take $abs of long long min")
    return _number(kind, abs(int(value)))


def _integral(rounding: str, double_op: Callable[[float], float]) -> Callable[[Any], Any]:
    def compute(value: Any) -> Any:
        kind = _kind(value)
        if kind == _DECIMAL:
            number = value.to_decimal()
            if not number.is_finite():
                return value
            return Decimal128(number.to_integral_value(rounding=rounding))
        if kind == _DOUBLE:
            return value if not math.isfinite(value) else float(double_op(value))
        return value

    return compute


def _decimal_result(value: decimal.Decimal) -> Decimal128:
    return Decimal128(_DECIMAL_CONTEXT.create_decimal(value))


def _float_op(
    name: str,
    op: Callable[[float], float],
    dec_op: Callable[[decimal.Decimal], Any],
    domain: tuple[Callable[[float], bool], ErrorCode, str] | None = None,
) -> None:
    def compute(value: Any) -> Any:
        number = float(value.to_decimal()) if isinstance(value, Decimal128) else float(value)
        if domain is not None and not is_nan(value) and not domain[0](number):
            raise CommandError(domain[1], domain[2].format(value_text(value)))
        if isinstance(value, Decimal128):
            with decimal.localcontext(_DECIMAL_CONTEXT):
                return _decimal_result(dec_op(value.to_decimal()))
        try:
            return op(number)
        except OverflowError:
            return math.inf

    _unary(name, compute)


_unary("$abs", _abs)
_unary("$ceil", _integral(decimal.ROUND_CEILING, math.ceil))
_unary("$floor", _integral(decimal.ROUND_FLOOR, math.floor))
_float_op(
    "$sqrt",
    math.sqrt,
    lambda d: d.sqrt(),
    (
        lambda x: x >= 0,
        ErrorCode.Location28714,
        "$sqrt's argument must be greater than or equal to 0",
    ),
)
_float_op("$exp", math.exp, lambda d: d.exp())
_float_op(
    "$ln",
    math.log,
    lambda d: d.ln(),
    (
        lambda x: x > 0,
        ErrorCode.Location28766,
        "$ln's argument must be a positive number, but is {}",
    ),
)
_float_op(
    "$log10",
    math.log10,
    lambda d: d.log10(),
    (
        lambda x: x > 0,
        ErrorCode.Location28761,
        "$log10's argument must be a positive number, but is {}",
    ),
)


@register("$log")
def _log(args: Any, scope: Scope) -> Evaluator:
    number_of, base_of = (scope.compile(arg) for arg in fixed_args("$log", args, 2))

    def log(v: Vars) -> Any:
        number, base = number_of(v), base_of(v)
        if nullish(number) or nullish(base):
            return None
        if not is_number(number):
            raise CommandError(
                ErrorCode.Location28756,
                f"$log's argument must be numeric, not {type_alias(number)}",
            )
        if not is_number(base):
            raise CommandError(
                ErrorCode.Location28757, f"$log's base must be numeric, not {type_alias(base)}"
            )
        if isinstance(number, Decimal128) or isinstance(base, Decimal128):
            exact, exact_base = _to_decimal(number), _to_decimal(base)
            _check_log(exact, exact_base, number, base)
            with decimal.localcontext(_DECIMAL_CONTEXT):
                return _decimal_result(exact.ln() / exact_base.ln())
        x, b = float(number), float(base)
        _check_log(x, b, number, base)
        return math.log(x) / math.log(b)

    return log


def _check_log(x: Any, b: Any, number: Any, base: Any) -> None:
    if not x > 0 and not is_nan(number):
        raise CommandError(
            ErrorCode.Location28758,
            f"$log's argument must be a positive number, but is {value_text(number)}",
        )
    if (not b > 0 or b == 1) and not is_nan(base):
        raise CommandError(
            ErrorCode.Location28759,
            f"$log's base must be a positive number not equal to 1, but is {value_text(base)}",
        )


# ---------------------------------------------------------------- $round / $trunc

_QUANTUM_LIMITS = (-20, 100)


def _round_or_trunc(name: str, mode: str) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        items = [scope.compile(arg) for arg in ranged_args(name, args, 1, 2)]

        def evaluate(v: Vars) -> Any:
            value = items[0](v)
            if nullish(value):
                return None
            if not is_number(value):
                raise CommandError(
                    ErrorCode.Location51081,
                    f"{name} only supports numeric types, not {type_alias(value)}",
                )
            place = 0
            if len(items) > 1:
                place_value = items[1](v)
                if nullish(place_value):
                    return None
                place = _place(name, place_value)
            return _quantize(name, value, place, mode)

        return evaluate


def _place(name: str, value: Any) -> int:
    number = _to_decimal(value) if is_number(value) else None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise CommandError(
            ErrorCode.Location51082,
            f"precision argument to  {name} must be a integral value",
        )
    place = int(number)
    if not _QUANTUM_LIMITS[0] <= place <= _QUANTUM_LIMITS[1]:
        raise CommandError(
            ErrorCode.Location51083,
            f"cannot apply {name} with precision value {place} value must be in [-20, 100]",
        )
    return place


def _quantize(name: str, value: Any, place: int, mode: str) -> Any:
    kind = _kind(value)
    if kind not in (_DOUBLE, _DECIMAL):
        if place >= 0:
            return value
        step = 10 ** (-place)
        quotient = decimal.Decimal(int(value)) / step
        rounded = int(quotient.to_integral_value(rounding=mode)) * step
        if not _INT64[0] <= rounded <= _INT64[1]:
            raise CommandError(
                ErrorCode.Location51080,
                f"Invalid conversion to long during {name}.",
            )
        if kind == _INT and _INT32[0] <= rounded <= _INT32[1]:
            return rounded
        return Int64(rounded)
    exact = value.to_decimal() if kind == _DECIMAL else decimal.Decimal(value)
    if not exact.is_finite():
        return value
    with decimal.localcontext(_DECIMAL_CONTEXT) as context:
        context.rounding = mode
        exact = context.plus(exact)  # a double goes through its 34-digit decimal value
        quantized = exact.quantize(decimal.Decimal(1).scaleb(-place), rounding=mode)
    if kind == _DECIMAL:
        return Decimal128(quantized)
    return float(quantized)


_round_or_trunc("$round", decimal.ROUND_HALF_EVEN)
_round_or_trunc("$trunc", decimal.ROUND_DOWN)


# ---------------------------------------------------------------- $mod / $pow


@register("$mod")
def _mod(args: Any, scope: Scope) -> Evaluator:
    left, right = (scope.compile(arg) for arg in fixed_args("$mod", args, 2))

    def mod(v: Vars) -> Any:
        lhs, rhs = left(v), right(v)
        if nullish(lhs) or nullish(rhs):
            return None
        if not (is_number(lhs) and is_number(rhs)):
            raise CommandError(
                ErrorCode.Location16611,
                f"$mod only supports numeric types, not {type_alias(lhs)} and {type_alias(rhs)}",
            )
        kind = max(_kind(lhs), _kind(rhs))
        if kind == _DECIMAL:
            divisor = _to_decimal(rhs)
            if divisor.is_zero():
                raise CommandError(ErrorCode.Location16610, "can't $mod by zero")
            with decimal.localcontext(_DECIMAL_CONTEXT):
                return _decimal_result(_to_decimal(lhs) % divisor)
        if kind == _DOUBLE:
            if rhs == 0:
                raise CommandError(ErrorCode.Location16610, "can't $mod by zero")
            return math.fmod(float(lhs), float(rhs))
        if rhs == 0:
            raise CommandError(ErrorCode.Location16610, "can't $mod by zero")
        remainder = abs(int(lhs)) % abs(int(rhs))  # C++ %: the sign of the dividend
        return _number(kind, -remainder if lhs < 0 else remainder)

    return mod


@register("$pow")
def _pow(args: Any, scope: Scope) -> Evaluator:
    left, right = (scope.compile(arg) for arg in fixed_args("$pow", args, 2))

    def power(v: Vars) -> Any:
        base, exponent = left(v), right(v)
        if nullish(base) or nullish(exponent):
            return None
        if not is_number(base):
            raise CommandError(
                ErrorCode.Location28762, f"$pow's base must be numeric, not {type_alias(base)}"
            )
        if not is_number(exponent):
            raise CommandError(
                ErrorCode.Location28763,
                f"$pow's exponent must be numeric, not {type_alias(exponent)}",
            )
        if _to_decimal(base).is_zero() and _to_decimal(exponent) < 0:
            raise CommandError(
                ErrorCode.Location28764, "$pow cannot take a base of 0 and a negative exponent"
            )
        kind = max(_kind(base), _kind(exponent))
        if kind == _DECIMAL:
            with decimal.localcontext(_DECIMAL_CONTEXT):
                return _decimal_result(_to_decimal(base) ** _to_decimal(exponent))
        if kind == _DOUBLE:
            try:
                return math.pow(float(base), float(exponent))
            except OverflowError:
                return math.inf
        return _integer_power(kind, int(base), int(exponent))

    return power


def _integer_power(kind: int, base: int, exponent: int) -> Any:
    if exponent < 0:
        if base in (1, -1):
            return _number(kind, base ** (-exponent))
        return float(base) ** exponent
    if base in (0, 1, -1) or exponent * math.log2(abs(base)) < 64:
        return _number(kind, base**exponent)
    return math.pow(base, exponent)  # beyond int64: the server computes in double
