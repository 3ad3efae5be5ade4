"""Constructors generated once per model class, as ``dataclasses`` generates
``__init__``: keyword-only parameters instead of a loop over ``**values``, and a
value of its field's plain type (a ``str`` for a StringField without rules)
stored without a call. They do exactly what ``BaseDocument._init_generic`` does,
in about two thirds of the time; a class that defines its own ``__init__``
keeps it, and an instance of a subclass reaching a generated one goes through
the generic constructor."""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ._errors import ValidationError
from ._field import Field, Invalid

if TYPE_CHECKING:
    from ._document import BaseDocument

__all__ = ["make_init"]


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()

# Internal names start with a double underscore, which no field's attribute name
# can (Python mangles those in a class body), so they never clash.
_PREFIX = "__mongotor_"


def _slow(
    instance: BaseDocument, field: Field[Any], value: Any, errors: dict[str, str] | None
) -> dict[str, str] | None:
    """Assign a value that needs validating; the errors so far (``None``: none)."""
    try:
        if field.assigns_itself:
            field.__set__(instance, value)
        else:
            instance._data[field.key] = field.validate(value)
    except ValidationError as exc:  # from __set__: already by attribute name
        errors = {} if errors is None else errors
        errors.update(exc.errors)
    except Invalid as exc:
        errors = {} if errors is None else errors
        errors.update(exc.under(field.attname))
    return errors


def _finish(instance: BaseDocument, unknown: dict[str, Any], errors: dict[str, str] | None) -> None:
    """Unknown names, made defaults, and the errors, as the generic constructor has them."""
    found = {} if errors is None else errors
    for name in unknown:
        found[name] = f"{type(instance).__name__} has no such field"
    data = instance._data
    for field in instance._made_defaults:
        if field.key not in data:
            try:
                data[field.key] = field.make_default()
            except Invalid as exc:
                found.update(exc.under(field.attname))
    if found:
        raise ValidationError(found, model=type(instance).__name__)


def make_init(cls: type[BaseDocument]) -> Callable[..., None] | None:
    """A constructor for ``cls``, or ``None`` if one cannot be generated (a field
    whose attribute name is not a Python name)."""
    fields = cls._fields
    if not all(f.attname.isidentifier() and not keyword.iskeyword(f.attname) for f in fields):
        return None
    p = _PREFIX
    scope: dict[str, Any] = {
        f"{p}unset": UNSET,
        f"{p}cls": cls,
        f"{p}slow": _slow,
        f"{p}finish": _finish,
        f"{p}generic": cls._init_generic,
        f"{p}constants": cls._constant_defaults,
    }
    names = [field.attname for field in fields]
    parameters = "".join(f"{name}={p}unset, " for name in names)
    keywords = f"*, {parameters}" if names else ""
    given = ", ".join(f"({name!r}, {name})" for name in names)
    lines = [
        f"def __init__({p}self, /, {keywords}**{p}unknown):",
        f"    if type({p}self) is not {p}cls:",
        f"        return {p}generic({p}self, **{{k: v for k, v in [{given}] if v is not {p}unset}},"
        f" **{p}unknown)",
        f"    {p}self._touched = None",
        f"    {p}self._raw = None",
        f"    {p}self._loaded = None",
        f"    {p}self._refs = None",
        f"    {p}data = {p}constants.copy()",
        f"    {p}self._data = {p}data",
        f"    {p}errors = None",
    ]
    for index, field in enumerate(fields):
        name = field.attname
        scope[f"{p}field{index}"] = field
        slow = f"{p}errors = {p}slow({p}self, {p}field{index}, {name}, {p}errors)"
        lines.append(f"    if {name} is not {p}unset:")
        if field.trivial is not None:
            scope[f"{p}type{index}"] = field.trivial
            lines.append(f"        if type({name}) is {p}type{index}:")
            lines.append(f"            {p}data[{field.key!r}] = {name}")
            lines.append("        else:")
            lines.append(f"            {slow}")
        else:
            lines.append(f"        {slow}")
    finish = f"{p}finish({p}self, {p}unknown, {p}errors)"
    if cls._made_defaults:
        lines.append(f"    {finish}")
    else:
        lines.append(f"    if {p}unknown or {p}errors is not None:")
        lines.append(f"        {finish}")
    lines.append("    return None")
    exec("\n".join(lines), scope)  # noqa: S102 - the code is ours, made from field names
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls._init_generic.__doc__
    init.__mongotor_generated__ = True  # type: ignore[attr-defined]
    return init
