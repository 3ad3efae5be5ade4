"""The Field base: a descriptor that validates on assignment and converts values
between their Python form and their stored (BSON) form.

A document keeps its values in ``_data`` by stored name. Values read from the
database stay in their stored form until first read; a field whose stored form
differs from its Python form, or is mutable, converts (and so copies) it then
(``converts``). Reading never validates: what the database holds is trusted;
what is assigned, and what is written, is validated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Generic, Protocol, Self, TypeAlias, TypedDict, TypeVar, overload

from ._errors import ValidationError
from ._query import Comparable
from ._values import copy_value

__all__ = ["Default", "Field", "FieldOptions", "Invalid", "Values", "join_path"]

T = TypeVar("T")
X = TypeVar("X")
V_co = TypeVar("V_co", covariant=True)

#: A field's default: a value, or a callable making one for each document.
Default: TypeAlias = X | Callable[[], X]


class Values(Protocol[V_co]):
    """Anything that turns a stored value into a Python value of type ``V_co``
    (every field: what a ListField's element type is read from)."""

    def to_python(self, value: Any) -> V_co: ...


class FieldOptions(TypedDict, total=False):
    """The options every field takes (beside ``required`` and ``default``)."""

    #: The stored field name (the attribute's name by default).
    name: str
    #: The only values allowed.
    choices: Iterable[Any]
    #: Declare a unique index on this field (created by ``ensure_indexes()``).
    unique: bool
    #: Declare an ascending index on this field (created by ``ensure_indexes()``).
    index: bool
    #: Callables that raise ``ValueError`` (with the message to show) for a bad value.
    validators: Iterable[Callable[[Any], object]]


def join_path(prefix: str, path: str) -> str:
    """``prefix.path`` (``prefix`` alone for the empty path)."""
    return f"{prefix}.{path}" if path else prefix


class Invalid(Exception):
    """Validation failed: ``errors`` maps paths relative to the value ("" is
    the value itself) to messages. Becomes a :class:`ValidationError`."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def here(cls, message: str) -> Invalid:
        return cls({"": message})

    def under(self, prefix: str) -> dict[str, str]:
        """The errors with their paths under ``prefix``."""
        return {join_path(prefix, path): message for path, message in self.errors.items()}


def _key_error(key: str) -> str | None:
    if not key:
        return "a stored field name cannot be empty"
    if "." in key or key.startswith("$") or "\x00" in key:
        return f"the stored field name {key!r} cannot contain '.' or NUL, or start with '$'"
    return None


class Field(Comparable, Generic[T]):
    """A model attribute stored as one field of the document.

    ``required``: the document cannot be written without a value (and ``None``
    cannot be assigned). ``default``: the value of a new document's field, or
    of a loaded document's absent field when first read (a callable is called
    each time: ``default=list``, ``default=datetime.utcnow``). Options: ``name``
    (the stored name), ``choices``, ``unique`` / ``index`` (declared indexes),
    ``validators``. Assigning a value of the wrong kind, or breaking a rule,
    raises :class:`~mongotor.orm.ValidationError` naming the field.

    On the class, a field is a query expression: ``User.age > 3``.
    """

    #: Whether stored values are converted (and mutable ones copied) on first read.
    converts: ClassVar[bool] = False
    #: Whether assignment goes through ``__set__`` even in constructors.
    assigns_itself: ClassVar[bool] = False
    #: Whether a Python value is stored as it is (``to_mongo`` is the identity).
    stores_as_is: ClassVar[bool] = True
    #: Whether values can change in place (so they are checked again before a write).
    mutable: ClassVar[bool] = False
    #: The type whose values are taken as they are, unless the field has rules.
    plain_type: ClassVar[type | None] = None

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        name: str | None = None,
        choices: Iterable[Any] | None = None,
        unique: bool = False,
        index: bool = False,
        validators: Iterable[Callable[[Any], object]] = (),
    ) -> None:
        #: The attribute's name on its model ("" until the model is made).
        self.attname = ""
        #: The stored field name.
        self.key = name or ""
        if name is not None and (problem := _key_error(name)):
            raise ValueError(problem)
        self.required = required
        self.default = default
        self.choices: tuple[Any, ...] | None = None if choices is None else tuple(choices)
        self.unique = unique
        self.index = index
        self.validators = tuple(validators)
        #: The model class the field was declared on.
        self.model: type[Any] | None = None
        #: Whether values need :meth:`check`, ``choices`` or ``validators`` run on them.
        self._checks = False
        #: Values of this exact type are valid as they are (``None``: always validate).
        self.trivial: type | None = self.plain_type
        if self.choices is not None or self.validators:
            self._constrained()

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.attname = name
        if not self.key:
            self.key = name
        self.model = owner

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model is not None else "?"
        return f"<{type(self).__name__} {owner}.{self.attname or '?'} stored as {self.key!r}>"

    # -- the descriptor ---------------------------------------------------------------------

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> T: ...

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        key = self.key
        data = instance._data
        try:
            value = data[key]
        except KeyError:
            return instance._missing(self)
        if self.converts and value is not None:
            touched = instance._touched
            if touched is not None and key not in touched:
                value = self.to_python(value)
                data[key] = value
                touched.add(key)
        return value

    def __set__(self, instance: Any, value: T) -> None:
        try:
            checked = self.validate(value)
        except Invalid as exc:
            raise ValidationError(exc.under(self.attname), model=type(instance).__name__) from None
        instance._assign(self.key, checked)

    # -- values -----------------------------------------------------------------------------

    def _constrained(self) -> None:
        """The field has rules beyond its type: every value must be checked."""
        self._checks = True
        self.trivial = None

    def coerce(self, value: Any) -> Any:
        """``value`` (not None) in its Python form, or ``ValueError`` saying why
        it is not of this field's kind (subclasses; the base takes anything)."""
        return value

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if a coerced value breaks the field's rules."""

    def validate(self, value: Any, deep: bool = False) -> Any:
        """``value`` as the field keeps it, or :class:`Invalid`. ``deep`` (before
        a write) also checks what embedded documents hold."""
        if type(value) is self.trivial:
            return value
        if value is None:
            if self.required:
                raise Invalid.here("required")
            return None
        try:
            value = self.coerce(value)
            if self._checks:
                self.constrain(value)
        except ValueError as exc:
            raise Invalid.here(str(exc)) from None
        return value

    def constrain(self, value: Any) -> None:
        """Raise ``ValueError`` if a coerced value breaks :meth:`check`,
        ``choices`` or ``validators``."""
        self.check(value)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"must be one of {list(self.choices)!r}")
        for validator in self.validators:
            validator(value)

    def to_python(self, value: Any) -> Any:
        """A stored value (not None) in its Python form (never validated)."""
        return value

    def to_mongo(self, value: Any) -> Any:
        """A Python value (not None) in its stored form."""
        return value

    def to_plain(self, value: Any) -> Any:
        """A Python value (not None) as :meth:`~mongotor.orm.Collection.to_dict`
        gives it: a copy sharing nothing mutable."""
        return copy_value(value)

    # -- for generated constructors (_init.py) and write plans (_write.py) ----------------------

    def inline_check(self, value: str, ref: str, scope: dict[str, Any]) -> str | None:
        """A Python expression over the variable ``value``, true when
        ``validate(value)`` would return it unchanged, so that generated
        constructors skip the call; names it uses are put in ``scope`` under
        ``ref``. ``None``: there is none (validate is always called)."""
        if self.trivial is None:
            return None
        scope[ref] = self.trivial
        return f"type({value}) is {ref}"

    def element_check(self, item: str, ref: str, scope: dict[str, Any]) -> str | None:
        """For a list field: a Python expression over the variable ``item``, true
        when that element needs no validating, so that ``validate`` of a list
        whose elements all pass returns a copy of it (as :meth:`inline_check`
        says of a value); ``None``: there is none."""
        return None

    def inline_default(self) -> str | None:
        """A Python expression (of literals only) equal to :meth:`make_default`,
        when one is known; ``None`` otherwise."""
        return None

    def writer(self) -> Callable[[Any], Any] | None:
        """For the write of a new document: a function giving a held value's
        (not None) stored form, as :meth:`to_mongo` does, once it has checked
        it as a write does (mutable values, deep), or ``None`` when the value
        does not pass or the function cannot tell (then the full check
        decides). ``None`` instead of a function: values are stored as held."""
        if self.mutable:
            validate, to_mongo, as_is = self.validate, self.to_mongo, self.stores_as_is

            def checked(value: Any) -> Any:
                try:
                    validate(value, True)
                except Invalid:
                    return None
                return value if as_is else to_mongo(value)

            return checked
        return None if self.stores_as_is else self.to_mongo

    def inline_write(
        self, value: str, ref: str, scope: dict[str, Any], store: str
    ) -> list[str] | None:
        """Statements (for generated write plans) turning the variable ``value``
        (a held value, not None) into its stored form as :meth:`writer`'s
        function does, with ``return None`` where it gives ``None``, and
        running the statement ``store`` (which stores ``value``) unless the
        stored form is the held value itself; names they use go in ``scope``
        under names starting with ``ref``. ``None``: the function is called
        instead."""
        return None

    def embedded_model(self) -> Any:
        """The embedded document class whose fields a dotted path continues
        into (``None``: the path continues into stored names)."""
        return None

    def make_default(self) -> Any:
        """The default value (``default()`` when it is callable), validated
        (:class:`Invalid` if the default breaks the field's rules)."""
        default = self.default
        return self.validate(default() if callable(default) else default)

    # -- queries ----------------------------------------------------------------------------

    def _query_path(self) -> str:
        return self.key

    def _query_value(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.to_mongo(self.coerce(value))
        except (ValueError, TypeError):
            return value  # compared as given: a query may ask for anything

    def _subfield(self, name: str) -> Field[Any]:
        raise AttributeError(f"{type(self).__name__} {self.attname!r} has no sub-field {name!r}")
