"""Query expressions: ``User.age > 3``, ``User.name == "x"``, ``&``, ``|``, ``~``.

A field (or a dotted path into an embedded document, ``User.address.city``)
compared with a value is a :class:`Q`, a filter document that combines with
others and with raw dict filters. Values are converted as the field stores them
(a ``Decimal`` becomes ``Decimal128``, a model instance its ``_id``...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

__all__ = ["Comparable", "FieldPath", "Q", "SortKey", "and_filters", "or_filters", "to_filter"]


class SortKey(NamedTuple):
    """A sort key with its stored path: ``-User.age``, ``+User.name``."""

    path: str
    direction: int


def _only(document: Mapping[str, Any], operator: str) -> list[Any] | None:
    """The clauses of a filter that is nothing but ``{operator: [...]}``."""
    if len(document) == 1 and operator in document:
        return list(document[operator])
    return None


def and_filters(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """Both filters: merged when they name different fields, else ``$and``."""
    if not left:
        return dict(right)
    if not right:
        return dict(left)
    if left.keys().isdisjoint(right.keys()):
        return {**left, **right}
    clauses = _only(left, "$and") or [dict(left)]
    clauses += _only(right, "$and") or [dict(right)]
    return {"$and": clauses}


def or_filters(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """Either filter (``$or``, flattened)."""
    clauses = _only(left, "$or") or [dict(left)]
    clauses += _only(right, "$or") or [dict(right)]
    return {"$or": clauses}


class Q:
    """A filter document that combines: ``a & b`` (both), ``a | b`` (either),
    ``~a`` (not: ``$nor``). Either side may be a plain dict filter. Build one from
    a dict (``Q({"age": {"$gt": 3}})``) or by comparing fields (``User.age > 3``).
    ``bool(Q)`` is refused: write ``&`` and ``|``, not ``and`` and ``or``."""

    __slots__ = ("document",)

    def __init__(self, document: Mapping[str, Any] | None = None) -> None:
        #: The filter as MongoDB takes it.
        self.document: dict[str, Any] = dict(document) if document else {}

    def __and__(self, other: Q | Mapping[str, Any]) -> Q:
        return Q(and_filters(self.document, to_filter(other)))

    def __rand__(self, other: Mapping[str, Any]) -> Q:
        return Q(and_filters(other, self.document))

    def __or__(self, other: Q | Mapping[str, Any]) -> Q:
        return Q(or_filters(self.document, to_filter(other)))

    def __ror__(self, other: Mapping[str, Any]) -> Q:
        return Q(or_filters(other, self.document))

    def __invert__(self) -> Q:
        return Q({"$nor": [self.document]})

    def __bool__(self) -> bool:
        raise TypeError("a query expression has no truth value: combine them with & and |")

    def __repr__(self) -> str:
        return f"Q({self.document!r})"


def to_filter(condition: Q | Mapping[str, Any]) -> dict[str, Any]:
    """A filter document from a :class:`Q` or a dict (``TypeError`` otherwise)."""
    if isinstance(condition, Q):
        return condition.document
    if isinstance(condition, Mapping):
        return dict(condition)
    raise TypeError(f"a filter is a query expression or a dict, not {condition!r}")


class Comparable:
    """What fields and field paths share: comparisons that build filters and
    ``-field`` for a descending sort. Subclasses say their stored path and how
    a value is stored."""

    __slots__ = ()

    def _query_path(self) -> str:
        raise NotImplementedError

    def _query_value(self, value: Any) -> Any:
        raise NotImplementedError

    def _compare(self, operator: str, value: Any) -> Q:
        return Q({self._query_path(): {operator: self._query_value(value)}})

    def __eq__(self, value: object) -> Q:  # type: ignore[override]
        return Q({self._query_path(): self._query_value(value)})

    def __ne__(self, value: object) -> Q:  # type: ignore[override]
        return self._compare("$ne", value)

    def __lt__(self, value: Any) -> Q:
        return self._compare("$lt", value)

    def __le__(self, value: Any) -> Q:
        return self._compare("$lte", value)

    def __gt__(self, value: Any) -> Q:
        return self._compare("$gt", value)

    def __ge__(self, value: Any) -> Q:
        return self._compare("$gte", value)

    def __hash__(self) -> int:
        return id(self)

    def in_(self, values: Iterable[Any]) -> Q:
        """The value is one of ``values`` (``$in``)."""
        return Q({self._query_path(): {"$in": [self._query_value(v) for v in values]}})

    def not_in(self, values: Iterable[Any]) -> Q:
        """The value is none of ``values`` (``$nin``)."""
        return Q({self._query_path(): {"$nin": [self._query_value(v) for v in values]}})

    def exists(self, exists: bool = True) -> Q:
        """The field is present (or, with ``False``, absent)."""
        return Q({self._query_path(): {"$exists": exists}})

    def regex(self, pattern: str, options: str = "") -> Q:
        """The string value matches ``pattern`` (``$regex``, with ``options`` such as ``"i"``)."""
        condition: dict[str, Any] = {"$regex": pattern}
        if options:
            condition["$options"] = options
        return Q({self._query_path(): condition})

    def __neg__(self) -> SortKey:
        """``sort(-User.age)``: descending."""
        return SortKey(self._query_path(), -1)

    def __pos__(self) -> SortKey:
        """``sort(+User.age)``: ascending."""
        return SortKey(self._query_path(), 1)


class FieldPath(Comparable):
    """A dotted path into an embedded document (``User.address.city``), compared
    as its last field stores values. Goes deeper by attribute as fields do."""

    __slots__ = ("field", "path")

    def __init__(self, path: str, field: Any) -> None:
        self.path = path
        self.field = field

    def _query_path(self) -> str:
        return self.path

    def _query_value(self, value: Any) -> Any:
        return self.field._query_value(value)

    def __getattr__(self, name: str) -> FieldPath:
        sub = self.field._subfield(name)
        return FieldPath(f"{self.path}.{sub.key}", sub)

    def __repr__(self) -> str:
        return f"FieldPath({self.path!r})"
