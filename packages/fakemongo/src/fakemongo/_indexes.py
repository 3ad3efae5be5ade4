"""Indexes: key extraction, uniqueness, and lookups a query can use.

An index maps each key tuple (one BSON sort key per indexed field) to the ids
of the documents that produce it, and keeps the keys sorted so range
conditions need not scan (sortedcontainers' SortedList: a well-kept, pure
Python sorted container with O(log n) inserts). Key extraction follows the
manual's "Multikey Indexes": an array field yields one key per element, an
absent field keys as null, and at most one field of a compound index may be an
array ("cannot index parallel arrays", 171).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sortedcontainers import SortedList

from ._bsonorder import MISSING, bson_repr, sort_key
from ._errors import CommandError, ErrorCode
from ._match import Matcher
from ._paths import EMPTY_ARRAY, LeafArrays, candidates, parse_field_path

__all__ = ["DuplicateKeyError", "Index", "IndexKey"]

IndexKey = tuple[Hashable, ...]
_NULL_KEY = sort_key(None)
# An empty array is indexed as `undefined` (manual: Multikey Indexes, "Empty
# arrays"); it must equal nothing else, so it gets a key of its own below null.
_EMPTY_ARRAY_KEY: tuple[Any, ...] = (sort_key(None)[0] - 0.5,)


class DuplicateKeyError(CommandError):
    """E11000, worded as mongod words it; carries keyPattern and keyValue."""

    def __init__(self, namespace: str, index: Index, key_value: dict[str, Any]) -> None:
        shown = ", ".join(f"{name}: {bson_repr(value)}" for name, value in key_value.items())
        super().__init__(
            ErrorCode.DuplicateKey,
            f"E11000 duplicate key error collection: {namespace} index: {index.name} dup key: {{ {shown} }}",
        )
        self.key_pattern = dict(index.key)
        self.key_value = key_value

    def write_error(self, index: int) -> dict[str, Any]:
        """The ``writeErrors`` entry for the statement at ``index``."""
        return {
            "index": index,
            "code": self.code,
            "errmsg": self.errmsg,
            "keyPattern": self.key_pattern,
            "keyValue": self.key_value,
        }


@dataclass(eq=False)
class Index:
    """One index of a collection. ``spec`` is its listIndexes document."""

    name: str
    key: list[tuple[str, Any]]
    spec: dict[str, Any]
    unique: bool = False
    sparse: bool = False
    partial: Matcher | None = None
    expire_after_seconds: float | None = None
    # key -> ids in insertion order (dict as an ordered set): equal keys come
    # back in the order their documents were written, like mongod's RecordIds.
    entries: dict[IndexKey, dict[Hashable, None]] = field(default_factory=dict)
    ordered: SortedList = field(default_factory=SortedList)
    multikey: bool = False
    # Keys added since the last walk in key order, not yet in ``ordered``:
    # they are sorted in when a range scan next needs them, since one
    # SortedList.add costs more than half an insert, and most indexes are
    # read by point lookups in ``entries`` alone. Every key of ``entries``
    # is in exactly one of ``ordered`` and ``unsorted``.
    unsorted: dict[IndexKey, None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._paths = [parse_field_path(name) for name, _ in self.key]
        # The field of a one-field index on a top-level name, for keys_for's fast path.
        self._top: str | None = None
        if len(self._paths) == 1 and len(self._paths[0]) == 1:
            self._top = self._paths[0][0]

    @property
    def fields(self) -> list[str]:
        return [name for name, _ in self.key]

    def keys_for(self, doc: Mapping[str, Any]) -> list[IndexKey]:
        """The keys ``doc`` produces; empty when sparse/partial exclude it."""
        if self.partial is not None and not self.partial.matches(doc):
            return []
        top = self._top
        if top is not None:
            # One top-level field that is not an array (the common case, _id
            # among them): one key, as the general walk below would produce.
            value = doc.get(top, MISSING)
            if value is MISSING:
                return [] if self.sparse else [(_NULL_KEY,)]
            if not isinstance(value, list):
                return [(sort_key(value),)]
        per_field: list[list[Hashable]] = []
        arrays = 0
        present = False
        for path in self._paths:
            values = candidates(doc, path, LeafArrays.ELEMENTS)
            keys: list[Hashable] = []
            for value, _ in values:
                if value is MISSING:
                    keys.append(_NULL_KEY)
                elif value is EMPTY_ARRAY:
                    keys.append(_EMPTY_ARRAY_KEY)
                    present = True
                else:
                    keys.append(sort_key(value))
                    present = True
            keys = list(dict.fromkeys(keys))  # one entry per distinct key
            # A value reached through an array carries that array's index.
            if len(values) > 1 or any(offset is not None for _, offset in values):
                arrays += 1
            per_field.append(keys)
        if self.sparse and not present:
            return []
        if arrays > 1:
            raise CommandError(
                ErrorCode.CannotIndexParallelArrays,
                f"cannot index parallel arrays [{self.fields[-1]}] [{self.fields[0]}]",
            )
        if arrays:
            self.multikey = True
        return [tuple(combo) for combo in itertools.product(*per_field)]

    def key_value(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """keyValue for an E11000: the indexed fields' values in ``doc``."""
        out: dict[str, Any] = {}
        for name, path in zip(self.fields, self._paths, strict=True):
            value = candidates(doc, path, LeafArrays.NO_TRAVERSE)[0][0]
            out[name] = None if value is MISSING else value
        return out

    def conflict(self, doc_id: Hashable, keys: list[IndexKey]) -> bool:
        """Whether a unique index already holds one of ``keys`` for another document."""
        if not self.unique:
            return False
        for key in keys:
            holders = self.entries.get(key)
            if holders and (len(holders) > 1 or doc_id not in holders):
                return True
        return False

    def add(self, doc_id: Hashable, keys: list[IndexKey]) -> None:
        for key in keys:
            holders = self.entries.get(key)
            if holders is None:
                self.entries[key] = {doc_id: None}
                self.unsorted[key] = None
            else:
                holders[doc_id] = None

    def remove(self, doc_id: Hashable, keys: list[IndexKey]) -> None:
        for key in keys:
            holders = self.entries.get(key)
            if holders is None:
                continue
            holders.pop(doc_id, None)
            if not holders:
                del self.entries[key]
                if key in self.unsorted:
                    del self.unsorted[key]
                else:
                    self.ordered.remove(key)

    def clear(self) -> None:
        self.entries.clear()
        self.ordered.clear()
        self.unsorted.clear()

    def scan(
        self,
        low: IndexKey | None,
        high: IndexKey | None,
        *,
        low_inclusive: bool = True,
        high_inclusive: bool = True,
    ) -> Iterator[Hashable]:
        """Ids of documents with a key in the range, in key order (may repeat)."""
        if self.unsorted:
            self.ordered.update(self.unsorted)
            self.unsorted.clear()
        if low is None and high is None:
            keys = iter(self.ordered)
        else:
            keys = self.ordered.irange(low, high, (low_inclusive, high_inclusive))
        for key in keys:
            yield from self.entries[key]
