"""Dotted field paths through embedded documents and arrays.

Two traversals exist in MongoDB and both live here:

* the query language's (:func:`candidates`): arrays along the path are traversed
  implicitly (``a.b`` reaches ``b`` in every document of the array ``a``); a numeric
  component is both an array index and a field name; a leaf array yields each of its
  elements *and* the array itself (manual, "Query an Array" and "Query on Embedded
  Documents"). Every candidate carries the index of the outermost array element it
  came through, which positional ``$`` projection and updates need.
* the aggregation language's (:func:`expr_path_value`): ``$a.b`` maps over arrays and
  never treats a number as an index (manual, "Expressions: Field Paths").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from fakemongo._bsonorder import MISSING
from fakemongo._errors import CommandError, ErrorCode

__all__ = [
    "EMPTY_ARRAY",
    "Candidate",
    "LeafArrays",
    "candidates",
    "expr_path_value",
    "parse_field_path",
]

Candidate = tuple[Any, int | None]
"""A value reached by a path (MISSING when absent) and its outermost array index."""


class LeafArrays(enum.Enum):
    """What a path ending at an array yields (the server's LeafArrayBehavior)."""

    TRAVERSE = "traverse"  # each element, then the array itself (comparisons, $exists)
    NO_TRAVERSE = "array"  # the array only ($size, $elemMatch, $all of $elemMatch)
    ELEMENTS = "elements"  # each element only; an empty array yields EMPTY_ARRAY (sort keys)


def parse_field_path(path: str) -> tuple[str, ...]:
    """Split a dotted path, rejecting what the server's FieldPath rejects.

    Raises CommandError 40352 for "", 15998 for an empty component, 16410 for a
    ``$``-prefixed component.
    """
    if not path:
        raise CommandError(
            ErrorCode.Location40352, "FieldPath cannot be constructed with empty string"
        )
    parts = tuple(path.split("."))
    for part in parts:
        if not part:
            raise CommandError(
                ErrorCode.Location15998, "FieldPath field names may not be empty strings."
            )
        if part[0] == "$":
            raise CommandError(
                ErrorCode.Location16410,
                "FieldPath field names may not start with '$'. "
                "Consider using $getField or $setField.",
            )
    return parts


def _is_index(part: str) -> bool:
    return part.isascii() and part.isdigit()


def candidates(
    doc: Mapping[str, Any], parts: tuple[str, ...], leaf: LeafArrays = LeafArrays.TRAVERSE
) -> list[Candidate]:
    """Every value the query language reaches in ``doc`` along ``parts``, in order.

    A path that stops at a missing field or a scalar yields ``(MISSING, offset)``; a
    path continuing into an array of scalars yields nothing for those scalars, so
    ``{"a.b": null}`` matches ``{a: [{}]}`` but not ``{a: [1]}`` (the server's
    BSONElementIterator).
    """
    out: list[Candidate] = []
    _walk_document(doc, parts, 0, None, leaf=leaf, out=out)
    return out


def _walk_document(
    doc: Mapping[str, Any],
    parts: tuple[str, ...],
    i: int,
    offset: int | None,
    *,
    leaf: LeafArrays,
    out: list[Candidate],
) -> None:
    last = len(parts) - 1
    value = doc.get(parts[i], MISSING)
    while i < last and value is not MISSING and not isinstance(value, list):
        if not isinstance(value, Mapping):
            value = MISSING
            break
        i += 1
        value = value.get(parts[i], MISSING)
    if isinstance(value, list):
        _walk_array(value, parts, i + 1, offset, leaf=leaf, out=out)
    else:
        out.append((value, offset))


def _walk_array(
    array: list[Any],
    parts: tuple[str, ...],
    j: int,
    offset: int | None,
    *,
    leaf: LeafArrays,
    out: list[Candidate],
) -> None:
    if j == len(parts):
        if leaf is not LeafArrays.NO_TRAVERSE:
            # The outermost array wins: an enclosing array's index overrides ours.
            out.extend((item, k if offset is None else offset) for k, item in enumerate(array))
            if leaf is LeafArrays.ELEMENTS:
                if not array:
                    out.append((EMPTY_ARRAY, offset))
                return
        out.append((array, offset))
        return
    part = parts[j]
    index = int(part) if _is_index(part) else -1
    ends_at_index = j == len(parts) - 1
    for k, item in enumerate(array):
        if isinstance(item, Mapping):
            _walk_document(item, parts, j, k if offset is None else offset, leaf=leaf, out=out)
        if k != index:
            continue
        # An explicit index is not an implicit traversal: keep the enclosing offset.
        if ends_at_index:
            out.append((item, offset))
        elif isinstance(item, Mapping):
            _walk_document(item, parts, j + 1, offset, leaf=leaf, out=out)
        elif isinstance(item, list):
            _walk_array(item, parts, j + 1, offset, leaf=leaf, out=out)


class _EmptyArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY_ARRAY"


EMPTY_ARRAY: Any = _EmptyArray()
"""Yielded by LeafArrays.ELEMENTS for an empty leaf array (it sorts below null)."""


def expr_path_value(value: Any, parts: tuple[str, ...]) -> Any:
    """``$a.b`` in an aggregation expression: maps over arrays, MISSING when absent.

    Elements of an array that lack the field are dropped; nested arrays stay nested
    (manual, "$project": "a.b" on an array of documents yields an array).
    """
    for n, part in enumerate(parts):
        if isinstance(value, list):
            rest = parts[n:]
            mapped = [expr_path_value(item, rest) for item in value]
            return [item for item in mapped if item is not MISSING]
        if not isinstance(value, Mapping):
            return MISSING
        value = value.get(part, MISSING)
    return value
