"""Pure helpers over stored (BSON-ready) values: copying and diffing.

Change tracking compares what a document held when it was loaded or last
written (its snapshot) with what it would store now, so in-place mutation of
lists, dicts and embedded documents is seen without wrapping them. The diff is
expressed as ``$set`` / ``$unset`` of dotted paths, as deep as the values allow.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["MISSING", "copy_value", "diff_into", "same"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: A key that is absent (distinct from a stored null).
MISSING: Final[Any] = _Missing()


def copy_value(value: Any) -> Any:
    """A copy of ``value`` sharing nothing mutable with it: dicts and lists are
    copied all the way down; everything else BSON holds is immutable."""
    kind = type(value)
    if kind is dict:
        return {key: copy_value(item) for key, item in value.items()}
    if kind is list:
        return [copy_value(item) for item in value]
    return value


def same(old: Any, new: Any) -> bool:
    """Whether two stored values are the same: equal and of the same type (so an
    int stored as a double, or ``True`` stored as ``1``, counts as a change)."""
    return old is new or (type(old) is type(new) and old == new)


def _addressable(keys: Any) -> bool:
    """Whether every key can be named in a dotted update path."""
    return all(key and "." not in key and not key.startswith("$") for key in keys)


def diff_into(path: str, old: Any, new: Any, sets: dict[str, Any], unsets: dict[str, Any]) -> None:
    """Add to ``sets`` / ``unsets`` what turns ``old`` into ``new`` at ``path``.

    Documents are compared key by key, lists of the same length element by
    element (unless more than half of them changed: then the list is set whole);
    anything else that differs is set whole. Keys that cannot be named in a path
    (dotted, ``$``-prefixed, empty) make their document be set whole.
    """
    if type(old) is dict and type(new) is dict:
        inner_sets: dict[str, Any] = {}
        inner_unsets: dict[str, Any] = {}
        for key, value in new.items():
            if key in old:
                diff_into(f"{path}.{key}", old[key], value, inner_sets, inner_unsets)
            else:
                inner_sets[f"{path}.{key}"] = value
        for key in old:
            if key not in new:
                inner_unsets[f"{path}.{key}"] = ""
        if not (inner_sets or inner_unsets):
            return
        if _addressable(new) and _addressable(old):
            sets.update(inner_sets)
            unsets.update(inner_unsets)
        else:
            sets[path] = new
        return
    if type(old) is list and type(new) is list and len(old) == len(new):
        element_sets: dict[str, Any] = {}
        element_unsets: dict[str, Any] = {}
        changed = 0
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            count = len(element_sets) + len(element_unsets)
            diff_into(f"{path}.{index}", before, after, element_sets, element_unsets)
            changed += len(element_sets) + len(element_unsets) > count
        if changed * 2 > len(new):
            sets[path] = new
        else:
            sets.update(element_sets)
            unsets.update(element_unsets)
        return
    if not same(old, new):
        sets[path] = new
