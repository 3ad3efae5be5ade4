"""The ORM's errors, inside :mod:`mongotor.errors`' hierarchy.

::

    mongotor.errors.Error
    ├── InterfaceError
    │   ├── ValidationError              (also a ValueError) every field error at once
    │   └── InvalidOperationError
    │       ├── FieldNotLoadedError      a field left out by ``only()`` was read
    │       └── ReferenceNotLoadedError  an unfetched reference was read
    └── DatabaseError
        ├── DocumentNotFoundError        the stored document to update or reload is gone
        └── ConcurrentModificationError  a versioned save lost a race

``mongotor.errors`` belongs to the client, which never imports the ORM, so these
live here (and in :mod:`mongotor.orm`); ``except mongotor.errors.Error`` catches
them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mongotor.errors import DatabaseError, InterfaceError, InvalidOperationError

__all__ = [
    "ConcurrentModificationError",
    "DocumentNotFoundError",
    "FieldNotLoadedError",
    "ReferenceNotLoadedError",
    "ValidationError",
]


class ValidationError(InterfaceError, ValueError):
    """One or more values break their fields' rules. ``errors`` maps each field
    (by attribute name; a dotted path into embedded documents and lists, such as
    ``"address.city"`` or ``"tags.2"``) to what is wrong with it; ``model`` is the
    model's class name. Raised on assignment (that one field), by constructors and
    ``create`` (every field given), and before every write (every field written)."""

    def __init__(self, errors: Mapping[str, str], *, model: str | None = None) -> None:
        self.errors: dict[str, str] = dict(errors)
        self.model = model
        listed = "; ".join(f"{path}: {message}" for path, message in self.errors.items())
        subject = f"{model} is invalid" if model else "invalid"
        super().__init__(f"{subject}: {listed}")


class FieldNotLoadedError(InvalidOperationError):
    """A field was read that the query left out (``only()``); ``field`` names it.
    Assigning it is allowed (the next save sets it)."""

    def __init__(self, model: str, field: str) -> None:
        self.model = model
        self.field = field
        super().__init__(f"{model}.{field} was not loaded (the query's only() left it out)")


class ReferenceNotLoadedError(InvalidOperationError):
    """A reference was read before it was fetched; ``field`` names it and ``id``
    is the referenced ``_id``. Fetch it with ``await doc.fetch_related(field)`` or
    the query's ``select_related(field)``."""

    def __init__(self, model: str, field: str, id: Any) -> None:
        self.model = model
        self.field = field
        self.id = id
        super().__init__(
            f"{model}.{field} references {id!r}, which is not loaded: use "
            f"select_related({field!r}) or await fetch_related({field!r})"
        )


class DocumentNotFoundError(DatabaseError):
    """The stored document an operation needed (an update, a save of a loaded
    document, a reload) does not exist (any more). ``model`` and ``id`` say which."""

    def __init__(self, model: str, id: Any) -> None:
        self.model = model
        self.id = id
        super().__init__(f"no {model} with _id {id!r} is stored")


class ConcurrentModificationError(DatabaseError):
    """A versioned document was changed or removed by someone else since it was
    loaded, so this write was not applied: reload it and try again. ``version``
    is the version this instance was loaded at."""

    def __init__(self, model: str, id: Any, version: Any) -> None:
        self.model = model
        self.id = id
        self.version = version
        super().__init__(
            f"{model} {id!r} is no longer at version {version!r}: it was changed or removed "
            "since it was loaded (reload it and apply the change again)"
        )
