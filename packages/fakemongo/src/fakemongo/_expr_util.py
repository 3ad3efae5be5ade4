"""Helpers shared by the expression-operator modules (``_expr_*.py``).

Argument-count checks with the server's codes, the nullish test, and
:func:`value_text`, which prints a value the way the server's ``Value`` prints
itself inside error messages (doubles with six significant digits, as a C++
stream does; documents as ``{a: 1}``; missing as ``MISSING``).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Mapping
from typing import Any

from bson import Decimal128, Int64, ObjectId
from bson.datetime_ms import DatetimeMS

from fakemongo._bsonorder import MISSING, Rank, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import OPERATORS, Evaluator, Scope, operand_list

__all__ = [
    "date_from_millis",
    "integral_value",
    "is_number",
    "is_object",
    "iso_string",
    "millis_of",
    "nullish",
    "ranged_args",
    "register",
    "value_text",
]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MILLI = datetime.timedelta(milliseconds=1)
_MIN_MILLIS = -62135596800000  # 0001-01-01T00:00:00Z: below, Python has no datetime
_MAX_MILLIS = 253402300799999  # 9999-12-31T23:59:59.999Z


def register(name: str) -> Callable[[Callable[[Any, Scope], Evaluator]], Any]:
    """Decorator: register an operator compiler under ``name``."""

    def decorate(compile_operator: Callable[[Any, Scope], Evaluator]) -> Any:
        OPERATORS[name] = compile_operator
        return compile_operator

    return decorate


def nullish(value: Any) -> bool:
    """Null or missing (the server's Value::nullish)."""
    return value is None or value is MISSING


def is_number(value: Any) -> bool:
    """int, long, double or decimal (never bool)."""
    return type_rank(value) == Rank.NUMBER


def is_object(value: Any) -> bool:
    """An embedded document."""
    return isinstance(value, Mapping) and type_rank(value) == Rank.OBJECT


def ranged_args(name: str, args: Any, low: int, high: int) -> list[Any]:
    """The server's ExpressionRangedArity check; raises 28667."""
    operands = operand_list(args)
    if not low <= len(operands) <= high:
        raise CommandError(
            ErrorCode.Location28667,
            f"Expression {name} takes at least {low} arguments, and at most {high}, but "
            f"{len(operands)} were passed in.",
        )
    return operands


def millis_of(date: Any) -> int:
    """Milliseconds since the epoch of a BSON date (a datetime, naive meaning UTC)."""
    if isinstance(date, DatetimeMS):
        return int(date)
    if date.tzinfo is None:
        date = date.replace(tzinfo=datetime.UTC)
    millis: int = (date - _EPOCH) // _MILLI
    return millis


def date_from_millis(millis: int) -> Any:
    """A BSON date: an aware UTC datetime, or a DatetimeMS outside years 1 to 9999."""
    if _MIN_MILLIS <= millis <= _MAX_MILLIS:
        return _EPOCH + datetime.timedelta(milliseconds=millis)
    return DatetimeMS(millis)


def iso_string(date: Any) -> str:
    """A date as ISO 8601 in UTC with milliseconds, as the server prints dates."""
    millis = millis_of(date)
    if not _MIN_MILLIS <= millis <= _MAX_MILLIS:
        return str(millis)
    t = _EPOCH + datetime.timedelta(milliseconds=millis)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}."
        f"{t.microsecond // 1000:03d}Z"
    )


def integral_value(value: Any) -> int | None:
    """The integer a number equals when finite and integral; None otherwise."""
    if not is_number(value):
        return None
    if isinstance(value, Decimal128):
        number = value.to_decimal()
        if not number.is_finite() or number != number.to_integral_value():
            return None
        return int(number)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    return int(value)


def _double_text(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:g}"


def value_text(value: Any) -> str:
    """A value as the server's ``Value`` prints in error messages."""
    if value is MISSING:
        return "MISSING"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _double_text(value)
    if isinstance(value, int | Int64 | Decimal128):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, ObjectId):
        return str(value)
    if type_rank(value) == Rank.DATE:
        return iso_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    if is_object(value):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    return repr(value)
