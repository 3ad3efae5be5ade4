"""Date expression operators: the date parts and ``$dateToString``.

``$year`` ``$month`` ``$dayOfMonth`` ``$dayOfWeek`` ``$dayOfYear`` ``$hour``
``$minute`` ``$second`` ``$millisecond`` ``$week`` ``$isoWeek`` ``$isoWeekYear``
``$isoDayOfWeek`` take a date, ``[date]`` or ``{date, timezone}`` (manual, "Date
Expression Operators"); a timestamp or an ObjectId counts as a date; null gives
null. Time zones are Olson names (from the system's zoneinfo database) or UTC
offsets ``+hh``, ``+hhmm``, ``+hh:mm``. ``$week`` counts Sunday-started weeks
(week 0 before the first Sunday), the ISO operators ISO 8601 weeks. Calendar
arithmetic is proleptic Gregorian over the whole int64 millisecond range.
``$dateToString`` knows every format specifier of MongoDB 8.0.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bson import ObjectId, Timestamp

from fakemongo._bsonorder import Rank, bson_repr, type_alias, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope, Vars
from fakemongo._expr_util import is_object, millis_of, nullish, register, value_text

__all__ = ["Local", "coerce_to_date_millis", "local_time", "zone", "zone_of"]

_DAY_MS = 86_400_000
_OFFSET = re.compile(r"^([+-])(\d{2})(?::?(\d{2}))?$")


# ---------------------------------------------------------------- time zones


@lru_cache(maxsize=256)
def zone(name: str) -> datetime.tzinfo:
    """A time zone by Olson name or UTC offset; raises 40485 for an unknown one."""
    match = _OFFSET.match(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
        return datetime.timezone(sign * datetime.timedelta(minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CommandError(
            ErrorCode.Location40485, f'unrecognized time zone identifier: "{name}"'
        ) from None


def zone_of(name: str, value: Any, code: ErrorCode = ErrorCode.Location40517) -> datetime.tzinfo:
    """The time zone an evaluated ``timezone`` argument names (it must be a string).

    The date-part operators report 40533; the others the server's makeTimeZone 40517.
    """
    if not isinstance(value, str):
        if code == ErrorCode.Location40533:
            message = (
                f"{name} requires a string for the timezone argument, but was given a "
                f"{type_alias(value)} ({value_text(value)})"
            )
        else:
            message = f"timezone must evaluate to a string, found {type_alias(value)}"
        raise CommandError(code, message)
    return zone(value)


_PY_MIN, _PY_MAX = -62135596800000, 253402300799999


def offset_ms(tz: datetime.tzinfo, millis: int) -> int:
    """The zone's UTC offset, in milliseconds, at the instant ``millis``."""
    clamped = min(max(millis, _PY_MIN + _DAY_MS), _PY_MAX - _DAY_MS)
    moment = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
        milliseconds=clamped
    )
    delta = moment.astimezone(tz).utcoffset()
    assert delta is not None
    return delta // datetime.timedelta(milliseconds=1)


# ---------------------------------------------------------------- calendar


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The (year, month, day) of a day number (inverse of :func:`days_from_civil`)."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def _weeks_in_iso_year(year: int) -> int:
    def p(y: int) -> int:
        return (y + y // 4 - y // 100 + y // 400) % 7

    return 53 if p(year) == 4 or p(year - 1) == 3 else 52


@dataclass(frozen=True, slots=True)
class Local:
    """A date broken down in a time zone."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    millisecond: int
    days: int  # days since the epoch, local
    offset_minutes: int

    @property
    def day_of_year(self) -> int:
        return self.days - days_from_civil(self.year, 1, 1) + 1

    @property
    def day_of_week(self) -> int:
        """1 (Sunday) to 7 (Saturday)."""
        return (self.days + 4) % 7 + 1

    @property
    def iso_day_of_week(self) -> int:
        """1 (Monday) to 7 (Sunday)."""
        return (self.days + 3) % 7 + 1

    @property
    def week(self) -> int:
        """0 to 53; weeks start on Sunday (strftime's %U)."""
        return (self.day_of_year - 1 + 7 - (self.day_of_week - 1)) // 7

    @property
    def iso_week_and_year(self) -> tuple[int, int]:
        week = (self.day_of_year - self.iso_day_of_week + 10) // 7
        if week < 1:
            return _weeks_in_iso_year(self.year - 1), self.year - 1
        if week > _weeks_in_iso_year(self.year):
            return 1, self.year + 1
        return week, self.year


def local_time(millis: int, tz: datetime.tzinfo | None = None) -> Local:
    """``millis`` (UTC) broken down in ``tz`` (UTC when None)."""
    offset = 0 if tz is None else offset_ms(tz, millis)
    local = millis + offset
    days, rest = divmod(local, _DAY_MS)
    year, month, day = civil_from_days(days)
    hour, rest = divmod(rest, 3_600_000)
    minute, rest = divmod(rest, 60_000)
    second, millisecond = divmod(rest, 1000)
    return Local(year, month, day, hour, minute, second, millisecond, days, offset // 60_000)


def coerce_to_date_millis(value: Any) -> int:
    """The server's Value::coerceToDate: a date, a timestamp or an ObjectId; 16006."""
    if type_rank(value) == Rank.DATE:
        return millis_of(value)
    if isinstance(value, Timestamp):
        return value.time * 1000
    if isinstance(value, ObjectId):
        return int(value.generation_time.timestamp()) * 1000
    raise CommandError(
        ErrorCode.Location16006, f"can't convert from BSON type {type_alias(value)} to Date"
    )


# ---------------------------------------------------------------- date parts


def _date_arguments(name: str, args: Any, scope: Scope) -> tuple[Evaluator, Evaluator | None]:
    if is_object(args) and not next(iter(args), "").startswith("$"):
        date = timezone = None
        for key, value in args.items():
            if key == "date":
                date = scope.compile(value)
            elif key == "timezone":
                timezone = scope.compile(value)
            else:
                raise CommandError(
                    ErrorCode.Location40535, f'unrecognized option to {name}: "{key}"'
                )
        if date is None:
            raise CommandError(
                ErrorCode.Location40539,
                f"missing 'date' argument to {name}, provided: {name}: {bson_repr(args)}",
            )
        return date, timezone
    if isinstance(args, list):
        if len(args) != 1:
            raise CommandError(
                ErrorCode.Location40536,
                f"{name} accepts exactly one argument if given an array, but was given {len(args)}",
            )
        args = args[0]
    return scope.compile(args), None


def _date_part(name: str, part: Callable[[Local], int]) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        date_of, timezone_of = _date_arguments(name, args, scope)

        def evaluate(v: Vars) -> Any:
            date = date_of(v)
            if nullish(date):
                return None
            millis = coerce_to_date_millis(date)
            tz = None
            if timezone_of is not None:
                name_value = timezone_of(v)
                if nullish(name_value):
                    return None
                tz = zone_of(name, name_value, ErrorCode.Location40533)
            return part(local_time(millis, tz))

        return evaluate


_date_part("$year", lambda t: t.year)
_date_part("$month", lambda t: t.month)
_date_part("$dayOfMonth", lambda t: t.day)
_date_part("$hour", lambda t: t.hour)
_date_part("$minute", lambda t: t.minute)
_date_part("$second", lambda t: t.second)
_date_part("$millisecond", lambda t: t.millisecond)
_date_part("$dayOfYear", lambda t: t.day_of_year)
_date_part("$dayOfWeek", lambda t: t.day_of_week)
_date_part("$week", lambda t: t.week)
_date_part("$isoWeek", lambda t: t.iso_week_and_year[0])
_date_part("$isoWeekYear", lambda t: t.iso_week_and_year[1])
_date_part("$isoDayOfWeek", lambda t: t.iso_day_of_week)


# ---------------------------------------------------------------- $dateToString

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _year_text(year: int) -> str:
    if not 0 <= year <= 9999:
        raise CommandError(
            ErrorCode.Location18537,
            "Could not convert date to string: date component was outside the supported range "
            f"of 0-9999: {year}",
        )
    return f"{year:04d}"


_SPECIFIERS: dict[str, Callable[[Local], str]] = {
    "d": lambda t: f"{t.day:02d}",
    "G": lambda t: _year_text(t.iso_week_and_year[1]),
    "H": lambda t: f"{t.hour:02d}",
    "j": lambda t: f"{t.day_of_year:03d}",
    "L": lambda t: f"{t.millisecond:03d}",
    "m": lambda t: f"{t.month:02d}",
    "M": lambda t: f"{t.minute:02d}",
    "S": lambda t: f"{t.second:02d}",
    "w": lambda t: str(t.day_of_week),
    "u": lambda t: str(t.iso_day_of_week),
    "U": lambda t: f"{t.week:02d}",
    "V": lambda t: f"{t.iso_week_and_year[0]:02d}",
    "Y": lambda t: _year_text(t.year),
    "z": lambda t: _offset_text(t.offset_minutes),
    "Z": lambda t: f"{t.offset_minutes:+d}",
    "b": lambda t: MONTHS[t.month - 1][:3],
    "B": lambda t: MONTHS[t.month - 1],
    "%": lambda t: "%",
}


def check_format(text: str, specifiers: str) -> None:
    """Reject a format with an unknown ``%x`` (18536) or a trailing ``%`` (18535)."""
    i = 0
    while i < len(text):
        if text[i] == "%":
            if i + 1 == len(text):
                raise CommandError(ErrorCode.Location18535, "Unmatched '%' at end of format string")
            if text[i + 1] not in specifiers:
                raise CommandError(
                    ErrorCode.Location18536,
                    f"Invalid format character '%{text[i + 1]}' in format string",
                )
            i += 1
        i += 1


def format_date(text: str, local: Local) -> str:
    """Render ``local`` with a checked format."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "%":
            out.append(_SPECIFIERS[text[i + 1]](local))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@register("$dateToString")
def _date_to_string(args: Any, scope: Scope) -> Evaluator:
    if not is_object(args):
        raise CommandError(
            ErrorCode.Location18629, "$dateToString only supports an object as its argument"
        )
    parts: dict[str, Evaluator] = {}
    for key, value in args.items():
        if key not in ("date", "format", "timezone", "onNull"):
            raise CommandError(
                ErrorCode.Location18534, f"Unrecognized argument to $dateToString: {key}"
            )
        if key == "format" and isinstance(value, str):
            check_format(value, "".join(_SPECIFIERS))
        parts[key] = scope.compile(value)
    if "date" not in parts:
        raise CommandError(ErrorCode.Location18628, "Missing 'date' parameter to $dateToString")

    def date_to_string(v: Vars) -> Any:
        date = parts["date"](v)
        text = "%Y-%m-%dT%H:%M:%S.%LZ"
        if "format" in parts:
            text = parts["format"](v)
            if nullish(text):
                return None
            if not isinstance(text, str):
                raise CommandError(
                    ErrorCode.Location18533,
                    f"$dateToString requires that 'format' be a string, found: "
                    f"{type_alias(text)} with value {value_text(text)}",
                )
            check_format(text, "".join(_SPECIFIERS))
        tz = None
        if "timezone" in parts:
            name = parts["timezone"](v)
            if nullish(name):
                return None
            tz = zone_of("$dateToString", name)
            if "format" not in parts:
                text = "%Y-%m-%dT%H:%M:%S.%L"
        if nullish(date):
            return parts["onNull"](v) if "onNull" in parts else None
        return format_date(text, local_time(coerce_to_date_millis(date), tz))

    return date_to_string
