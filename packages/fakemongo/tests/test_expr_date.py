"""Date expression operators (manual, "Date Expression Operators")."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from bson import Int64, ObjectId, Timestamp
from bson.datetime_ms import DatetimeMS
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._errors import CommandError
from fakemongo._expr import compile_expression, evaluate
from fakemongo._expr_date import civil_from_days, days_from_civil, local_time, zone
from fakemongo._expr_util import date_from_millis, iso_string, millis_of

UTC = datetime.UTC


def utc(year: int, month: int, day: int, *rest: int) -> datetime.datetime:
    hour, minute, second, micro = (*rest, 0, 0, 0, 0)[:4]
    return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# The manual's running example for the date operators.
DATE = datetime.datetime(2014, 1, 1, 8, 15, 39, 736000, tzinfo=UTC)
DOC: dict[str, Any] = {"d": DATE, "naive": datetime.datetime(2014, 1, 1, 8, 15, 39), "n": None}


def run(spec: Any, doc: dict[str, Any] | None = None) -> Any:
    return evaluate(compile_expression(spec), DOC if doc is None else doc)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$year" ... "$week" examples on 2014-01-01T08:15:39.736Z.
        ({"$year": "$d"}, 2014),
        ({"$month": "$d"}, 1),
        ({"$dayOfMonth": "$d"}, 1),
        ({"$hour": "$d"}, 8),
        ({"$minute": "$d"}, 15),
        ({"$second": "$d"}, 39),
        ({"$millisecond": "$d"}, 736),
        ({"$dayOfYear": "$d"}, 1),
        ({"$dayOfWeek": "$d"}, 4),  # Wednesday; 1 is Sunday
        ({"$week": "$d"}, 0),  # before the year's first Sunday
        ({"$isoWeek": "$d"}, 1),
        ({"$isoWeekYear": "$d"}, 2014),
        ({"$isoDayOfWeek": "$d"}, 3),
        ({"$hour": "$naive"}, 8),  # a naive datetime is UTC, as bson decodes it
        ({"$year": ["$d"]}, 2014),
        ({"$hour": {"date": "$d", "timezone": "America/New_York"}}, 3),
        ({"$hour": {"date": "$d", "timezone": "+04:30"}}, 12),
        ({"$minute": {"date": "$d", "timezone": "+0430"}}, 45),
        ({"$hour": {"date": "$d", "timezone": "-02"}}, 6),
        ({"$dayOfMonth": {"date": "$d", "timezone": "Pacific/Honolulu"}}, 31),
        ({"$year": {"date": "$d", "timezone": "Pacific/Honolulu"}}, 2013),
        ({"$year": {"date": "$d", "timezone": None}}, None),
        ({"$year": "$nope"}, None),
        ({"$year": Timestamp(1500000000, 1)}, 2017),  # a timestamp counts as a date
        ({"$year": ObjectId.from_datetime(utc(2019, 5, 1))}, 2019),
        ({"$year": {"$literal": DatetimeMS(253402300800000)}}, 10000),  # beyond Python's range
        ({"$year": {"$literal": DatetimeMS(-62135596800001)}}, 0),
        # ISO weeks across year ends (ISO 8601).
        ({"$isoWeek": utc(2005, 1, 1)}, 53),
        ({"$isoWeekYear": utc(2005, 1, 1)}, 2004),
        ({"$isoWeek": utc(2008, 12, 29)}, 1),
        ({"$isoWeekYear": utc(2008, 12, 29)}, 2009),
        ({"$isoDayOfWeek": utc(2017, 1, 1)}, 7),
        ({"$week": utc(2017, 1, 1)}, 1),
        ({"$week": utc(2016, 12, 31)}, 52),
        ({"$dayOfYear": utc(2016, 12, 31)}, 366),
    ],
)
def test_date_parts(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$dateToString" examples.
        ({"date": "$d", "format": "%Y-%m-%d"}, "2014-01-01"),
        (
            {"date": "$d", "format": "%H:%M:%S:%L%z", "timezone": "America/New_York"},
            "03:15:39:736-0500",
        ),
        ({"date": "$d", "format": "%H:%M:%S:%L%z", "timezone": "+04:30"}, "12:45:39:736+0430"),
        ({"date": "$d", "format": "%Z", "timezone": "America/New_York"}, "-300"),
        ({"date": "$d", "format": "%Z", "timezone": "+04:30"}, "+270"),
        ({"date": "$d", "format": "%b %B", "timezone": "+04:30"}, "Jan January"),
        ({"date": "$d"}, "2014-01-01T08:15:39.736Z"),
        ({"date": "$d", "timezone": "+01:00"}, "2014-01-01T09:15:39.736"),  # no Z
        ({"date": "$d", "format": "%j %w %u %U %V %G %% %m"}, "001 4 3 00 01 2014 % 01"),
        ({"date": "$n", "onNull": "none"}, "none"),
        ({"date": "$nope"}, None),
        ({"date": "$d", "format": None}, None),
        ({"date": "$d", "timezone": "$nope"}, None),
        ({"date": Timestamp(0, 1), "format": "%Y"}, "1970"),
        ({"date": {"$literal": DatetimeMS(-62167219200000)}, "format": "%Y-%m-%d"}, "0000-01-01"),
    ],
)
def test_date_to_string(spec: Any, expected: Any) -> None:
    assert run({"$dateToString": spec}) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$dateFromString" examples.
        ({"dateString": "2017-02-08T12:10:40.787"}, utc(2017, 2, 8, 12, 10, 40, 787000)),
        (
            {"dateString": "2017-02-08T12:10:40.787", "timezone": "America/New_York"},
            utc(2017, 2, 8, 17, 10, 40, 787000),
        ),
        ({"dateString": "2017-02-08"}, utc(2017, 2, 8)),
        ({"dateString": "2017-02-08 12:10"}, utc(2017, 2, 8, 12, 10)),
        ({"dateString": "2017-02-08T12:10:40Z"}, utc(2017, 2, 8, 12, 10, 40)),
        ({"dateString": "2017-02-08T12:10:40+01:30"}, utc(2017, 2, 8, 10, 40, 40)),
        ({"dateString": "2017-02-08T12:10:40-0100"}, utc(2017, 2, 8, 13, 10, 40)),
        ({"dateString": "2017-02-08T12:10:40.5"}, utc(2017, 2, 8, 12, 10, 40, 500000)),
        ({"dateString": "06-15-2018", "format": "%m-%d-%Y"}, utc(2018, 6, 15)),
        (
            {"dateString": "15/06/2018 08:07:06.5", "format": "%d/%m/%Y %H:%M:%S.%L"},
            utc(2018, 6, 15, 8, 7, 6, 500000),
        ),
        ({"dateString": "2018 032", "format": "%Y %j"}, utc(2018, 2, 1)),
        ({"dateString": "2018-W01-1", "format": "%G-W%V-%u"}, utc(2018, 1, 1)),
        ({"dateString": "2009-W01", "format": "%G-W%V"}, utc(2008, 12, 29)),
        ({"dateString": "Jun 5 2018", "format": "%b %d %Y"}, utc(2018, 6, 5)),
        ({"dateString": "june 5 2018", "format": "%B %d %Y"}, utc(2018, 6, 5)),
        ({"dateString": "2018-01-01 +0100", "format": "%Y-%m-%d %z"}, utc(2017, 12, 31, 23)),
        ({"dateString": "2018-01-01 +60", "format": "%Y-%m-%d %Z"}, utc(2017, 12, 31, 23)),
        ({"dateString": "100%", "format": "%Y%%", "onError": "bad"}, "bad"),
        ({"dateString": "1000%", "format": "%Y%%"}, utc(1000, 1, 1)),
        ({"dateString": None, "onNull": "nothing"}, "nothing"),
        ({"dateString": "$nope"}, None),
        ({"dateString": "2017-02-08", "timezone": None}, None),
        ({"dateString": "2017-02-08", "format": None}, None),
        ({"dateString": "not a date", "onError": "bad"}, "bad"),
        ({"dateString": 5, "onError": "bad"}, "bad"),
        ({"dateString": "2017-02-30", "onError": "bad"}, "bad"),
        ({"dateString": "2017-13-01", "onError": "bad"}, "bad"),
        ({"dateString": "Foo 1 2018", "format": "%b %d %Y", "onError": "bad"}, "bad"),
        ({"dateString": "12:30", "format": "%H:%M", "onError": "bad"}, "bad"),
    ],
)
def test_date_from_string(spec: Any, expected: Any) -> None:
    assert run({"$dateFromString": spec}) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Manual, "$dateAdd": a month from Oct 31 clamps to Nov 30.
        (
            {"$dateAdd": {"startDate": utc(2020, 10, 31, 12, 10, 5), "unit": "month", "amount": 1}},
            utc(2020, 11, 30, 12, 10, 5),
        ),
        (
            {"$dateAdd": {"startDate": utc(2020, 2, 29), "unit": "year", "amount": 1}},
            utc(2021, 2, 28),
        ),
        (
            {"$dateAdd": {"startDate": utc(2020, 1, 31), "unit": "quarter", "amount": 1}},
            utc(2020, 4, 30),
        ),
        (
            {"$dateAdd": {"startDate": utc(2020, 12, 15), "unit": "month", "amount": 1}},
            utc(2021, 1, 15),
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": "week", "amount": 2}},
            utc(2014, 1, 15, 8, 15, 39, 736000),
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": "hour", "amount": -9}},
            utc(2013, 12, 31, 23, 15, 39, 736000),
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": "millisecond", "amount": 264.0}},
            utc(2014, 1, 1, 8, 15, 40),
        ),
        # Day units keep the wall clock across a DST change; hours do not.
        (
            {
                "$dateAdd": {
                    "startDate": utc(2021, 3, 13, 17),
                    "unit": "day",
                    "amount": 1,
                    "timezone": "America/New_York",
                }
            },
            utc(2021, 3, 14, 16),
        ),
        (
            {
                "$dateAdd": {
                    "startDate": utc(2021, 3, 13, 17),
                    "unit": "hour",
                    "amount": 24,
                    "timezone": "America/New_York",
                }
            },
            utc(2021, 3, 14, 17),
        ),
        (
            {
                "$dateAdd": {
                    "startDate": utc(2021, 1, 31, 5),
                    "unit": "month",
                    "amount": 1,
                    "timezone": "+10",
                }
            },
            utc(2021, 2, 28, 5),
        ),
        (
            {"$dateSubtract": {"startDate": utc(2021, 3, 31), "unit": "month", "amount": 1}},
            utc(2021, 2, 28),
        ),
        (
            {
                "$dateSubtract": {
                    "startDate": Timestamp(86400, 0),
                    "unit": "day",
                    "amount": Int64(1),
                }
            },
            utc(1970, 1, 1),
        ),
        ({"$dateAdd": {"startDate": None, "unit": "day", "amount": 1}}, None),
        ({"$dateAdd": {"startDate": "$d", "unit": "day", "amount": "$nope"}}, None),
        (
            {"$dateAdd": {"startDate": utc(9999, 12, 31), "unit": "day", "amount": 2}},
            DatetimeMS(253402387200000),
        ),
    ],
)
def test_date_arithmetic(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


@pytest.mark.parametrize(
    ("start", "end", "unit", "extra", "expected"),
    [
        # Manual, "$dateDiff": boundaries crossed, not elapsed time.
        (utc(2020, 12, 31, 23), utc(2021, 1, 1), "year", {}, 1),
        (utc(2020, 12, 31, 23), utc(2021, 1, 1), "day", {}, 1),
        (utc(2021, 1, 1), utc(2020, 12, 31, 23), "day", {}, -1),
        (utc(2020, 1, 15), utc(2021, 3, 1), "quarter", {}, 4),
        (utc(2020, 3, 31), utc(2020, 4, 1), "quarter", {}, 1),
        (utc(2020, 1, 31), utc(2020, 2, 1), "month", {}, 1),
        (utc(2022, 1, 1), utc(2022, 1, 9), "week", {}, 2),
        (utc(2022, 1, 1), utc(2022, 1, 9), "week", {"startOfWeek": "monday"}, 1),
        (utc(2022, 1, 1), utc(2022, 1, 9), "week", {"startOfWeek": "SAT"}, 1),
        (utc(2020, 1, 1, 10, 59), utc(2020, 1, 1, 11, 1), "hour", {}, 1),
        (utc(2020, 1, 1, 10, 59), utc(2020, 1, 1, 11, 1), "minute", {}, 2),
        (utc(2020, 1, 1, 0, 0, 0, 999000), utc(2020, 1, 1, 0, 0, 1), "second", {}, 1),
        (utc(2020, 1, 1), utc(2020, 1, 1, 0, 0, 1), "millisecond", {}, 1000),
        # In a +05:30 zone, 04:00Z and 05:00Z are 09:30 and 10:30: one hour boundary.
        (utc(2020, 1, 1, 4), utc(2020, 1, 1, 5), "hour", {"timezone": "+05:30"}, 1),
        (utc(2020, 1, 1, 4), utc(2020, 1, 1, 23), "day", {"timezone": "+05:30"}, 1),
        (utc(2020, 1, 1), None, "day", {}, None),
        (utc(2020, 1, 1), utc(2020, 1, 2), "day", {"timezone": None}, None),
    ],
)
def test_date_diff(start: Any, end: Any, unit: str, extra: dict[str, Any], expected: Any) -> None:
    spec = {"$dateDiff": {"startDate": start, "endDate": end, "unit": unit, **extra}}
    result = run(spec)
    assert result == expected
    assert expected is None or isinstance(result, Int64)


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ({"$year": "x"}, 16006, "can't convert from BSON type string to Date"),
        ({"$year": {"date": "$d", "zone": 1}}, 40535, 'unrecognized option to $year: "zone"'),
        (
            {"$year": {"timezone": "UTC"}},
            40539,
            "missing 'date' argument to $year, provided: $year: { timezone: \"UTC\" }",
        ),
        (
            {"$year": [1, 2]},
            40536,
            "$year accepts exactly one argument if given an array, but was given 2",
        ),
        (
            {"$hour": {"date": "$d", "timezone": 5}},
            40533,
            "$hour requires a string for the timezone argument, but was given a int (5)",
        ),
        (
            {"$hour": {"date": "$d", "timezone": "Mars/Olympus"}},
            40485,
            'unrecognized time zone identifier: "Mars/Olympus"',
        ),
        ({"$dateToString": 1}, 18629, "$dateToString only supports an object as its argument"),
        (
            {"$dateToString": {"date": "$d", "x": 1}},
            18534,
            "Unrecognized argument to $dateToString: x",
        ),
        ({"$dateToString": {"format": "%Y"}}, 18628, "Missing 'date' parameter to $dateToString"),
        (
            {"$dateToString": {"date": "$d", "format": "%Q"}},
            18536,
            "Invalid format character '%Q' in format string",
        ),
        (
            {"$dateToString": {"date": "$d", "format": "%Y%"}},
            18535,
            "Unmatched '%' at end of format string",
        ),
        (
            {"$dateToString": {"date": "$d", "format": {"$literal": "%q"}}},
            18536,
            "Invalid format character '%q' in format string",
        ),
        (
            {"$dateToString": {"date": "$d", "format": 5}},
            18533,
            "$dateToString requires that 'format' be a string, found: int with value 5",
        ),
        (
            {"$dateToString": {"date": "$d", "timezone": 5}},
            40517,
            "timezone must evaluate to a string, found int",
        ),
        (
            {"$dateToString": {"date": {"$literal": DatetimeMS(253402300800000)}}},
            18537,
            "Could not "
            "convert date to string: date component was outside the supported range of 0-9999: "
            "10000",
        ),
        (
            {"$dateFromString": 1},
            40540,
            "$dateFromString only supports an object as an argument, found: int",
        ),
        (
            {"$dateFromString": {"dateString": "x", "y": 1}},
            40541,
            "Unrecognized argument to $dateFromString: y",
        ),
        (
            {"$dateFromString": {"format": "%Y"}},
            40542,
            "Missing 'dateString' parameter to $dateFromString",
        ),
        (
            {"$dateFromString": {"dateString": "x", "format": "%Q"}},
            18536,
            "Invalid format character '%Q' in format string",
        ),
        (
            {"$dateFromString": {"dateString": "x", "format": 1}},
            40684,
            "$dateFromString requires that 'format' be a string, found: int with value 1",
        ),
        (
            {"$dateFromString": {"dateString": "x", "format": {"$literal": "%Q"}}},
            18536,
            "Invalid format character '%Q' in format string",
        ),
        (
            {"$dateFromString": {"dateString": 5}},
            241,
            "$dateFromString requires that 'dateString' be a string, found: int with value 5",
        ),
        (
            {"$dateFromString": {"dateString": "2017"}},
            241,
            "Error parsing date string '2017'; the string does not match the expected format",
        ),
        (
            {"$dateFromString": {"dateString": "2017-01-01Z", "timezone": "UTC"}},
            241,
            "you cannot "
            "pass in a date/time string with GMT offset together with a timezone argument",
        ),
        (
            {"$dateFromString": {"dateString": "x", "timezone": 1, "onError": 0}},
            40517,
            "timezone must evaluate to a string, found int",
        ),
        ({"$dateAdd": 1}, 5166400, "$dateAdd expects an object as its argument, found: int"),
        (
            {"$dateAdd": {"startDate": 1, "unit": "day", "amount": 1, "x": 1}},
            5166401,
            "Unrecognized argument to $dateAdd: x",
        ),
        (
            {"$dateSubtract": {"startDate": 1, "unit": "day"}},
            5166402,
            "$dateSubtract requires startDate, unit, and amount to be present",
        ),
        (
            {"$dateAdd": {"startDate": 1, "unit": "day", "amount": 1}},
            5166403,
            "$dateAdd requires startDate to be convertible to a date",
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": 1, "amount": 1}},
            5439013,
            "$dateAdd requires 'unit' to be a string, but got int",
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": "days", "amount": 1}},
            9,
            "unknown time unit value: days",
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": "day", "amount": 1.5}},
            5166405,
            "$dateAdd expects integer amount of time units",
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": "day", "amount": "x"}},
            5166405,
            "$dateAdd expects integer amount of time units",
        ),
        (
            {"$dateAdd": {"startDate": "$d", "unit": "millisecond", "amount": 2**63 - 1}},
            5166406,
            "$dateAdd overflowed",
        ),
        (
            {"$dateDiff": 1},
            5166301,
            "$dateDiff only supports an object as its argument, found: int",
        ),
        (
            {"$dateDiff": {"startDate": 1, "endDate": 1, "unit": "day", "x": 1}},
            5166302,
            "Unrecognized argument to $dateDiff: x",
        ),
        (
            {"$dateDiff": {"endDate": 1, "unit": "day"}},
            5166303,
            "Missing 'startDate' parameter to $dateDiff",
        ),
        (
            {"$dateDiff": {"startDate": 1, "unit": "day"}},
            5166304,
            "Missing 'endDate' parameter to $dateDiff",
        ),
        (
            {"$dateDiff": {"startDate": 1, "endDate": 1}},
            5166305,
            "Missing 'unit' parameter to $dateDiff",
        ),
        (
            {"$dateDiff": {"startDate": "$d", "endDate": "x", "unit": "day"}},
            5166307,
            "$dateDiff requires 'endDate' to be a date, but got string",
        ),
        (
            {"$dateDiff": {"startDate": "$d", "endDate": "$d", "unit": "day", "startOfWeek": 1}},
            5439015,
            "$dateDiff requires 'startOfWeek' to be a string, but got int",
        ),
        (
            {"$dateDiff": {"startDate": "$d", "endDate": "$d", "unit": "week", "startOfWeek": "x"}},
            5439016,
            "unknown day of week value: x",
        ),
        # Not emulated, so an unknown operator (the server has it since 5.0).
        (
            {"$dateTrunc": {"date": "$d", "unit": "day"}},
            168,
            "Unrecognized expression '$dateTrunc'",
        ),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(spec)
    assert (info.value.code, info.value.errmsg) == (code, message)


def test_zones_are_cached_and_offsets_parse() -> None:
    assert zone("+05") is zone("+05")
    assert local_time(0, zone("-01:30")).offset_minutes == -90
    assert local_time(0).offset_minutes == 0


@given(st.integers(-(2**40), 2**40))
def test_calendar_round_trips(days: int) -> None:
    assert days_from_civil(*civil_from_days(days)) == days


@given(
    st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30))
)
def test_parts_agree_with_python(moment: datetime.datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
    local = local_time(millis_of(moment))
    assert (local.year, local.month, local.day) == (moment.year, moment.month, moment.day)
    assert local.iso_week_and_year == (moment.isocalendar()[1], moment.isocalendar()[0])
    assert local.week == int(moment.strftime("%U"))
    assert date_from_millis(millis_of(moment)) == moment
    assert iso_string(moment)[:10] == f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
