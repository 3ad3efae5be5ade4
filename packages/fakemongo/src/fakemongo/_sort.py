"""Sort specifications: validation and the per-document sort key.

Manual, "cursor.sort()": an ascending sort on an array field uses the array's
smallest element, a descending sort its largest; a missing field sorts as null; an
empty array sorts below null. Manual, "Comparison/Sort Order": values of different
types sort by type. Sorting is stable, so equal keys keep their input order.
``{$meta: ...}`` sorts (text score, search score) are not emulated: 115.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bson import Decimal128

from fakemongo._bsonorder import MISSING, Rank, StringKey, bson_repr, is_nan, sort_key, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._paths import EMPTY_ARRAY, LeafArrays, candidates, parse_field_path

__all__ = ["SortSpec", "document_sort_key", "parse_sort", "sort_documents"]

_VALID_META = frozenset(
    {"textScore", "randVal", "geoNearDistance", "searchScore", "vectorSearchScore", "score"}
)
_NULL_KEY = sort_key(None)
_EMPTY_ARRAY_KEY = (Rank.MISSING,)  # below null, above MinKey


@dataclass(frozen=True, slots=True)
class SortSpec:
    """A validated sort: (path components, ascending) per key, in priority order."""

    keys: tuple[tuple[tuple[str, ...], bool], ...]


def _direction(value: Any) -> int:
    """The server's safeNumberLong: truncates, NaN is 0, saturates at int64 bounds."""
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if is_nan(value) or number in (math.inf, -math.inf):
        return 0  # NaN is 0; infinities saturate: neither is 1 or -1
    return int(number)


def parse_sort(spec: Mapping[str, Any]) -> SortSpec:
    """Validate a sort document.

    Raises CommandError 15974 for a non-numeric key, 15975 for a number other than
    1 or -1, 17312/9/31138 for a malformed ``$meta``, 115 for a valid ``$meta`` sort,
    and the FieldPath errors of :func:`fakemongo._paths.parse_field_path`.
    """
    keys = []
    for name, value in spec.items():
        if isinstance(value, Mapping) and type_rank(value) == Rank.OBJECT:
            _reject_meta(value)
        if type_rank(value) != Rank.NUMBER:
            raise CommandError(
                ErrorCode.Location15974,
                f"Illegal key in $sort specification: {name}: {bson_repr(value)}",
            )
        direction = _direction(value)
        if direction not in (1, -1):
            raise CommandError(
                ErrorCode.Location15975,
                "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
            )
        keys.append((parse_field_path(name), direction == 1))
    return SortSpec(tuple(keys))


def _reject_meta(value: Mapping[str, Any]) -> None:
    first = next(iter(value), None)
    if first != "$meta":
        raise CommandError(
            ErrorCode.Location17312, "$meta is the only expression supported by $sort right now"
        )
    if len(value) != 1:
        raise CommandError(
            ErrorCode.FailedToParse, "Cannot have additional keys in a $meta sort specification"
        )
    if value["$meta"] not in _VALID_META:
        raise CommandError(
            ErrorCode.Location31138, f"Illegal $meta sort: $meta: {bson_repr(value['$meta'])}"
        )
    raise CommandError(
        ErrorCode.CommandNotSupported,
        f"sorting by {{$meta: {bson_repr(value['$meta'])}}} is not supported by fakemongo",
    )


class _Descending:
    """Inverts the order of a key inside a tuple of keys."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key

    __hash__ = None  # type: ignore[assignment]


def _path_key(
    doc: Mapping[str, Any], parts: tuple[str, ...], ascending: bool, string_key: StringKey | None
) -> tuple[Any, ...]:
    if len(parts) == 1:
        value = doc.get(parts[0], MISSING)
        if not isinstance(value, list):
            return _NULL_KEY if value is MISSING else sort_key(value, string_key)
    keys = [
        _EMPTY_ARRAY_KEY
        if value is EMPTY_ARRAY
        else _NULL_KEY
        if value is MISSING
        else sort_key(value, string_key)
        for value, _ in candidates(doc, parts, LeafArrays.ELEMENTS)
    ]
    if not keys:
        return _NULL_KEY
    return min(keys) if ascending else max(keys)


def document_sort_key(
    doc: Mapping[str, Any], spec: SortSpec, string_key: StringKey | None = None
) -> tuple[Any, ...]:
    """The key ordering ``doc`` under ``spec`` (usable with ``sorted(key=...)``)."""
    return tuple(
        _path_key(doc, parts, True, string_key)
        if ascending
        else _Descending(_path_key(doc, parts, False, string_key))
        for parts, ascending in spec.keys
    )


def sort_documents(
    docs: Iterable[Mapping[str, Any]], spec: SortSpec, string_key: StringKey | None = None
) -> list[Mapping[str, Any]]:
    """``docs`` in ``spec`` order; stable, so ties keep their input order."""
    if not spec.keys:
        return list(docs)
    return sorted(docs, key=lambda doc: document_sort_key(doc, spec, string_key))
