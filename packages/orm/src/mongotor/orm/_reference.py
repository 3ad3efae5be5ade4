"""References to documents of other models, and the version field of optimistic
concurrency.

A :class:`ReferenceField` stores the referenced document's ``_id``. Reading it
gives the referenced document once it was fetched (``await
post.fetch_related("author")``, or ``select_related("author")`` on a query,
which loads it for a whole result set with one ``$in`` query); before that,
reading raises :class:`~mongotor.orm.ReferenceNotLoadedError` instead of
quietly running a query per document (the N+1 problem).
"""

from __future__ import annotations

from typing import Any, Final, Generic, Literal, Self, TypeVar, Unpack, overload

from mongotor.errors import InvalidOperationError

from ._document import BaseDocument, model_named
from ._errors import DocumentNotFoundError, ReferenceNotLoadedError, ValidationError
from ._field import Field, FieldOptions, Invalid

__all__ = ["DANGLING", "ReferenceField", "VersionField"]

T = TypeVar("T")
C = TypeVar("C", bound=BaseDocument)


class _Dangling:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DANGLING"


#: What a fetched reference holds when the referenced document does not exist.
DANGLING: Final[Any] = _Dangling()


class ReferenceField(Field[T], Generic[T, C]):
    """The ``_id`` of a document of ``model`` (a class, or its name for one
    defined later). Assign a saved document (or an ``_id``); read the document
    after fetching it. ``Post.author.id_of(post)`` is the stored ``_id`` without
    fetching. Compared in queries by ``_id``: ``Post.author == ana``."""

    assigns_itself = True

    @overload
    def __init__(
        self: ReferenceField[C, C],
        model: type[C],
        *,
        required: Literal[True],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ReferenceField[C | None, C],
        model: type[C],
        *,
        required: Literal[False] = False,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ReferenceField[Any, Any],
        model: str,
        *,
        required: bool = False,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, model: type[C] | str, *, required: bool = False, **options: Unpack[FieldOptions]
    ) -> None:
        if not isinstance(model, str) and not (
            isinstance(model, type) and issubclass(model, BaseDocument)
        ):
            raise TypeError(f"a ReferenceField refers to a model class or its name, not {model!r}")
        self._model = model
        super().__init__(required=required, **options)

    @property
    def document_class(self) -> type[C]:
        """The referenced model (looked up by name the first time, if given one)."""
        model = self._model
        if isinstance(model, str):
            model = self._model = model_named(model)  # type: ignore[assignment]
        return model  # type: ignore[return-value]

    def id_of(self, instance: BaseDocument) -> Any:
        """The ``_id`` ``instance`` refers to (``None`` if none), fetched or not."""
        return instance._data.get(self.key)

    # -- the descriptor ---------------------------------------------------------------------

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> T: ...

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        key = self.key
        if key not in instance._data:
            return instance._missing(self)
        value = instance._data[key]
        if value is None:
            return None
        refs = instance._refs
        if refs is not None and key in refs:
            document = refs[key]
            if document is DANGLING:
                raise DocumentNotFoundError(self.document_class.__name__, value)
            return document
        raise ReferenceNotLoadedError(type(instance).__name__, self.attname, value)

    def __set__(self, instance: Any, value: T) -> None:
        try:
            checked = self.validate(value)
        except Invalid as exc:
            raise ValidationError(exc.under(self.attname), model=type(instance).__name__) from None
        refs = instance._refs
        if isinstance(value, BaseDocument):
            if refs is None:
                refs = instance._refs = {}
            refs[self.key] = value
        elif refs is not None:
            refs.pop(self.key, None)
        instance._assign(self.key, checked)

    def validate(self, value: Any, deep: bool = False) -> Any:
        """The ``_id`` to store for ``value`` (a document of the model, or an id)."""
        if isinstance(value, BaseDocument):
            model = self.document_class
            if not isinstance(value, model):
                raise Invalid.here(f"must be a {model.__name__}, not {type(value).__name__}")
            value = value._data.get("_id")
            if value is None:
                raise Invalid.here(f"the {model.__name__} has no _id yet: save it first")
        return super().validate(value)

    def to_plain(self, value: Any) -> Any:
        return value

    def _query_value(self, value: Any) -> Any:
        if isinstance(value, BaseDocument):
            return value._data.get("_id")
        return value


class VersionField(Field[int]):
    """The version of a document, for optimistic concurrency: a new document
    is inserted at version 1, and each save or update that changes it sets the
    next version on the condition that the stored one is still this instance's.
    If another writer got there first, the write is not applied and
    :class:`~mongotor.orm.ConcurrentModificationError` is raised. The ORM keeps
    it: assigning it raises :class:`~mongotor.errors.InvalidOperationError`."""

    assigns_itself = True

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(default=0, name=name)

    def __set__(self, instance: Any, value: int) -> None:
        raise InvalidOperationError(f"{type(instance).__name__}.{self.attname} is kept by the ORM")

    def coerce(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"must be an integer, not {type(value).__name__}")
