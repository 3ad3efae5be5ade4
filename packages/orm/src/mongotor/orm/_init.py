"""Constructors generated once per model class, as ``dataclasses`` generates
``__init__``: keyword-only parameters instead of a loop over ``**values``.

A value its field can check inline (``Field.inline_check``: a ``str`` for a
StringField without rules, an int in range, a datetime in milliseconds, a
document of an EmbeddedField's class; a list whose elements all pass
``Field.element_check``) is stored without a call. The common call (every
value given passes its inline check, no unknown names) makes the document's
dict in one literal; anything else takes the per-field path, which calls
``validate`` where it must. Either way they do exactly what
``BaseDocument._init_generic`` does (tests/test_constructors.py checks it), in
about half the time. A class that defines its own ``__init__`` keeps it, and an
instance of a subclass reaching a generated one goes through the generic
constructor."""

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
            field.__set__(instance, value)  # through _assign, which minds None
        else:
            checked = field.validate(value)
            instance._data[field.key] = checked
            if checked is None:
                instance._fresh = False
    except ValidationError as exc:  # from __set__: already by attribute name
        errors = {} if errors is None else errors
        errors.update(exc.errors)
    except Invalid as exc:
        errors = {} if errors is None else errors
        errors.update(exc.under(field.attname))
    return errors


def _default(
    instance: BaseDocument, field: Field[Any], errors: dict[str, str] | None
) -> dict[str, str] | None:
    """Give a field that was not given its made default; the errors so far."""
    try:
        value = field.make_default()
    except Invalid as exc:
        instance._data.pop(field.key, None)  # the fast path's placeholder
        errors = {} if errors is None else errors
        errors.update(exc.under(field.attname))
        return errors
    instance._data[field.key] = value
    if value is None:
        instance._fresh = False
    return errors


def _finish(instance: BaseDocument, unknown: dict[str, Any], errors: dict[str, str] | None) -> None:
    """Raise the errors and unknown names (there are some), as the generic
    constructor has them."""
    found = {} if errors is None else errors
    for name in unknown:
        found[name] = f"{type(instance).__name__} has no such field"
    raise ValidationError(found, model=type(instance).__name__)


class _Plan:
    """What the generated code does with each field: the scope its names live
    in, and per field the inline check of a value and of a list's elements."""

    def __init__(self, cls: type[BaseDocument]) -> None:
        p = _PREFIX
        self.cls = cls
        self.scope: dict[str, Any] = {
            f"{p}unset": UNSET,
            f"{p}cls": cls,
            f"{p}slow": _slow,
            f"{p}finish": _finish,
            f"{p}default": _default,
            f"{p}generic": cls._init_generic,
            f"{p}constants": cls._constant_defaults,
        }
        self.checks: list[str | None] = []
        self.elements: list[str | None] = []
        for index, field in enumerate(cls._fields):
            self.scope[f"{p}field{index}"] = field
            ref = f"{p}type{index}"
            if field.assigns_itself:
                self.checks.append(None)
                self.elements.append(None)
            else:
                self.checks.append(field.inline_check(field.attname, ref, self.scope))
                element = f"{p}element{index}"
                self.elements.append(field.element_check(f"{p}item", element, self.scope))
        self.made = {id(field) for field in cls._made_defaults}

    def given(self, index: int, *, is_list: bool) -> list[str]:
        """Lines (at indent 0) storing a given value that has no inline check
        (``is_list``: known to be a list)."""
        p = _PREFIX
        field = self.cls._fields[index]
        name, key = field.attname, repr(field.key)
        slow = f"{p}errors = {p}slow({p}self, {p}field{index}, {name}, {p}errors)"
        element = self.elements[index]
        if element is None:
            return [slow]
        loop = [
            f"for {p}item in {name}:",
            f"    if not ({element}):",
            f"        {slow}",
            "        break",
            "else:",
            f"    {p}data[{key}] = {name}.copy()",
        ]
        if is_list:
            return loop
        return [
            f"if type({name}) is list:",
            *(f"    {line}" for line in loop),
            "else:",
            f"    {slow}",
        ]

    def absent(self, index: int) -> list[str]:
        """Lines (at indent 0) giving a field that was not given its made default."""
        p = _PREFIX
        field = self.cls._fields[index]
        literal = field.inline_default()
        if literal is not None:
            return [f"{p}data[{field.key!r}] = {literal}"]
        return [f"{p}errors = {p}default({p}self, {p}field{index}, {p}errors)"]


def _indent(lines: list[str], depth: int) -> list[str]:
    return [" " * (4 * depth) + line for line in lines]


def make_init(cls: type[BaseDocument]) -> Callable[..., None] | None:
    """A constructor for ``cls``, or ``None`` if one cannot be generated (a field
    whose attribute name is not a Python name)."""
    fields = cls._fields
    if not all(f.attname.isidentifier() and not keyword.iskeyword(f.attname) for f in fields):
        return None
    p = _PREFIX
    plan = _Plan(cls)
    names = [field.attname for field in fields]
    parameters = "".join(f"{name}={p}unset, " for name in names)
    keywords = f"*, {parameters}" if names else ""
    given = ", ".join(f"({name!r}, {name})" for name in names)
    lines = [
        f"def __init__({p}self, /, {keywords}**{p}unknown):",
        f"    {p}self._touched = {p}self._raw = {p}self._loaded = {p}self._refs = None",
        f"    {p}self._fresh = True  # until a None is stored",
        *_indent(_exact_path(plan), 1),
        f"    {p}errors = None",
        *_indent(_fast_path(plan), 1),
        f"    if type({p}self) is not {p}cls:",
        f"        return {p}generic({p}self, **{{k: v for k, v in [{given}] if v is not {p}unset}},"
        f" **{p}unknown)",
        f"    {p}data = {p}constants.copy()",
        f"    {p}self._data = {p}data",
    ]
    for index, field in enumerate(fields):
        name, key = field.attname, repr(field.key)
        lines.append(f"    if {name} is not {p}unset:")
        check = plan.checks[index]
        if check is not None:
            lines.append(f"        if {check}:")
            lines.append(f"            {p}data[{key}] = {name}")
            lines.append("        else:")
            lines.append(
                f"            {p}errors = {p}slow({p}self, {p}field{index}, {name}, {p}errors)"
            )
        else:
            lines.extend(_indent(plan.given(index, is_list=False), 2))
        if id(field) in plan.made:
            lines.append("    else:")
            lines.extend(_indent(plan.absent(index), 2))
    lines.append(f"    if {p}unknown or {p}errors is not None:")
    lines.append(f"        {p}finish({p}self, {p}unknown, {p}errors)")
    lines.append("    return None")
    scope = plan.scope
    exec("\n".join(lines), scope)  # noqa: S102 - the code is ours, made from field names
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls._init_generic.__doc__
    init.__mongotor_generated__ = True  # type: ignore[attr-defined]
    return init


def _exact_path(plan: _Plan) -> list[str]:
    """Lines (at indent 0) for the commonest call, in one test and one literal:
    an instance of the class itself, no unknown names, every field with an
    inline check given and valid as it is (the ``_id`` may be left out), every
    list with an element check a list of elements that pass it (stored as a
    copy), and no other field given (each gets its constant default, a new
    ``[]`` or ``{}``, or stays absent). No lines when some field would need its
    default made by a call."""
    p = _PREFIX
    cls = plan.cls
    constants = cls._constant_defaults
    terms = [f"type({p}self) is {p}cls", f"not {p}unknown"]
    entries: list[tuple[str, str]] = []  # stored key, value expression
    loops: list[tuple[str, str]] = []  # list name, element check
    optional_id = False
    for index, field in enumerate(cls._fields):
        name, check, element = field.attname, plan.checks[index], plan.elements[index]
        if check is not None:
            if index == 0 and field.key == "_id" and field.default is None:
                # A new document seldom has its _id yet (the insert gives it one).
                optional_id = True
                check = f"{name} is {p}unset or {check}"
            terms.append(f"({check})")
            entries.append((field.key, name))
        elif element is not None:
            terms.append(f"type({name}) is list")
            loops.append((name, element))
            entries.append((field.key, f"{name}.copy()"))
        else:
            terms.append(f"{name} is {p}unset")
            if field.key in constants:
                plan.scope[f"{p}constant{index}"] = constants[field.key]
                entries.append((field.key, f"{p}constant{index}"))
            elif id(field) in plan.made:
                made = field.inline_default()  # a new [] or {} for each document
                if made is None:
                    return []
                entries.append((field.key, made))

    def literal(items: list[tuple[str, str]]) -> str:
        return "{" + ", ".join(f"{key!r}: {value}" for key, value in items) + "}"

    body = []
    if optional_id:
        body += [
            f"if {cls._fields[0].attname} is {p}unset:",
            f"    {p}self._data = {literal(entries[1:])}",
            "else:",
            f"    {p}self._data = {literal(entries)}",
        ]
    else:
        body.append(f"{p}self._data = {literal(entries)}")
    body.append("return None")
    lines = [f"if {' and '.join(terms)}:"]
    if loops:
        # A list with an element that does not pass goes the per-field way.
        lines.append(f"    {p}exact = True")
        for name, element in loops:
            lines += [
                f"    for {p}item in {name}:",
                f"        if not ({element}):",
                f"            {p}exact = False",
                "            break",
            ]
        lines.append(f"    if {p}exact:")
        lines += _indent(body, 2)
    else:
        lines += _indent(body, 1)
    return lines


def _fast_path(plan: _Plan) -> list[str]:
    """Lines (at indent 0) for the common call: an instance of the class itself,
    no unknown names, every value given with an inline check valid as it is
    (and every list with an element check a list). The document's dict is then
    made in one go, in field order, with a placeholder for each value not given
    (then dropped, or replaced by the default) and for each value checked by
    other means (then checked)."""
    p = _PREFIX
    fields = plan.cls._fields
    terms = [f"type({p}self) is {p}cls", f"not {p}unknown"]
    for index, field in enumerate(fields):
        check = plan.checks[index]
        if check is None and plan.elements[index] is not None:
            check = f"type({field.attname}) is list"
        if check is not None:
            terms.append(f"({check} or {field.attname} is {p}unset)")
    constants = plan.cls._constant_defaults
    entries = ", ".join(f"{field.key!r}: {field.attname}" for field in fields)
    lines = [f"if {' and '.join(terms)}:"]
    # A new document seldom has its _id yet (the insert gives it one): a dict
    # made without it costs less than deleting it (_id stays first when given).
    first = fields[0] if fields else None
    no_id = (
        first is not None
        and first.key == "_id"
        and plan.checks[0] is not None
        and "_id" not in constants
        and id(first) not in plan.made
    )
    if no_id:
        rest = ", ".join(f"{field.key!r}: {field.attname}" for field in fields[1:])
        lines += [
            f"    if {fields[0].attname} is {p}unset:",
            f"        {p}self._data = {p}data = {{{rest}}}",
            "    else:",
            f"        {p}self._data = {p}data = {{{entries}}}",
        ]
    else:
        lines.append(f"    {p}self._data = {p}data = {{{entries}}}")
    for index, field in enumerate(fields):
        if no_id and index == 0:
            continue
        name, key = field.attname, repr(field.key)
        lines.append(f"    if {name} is {p}unset:")
        if field.key in constants:
            plan.scope[f"{p}constant{index}"] = constants[field.key]
            lines.append(f"        {p}data[{key}] = {p}constant{index}")
        elif id(field) in plan.made:
            lines.extend(_indent(plan.absent(index), 2))
        else:
            lines.append(f"        del {p}data[{key}]")
        if plan.checks[index] is None:
            lines.append("    else:")
            lines.extend(_indent(plan.given(index, is_list=True), 2))
    lines.append(f"    if {p}errors is not None:")
    lines.append(f"        {p}finish({p}self, {p}unknown, {p}errors)")
    lines.append("    return None")
    return lines
