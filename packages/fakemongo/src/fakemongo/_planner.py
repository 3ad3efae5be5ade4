"""Query planning: use an index for equality and range conditions.

The planner looks at the filter's top-level conditions (and those of a
top-level ``$and``) for a field that leads an index: an equality, an ``$in``
of plain values, or a range. The index then yields candidate documents, which
the compiled filter still checks, so the plan only has to return a superset.
Comparison operators are type-bracketed (manual, "Comparison Query
Operators": ``{$gt: 5}`` matches only numbers), so a range's open end stops at
the end of its type's bracket. On a multikey index a document can satisfy
``$gt`` and ``$lt`` with different elements, so only one bound is used there
(manual, "Multikey Index Bounds"). Without a usable index, or with a
non-simple collation (index keys are in binary string order), the plan is a
collection scan. Stats (keys and documents examined) feed ``explain``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bson import MaxKey, MinKey
from bson.regex import Regex

from ._bsonorder import bson_repr, sort_key
from ._errors import CommandError, ErrorCode
from ._indexes import Index
from ._match import is_operator_document
from ._storage import Collection

__all__ = ["Bound", "Plan", "PlanStats", "plan_query"]

# Greater than every sort key (sort keys are tuples that start with a rank).
_TOP: tuple[Any, ...] = ((float("inf"),),)
_RANGE_OPS = ("$gt", "$gte", "$lt", "$lte")


class Bound:
    """Index keys in [low, high), and how explain shows them (as mongod does).

    The text is rendered only when explain asks for it: a query that runs
    pays for the keys alone (rendering a value is dearer than its key).
    """

    __slots__ = ("_text", "high", "low", "point")

    def __init__(
        self, low: Any, high: Any, text: str | Callable[[], str], point: bool | None = None
    ) -> None:
        self.low = low
        self.high = high
        self._text = text
        # Exactly one key (a whole compound prefix), as a plan's stage and
        # ranking and a one-field lookup ask; _ALL, walked whole, has no low.
        self.point: bool = low is not None and bool(high == low + _TOP) if point is None else point

    @property
    def text(self) -> str:
        text = self._text
        return text if isinstance(text, str) else text()


_ALL = Bound(None, None, "[MinKey, MaxKey]")


@dataclass
class PlanStats:
    keys_examined: int = 0
    docs_examined: int = 0


@dataclass
class Plan:
    """How to produce candidate documents for a query."""

    collection: Collection
    index: Index | None = None
    path: str | None = None
    bounds: list[Bound] = field(default_factory=list)
    stats: PlanStats = field(default_factory=PlanStats)

    @property
    def stage(self) -> str:
        if self.index is None:
            return "COLLSCAN"
        if self.index.name == "_id_" and len(self.bounds) == 1 and self.bounds[0].point:
            return "IDHACK"
        return "IXSCAN"

    def candidates(self) -> Iterator[dict[str, Any]]:
        """Candidate documents, each once: index order, or natural order for a scan."""
        collection = self.collection
        if self.index is None:
            for doc_id in list(collection.documents):
                doc = collection.documents.get(doc_id)
                if doc is not None:
                    self.stats.docs_examined += 1
                    yield doc
            return
        seen: set[Hashable] = set()
        single = len(self.index.key) == 1
        for bound in self.bounds:
            if single and bound.point:
                # A point on a one-field index is exactly one key: a dict lookup
                # yields the same ids, in the same order, as the sorted range scan.
                ids = list(self.index.entries.get(bound.low, ()))
            else:
                ids = list(
                    self.index.scan(bound.low, bound.high, low_inclusive=True, high_inclusive=False)
                )
            for doc_id in ids:
                self.stats.keys_examined += 1
                if doc_id in seen:
                    continue
                seen.add(doc_id)
                # A cursor reads lazily: documents deleted since the scan began
                # are skipped, as after a yield in mongod.
                doc = collection.documents.get(doc_id)
                if doc is not None:
                    self.stats.docs_examined += 1
                    yield doc

    def explain(self) -> dict[str, Any]:
        """The winningPlan document of explain's queryPlanner section."""
        if self.index is None:
            return {"stage": "COLLSCAN", "direction": "forward"}
        scan = {
            "stage": "IXSCAN",
            "keyPattern": dict(self.index.key),
            "indexName": self.index.name,
            "isMultiKey": self.index.multikey,
            "isUnique": self.index.unique,
            "isSparse": self.index.sparse,
            "isPartial": self.index.partial is not None,
            "direction": "forward",
            "indexBounds": {self.path: [b.text for b in self.bounds]},
        }
        if self.stage == "IDHACK":
            return {"stage": "IDHACK"}
        return {"stage": "FETCH", "inputStage": scan}


def plan_query(
    collection: Collection | None,
    filter: Mapping[str, Any],
    *,
    hint: Any = None,
    collated: bool = False,
    min: Mapping[str, Any] | None = None,
    max: Mapping[str, Any] | None = None,
) -> Plan | None:
    """Choose how to scan ``collection`` for ``filter``; None if it does not exist.

    Raises 2 BadValue when ``hint`` names no index (manual: cursor.hint()), and
    51173-51176 for ``min``/``max`` without a hint, not matching the hinted
    index's fields, or not in order (manual: cursor.min(), cursor.max()).
    """
    if min or max:
        return _min_max_plan(collection, hint, min or {}, max or {})
    if collection is None:
        return None
    if hint is not None and hint != {"$natural": 1}:
        index = _hinted(collection, hint)
        conditions = _conditions(filter)
        first = index.fields[0]
        bounds = None if collated else _bounds_for(conditions.get(first), index)
        return Plan(collection, index, first, bounds or [_ALL])
    if hint is not None or collated:
        return Plan(collection)
    conditions = _conditions(filter)
    best: Plan | None = None
    for index in collection.indexes.values():
        if index.partial is not None or index.sparse:
            continue  # usable only when the filter implies their coverage; keep it simple and safe
        first = index.key[0][0]
        condition = conditions.get(first)
        if condition is None:
            continue  # no condition on the index's field (or null: see _bounds_for)
        bounds = _bounds_for(condition, index)
        if bounds is None:
            continue
        plan = Plan(collection, index, first, bounds)
        if best is None or _rank(plan) < _rank(best):
            best = plan
    return best or Plan(collection)


def _min_max_plan(
    collection: Collection | None, hint: Any, low: Mapping[str, Any], high: Mapping[str, Any]
) -> Plan | None:
    if hint is None or hint == {"$natural": 1}:
        raise CommandError(
            ErrorCode.Location51173,
            "When using min()/max() a hint of which index to use must be provided",
        )
    if low and high and list(low) != list(high):
        raise CommandError(ErrorCode.Location51176, "min and max must have the same field names")
    if collection is None:
        return None
    index = _hinted(collection, hint)
    for bound in (low, high):
        if bound and list(bound) != index.fields:
            raise CommandError(
                ErrorCode.Location51174, "The index chosen is not compatible with min/max"
            )
    if any(direction != 1 for _, direction in index.key):
        raise CommandError(
            ErrorCode.BadValue, "fakemongo supports min()/max() only on ascending indexes"
        )
    # min is inclusive, max exclusive, compared over the whole key (manual:
    # "cursor.min()": the bounds are index keys, not query conditions).
    start = tuple(sort_key(v) for v in low.values()) if low else ((float("-inf"),),)
    stop = tuple(sort_key(v) for v in high.values()) if high else _TOP
    if low and high and start >= stop:
        raise CommandError(
            ErrorCode.Location51175,
            "The value provided for min() does not come before the value provided for max() in the hinted index",
        )
    text = f"[{bson_repr(dict(low)) if low else 'MinKey'}, {bson_repr(dict(high)) if high else 'MaxKey'})"
    return Plan(collection, index, index.fields[0], [Bound(start, stop, text)])


def _rank(plan: Plan) -> tuple[int, int]:
    # Prefer _id equality, then equality on a unique index, then equality,
    # then ranges; among equals, the index with fewer fields.
    assert plan.index is not None
    point = all(bound.point for bound in plan.bounds)
    return (
        0 if plan.stage == "IDHACK" else 1 if point and plan.index.unique else 2 if point else 3,
        len(plan.index.key),
    )


def _hinted(collection: Collection, hint: Any) -> Index:
    for index in collection.indexes.values():
        if (isinstance(hint, str) and index.name == hint) or (
            isinstance(hint, Mapping) and list(hint.items()) == index.key
        ):
            return index
    raise CommandError(ErrorCode.BadValue, "hint provided does not correspond to an existing index")


def _conditions(filter: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in filter.items():
        if name == "$and":  # compile_filter has checked: a list of documents
            for clause in value:
                for key, condition in _conditions(clause).items():
                    out.setdefault(key, condition)
        elif not name.startswith("$"):
            out.setdefault(name, value)
    return out


# Built once: a union written inside _plain would be built on every call.
_NOT_PLAIN = (list, dict, Regex, MinKey, MaxKey)


def _plain(value: Any) -> bool:
    """A value whose equality the index can answer by key lookup."""
    return not isinstance(value, _NOT_PLAIN) and not hasattr(value, "pattern")


def _point(value: Any) -> Bound:
    key = (sort_key(value),)
    return Bound(key, key + _TOP, lambda: _point_text(value), point=True)


def _point_text(value: Any) -> str:
    shown = bson_repr(value)
    return f"[{shown}, {shown}]"


def _bounds_for(condition: Any, index: Index) -> list[Bound] | None:
    if condition is None:
        return None
    if not is_operator_document(condition):
        return [_point(condition)] if _plain(condition) and condition is not None else None
    operators = dict(condition)
    if "$eq" in operators:
        value = operators["$eq"]
        return [_point(value)] if _plain(value) and value is not None else None
    if "$in" in operators:
        values = operators["$in"]
        if isinstance(values, list) and values and all(_plain(v) and v is not None for v in values):
            return [_point(v) for v in values]
        return None
    ranges = [(op, operators[op]) for op in _RANGE_OPS if op in operators]
    if not ranges or not all(_plain(v) and v is not None for _, v in ranges):
        return None
    if index.multikey:
        ranges = ranges[:1]
    bracket = sort_key(ranges[0][1])[0]
    # Start with the whole type bracket, then narrow. Bounds are [low, high):
    # key + _TOP sorts after every compound key that starts with key.
    low: Any = ((bracket,),)
    high: Any = ((bracket + 1,),)
    low_text, high_text = "[-inf", "inf]"
    for op, value in ranges:
        key = (sort_key(value),)
        if key[0][0] != bracket:
            return []  # conditions on different types can never both hold
        shown = bson_repr(value)
        if op == "$gt" and key + _TOP > low:
            low, low_text = key + _TOP, f"({shown}"
        elif op == "$gte" and key > low:
            low, low_text = key, f"[{shown}"
        elif op == "$lt" and key < high:
            high, high_text = key, f"{shown})"
        elif op == "$lte" and key + _TOP < high:
            high, high_text = key + _TOP, f"{shown}]"
    return [Bound(low, high, f"{low_text}, {high_text}")] if low < high else []
