"""BSON comparison and sort order across types, exactly as MongoDB orders values.

Manual, "Comparison/Sort Order": MinKey < (missing) < null < numbers < symbol/string
< object < array < binData < ObjectId < bool < date < timestamp < regex < code
< code with scope < MaxKey. Numbers of every width compare by value (NaN lowest);
objects compare pair by pair (field type, then name, then value); arrays element by
element; binData by length, then subtype, then bytes.

The core is :func:`sort_key`: a hashable tuple whose Python ordering *is* the BSON
ordering and whose equality *is* BSON equality (``1 == 1.0 == Int64(1) ==
Decimal128("1")``; ``True != 1``). Everything else is built on it. Values are what
pymongo's ``bson`` decodes to; :data:`MISSING` stands for an absent field.
"""

from __future__ import annotations

import datetime
import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

from bson import DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.binary import Binary
from bson.code import Code
from bson.datetime_ms import DatetimeMS

__all__ = [
    "MISSING",
    "Rank",
    "StringKey",
    "bson_repr",
    "compare",
    "is_nan",
    "is_number",
    "regex_flags",
    "sort_key",
    "type_alias",
    "type_number",
    "type_rank",
    "values_equal",
]

StringKey = Callable[[str], Any]
"""Maps a string to its comparison key (a collation); ``None`` means binary order."""


class _Missing:
    """The value of an absent field; sorts below null (canonical type 0)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()


class Rank:
    """Canonical type ranks (the server's ``canonicalizeBSONType``)."""

    MINKEY = -1
    MISSING = 0  # also undefined
    NULL = 5
    NUMBER = 10
    STRING = 15
    OBJECT = 20
    ARRAY = 25
    BINDATA = 30
    OBJECTID = 35
    BOOL = 40
    DATE = 45
    TIMESTAMP = 47
    REGEX = 50
    CODE = 60
    CODE_W_SCOPE = 65
    MAXKEY = 127


_RANKS: dict[type, int] = {
    bool: Rank.BOOL,
    int: Rank.NUMBER,
    Int64: Rank.NUMBER,
    float: Rank.NUMBER,
    Decimal128: Rank.NUMBER,
    str: Rank.STRING,
    dict: Rank.OBJECT,
    DBRef: Rank.OBJECT,
    list: Rank.ARRAY,
    tuple: Rank.ARRAY,
    bytes: Rank.BINDATA,
    Binary: Rank.BINDATA,
    uuid.UUID: Rank.BINDATA,
    ObjectId: Rank.OBJECTID,
    datetime.datetime: Rank.DATE,
    DatetimeMS: Rank.DATE,
    Timestamp: Rank.TIMESTAMP,
    Regex: Rank.REGEX,
    re.Pattern: Rank.REGEX,
    MinKey: Rank.MINKEY,
    MaxKey: Rank.MAXKEY,
    type(None): Rank.NULL,
    _Missing: Rank.MISSING,
}


def type_rank(value: Any) -> int:
    """The canonical type rank of ``value``; raises TypeError for a non-BSON value."""
    rank = _RANKS.get(type(value))
    if rank is not None:
        return int(rank)
    if isinstance(value, Code):  # a str subclass: test before the Mapping/str fallbacks
        return Rank.CODE if value.scope is None else Rank.CODE_W_SCOPE
    for kind, kind_rank in _RANKS.items():
        if isinstance(value, kind):
            return kind_rank
    if isinstance(value, Mapping):
        return Rank.OBJECT
    raise TypeError(f"not a BSON value: {value!r}")


def is_number(value: Any) -> bool:
    """True for int32, int64, double and decimal128 values (never for bool)."""
    return type_rank(value) == Rank.NUMBER


def is_nan(value: Any) -> bool:
    """True for a double or decimal128 NaN."""
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, Decimal128) and value.to_decimal().is_nan()


_EPOCH_NAIVE = datetime.datetime(1970, 1, 1)
_EPOCH_AWARE = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MS = datetime.timedelta(milliseconds=1)


def _millis(value: Any) -> int:
    if isinstance(value, DatetimeMS):
        return int(value)
    epoch = _EPOCH_NAIVE if value.tzinfo is None else _EPOCH_AWARE
    millis: int = (value - epoch) // _MS
    return millis


_FLAG_LETTERS = (
    (re.IGNORECASE, "i"),
    (re.LOCALE, "l"),
    (re.MULTILINE, "m"),
    (re.DOTALL, "s"),
    (re.UNICODE, "u"),
    (re.VERBOSE, "x"),
)


def regex_flags(value: Regex[Any] | re.Pattern[Any]) -> str:
    """The BSON option letters of a regex value (alphabetical, as bson encodes them)."""
    flags = int(value.flags)  # bson.Regex turns option letters into re flags
    if isinstance(value, re.Pattern) and flags == re.UNICODE:
        return ""  # Python sets UNICODE on every str pattern; it is not a user option
    return "".join(letter for bit, letter in _FLAG_LETTERS if flags & bit)


def _binary_key(value: Any) -> tuple[Any, ...]:
    if isinstance(value, uuid.UUID):
        data, subtype = value.bytes, 4
    else:
        data, subtype = bytes(value), getattr(value, "subtype", 0)
    return (Rank.BINDATA, len(data), subtype, data)


def _number_key(value: Any) -> tuple[Any, ...]:
    if isinstance(value, Decimal128):
        value = value.to_decimal()
        if value.is_nan():
            return (Rank.NUMBER, 0)
        return (Rank.NUMBER, 1, value)
    if isinstance(value, float) and math.isnan(value):  # lowest number, equal to itself
        return (Rank.NUMBER, 0)
    return (Rank.NUMBER, 1, value)


_STRING_RANK = int(Rank.STRING)  # type_rank's value for a str


def sort_key(value: Any, string_key: StringKey | None = None) -> tuple[Any, ...]:
    """A hashable key ordering and equating values as MongoDB does.

    ``sort_key(a) < sort_key(b)`` iff ``a`` sorts before ``b``; equal keys mean BSON
    equality. ``string_key`` (a collation) replaces binary string comparison.
    Raises TypeError for a value that is not BSON.
    """
    # The commonest _id and index values first, with the keys the general
    # code below gives them.
    kind = type(value)
    if kind is int:
        return (Rank.NUMBER, 1, value)
    if kind is str and string_key is None:
        return (_STRING_RANK, value)
    rank = type_rank(value)
    if rank == Rank.NUMBER:
        return _number_key(value)
    if rank == Rank.STRING:
        return (rank, value if string_key is None else string_key(value))
    if rank == Rank.OBJECT:
        items = value.as_doc().items() if isinstance(value, DBRef) else value.items()
        pairs = []
        for name, item in items:
            key = sort_key(item, string_key)
            # Manual: objects compare field type first, then field name, then value.
            pairs.append((key[0], name, key))
        return (rank, tuple(pairs))
    if rank == Rank.ARRAY:
        return (rank, tuple([sort_key(item, string_key) for item in value]))
    if rank == Rank.BINDATA:
        return _binary_key(value)
    if rank == Rank.OBJECTID:
        return (rank, value.binary)
    if rank == Rank.BOOL:
        return (rank, value)
    if rank == Rank.DATE:
        return (rank, _millis(value))
    if rank == Rank.TIMESTAMP:
        return (rank, value.time, value.inc)
    if rank == Rank.REGEX:
        return (rank, str(value.pattern), regex_flags(value))
    if rank == Rank.CODE:
        return (rank, str(value))
    if rank == Rank.CODE_W_SCOPE:
        return (rank, str(value), sort_key(value.scope, string_key))
    return (rank,)  # MinKey, MaxKey, null, missing: one value each


def _fast(a: Any, b: Any, string_key: StringKey | None) -> bool:
    """Both plain ints, both non-NaN floats, or both strings under binary order."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is int:
        return True
    if kind is float:
        return not (math.isnan(a) or math.isnan(b))
    return kind is str and string_key is None


def compare(a: Any, b: Any, string_key: StringKey | None = None) -> int:
    """-1, 0 or 1 as ``a`` sorts before, with, or after ``b`` in BSON order."""
    if _fast(a, b, string_key):
        return int(a > b) - int(a < b)
    ka, kb = sort_key(a, string_key), sort_key(b, string_key)
    return int(ka > kb) - int(ka < kb)


def values_equal(a: Any, b: Any, string_key: StringKey | None = None) -> bool:
    """BSON equality: numbers by value across widths, ``True != 1``, NaN equals NaN."""
    if _fast(a, b, string_key):
        return bool(a == b)
    return sort_key(a, string_key) == sort_key(b, string_key)


_ALIASES: dict[int, tuple[str, int]] = {
    Rank.MINKEY: ("minKey", -1),
    Rank.MISSING: ("missing", 0),
    Rank.NULL: ("null", 10),
    Rank.STRING: ("string", 2),
    Rank.OBJECT: ("object", 3),
    Rank.ARRAY: ("array", 4),
    Rank.BINDATA: ("binData", 5),
    Rank.OBJECTID: ("objectId", 7),
    Rank.BOOL: ("bool", 8),
    Rank.DATE: ("date", 9),
    Rank.TIMESTAMP: ("timestamp", 17),
    Rank.REGEX: ("regex", 11),
    Rank.CODE: ("javascript", 13),
    Rank.CODE_W_SCOPE: ("javascriptWithScope", 15),
    Rank.MAXKEY: ("maxKey", 127),
}
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _type_info(value: Any) -> tuple[str, int]:
    rank = type_rank(value)
    if rank != Rank.NUMBER:
        return _ALIASES[rank]
    if isinstance(value, float):
        return ("double", 1)
    if isinstance(value, Decimal128):
        return ("decimal", 19)
    if isinstance(value, Int64) or not _INT32_MIN <= value <= _INT32_MAX:
        return ("long", 18)  # a Python int too wide for int32 is encoded as int64
    return ("int", 16)


def type_alias(value: Any) -> str:
    """MongoDB's type name for a value ("double", "int", "long", "missing"...)."""
    return str(_type_info(value)[0])


def type_number(value: Any) -> int:
    """The BSON type number of a value (1 double ... 19 decimal, -1 minKey, 127 maxKey)."""
    return _type_info(value)[1]


def bson_repr(value: Any) -> str:
    """Render a value the way server error messages print BSON (``{ a: 1, b: "x" }``)."""
    rank = type_rank(value)
    if rank == Rank.STRING:
        return '"' + str(value).replace('"', '\\"') + '"'
    if rank == Rank.OBJECT:
        items = value.as_doc().items() if isinstance(value, DBRef) else value.items()
        if not items:
            return "{}"
        return "{ " + ", ".join(f"{k}: {bson_repr(v)}" for k, v in items) + " }"
    if rank == Rank.ARRAY:
        return "[ " + ", ".join(bson_repr(v) for v in value) + " ]" if value else "[]"
    if rank == Rank.BOOL:
        return "true" if value else "false"
    if rank in (Rank.NULL, Rank.MISSING):
        return "null"
    if rank == Rank.NUMBER:
        return _number_repr(value)
    if rank == Rank.OBJECTID:
        return f"ObjectId('{value}')"
    if rank == Rank.REGEX:
        return f"/{value.pattern}/{regex_flags(value)}"
    return repr(value)


def _number_repr(value: Any) -> str:
    if isinstance(value, Decimal128):
        return f'NumberDecimal("{value}")'
    if isinstance(value, Int64):
        return str(int(value))
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return f"{value:.1f}"  # the server prints integral doubles as "1.0"
    return str(value)
