"""The write models of bulk_write (CRUD spec, "Write Models") and the statements
they become in ``insert`` / ``update`` / ``delete`` commands."""

from __future__ import annotations

import enum
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from bson import ObjectId

from mongotor.errors import InterfaceError

__all__ = [
    "DeleteMany",
    "DeleteOne",
    "InsertOne",
    "ReplaceOne",
    "UpdateMany",
    "UpdateOne",
    "WriteKind",
    "WriteModel",
    "check_replacement",
    "check_update",
    "ensure_id",
]

Document: TypeAlias = Mapping[str, Any]
#: An update document (``{"$set": ...}``) or an aggregation pipeline.
Update: TypeAlias = Mapping[str, Any] | Sequence[Mapping[str, Any]]


class WriteKind(enum.Enum):
    """The write command a model belongs to: its name and its statements' field."""

    INSERT = ("insert", "documents")
    UPDATE = ("update", "updates")
    DELETE = ("delete", "deletes")

    @property
    def command(self) -> str:
        """The command's name."""
        return self.value[0]

    @property
    def field(self) -> str:
        """The field (document sequence identifier) of its statements."""
        return self.value[1]


def ensure_id(given: object, new_id: ObjectId | None = None) -> tuple[Document, Any]:
    """The document to send and its ``_id``: one is added (``new_id``, or a new
    ObjectId) when it has none, into the caller's document itself when it is
    mutable, as PyMongo does, so the caller sees the id. ``TypeError`` for a
    document that is not a mapping."""
    document: Document
    # ``type() is dict`` first: the ABC check costs more than the rest together.
    if type(given) is dict or isinstance(given, Mapping):
        document = given
    else:
        raise TypeError(f"document must be a mapping (a dict, SON...), not {type(given).__name__}")
    if "_id" in document:
        return document, document["_id"]
    if new_id is None:
        new_id = ObjectId()
    # ``type() is dict`` first: the ABC check costs more than the rest together.
    if type(document) is dict or isinstance(document, MutableMapping):
        document["_id"] = new_id
        return document, new_id
    return {"_id": new_id, **document}, new_id


def check_document(name: str, value: object) -> None:
    """Raise ``TypeError`` unless ``value`` is a mapping (a dict, SON,
    RawBSONDocument...): caught here, before anything is sent, rather than as the
    server's "wrong type" error after a round trip (PyMongo does the same)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping (a dict, SON...), not {type(value).__name__}")


def check_update(update: Update) -> None:
    """Raise :class:`InterfaceError` unless ``update`` is a non-empty update document
    whose first key is an operator, or a non-empty pipeline (CRUD spec, "Update vs.
    Replace Validation"); ``TypeError`` when it is neither a mapping nor a list."""
    if not isinstance(update, Mapping | list | tuple):
        raise TypeError(
            f"update must be a mapping or a list (a pipeline), not {type(update).__name__}"
        )
    if isinstance(update, Mapping):
        first = next(iter(update), None)
        if first is None or not first.startswith("$"):
            raise InterfaceError("an update document must start with an update operator ($set...)")
    elif not update:
        raise InterfaceError("an update pipeline must not be empty")


def check_replacement(replacement: Document) -> None:
    """Raise :class:`InterfaceError` if ``replacement`` starts with an update operator."""
    first = next(iter(replacement), None)
    if first is not None and first.startswith("$"):
        raise InterfaceError("a replacement document must not contain update operators")


def _options(
    statement: dict[str, Any],
    collation: Mapping[str, Any] | None,
    hint: str | Mapping[str, Any] | None,
) -> dict[str, Any]:
    if collation is not None:
        statement["collation"] = collation
    if hint is not None:
        statement["hint"] = hint
    return statement


@dataclass(frozen=True, slots=True)
class InsertOne:
    """Insert ``document`` (an ``_id`` is added when it has none)."""

    document: Document

    kind = WriteKind.INSERT
    multi = False

    def __post_init__(self) -> None:
        check_document("document", self.document)

    def statement(self) -> Document:
        """The statement: the document itself."""
        return self.document


@dataclass(frozen=True, slots=True)
class _Update:
    filter: Document
    update: Update
    upsert: bool = False
    collation: Mapping[str, Any] | None = None
    array_filters: Sequence[Mapping[str, Any]] | None = None
    hint: str | Mapping[str, Any] | None = None

    kind = WriteKind.UPDATE
    multi = False

    def __post_init__(self) -> None:
        check_document("filter", self.filter)
        check_update(self.update)

    def statement(self) -> Document:
        """The ``updates`` statement."""
        statement: dict[str, Any] = {"q": self.filter, "u": self.update, "multi": self.multi}
        if self.upsert:
            statement["upsert"] = True
        if self.array_filters is not None:
            statement["arrayFilters"] = list(self.array_filters)
        return _options(statement, self.collation, self.hint)


@dataclass(frozen=True, slots=True)
class UpdateOne(_Update):
    """Update the first document matching ``filter`` (``sort`` picks which)."""

    sort: Mapping[str, Any] | None = None

    def statement(self) -> Document:
        """The ``updates`` statement."""
        statement = dict(_Update.statement(self))
        if self.sort is not None:
            statement["sort"] = self.sort
        return statement


@dataclass(frozen=True, slots=True)
class UpdateMany(_Update):
    """Update every document matching ``filter`` (not retryable)."""

    multi = True


@dataclass(frozen=True, slots=True)
class ReplaceOne:
    """Replace the first document matching ``filter`` with ``replacement``."""

    filter: Document
    replacement: Document
    upsert: bool = False
    collation: Mapping[str, Any] | None = None
    hint: str | Mapping[str, Any] | None = None
    sort: Mapping[str, Any] | None = None

    kind = WriteKind.UPDATE
    multi = False

    def __post_init__(self) -> None:
        check_document("filter", self.filter)
        check_document("replacement", self.replacement)
        check_replacement(self.replacement)

    def statement(self) -> Document:
        """The ``updates`` statement."""
        statement: dict[str, Any] = {"q": self.filter, "u": self.replacement, "multi": False}
        if self.upsert:
            statement["upsert"] = True
        if self.sort is not None:
            statement["sort"] = self.sort
        return _options(statement, self.collation, self.hint)


@dataclass(frozen=True, slots=True)
class DeleteOne:
    """Delete the first document matching ``filter``."""

    filter: Document
    collation: Mapping[str, Any] | None = None
    hint: str | Mapping[str, Any] | None = None

    kind = WriteKind.DELETE
    multi = False

    def __post_init__(self) -> None:
        check_document("filter", self.filter)

    def statement(self) -> Document:
        """The ``deletes`` statement."""
        return _options(
            {"q": self.filter, "limit": 0 if self.multi else 1}, self.collation, self.hint
        )


@dataclass(frozen=True, slots=True)
class DeleteMany(DeleteOne):
    """Delete every document matching ``filter`` (not retryable)."""

    multi = True


WriteModel: TypeAlias = InsertOne | UpdateOne | UpdateMany | ReplaceOne | DeleteOne | DeleteMany
