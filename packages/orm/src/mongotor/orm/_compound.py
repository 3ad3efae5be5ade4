"""Fields holding more than a scalar: lists, plain dicts and embedded documents.

Their values are mutable: reading one from a loaded document converts and
copies it once, and changes made in place (``user.tags.append(...)``,
``user.address.city = ...``, ``user.prefs["x"] = 1``) are found by comparing
with what was stored when the document is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, Literal, TypeVar, Unpack, overload

from ._document import BaseDocument
from ._errors import ValidationError
from ._field import Field, FieldOptions, Invalid, Values
from ._query import FieldPath
from ._values import copy_value

__all__ = ["EmbeddedDocument", "EmbeddedField", "ListField", "ObjectField"]

T = TypeVar("T")
E = TypeVar("E")
D = TypeVar("D", bound=BaseDocument)


class EmbeddedDocument(BaseDocument):
    """A document stored inside another one (``EmbeddedField(Address)``,
    ``ListField(EmbeddedField(Address))``). Declared with fields as a model is;
    it has no collection, no ``_id`` and no ``objects``. Changes made to it are
    saved as dotted paths (``$set: {"address.city": ...}``)."""

    __slots__ = ()


class ListField(Field[T], Generic[T, E]):
    """A list; ``ListField(StringField())`` checks and converts each element as
    its field does (errors are reported as ``tags.2``), ``ListField()`` takes any
    elements. A list a document holds is its own (assigning copies it); change
    it in place freely. ``User.tags == "x"`` matches documents whose list holds
    ``"x"``; ``User.addresses.city`` is a path into a list of embedded documents."""

    converts = True
    stores_as_is = False
    mutable = True

    @overload
    def __init__(
        self: ListField[list[E], E],
        field: Values[E],
        *,
        required: Literal[True],
        default: Callable[[], list[E]] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ListField[list[E], E],
        field: Values[E],
        *,
        required: bool = False,
        default: Callable[[], list[E]],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ListField[list[E] | None, E],
        field: Values[E],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ListField[list[Any], Any],
        field: None = None,
        *,
        required: Literal[True],
        default: Callable[[], list[Any]] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ListField[list[Any], Any],
        field: None = None,
        *,
        required: bool = False,
        default: Callable[[], list[Any]],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ListField[list[Any] | None, Any],
        field: None = None,
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        field: Any = None,
        *,
        required: bool = False,
        default: Any = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        if field is not None and (not isinstance(field, Field) or field.assigns_itself):
            raise TypeError(f"a ListField holds a field (not a reference), not {field!r}")
        self.field: Field[Any] | None = field
        super().__init__(required=required, default=default, **options)

    def validate(self, value: Any, deep: bool = False) -> Any:
        if value is None:
            return super().validate(value)
        if type(value) is not list and not isinstance(value, list | tuple):
            raise Invalid.here(f"must be a list, not {type(value).__name__}")
        inner = self.field
        if inner is None:
            items = copy_value(list(value))
        else:
            items = list(value)
            # Elements of the inner field's plain type are valid as they are,
            # except documents before a write: their contents are checked then.
            trivial = None if deep and inner.mutable else inner.trivial
            for item in items:
                if type(item) is not trivial:
                    items = self._validate_items(inner, items, deep)
                    break
        if self._checks:
            try:
                self.constrain(items)
            except ValueError as exc:
                raise Invalid.here(str(exc)) from None
        return items

    @staticmethod
    def _validate_items(inner: Field[Any], items: list[Any], deep: bool) -> list[Any]:
        validated = []
        errors: dict[str, str] = {}
        for index, item in enumerate(items):
            try:
                validated.append(inner.validate(item, deep))
            except Invalid as exc:
                errors.update(exc.under(str(index)))
        if errors:
            raise Invalid(errors)
        return validated

    def element_check(self, item: str, ref: str, scope: dict[str, Any]) -> str | None:
        inner = self.field
        if inner is None or self._checks:
            return None
        return inner.inline_check(item, ref, scope)

    def inline_default(self) -> str | None:
        return "[]" if self.default is list and not self._checks else None

    def writer(self) -> Callable[[Any], Any] | None:
        inner = self.field
        if inner is None or self._checks:
            return super().writer()
        kind = inner.trivial
        if kind is not None and inner.stores_as_is and not inner.mutable:
            # Valid before a write when every element is of the inner field's
            # plain type; stored as a copy of the list.
            def plain(value: Any) -> Any:
                if type(value) is not list:
                    return None
                for item in value:
                    if type(item) is not kind:
                        return None
                return value[:]

            return plain
        if type(inner) is EmbeddedField and not inner._checks:
            model = inner.document_class

            def documents(value: Any) -> Any:
                if type(value) is not list:
                    return None
                items = [item._write_new() if isinstance(item, model) else None for item in value]
                return None if None in items else items

            return documents
        return super().writer()

    def inline_write(
        self, value: str, ref: str, scope: dict[str, Any], store: str
    ) -> list[str] | None:
        inner = self.field
        if inner is None or self._checks:
            return None
        kind = inner.trivial
        item = f"{ref}_item"
        if kind is not None and inner.stores_as_is and not inner.mutable:
            scope[ref] = kind
            return [
                f"if type({value}) is not list:",
                "    return None",
                f"for {item} in {value}:",
                f"    if type({item}) is not {ref}:",
                "        return None",
                f"{value} = {value}.copy()",
                store,
            ]
        if type(inner) is EmbeddedField and not inner._checks:
            model = inner.document_class
            scope[ref] = model
            scope[f"{ref}_write"] = model._write_new
            # A loop rather than a comprehension and a search for None: no
            # function call, and it stops at the first document that does not pass.
            return [
                f"if type({value}) is not list:",
                "    return None",
                f"{ref}_items = []",
                f"for {item} in {value}:",
                f"    if type({item}) is {ref}:",
                f"        {item} = {ref}_write({item})",
                f"    elif isinstance({item}, {ref}):",
                f"        {item} = {item}._write_new()",
                "    else:",
                "        return None",
                f"    if {item} is None:",
                "        return None",
                f"    {ref}_items.append({item})",
                f"{value} = {ref}_items",
                store,
            ]
        return None

    def to_python(self, value: Any) -> list[E]:
        inner = self.field
        if type(value) is not list:
            return value  # type: ignore[no-any-return]  # stored otherwise: kept as it is
        if inner is None:
            return copy_value(value)  # type: ignore[no-any-return]
        if not inner.converts:
            return list(value)
        return [None if item is None else inner.to_python(item) for item in value]  # type: ignore[misc]

    def to_mongo(self, value: Any) -> Any:
        inner = self.field
        if inner is None:
            return copy_value(value)
        if inner.stores_as_is:
            return list(value)
        if type(inner) is EmbeddedField:  # the common list of documents, one call less each
            return [
                item._dump()
                if isinstance(item, BaseDocument)
                else None
                if item is None
                else inner.to_mongo(item)
                for item in value
            ]
        return [None if item is None else inner.to_mongo(item) for item in value]

    def to_plain(self, value: Any) -> Any:
        inner = self.field
        if inner is None:
            return copy_value(value)
        return [None if item is None else inner.to_plain(item) for item in value]

    def embedded_model(self) -> Any:
        return None if self.field is None else self.field.embedded_model()

    def _query_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self._element_query_value(item) for item in value]
        return self._element_query_value(value)

    def _element_query_value(self, value: Any) -> Any:
        return value if self.field is None else self.field._query_value(value)

    def _subfield(self, name: str) -> Field[Any]:
        if self.field is None:
            return super()._subfield(name)
        return self.field._subfield(name)

    def __getattr__(self, name: str) -> FieldPath:
        if name.startswith("_"):
            raise AttributeError(name)
        sub = self._subfield(name)
        return FieldPath(f"{self.key}.{sub.key}", sub)


class ObjectField(Field[T]):
    """A dict (a BSON document) of anything, with string keys. The dict a
    document holds is its own (assigning copies it); change it in place freely:
    changed keys are saved as dotted paths."""

    converts = True
    stores_as_is = False
    mutable = True

    @overload
    def __init__(
        self: ObjectField[dict[str, Any]],
        *,
        required: Literal[True],
        default: Callable[[], dict[str, Any]] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ObjectField[dict[str, Any]],
        *,
        required: bool = False,
        default: Callable[[], dict[str, Any]],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ObjectField[dict[str, Any] | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)

    def coerce(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"must be a dict, not {type(value).__name__}")
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"keys must be strings, not {type(key).__name__}")
        return copy_value(dict(value))

    def inline_default(self) -> str | None:
        return "{}" if self.default is dict and not self._checks else None

    def to_python(self, value: Any) -> dict[str, Any]:
        return copy_value(value)  # type: ignore[no-any-return]

    def to_mongo(self, value: Any) -> Any:
        return copy_value(value)


class EmbeddedField(Field[T], Generic[T, D]):
    """An embedded document of the class given (or of a subclass). A dict is
    taken too, as that class's constructor takes it. ``User.address.city`` is a
    query path into it."""

    converts = True
    stores_as_is = False
    mutable = True

    @overload
    def __init__(
        self: EmbeddedField[D, D],
        model: type[D],
        *,
        required: Literal[True],
        default: Callable[[], D] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: EmbeddedField[D, D],
        model: type[D],
        *,
        required: bool = False,
        default: Callable[[], D],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: EmbeddedField[D | None, D],
        model: type[D],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        model: type[D],
        *,
        required: bool = False,
        default: Any = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        if not (isinstance(model, type) and issubclass(model, BaseDocument)):
            raise TypeError(f"an EmbeddedField holds a document class, not {model!r}")
        if default is not None and not callable(default):
            raise TypeError(
                "an EmbeddedField's default is a callable making a document for each one "
                "(default=lambda: Address(...)), not a document they would all share"
            )
        self.document_class: type[D] = model
        super().__init__(required=required, default=default, **options)
        if not self._checks:
            # A document of exactly this class is taken as it is on assignment
            # (its own fields were validated as they were set).
            self.trivial = model

    def validate(self, value: Any, deep: bool = False) -> Any:
        model = self.document_class
        if isinstance(value, model):
            if deep and (errors := value._problems(everything=False)):
                raise Invalid(errors)
            if not self._checks:
                return value
        elif isinstance(value, Mapping):
            try:
                value = model(**value)
            except ValidationError as exc:
                raise Invalid(exc.errors) from None
        elif value is not None:
            raise Invalid.here(f"must be a {model.__name__}, not {type(value).__name__}")
        return super().validate(value)

    def writer(self) -> Callable[[Any], Any] | None:
        if self._checks:
            return super().writer()
        model = self.document_class

        def document(value: Any) -> Any:
            return value._write_new() if isinstance(value, model) else None

        return document

    def inline_write(
        self, value: str, ref: str, scope: dict[str, Any], store: str
    ) -> list[str] | None:
        if self._checks:
            return None
        model = self.document_class
        scope[ref] = model
        scope[f"{ref}_write"] = model._write_new
        return [
            f"if type({value}) is {ref}:",
            f"    {value} = {ref}_write({value})",
            f"elif isinstance({value}, {ref}):",
            f"    {value} = {value}._write_new()",
            "else:",
            "    return None",
            f"if {value} is None:",
            "    return None",
            store,
        ]

    def to_python(self, value: Any) -> D:
        if type(value) is dict:
            return self.document_class.from_mongo(value)
        return value  # type: ignore[no-any-return]  # stored otherwise: kept as it is

    def to_mongo(self, value: Any) -> Any:
        if isinstance(value, BaseDocument):
            return value._dump()
        # A dict put in a list in place: validated before the write, as the
        # constructor takes it (by attribute names).
        return self.document_class(**value)._dump()

    def to_plain(self, value: Any) -> Any:
        if isinstance(value, BaseDocument):
            return value.to_dict()
        return copy_value(value)

    def embedded_model(self) -> Any:
        return self.document_class

    def _query_value(self, value: Any) -> Any:
        if isinstance(value, BaseDocument):
            return value._dump()
        return value

    def _subfield(self, name: str) -> Field[Any]:
        field = self.document_class._by_attname.get(name)
        if field is None:
            return super()._subfield(name)
        return field

    def __getattr__(self, name: str) -> FieldPath:
        if name.startswith("_"):
            raise AttributeError(name)
        sub = self._subfield(name)
        return FieldPath(f"{self.key}.{sub.key}", sub)
