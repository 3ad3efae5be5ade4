"""Update modifiers on numbers: $inc, $mul and $bit.

Numbers follow the server's SafeNum (manual, "$inc", "$mul", "$bit"): an int32
result that overflows widens to int64, an int64 overflow is an error (2 BadValue),
doubles win over integers and decimals over everything (a double enters decimal
arithmetic rounded to 15 digits); a result of the same type and value as before
is a no-op.
"""

from __future__ import annotations

import decimal
from typing import Any

from bson import Decimal128, Int64

from fakemongo._bsonorder import is_number, type_alias
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._matchops import elem_repr
from fakemongo._numbers import DECIMAL as _DECIMAL
from fakemongo._numbers import DECIMAL128_CONTEXT as _D128
from fakemongo._numbers import INT as _INT
from fakemongo._numbers import INT32 as _INT32
from fakemongo._numbers import INT64 as _INT64
from fakemongo._numbers import LONG as _LONG
from fakemongo._numbers import number_kind as _kind
from fakemongo._update_ops import Context, Leaf, Ref, is_object

__all__ = ["ArithmeticLeaf", "BitLeaf"]


def _decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, float):
        # SafeNum::getDecimal: Decimal128(double, kRoundTo15Digits).
        return decimal.Decimal(f"{value:.14e}")
    return decimal.Decimal(int(value))


def _integer(kinds: tuple[int, int], result: int) -> Any:
    if kinds == (_INT, _INT) and _INT32[0] <= result <= _INT32[1]:
        return result
    if _INT64[0] <= result <= _INT64[1]:
        return Int64(result)
    return None  # int64 overflow: SafeNum's invalid result


def _arithmetic(multiply: bool, a: Any, b: Any) -> Any:
    """SafeNum ``a + b`` or ``a * b``; None when an int64 result overflows."""
    kinds = (_kind(a), _kind(b))
    if max(kinds) <= _LONG:
        return _integer(kinds, int(a) * int(b) if multiply else int(a) + int(b))
    if _DECIMAL in kinds:
        with decimal.localcontext(_D128):
            x, y = _decimal(a), _decimal(b)
            return Decimal128(x * y if multiply else x + y)
    return float(a) * float(b) if multiply else float(a) + float(b)


def _identical(a: Any, b: Any) -> bool:
    """SafeNum::isIdentical: same type and same value (NaN is never identical)."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, Decimal128):
        with decimal.localcontext(_D128):
            return bool(a.to_decimal() == b.to_decimal())
    return bool(a == b)


class ArithmeticLeaf(Leaf):
    __slots__ = ("multiply", "name", "operand")

    def __init__(self, name: str, path: str, operand: Any) -> None:
        if not is_number(operand):
            verb = "multiply" if name == "$mul" else "increment"
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"Cannot {verb} with non-numeric argument: {{{elem_repr(path, operand)}}}",
            )
        self.name, self.operand, self.multiply = name, operand, name == "$mul"

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        current = ref.value
        document = ctx.id_element() or "no id"
        if not is_number(current):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"Cannot apply {self.name} to a value of non-numeric type. {{{document}}} has the "
                f"field '{ref.key}' of non-numeric type {type_alias(current)}",
            )
        result = _arithmetic(self.multiply, self.operand, current)
        if result is None:
            kind = "NumberInt" if _kind(current) == _INT else "NumberLong"
            raise CommandError(
                ErrorCode.BadValue,
                f"Failed to apply {self.name} operations to current value (({kind}){int(current)}) "
                f"for document {{{document}}}",
            )
        if _identical(result, current):
            return False
        ref.set(result)
        return True

    def create(self, ctx: Context) -> Any:
        # Manual, "$mul": a missing field is set to zero of the operand's type.
        return _arithmetic(True, self.operand, 0) if self.multiply else self.operand


# ---------------------------------------------------------------- $bit


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class BitLeaf(Leaf):
    __slots__ = ("operations",)

    def __init__(self, spec: Any) -> None:
        if not is_object(spec):
            raise CommandError(
                ErrorCode.BadValue,
                f"The $bit modifier is not compatible with a {type_alias(spec)}. You must pass "
                "in an embedded document: {$bit: {field: {and/or/xor: #}}",
            )
        self.operations: list[tuple[str, Any]] = []
        for name, operand in spec.items():
            if name not in ("and", "or", "xor"):
                raise CommandError(
                    ErrorCode.BadValue,
                    f"The $bit modifier only supports 'and', 'or', and 'xor', not '{name}' which "
                    f"is an unknown operator: {{{elem_repr(name, operand)}}}",
                )
            if not _is_integer(operand):
                raise CommandError(
                    ErrorCode.BadValue,
                    "The $bit modifier field must be an Integer(32/64 bit); a "
                    f"'{type_alias(operand)}' is not supported here: "
                    f"{{{elem_repr(name, operand)}}}",
                )
            self.operations.append((name, operand))
        if not self.operations:
            raise CommandError(
                ErrorCode.BadValue,
                "You must pass in at least one bitwise operation. The format is: "
                "{$bit: {field: {and/or/xor: #}}",
            )

    def _apply_bits(self, value: Any) -> Any:
        for name, operand in self.operations:
            kinds = (_kind(value), _kind(operand))
            if name == "and":
                result = int(value) & int(operand)
            elif name == "or":
                result = int(value) | int(operand)
            else:
                result = int(value) ^ int(operand)
            value = result if kinds == (_INT, _INT) else Int64(result)
        return value

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        current = ref.value
        if not _is_integer(current):
            raise CommandError(
                ErrorCode.BadValue,
                f"Cannot apply $bit to a value of non-integral type.{ctx.id_element() or ''} has "
                f"the field {ref.key} of non-integer type {type_alias(current)}",
            )
        result = self._apply_bits(current)
        if _identical(result, current):
            return False
        ref.set(result)
        return True

    def create(self, ctx: Context) -> Any:
        return self._apply_bits(0)
