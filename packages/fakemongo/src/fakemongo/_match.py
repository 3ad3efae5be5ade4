"""Query filters: compile a filter document once into a matcher, then match many.

Semantics follow the server's MatchExpression (manual, "Query and Projection
Operators"): every path predicate is tried against each candidate that
:func:`fakemongo._paths.candidates` yields; comparisons are type-bracketed (``$gt: 5``
never matches a string; only MinKey/MaxKey cross brackets, and null equals missing);
``$ne``/``$nin``/``$not``/``$exists: false`` negate the whole path. A match also
reports the array index it went through, as the server's MatchDetails do, for
positional ``$`` projections and updates (:meth:`Matcher.match_index`).

Invalid filters raise :class:`CommandError` with MongoDB's code and wording; what
cannot be emulated (``$where``, ``$text``, geo operators) raises 115.
"""

from __future__ import annotations

import enum
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bson import DBRef, Decimal128, Int64

from fakemongo._bsonorder import (
    MISSING,
    Rank,
    StringKey,
    bson_repr,
    is_nan,
    regex_flags,
    sort_key,
    type_alias,
    type_number,
    type_rank,
)
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import compile_expression, evaluate, to_bool
from fakemongo._paths import LeafArrays, candidates

__all__ = ["Matcher", "compile_filter", "compile_regex"]

Details = list[int | None]
"""One slot: the array offset recorded by the last predicate that matched."""
Node = Callable[[Mapping[str, Any], "Details | None"], bool]
Pred = Callable[[Any], bool]
ArrayTest = Callable[[list[Any]], "int | None"]  # index matched, -1 without one, None


class _Level(enum.Enum):
    TOP = 0  # the filter itself and its $and/$or/$nor children
    SUB = 1  # inside an $elemMatch object


@dataclass(frozen=True, slots=True)
class _FieldExpr:
    """A predicate under a path: over a whole document, and over one value."""

    doc: Node
    single: Pred


@dataclass(frozen=True, slots=True)
class Matcher:
    """A compiled filter. Thread-safe and reusable."""

    _node: Node

    def matches(self, doc: Mapping[str, Any]) -> bool:
        """Whether ``doc`` matches the filter."""
        return self._node(doc, None)

    def match_index(self, doc: Mapping[str, Any]) -> tuple[bool, int | None]:
        """Whether ``doc`` matches, and the array index the match went through.

        The index is the server's ``elemMatchKey``: set by the last matching path
        predicate that traversed an array (outermost array wins), never by ``$or``,
        ``$nor`` or negations. ``None`` when no array was involved.
        """
        details: Details = [None]
        matched = self._node(doc, details)
        return matched, details[0] if matched else None


def compile_filter(filter: Mapping[str, Any], string_key: StringKey | None = None) -> Matcher:
    """Compile a filter document; ``string_key`` is a collation's string key.

    Raises CommandError (2 BadValue, 9 FailedToParse, 14 TypeMismatch, 51091,
    51108... as the server) for an invalid filter, 115 for an unsupported operator.
    """
    return Matcher(_Parser(string_key).parse(filter, _Level.TOP))


# ---------------------------------------------------------------- regexes

_PCRE_ESCAPES = {"z": r"\Z", "Z": r"(?=\n?\Z)"}
_RE_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": 0}


def _translate(pattern: str) -> str:
    """PCRE syntax Python spells differently: ``(?<name>``, ``\\z``, ``\\Z``."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(_PCRE_ESCAPES.get(nxt, char + nxt))
            i += 2
            continue
        if pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_regex(pattern: str, options: str) -> re.Pattern[str]:
    """Compile a MongoDB regex (PCRE dialect) with options ``imsxu``.

    Raises CommandError 51108 for an unknown option, 2 for an embedded NUL, 51091
    for a pattern that does not compile.
    """
    flags = 0
    for letter in options:
        if letter not in _RE_FLAGS:
            raise CommandError(
                ErrorCode.Location51108, f" invalid flag in regex options: {letter}"
            )
        flags |= _RE_FLAGS[letter]
    if "\0" in pattern:
        raise CommandError(
            ErrorCode.BadValue, "Regular expression cannot contain an embedded null byte"
        )
    try:
        return re.compile(_translate(pattern), flags)
    except re.error as exc:
        raise CommandError(
            ErrorCode.Location51091, f"Regular expression is invalid: {exc.msg}"
        ) from None


def _regex_pred(pattern: str, options: str) -> Pred:
    compiled = compile_regex(pattern, options)
    literal = (Rank.REGEX, pattern, "".join(sorted(options)))

    def pred(value: Any) -> bool:
        if isinstance(value, str):
            return compiled.search(value) is not None
        return type_rank(value) == Rank.REGEX and sort_key(value) == literal

    return pred


def _is_regex(value: Any) -> bool:
    return type_rank(value) == Rank.REGEX


def _regex_of(value: Any) -> Pred:
    return _regex_pred(str(value.pattern), regex_flags(value))


# ---------------------------------------------------------------- numbers


def _elem(name: str, value: Any) -> str:
    return f"{name}: {bson_repr(value)}"


def _integer(name: str, value: Any) -> int:
    """The server's parseIntegerElementToLong; raises 9 FailedToParse."""
    rank = type_rank(value)
    if rank != Rank.NUMBER:
        raise CommandError(ErrorCode.FailedToParse, f"Expected a number in: {_elem(name, value)}")
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if is_nan(value):
        raise CommandError(
            ErrorCode.FailedToParse, f"Expected an integer, but found NaN in: {_elem(name, value)}"
        )
    if not -(2**63) <= number < 2**63 or (isinstance(number, float) and math.isinf(number)):
        raise CommandError(
            ErrorCode.FailedToParse, f"Cannot represent as a 64-bit integer: {_elem(name, value)}"
        )
    if number != int(number):
        raise CommandError(ErrorCode.FailedToParse, f"Expected an integer: {_elem(name, value)}")
    return int(number)


def _coerce_long(value: Any) -> int | str:
    """Truncate a number to int64 as ``$mod`` does; an error reason when impossible."""
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if is_nan(value) or number in (math.inf, -math.inf):
        return "Unable to coerce NaN/Inf to integral type"
    if not -(2**63) <= number < 2**63:
        return "Out of bounds coercing to integral value"
    return int(number)


# ---------------------------------------------------------------- type sets

_TYPE_ALIASES = {
    "double": 1, "string": 2, "object": 3, "array": 4, "binData": 5, "undefined": 6,
    "objectId": 7, "bool": 8, "date": 9, "null": 10, "regex": 11, "dbPointer": 12,
    "javascript": 13, "symbol": 14, "javascriptWithScope": 15, "int": 16,
    "timestamp": 17, "long": 18, "decimal": 19, "minKey": -1, "maxKey": 127,
}  # fmt: skip
_NUMBER_TYPES = frozenset({1, 16, 18, 19})


def parse_type_set(name: str, spec: Any, aliases: Mapping[str, int] = _TYPE_ALIASES) -> frozenset[int]:
    """A ``$type`` argument as a set of BSON type numbers ("number" expands).

    Raises 14 TypeMismatch for a non-number non-string, 2 for an unknown alias or
    code, 9 for an empty array (manual, "$type": "Available Types").
    """
    types: set[int] = set()
    for item in spec if isinstance(spec, list) else [spec]:
        rank = type_rank(item)
        if rank == Rank.STRING:
            if item == "number":
                types |= _NUMBER_TYPES
            elif item in aliases:
                types.add(aliases[item])
            elif item == "missing":
                raise CommandError(
                    ErrorCode.BadValue,
                    "'missing' is not a legal type name. To query for non-existence of a "
                    "field, use {$exists:false}.",
                )
            else:
                raise CommandError(ErrorCode.BadValue, f"Unknown type name alias: {item}")
        elif rank == Rank.NUMBER:
            types.add(_type_code(item))
        else:
            raise CommandError(
                ErrorCode.TypeMismatch, "type must be represented as a number or a string"
            )
    if not types:
        raise CommandError(ErrorCode.FailedToParse, f"{name} must match at least one type")
    return frozenset(types)


def _type_code(item: Any) -> int:
    shown = str(item.to_decimal() if isinstance(item, Decimal128) else item)
    try:
        code = _integer("", item)
    except CommandError:
        raise CommandError(ErrorCode.BadValue, f"Invalid numerical type code: {shown}") from None
    if code == 0:
        raise CommandError(
            ErrorCode.BadValue,
            f"Invalid numerical type code: {shown}. Instead use {{$exists:false}}.",
        )
    if code not in _TYPE_ALIASES.values():
        raise CommandError(ErrorCode.BadValue, f"Invalid numerical type code: {shown}")
    return code


def _type_pred(types: frozenset[int]) -> Pred:
    return lambda value: value is not MISSING and type_number(value) in types


# ---------------------------------------------------------------- bit tests


class _Bits(enum.Enum):
    ALL_SET = "$bitsAllSet"
    ALL_CLEAR = "$bitsAllClear"
    ANY_SET = "$bitsAnySet"
    ANY_CLEAR = "$bitsAnyClear"


def _bit_positions(name: str, spec: Any) -> list[int]:
    if isinstance(spec, list):
        positions = []
        for index, item in enumerate(spec):
            shown = _elem(str(index), item)
            if type_rank(item) != Rank.NUMBER:
                raise CommandError(
                    ErrorCode.BadValue, f"bit positions must be an integer but got: {shown}"
                )
            if is_nan(item):
                raise CommandError(ErrorCode.BadValue, f"bit positions cannot take a NaN: {shown}")
            number = item.to_decimal() if isinstance(item, Decimal128) else item
            if not -(2**31) <= number < 2**31:
                raise CommandError(
                    ErrorCode.BadValue,
                    f"bit positions cannot be represented as a 32-bit signed integer: {shown}",
                )
            if number != int(number):
                raise CommandError(
                    ErrorCode.BadValue, f"bit positions must be an integer but got: {shown}"
                )
            if number < 0:
                raise CommandError(ErrorCode.BadValue, f"bit positions must be >= 0 but got: {shown}")
            positions.append(int(number))
        return positions
    if type_rank(spec) == Rank.NUMBER:
        mask = _integer(name, spec)
        if mask < 0:
            raise CommandError(
                ErrorCode.FailedToParse, f"Expected a positive number in: {_elem(name, spec)}"
            )
        return [bit for bit in range(64) if mask >> bit & 1]
    if type_rank(spec) == Rank.BINDATA and not isinstance(spec, type(MISSING)):
        data = sort_key(spec)[3]
        return [8 * i + bit for i, byte in enumerate(data) for bit in range(8) if byte >> bit & 1]
    raise CommandError(
        ErrorCode.BadValue,
        f"{name} takes an Array, a number, or a BinData but received: {_elem(name, spec)}",
    )


def _bits_pred(kind: _Bits, positions: list[int]) -> Pred:
    mask = 0
    for position in positions:
        mask |= 1 << min(position, 63)  # bits past 63 test the sign bit (sign extension)
    want_set = kind in (_Bits.ALL_SET, _Bits.ANY_SET)
    want_all = kind in (_Bits.ALL_SET, _Bits.ALL_CLEAR)

    def test(is_set: Callable[[int], bool]) -> bool:
        hits = (is_set(position) == want_set for position in positions)
        return all(hits) if want_all else any(hits)

    def pred(value: Any) -> bool:
        rank = type_rank(value)
        if rank == Rank.BINDATA:
            data = sort_key(value)[3]
            return test(lambda p: p < 8 * len(data) and bool(data[p // 8] >> (p % 8) & 1))
        if rank != Rank.NUMBER or is_nan(value):
            return False
        number = value.to_decimal() if isinstance(value, Decimal128) else value
        if not -(2**63) <= number < 2**63 or number != int(number):
            return False
        bits = int(number) & mask
        if want_set:
            return bits == mask if want_all else bits != 0
        return bits == 0 if want_all else bits != mask

    return pred


# ---------------------------------------------------------------- nodes


def _path_node(path: str, pred: Pred) -> Node:
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (name,) = parts

        def top_level(doc: Mapping[str, Any], details: Details | None) -> bool:
            value = doc.get(name, MISSING)
            if not isinstance(value, list):
                return pred(value)
            for index, item in enumerate(value):
                if pred(item):
                    if details is not None:
                        details[0] = index
                    return True
            return pred(value)

        return top_level

    def nested(doc: Mapping[str, Any], details: Details | None) -> bool:
        for value, offset in candidates(doc, parts):
            if pred(value):
                if details is not None and offset is not None:
                    details[0] = offset
                return True
        return False

    return nested


def _array_expr(path: str, test: ArrayTest) -> _FieldExpr:
    """An array operator ($size, $elemMatch): leaf arrays are not traversed."""
    parts = tuple(path.split("."))

    def doc_node(doc: Mapping[str, Any], details: Details | None) -> bool:
        for value, offset in candidates(doc, parts, LeafArrays.NO_TRAVERSE):
            if isinstance(value, list):
                index = test(value)
                if index is not None:
                    if details is not None:
                        details[0] = offset if offset is not None else None if index < 0 else index
                    return True
        return False

    return _FieldExpr(doc_node, lambda value: isinstance(value, list) and test(value) is not None)


def _leaf(path: str, pred: Pred) -> _FieldExpr:
    return _FieldExpr(_path_node(path, pred), pred)


def _negate(expr: _FieldExpr) -> _FieldExpr:
    inner_doc, inner_single = expr.doc, expr.single
    return _FieldExpr(lambda doc, details: not inner_doc(doc, None), lambda v: not inner_single(v))


def _all_of(exprs: list[_FieldExpr]) -> _FieldExpr:
    if len(exprs) == 1:
        return exprs[0]
    docs, singles = [e.doc for e in exprs], [e.single for e in exprs]
    return _FieldExpr(_and_node(docs), lambda v: all(single(v) for single in singles))


def _and_node(nodes: list[Node]) -> Node:
    if len(nodes) == 1:
        return nodes[0]

    def and_node(doc: Mapping[str, Any], details: Details | None) -> bool:
        for node in nodes:
            if not node(doc, details):
                if details is not None:
                    details[0] = None
                return False
        return True

    return and_node


def _or_node(nodes: list[Node]) -> Node:
    return lambda doc, details: any(node(doc, None) for node in nodes)


def _nor_node(nodes: list[Node]) -> Node:
    return lambda doc, details: not any(node(doc, None) for node in nodes)


from fakemongo._matchops import _Parser  # noqa: E402  (the parser builds on the nodes above)
