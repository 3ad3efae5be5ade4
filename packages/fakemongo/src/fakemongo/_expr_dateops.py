"""Date expression operators that build or shift dates: ``$dateFromString``,
``$dateAdd``, ``$dateSubtract`` and ``$dateDiff``.

Manual, "$dateFromString": without ``format``, ISO 8601 strings are understood
(``2017-02-08``, ``2017-02-08T12:10:40.787Z``, a space for the ``T``, a ``+hh:mm``
/ ``+hhmm`` offset); the server's parser accepts more free-form text, which is
reported here as a ConversionFailure (and so reaches ``onError``). With
``format``, the ``$dateToString`` specifiers apply. Manual, "$dateAdd": units
from millisecond to year; day and longer units move the local (time-zone) wall
clock and clamp to the end of a shorter month. Manual, "$dateDiff": the number
of unit boundaries crossed, in the time zone, weeks starting on ``startOfWeek``.
"""

from __future__ import annotations

import re
from typing import Any

from bson import Int64

from fakemongo._bsonorder import type_alias
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope, Vars
from fakemongo._expr_date import (
    MONTHS,
    check_format,
    civil_from_days,
    coerce_to_date_millis,
    days_from_civil,
    local_time,
    offset_ms,
    zone_of,
)
from fakemongo._expr_util import (
    date_from_millis,
    integral_value,
    is_object,
    nullish,
    register,
    value_text,
)

__all__ = ["parse_date_string"]

_DAY_MS = 86_400_000
_UNIT_MS = {"millisecond": 1, "second": 1000, "minute": 60_000, "hour": 3_600_000}
_UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond")
_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_INT64 = (-(2**63), 2**63 - 1)


def _object_args(
    name: str, args: Any, allowed: tuple[str, ...], codes: tuple[ErrorCode, ErrorCode], what: str
) -> dict[str, Any]:
    if not is_object(args):
        raise CommandError(codes[0], what.format(type_alias(args)))
    for key in args:
        if key not in allowed:
            raise CommandError(codes[1], f"Unrecognized argument to {name}: {key}")
    return dict(args)


def _failure(text: str, reason: str) -> CommandError:
    return CommandError(
        ErrorCode.ConversionFailure, f"Error parsing date string '{text}'; {reason}"
    )


def utc_from_local(local_ms: int, tz: Any) -> int:
    """The UTC instant whose wall-clock time in ``tz`` is ``local_ms``."""
    if tz is None:
        return local_ms
    guess = local_ms - offset_ms(tz, local_ms)
    return local_ms - offset_ms(tz, guess)


def _local_ms(year: int, month: int, day: int, rest_ms: int) -> int:
    return days_from_civil(year, month, day) * _DAY_MS + rest_ms


# ---------------------------------------------------------------- parsing strings

_ISO = re.compile(
    r"^\s*(?P<Y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<L>\d+))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_PATTERNS = {
    "Y": r"(?P<Y>\d{4})", "G": r"(?P<G>\d{4})", "m": r"(?P<m>\d{1,2})",
    "d": r"(?P<d>\d{1,2})", "H": r"(?P<H>\d{1,2})", "M": r"(?P<M>\d{1,2})",
    "S": r"(?P<S>\d{1,2})", "L": r"(?P<L>\d{1,3})", "j": r"(?P<j>\d{1,3})",
    "u": r"(?P<u>[1-7])", "w": r"(?P<w>[1-7])", "V": r"(?P<V>\d{1,2})", "U": r"(?P<U>\d{1,2})",
    "z": r"(?P<tz>[+-]\d{2}:?\d{2})", "Z": r"(?P<Z>[+-]\d+)",
    "b": r"(?P<b>[A-Za-z]{3})", "B": r"(?P<B>[A-Za-z]+)", "%": "%",
}  # fmt: skip
_FROM_STRING_SPECIFIERS = "".join(_PATTERNS)


def _format_regex(text: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(text):
        if text[i] == "%":
            out.append(_PATTERNS[text[i + 1]])
            i += 2
        else:
            out.append(re.escape(text[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def _month_of(fields: dict[str, str], text: str) -> int:
    name = fields.get("B") or fields.get("b")
    if name is None:
        return int(fields.get("m") or 1)
    for number, month in enumerate(MONTHS, start=1):
        if month.lower() == name.lower() or (len(name) == 3 and month[:3].lower() == name.lower()):
            return number
    raise _failure(text, "the month name is not valid")


def _offset_of(fields: dict[str, str]) -> int | None:
    zone_text = fields.get("tz")
    if zone_text is not None:
        if zone_text == "Z":
            return 0
        digits = zone_text[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        return (-minutes if zone_text[0] == "-" else minutes) * 60_000
    if fields.get("Z") is not None:
        return int(fields["Z"]) * 60_000
    return None


def parse_date_string(text: str, tz: Any, fmt: str | None) -> int:
    """Milliseconds of a date string (local to ``tz`` unless it carries an offset).

    Raises ConversionFailure (241) for a string that does not parse.
    """
    match = (_ISO if fmt is None else _format_regex(fmt)).match(text)
    if match is None:
        raise _failure(text, "the string does not match the expected format")
    fields = {k: v for k, v in match.groupdict().items() if v is not None}
    if "Y" in fields:
        year, month, day = int(fields["Y"]), _month_of(fields, text), int(fields.get("d", 1))
        if "j" in fields:
            year, month, day = civil_from_days(days_from_civil(year, 1, 1) + int(fields["j"]) - 1)
    elif "G" in fields and "V" in fields:
        jan4 = days_from_civil(int(fields["G"]), 1, 4)
        monday = jan4 - (jan4 + 3) % 7
        year, month, day = civil_from_days(
            monday + (int(fields["V"]) - 1) * 7 + int(fields.get("u", 1)) - 1
        )
    else:
        raise _failure(text, "an incomplete date/time string has been found")
    hour, minute = int(fields.get("H", 0)), int(fields.get("M", 0))
    second, millis = int(fields.get("S", 0)), int((fields.get("L", "0") + "00")[:3])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        raise _failure(text, "a date/time field is out of range")
    if civil_from_days(days_from_civil(year, month, day))[1] != month:
        raise _failure(text, "the day is out of range for the month")
    local = _local_ms(year, month, day, ((hour * 60 + minute) * 60 + second) * 1000 + millis)
    offset = _offset_of(fields)
    if offset is not None:
        if tz is not None:
            raise CommandError(
                ErrorCode.ConversionFailure,
                "you cannot pass in a date/time string with GMT offset together with a "
                "timezone argument",
            )
        return local - offset
    return utc_from_local(local, tz)


@register("$dateFromString")
def _date_from_string(args: Any, scope: Scope) -> Evaluator:
    spec = _object_args(
        "$dateFromString",
        args,
        ("dateString", "format", "timezone", "onError", "onNull"),
        (ErrorCode.Location40540, ErrorCode.Location40541),
        "$dateFromString only supports an object as an argument, found: {}",
    )
    if "dateString" not in spec:
        raise CommandError(
            ErrorCode.Location40542, "Missing 'dateString' parameter to $dateFromString"
        )
    if isinstance(spec.get("format"), str):
        check_format(spec["format"], _FROM_STRING_SPECIFIERS)
    parts = {key: scope.compile(value) for key, value in spec.items()}

    def date_from_string(v: Vars) -> Any:
        text = parts["dateString"](v)
        fmt = parts["format"](v) if "format" in parts else None
        if not nullish(fmt):
            if not isinstance(fmt, str):
                raise CommandError(
                    ErrorCode.Location40684,
                    "$dateFromString requires that 'format' be a string, found: "
                    f"{type_alias(fmt)} with value {value_text(fmt)}",
                )
            check_format(fmt, _FROM_STRING_SPECIFIERS)
        if nullish(text):
            return parts["onNull"](v) if "onNull" in parts else None
        try:
            tz = None
            if "timezone" in parts:
                zone_name = parts["timezone"](v)
                if nullish(zone_name):
                    return None
                tz = zone_of("$dateFromString", zone_name)
            if "format" in parts and nullish(fmt):
                return None
            if not isinstance(text, str):
                raise CommandError(
                    ErrorCode.ConversionFailure,
                    "$dateFromString requires that 'dateString' be a string, found: "
                    f"{type_alias(text)} with value {value_text(text)}",
                )
            return date_from_millis(parse_date_string(text, tz, fmt))
        except CommandError as error:
            if error.code != ErrorCode.ConversionFailure or "onError" not in parts:
                raise
            return parts["onError"](v)

    return date_from_string


# ---------------------------------------------------------------- $dateAdd / $dateSubtract


def _unit_of(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise CommandError(
            ErrorCode.Location5439013,
            f"{name} requires 'unit' to be a string, but got {type_alias(value)}",
        )
    if value not in _UNITS:
        raise CommandError(ErrorCode.FailedToParse, f"unknown time unit value: {value}")
    return value


def _shift(millis: int, unit: str, amount: int, tz: Any) -> int:
    if unit in _UNIT_MS:
        return millis + amount * _UNIT_MS[unit]
    offset = 0 if tz is None else offset_ms(tz, millis)
    local = millis + offset
    if unit in ("day", "week"):
        return utc_from_local(local + amount * _DAY_MS * (7 if unit == "week" else 1), tz)
    days, rest = divmod(local, _DAY_MS)
    year, month, day = civil_from_days(days)
    months = year * 12 + month - 1 + amount * {"month": 1, "quarter": 3, "year": 12}[unit]
    year, month = divmod(months, 12)
    month += 1
    last = civil_from_days(days_from_civil(year + month // 12, month % 12 + 1, 1) - 1)[2]
    return utc_from_local(_local_ms(year, month, min(day, last), rest), tz)


def _date_arithmetic(name: str, sign: int) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        spec = _object_args(
            name,
            args,
            ("startDate", "unit", "amount", "timezone"),
            (ErrorCode.Location5166400, ErrorCode.Location5166401),
            name + " expects an object as its argument, found: {}",
        )
        if not all(key in spec for key in ("startDate", "unit", "amount")):
            raise CommandError(
                ErrorCode.Location5166402,
                f"{name} requires startDate, unit, and amount to be present",
            )
        parts = {key: scope.compile(value) for key, value in spec.items()}

        def evaluate(v: Vars) -> Any:
            values = {key: part(v) for key, part in parts.items()}
            if any(nullish(value) for value in values.values()):
                return None
            try:
                millis = coerce_to_date_millis(values["startDate"])
            except CommandError:
                raise CommandError(
                    ErrorCode.Location5166403,
                    f"{name} requires startDate to be convertible to a date",
                ) from None
            unit = _unit_of(name, values["unit"])
            amount = _integral(values["amount"])
            if amount is None:
                raise CommandError(
                    ErrorCode.Location5166405, f"{name} expects integer amount of time units"
                )
            tz = zone_of(name, values["timezone"]) if "timezone" in values else None
            result = _shift(millis, unit, sign * amount, tz)
            if not _INT64[0] <= result <= _INT64[1]:
                raise CommandError(ErrorCode.Location5166406, f"{name} overflowed")
            return date_from_millis(result)

        return evaluate


def _integral(value: Any) -> int | None:
    whole = integral_value(value)
    return whole if whole is not None and _INT64[0] <= whole <= _INT64[1] else None


_date_arithmetic("$dateAdd", 1)
_date_arithmetic("$dateSubtract", -1)


# ---------------------------------------------------------------- $dateDiff


def _boundaries(unit: str, start: int, end: int, tz: Any, week_start: int) -> int:
    if unit == "millisecond":
        return end - start
    first, last = local_time(start, tz), local_time(end, tz)
    local_start = start + first.offset_minutes * 60_000
    local_end = end + last.offset_minutes * 60_000
    if unit in _UNIT_MS:
        return local_end // _UNIT_MS[unit] - local_start // _UNIT_MS[unit]
    if unit == "day":
        return last.days - first.days
    if unit == "week":
        return (last.days + 4 - week_start) // 7 - (first.days + 4 - week_start) // 7
    if unit == "month":
        return (last.year * 12 + last.month) - (first.year * 12 + first.month)
    if unit == "quarter":
        return (last.year * 4 + (last.month - 1) // 3) - (first.year * 4 + (first.month - 1) // 3)
    return last.year - first.year


def _week_start(value: Any) -> int:
    if not isinstance(value, str):
        raise CommandError(
            ErrorCode.Location5439015,
            f"$dateDiff requires 'startOfWeek' to be a string, but got {type_alias(value)}",
        )
    lowered = value.lower()
    for index, day in enumerate(_DAYS):
        if lowered in (day, day[:3]):
            return index
    raise CommandError(ErrorCode.Location5439016, f"unknown day of week value: {value}")


@register("$dateDiff")
def _date_diff(args: Any, scope: Scope) -> Evaluator:
    spec = _object_args(
        "$dateDiff",
        args,
        ("startDate", "endDate", "unit", "timezone", "startOfWeek"),
        (ErrorCode.Location5166301, ErrorCode.Location5166302),
        "$dateDiff only supports an object as its argument, found: {}",
    )
    for key, code in (
        ("startDate", ErrorCode.Location5166303),
        ("endDate", ErrorCode.Location5166304),
        ("unit", ErrorCode.Location5166305),
    ):
        if key not in spec:
            raise CommandError(code, f"Missing '{key}' parameter to $dateDiff")
    parts = {key: scope.compile(value) for key, value in spec.items()}

    def date_diff(v: Vars) -> Any:
        values = {key: part(v) for key, part in parts.items()}
        if any(nullish(value) for value in values.values()):
            return None
        dates = []
        for key in ("startDate", "endDate"):
            try:
                dates.append(coerce_to_date_millis(values[key]))
            except CommandError:
                raise CommandError(
                    ErrorCode.Location5166307,
                    f"$dateDiff requires '{key}' to be a date, but got {type_alias(values[key])}",
                ) from None
        unit = _unit_of("$dateDiff", values["unit"])
        tz = zone_of("$dateDiff", values["timezone"]) if "timezone" in values else None
        week_start = _week_start(values["startOfWeek"]) if "startOfWeek" in values else 0
        return Int64(_boundaries(unit, dates[0], dates[1], tz, week_start))

    return date_diff
