"""What an insert of a new document sends, generated once per model class.

``make_write(cls)`` compiles the class's write plan (``Field.writer`` of each
field that converts or can change in place) into one function, as
``_init.make_init`` does for constructors: the stored form of a new document
that passes every check made before a write, in one pass, or ``None`` when it
does not pass or the plan cannot tell (then the full check and ``_dump``
decide, and report every error). Fields give their step inline where they can
(``Field.inline_write``: a list of plain values, an embedded document of the
field's class, a list of them); others are called. It does exactly what
``BaseDocument._write_new`` does (tests/test_write_plans.py checks it), with
two shortcuts: a fresh document (``_fresh``: new, and no None stored since
its constructor) has its required fields when it has their keys and no value
to leave out, so it is copied without a search for None; and the type tag is
a constant (each class, subclasses too, generates its own function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._document import BaseDocument

__all__ = ["make_write"]

_PREFIX = "__mongotor_"


def make_write(cls: type[BaseDocument]) -> Callable[[BaseDocument], dict[str, Any] | None]:
    """The generated ``_write_new`` of ``cls`` (its type tag, if it has one, as
    constants: each class generates its own)."""
    p = _PREFIX
    scope: dict[str, Any] = {}
    required = cls._required_keys
    lines = [
        f"def _write_new({p}self):",
        # A fresh document holds no None (every assignment of one clears it): its
        # required fields are there when their keys are, and nothing is left out.
        f"    if {p}self._fresh:",
        f"        {p}data = {p}self._data",
    ]
    if required:
        missing = " or ".join(f"{key!r} not in {p}data" for key in required)
        lines += [f"        if {missing}:", "            return None"]
    lines += [
        f"        {p}out = {p}data.copy()",
        "    else:",
        f"        if {p}self._touched is not None:",
        "            return None",
        f"        {p}data = {p}self._data",
    ]
    for key in required:
        lines.append(f"        if {p}data.get({key!r}) is None:")
        lines.append("            return None")
    lines += [
        f"        {p}out = {p}data.copy()",
        f"        if None in {p}out.values():  # fields set to None are not stored",
        f"            {p}out = {{k: v for k, v in {p}out.items() if v is not None}}",
    ]
    by_key = cls._by_key
    value = f"{p}value"
    for index, (key, write) in enumerate(cls._write_plan):
        ref = f"{p}step{index}"
        lines.append(f"    {value} = {p}out.get({key!r})")
        lines.append(f"    if {value} is not None:")
        store = f"{p}out[{key!r}] = {value}"
        steps = by_key[key].inline_write(value, ref, scope, store)
        if steps is None:
            scope[ref] = write
            steps = [f"{value} = {ref}({value})", f"if {value} is None:", "    return None", store]
        lines += [f"        {step}" for step in steps]
    root = cls._type_root
    if root is not None:
        lines.append(f"    {p}out[{root.__type_key__!r}] = {cls._type_name!r}")
    lines.append(f"    return {p}out")
    exec("\n".join(lines), scope)  # noqa: S102 - the code is ours, made from stored names
    write_new: Callable[[BaseDocument], dict[str, Any] | None] = scope["_write_new"]
    write_new.__qualname__ = f"{cls.__qualname__}._write_new"
    return write_new
