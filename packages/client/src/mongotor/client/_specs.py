"""Sort, index key and projection specifications in every form the APIs accept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

__all__ = [
    "ASCENDING",
    "DESCENDING",
    "KeySpec",
    "index_name",
    "key_document",
    "projection_document",
]

#: Ascending sort / index direction.
ASCENDING = 1
#: Descending sort / index direction.
DESCENDING = -1

#: A key: ``"a"``, ``[("a", 1), ("b", -1)]``, ``["a", "b"]`` or ``{"a": 1, "b": -1}``.
KeySpec: TypeAlias = str | Iterable[tuple[str, Any] | str] | Mapping[str, Any]


def key_document(keys: KeySpec, direction: Any = None) -> dict[str, Any]:
    """``keys`` as an ordered document. A single name takes ``direction``
    (ascending by default); a list holds ``(name, direction)`` pairs (a bare
    name in it is ascending). Raises ``TypeError`` for anything else and
    ``ValueError`` for an empty specification."""
    if isinstance(keys, str):
        document = {keys: ASCENDING if direction is None else direction}
    elif isinstance(keys, Mapping):
        document = dict(keys)
    else:
        document = {}
        for item in keys:
            if isinstance(item, str):
                document[item] = ASCENDING
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                document[item[0]] = item[1]
            else:
                raise TypeError(f"a key must be a name or a (name, direction) pair, not {item!r}")
    if not document:
        raise ValueError("a key specification must name at least one field")
    return document


def index_name(keys: Mapping[str, Any]) -> str:
    """The name MongoDB gives an index by default: ``a_1_b_-1``."""
    return "_".join(f"{name}_{direction}" for name, direction in keys.items())


def projection_document(projection: Mapping[str, Any] | Iterable[str] | None) -> Any:
    """A projection document from itself, or from a list of field names (each
    included, as PyMongo and the 2012 library accept); ``None`` stays ``None``."""
    if projection is None or isinstance(projection, Mapping):
        return projection
    if isinstance(projection, str):
        raise TypeError("a projection is a document or a list of field names, not a string")
    return dict.fromkeys(projection, 1)


def present(**fields: Any) -> dict[str, Any]:
    """The fields whose value is not ``None`` (a command's optional fields)."""
    return {name: value for name, value in fields.items() if value is not None}
