"""Building blocks of compiled filters: predicates, path nodes and their combinators.

A *predicate* tests one value; a *node* tests a whole document (walking a path with
:func:`fakemongo._paths.candidates` and recording the array offset the server calls
``elemMatchKey``); a :class:`FieldExpr` is both, because ``$elemMatch`` and ``$not``
need a predicate's single-value form as well as its document form. Argument parsing
that is shared by several operators ($type sets, bit masks, integers, regexes) lives
here with the server's error codes and wording.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bson import Decimal128

from fakemongo._bsonorder import (
    MISSING,
    Rank,
    bson_repr,
    is_nan,
    regex_flags,
    sort_key,
    type_number,
    type_rank,
)
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._paths import LeafArrays, candidates

__all__ = [
    "TYPE_ALIASES",
    "ArrayTest",
    "Bits",
    "Details",
    "FieldExpr",
    "Node",
    "Pred",
    "all_of",
    "and_node",
    "array_expr",
    "bit_positions",
    "bits_pred",
    "coerce_long",
    "compile_regex",
    "elem_repr",
    "is_regex",
    "leaf",
    "negate",
    "nor_node",
    "or_node",
    "parse_integer",
    "parse_type_set",
    "path_node",
    "regex_of",
    "regex_pred",
    "type_pred",
]

Details = list[int | None]
"""One slot: the array offset recorded by the last path predicate that matched."""
Node = Callable[[Mapping[str, Any], "Details | None"], bool]
"""Tests a document; may record an array offset into the Details it is given."""
Pred = Callable[[Any], bool]
"""Tests one value (a candidate reached by a path, or an array element)."""
ArrayTest = Callable[[list[Any]], "int | None"]
"""Tests an array: the matching element's index, -1 for a match without one, or None."""


@dataclass(frozen=True, slots=True)
class FieldExpr:
    """A predicate under a path: over a whole document, and over one value."""

    doc: Node
    single: Pred


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
            raise CommandError(ErrorCode.Location51108, f" invalid flag in regex options: {letter}")
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


def regex_pred(pattern: str, options: str) -> Pred:
    compiled = compile_regex(pattern, options)
    literal = (Rank.REGEX, pattern, "".join(sorted(options)))

    def pred(value: Any) -> bool:
        if isinstance(value, str):
            return compiled.search(value) is not None
        return type_rank(value) == Rank.REGEX and sort_key(value) == literal

    return pred


def is_regex(value: Any) -> bool:
    return type_rank(value) == Rank.REGEX


def regex_of(value: Any) -> Pred:
    return regex_pred(str(value.pattern), regex_flags(value))


# ---------------------------------------------------------------- numbers


def elem_repr(name: str, value: Any) -> str:
    return f"{name}: {bson_repr(value)}"


def parse_integer(name: str, value: Any) -> int:
    """The server's parseIntegerElementToLong; raises 9 FailedToParse."""
    rank = type_rank(value)
    if rank != Rank.NUMBER:
        raise CommandError(
            ErrorCode.FailedToParse, f"Expected a number in: {elem_repr(name, value)}"
        )
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if is_nan(value):
        raise CommandError(
            ErrorCode.FailedToParse,
            f"Expected an integer, but found NaN in: {elem_repr(name, value)}",
        )
    if not -(2**63) <= number < 2**63 or (isinstance(number, float) and math.isinf(number)):
        raise CommandError(
            ErrorCode.FailedToParse,
            f"Cannot represent as a 64-bit integer: {elem_repr(name, value)}",
        )
    if number != int(number):
        raise CommandError(
            ErrorCode.FailedToParse, f"Expected an integer: {elem_repr(name, value)}"
        )
    return int(number)


def coerce_long(value: Any) -> int | str:
    """Truncate a number to int64 as ``$mod`` does; an error reason when impossible."""
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if is_nan(value) or number in (math.inf, -math.inf):
        return "Unable to coerce NaN/Inf to integral type"
    if not -(2**63) <= number < 2**63:
        return "Out of bounds coercing to integral value"
    return int(number)


# ---------------------------------------------------------------- type sets

TYPE_ALIASES = {
    "double": 1, "string": 2, "object": 3, "array": 4, "binData": 5, "undefined": 6,
    "objectId": 7, "bool": 8, "date": 9, "null": 10, "regex": 11, "dbPointer": 12,
    "javascript": 13, "symbol": 14, "javascriptWithScope": 15, "int": 16,
    "timestamp": 17, "long": 18, "decimal": 19, "minKey": -1, "maxKey": 127,
}  # fmt: skip
_NUMBER_TYPES = frozenset({1, 16, 18, 19})


def parse_type_set(
    name: str, spec: Any, aliases: Mapping[str, int] = TYPE_ALIASES
) -> frozenset[int]:
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
        code = parse_integer("", item)
    except CommandError:
        raise CommandError(ErrorCode.BadValue, f"Invalid numerical type code: {shown}") from None
    if code == 0:
        raise CommandError(
            ErrorCode.BadValue,
            f"Invalid numerical type code: {shown}. Instead use {{$exists:false}}.",
        )
    if code not in TYPE_ALIASES.values():
        raise CommandError(ErrorCode.BadValue, f"Invalid numerical type code: {shown}")
    return code


def type_pred(types: frozenset[int]) -> Pred:
    return lambda value: value is not MISSING and type_number(value) in types


# ---------------------------------------------------------------- bit tests


class Bits(enum.Enum):
    ALL_SET = "$bitsAllSet"
    ALL_CLEAR = "$bitsAllClear"
    ANY_SET = "$bitsAnySet"
    ANY_CLEAR = "$bitsAnyClear"


def bit_positions(path: str, op: str, spec: Any) -> list[int]:
    """The bit positions a ``$bits*`` argument tests: positions, a mask or BinData.

    Raises 2 BadValue / 9 FailedToParse with the server's wording for anything else.
    """
    if isinstance(spec, list):
        positions = []
        for index, item in enumerate(spec):
            shown = elem_repr(str(index), item)
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
                raise CommandError(
                    ErrorCode.BadValue, f"bit positions must be >= 0 but got: {shown}"
                )
            positions.append(int(number))
        return positions
    if type_rank(spec) == Rank.NUMBER:
        mask = parse_integer(op, spec)
        if mask < 0:
            raise CommandError(
                ErrorCode.FailedToParse, f"Expected a positive number in: {elem_repr(op, spec)}"
            )
        return [bit for bit in range(64) if mask >> bit & 1]
    if type_rank(spec) == Rank.BINDATA:
        data = sort_key(spec)[3]
        return [8 * i + bit for i, byte in enumerate(data) for bit in range(8) if byte >> bit & 1]
    raise CommandError(
        ErrorCode.BadValue,
        f"{path} takes an Array, a number, or a BinData but received: {elem_repr(op, spec)}",
    )


def bits_pred(kind: Bits, positions: list[int]) -> Pred:
    mask = 0
    for position in positions:
        mask |= 1 << min(position, 63)  # bits past 63 test the sign bit (sign extension)
    want_set = kind in (Bits.ALL_SET, Bits.ANY_SET)
    want_all = kind in (Bits.ALL_SET, Bits.ALL_CLEAR)

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


def path_node(path: str, pred: Pred) -> Node:
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
        value: Any = doc
        for part in parts:  # fast path: documents all the way down
            if not isinstance(value, Mapping):
                value = MISSING
                break
            value = value.get(part, MISSING)
            if isinstance(value, list):
                return through_arrays(doc, details)
            if value is MISSING:
                break
        return pred(value)

    def through_arrays(doc: Mapping[str, Any], details: Details | None) -> bool:
        for value, offset in candidates(doc, parts):
            if pred(value):
                if details is not None and offset is not None:
                    details[0] = offset
                return True
        return False

    return nested


def array_expr(path: str, test: ArrayTest) -> FieldExpr:
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

    return FieldExpr(doc_node, lambda value: isinstance(value, list) and test(value) is not None)


def leaf(path: str, pred: Pred) -> FieldExpr:
    return FieldExpr(path_node(path, pred), pred)


def negate(expr: FieldExpr) -> FieldExpr:
    inner_doc, inner_single = expr.doc, expr.single
    return FieldExpr(lambda doc, details: not inner_doc(doc, None), lambda v: not inner_single(v))


def all_of(exprs: list[FieldExpr]) -> FieldExpr:
    if len(exprs) == 1:
        return exprs[0]
    docs, singles = [e.doc for e in exprs], [e.single for e in exprs]
    return FieldExpr(and_node(docs), lambda v: all(single(v) for single in singles))


def and_node(nodes: list[Node]) -> Node:
    if len(nodes) == 1:
        return nodes[0]

    def conjunction(doc: Mapping[str, Any], details: Details | None) -> bool:
        for node in nodes:
            if not node(doc, details):
                if details is not None:
                    details[0] = None
                return False
        return True

    return conjunction


def or_node(nodes: list[Node]) -> Node:
    return lambda doc, details: any(node(doc, None) for node in nodes)


def nor_node(nodes: list[Node]) -> Node:
    return lambda doc, details: not any(node(doc, None) for node in nodes)
