"""Type expression operators: ``$convert`` and its shortcuts ``$toInt`` ``$toLong``
``$toDouble`` ``$toDecimal`` ``$toString`` ``$toBool`` ``$toObjectId`` ``$toDate``,
plus ``$type`` and ``$isNumber``.

Manual, "$convert": the conversion table of MongoDB 8.0 for the targets double,
string, objectId, bool, date, int, long and decimal (by name or BSON type
number); a null or missing input gives ``onNull`` (default null), a failed or
unsupported conversion gives ``onError`` or a 241 ConversionFailure. Strings
parse as base-10 numbers, 24-digit hex ObjectIds, ISO 8601 dates. Doubles
convert to decimals with 15 significant digits and print with 6, as the server
does. Conversions involving binData, and other targets, are refused as
unsupported conversions.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64, ObjectId, Timestamp

from fakemongo._bsonorder import Rank, is_nan, type_alias, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope, Vars, fixed_args, to_bool
from fakemongo._expr_date import coerce_to_date_millis
from fakemongo._expr_dateops import parse_date_string
from fakemongo._expr_string import coerce_to_string
from fakemongo._expr_util import (
    date_from_millis,
    integral_value,
    is_number,
    is_object,
    millis_of,
    nullish,
    register,
    value_text,
)
from fakemongo._numbers import DECIMAL128_CONTEXT as _DECIMAL_CONTEXT

__all__: list[str] = []

_TYPE_NAMES = {
    "double": 1, "string": 2, "object": 3, "array": 4, "binData": 5, "undefined": 6,
    "objectId": 7, "bool": 8, "date": 9, "null": 10, "regex": 11, "dbPointer": 12,
    "javascript": 13, "symbol": 14, "javascriptWithScope": 15, "int": 16,
    "timestamp": 17, "long": 18, "decimal": 19, "minKey": -1, "maxKey": 127,
}  # fmt: skip
_NAMES_BY_NUMBER = {number: name for name, number in _TYPE_NAMES.items()}
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"^[+-]?\d+$")
_DOUBLE = re.compile(
    r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf(inity)?|nan)$", re.IGNORECASE
)
_DECIMAL_TEXT = re.compile(
    r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)$", re.IGNORECASE
)
_HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")


class _Failure(Exception):
    """A conversion failed (the reason follows "... in $convert with no onError value")."""


def _fail(message: str) -> CommandError:
    return CommandError(ErrorCode.ConversionFailure, message)


# ---------------------------------------------------------------- numbers


def _exact(value: Any) -> decimal.Decimal | float:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return float(value) if isinstance(value, float) else decimal.Decimal(int(value))


def _truncated(value: Any, bounds: tuple[int, int]) -> int:
    if is_nan(value):
        raise _Failure("Attempt to convert NaN value to integer type")
    number = _exact(value)
    if number in (math.inf, -math.inf) or not bounds[0] <= int(number) <= bounds[1]:
        raise _Failure(f"Conversion would overflow target type: {value_text(value)}")
    return int(number)


def _parse_integer(text: str, bounds: tuple[int, int]) -> int:
    if not _INTEGER.match(text):
        raise _Failure(f"Failed to parse number '{text}': Did not consume whole string.")
    number = int(text)
    if not bounds[0] <= number <= bounds[1]:
        raise _Failure(f"Failed to parse number '{text}': Overflow")
    return number


def _to_int(value: Any, bounds: tuple[int, int] = _INT32) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return _parse_integer(value, bounds)
    if is_number(value):
        return _truncated(value, bounds)
    if bounds == _INT64 and type_rank(value) == Rank.DATE:
        return millis_of(value)
    raise _Unsupported


def _to_long(value: Any) -> Int64:
    return Int64(_to_int(value, _INT64))


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if not _DOUBLE.match(value):
            raise _Failure(f"Failed to parse number '{value}': Did not consume whole string.")
        return float(value)
    if isinstance(value, Decimal128):
        number = value.to_decimal()
        result = float(number)
        if math.isinf(result) and number.is_finite():
            raise _Failure(f"Conversion would overflow target type: {value_text(value)}")
        return result
    if is_number(value):
        return float(value)
    if type_rank(value) == Rank.DATE:
        return float(millis_of(value))
    raise _Unsupported


def _decimal_of_double(value: float) -> Decimal128:
    if not math.isfinite(value) or value == 0:
        return Decimal128("NaN" if math.isnan(value) else decimal.Decimal(repr(value)))
    exact = decimal.Context(prec=15).create_decimal_from_float(value)
    return Decimal128(exact.quantize(decimal.Decimal(1).scaleb(exact.adjusted() - 14)))


def _to_decimal(value: Any) -> Decimal128:
    if isinstance(value, bool):
        return Decimal128(decimal.Decimal(int(value)))
    if isinstance(value, float):
        return _decimal_of_double(value)
    if isinstance(value, str):
        if not _DECIMAL_TEXT.match(value):
            raise _Failure(f"Failed to parse number '{value}': Failed to parse string to decimal")
        return Decimal128(_DECIMAL_CONTEXT.create_decimal(value))
    if is_number(value):
        return Decimal128(_exact(value)) if not isinstance(value, Decimal128) else value
    if type_rank(value) == Rank.DATE:
        return Decimal128(decimal.Decimal(millis_of(value)))
    raise _Unsupported


# ---------------------------------------------------------------- other targets


def _double_string(value: float) -> str:
    """A double as the server's $toString prints it: printf's "%g", six significant
    digits (performFormatDouble streams the double into a StringBuilder)."""
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    if math.isnan(value):
        return "NaN"
    if value == 0 and math.copysign(1, value) < 0:
        return "-0"
    return f"{value:g}"


def _to_string(value: Any) -> str:
    if isinstance(value, float):
        return _double_string(value)
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) or is_number(value) or type_rank(value) == Rank.DATE:
        return coerce_to_string(value)
    raise _Unsupported


def _to_object_id(value: Any) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str):
        if len(value) != 24:
            raise _Failure(
                f"Failed to parse objectId '{value}': Invalid string length for parsing to OID, "
                f"expected 24 but found {len(value)}"
            )
        if not _HEX24.match(value):
            raise _Failure(f"Failed to parse objectId '{value}': Invalid character found in hex")
        return ObjectId(value)
    raise _Unsupported


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool | str | ObjectId | Timestamp) or type_rank(value) == Rank.DATE:
        return True if not isinstance(value, bool) else value
    if is_number(value):
        return to_bool(value)
    raise _Unsupported


def _to_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date_from_millis(parse_date_string(value, None, None))
        except CommandError as error:
            raise _Failure(error.errmsg) from None
    if isinstance(value, float | Decimal128 | Int64) and not isinstance(value, bool):
        return date_from_millis(_truncated(value, _INT64))
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not _INT32[0] <= value <= _INT32[1]
    ):
        return date_from_millis(value)  # a Python int this wide is a BSON long
    if type_rank(value) == Rank.DATE or isinstance(value, ObjectId | Timestamp):
        return date_from_millis(coerce_to_date_millis(value))
    raise _Unsupported


class _UnsupportedType(Exception):
    pass


_Unsupported = _UnsupportedType()

_CONVERTERS: dict[int, Callable[[Any], Any]] = {
    1: _to_double,
    2: _to_string,
    7: _to_object_id,
    8: _to_bool,
    9: _to_date,
    16: _to_int,
    18: _to_long,
    19: _to_decimal,
}


def convert(value: Any, target: int) -> Any:
    """``value`` converted to the BSON type ``target``; raises ConversionFailure."""
    converter = _CONVERTERS.get(target)
    try:
        if converter is None:
            raise _Unsupported
        return converter(value)
    except _UnsupportedType:
        raise _fail(
            f"Unsupported conversion from {type_alias(value)} to {_NAMES_BY_NUMBER[target]} in "
            "$convert with no onError value"
        ) from None
    except _Failure as failure:
        message, _, reason = str(failure).partition(": ")
        text = f"{message} in $convert with no onError value"
        raise _fail(f"{text}: {reason}" if reason else text) from None


def _target(value: Any) -> int:
    if isinstance(value, str):
        if value not in _TYPE_NAMES:
            raise CommandError(ErrorCode.BadValue, f"Unknown type name: {value}")
        return _TYPE_NAMES[value]
    if is_number(value):
        number = integral_value(value)
        if number is None:
            raise CommandError(
                ErrorCode.FailedToParse, "In $convert, numeric 'to' argument is not an integer"
            )
        if number not in _NAMES_BY_NUMBER:
            raise CommandError(
                ErrorCode.FailedToParse,
                f"In $convert, numeric value for 'to' does not correspond to a BSON type: {number}",
            )
        return int(number)
    raise CommandError(
        ErrorCode.FailedToParse,
        f"$convert's 'to' argument must be a string or number, but is {type_alias(value)}",
    )


def _conversion(
    input_of: Evaluator,
    to_of: Evaluator,
    on_error: Evaluator | None,
    on_null: Evaluator | None,
) -> Evaluator:
    def evaluate(v: Vars) -> Any:
        to = to_of(v)
        target = None if nullish(to) else _target(to)
        value = input_of(v)
        if nullish(value):
            return on_null(v) if on_null is not None else None
        if target is None:
            return None
        try:
            return convert(value, target)
        except CommandError:
            if on_error is None:
                raise
            return on_error(v)

    return evaluate


@register("$convert")
def _convert(args: Any, scope: Scope) -> Evaluator:
    if not is_object(args):
        raise CommandError(
            ErrorCode.FailedToParse,
            f"$convert expects an object of named arguments but found: {type_alias(args)}",
        )
    parts: dict[str, Evaluator] = {}
    for key, value in args.items():
        if key not in ("input", "to", "onError", "onNull"):
            raise CommandError(
                ErrorCode.FailedToParse, f"$convert found an unknown argument: {key}"
            )
        parts[key] = scope.compile(value)
    if "input" not in parts:
        raise CommandError(ErrorCode.FailedToParse, "Missing 'input' parameter to $convert")
    if "to" not in parts:
        raise CommandError(ErrorCode.FailedToParse, "Missing 'to' parameter to $convert")
    return _conversion(parts["input"], parts["to"], parts.get("onError"), parts.get("onNull"))


def _shortcut(name: str, target: str) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        (input_of,) = (scope.compile(arg) for arg in fixed_args(name, args, 1))
        return _conversion(input_of, lambda v: target, None, None)


for _name, _target_name in (
    ("$toInt", "int"),
    ("$toLong", "long"),
    ("$toDouble", "double"),
    ("$toDecimal", "decimal"),
    ("$toString", "string"),
    ("$toBool", "bool"),
    ("$toObjectId", "objectId"),
    ("$toDate", "date"),
):
    _shortcut(_name, _target_name)


@register("$type")
def _type(args: Any, scope: Scope) -> Evaluator:
    (item,) = (scope.compile(arg) for arg in fixed_args("$type", args, 1))
    return lambda v: type_alias(item(v))


@register("$isNumber")
def _is_number(args: Any, scope: Scope) -> Evaluator:
    (item,) = (scope.compile(arg) for arg in fixed_args("$isNumber", args, 1))
    return lambda v: is_number(item(v))
