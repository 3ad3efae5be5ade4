"""mongotor.orm.errors: the ORM's errors (also in :mod:`mongotor.orm`).

They sit in :mod:`mongotor.errors`' hierarchy (``ValidationError`` is an
``InterfaceError`` and a ``ValueError``; ``DocumentNotFoundError`` and
``ConcurrentModificationError`` are ``DatabaseError`` s), so ``except
mongotor.errors.Error`` catches them too. ``mongotor.errors`` itself belongs to
the client, which does not depend on the ORM, so they are not re-exported there.
"""

from __future__ import annotations

from ._errors import ConcurrentModificationError as ConcurrentModificationError
from ._errors import DocumentNotFoundError as DocumentNotFoundError
from ._errors import FieldNotLoadedError as FieldNotLoadedError
from ._errors import ReferenceNotLoadedError as ReferenceNotLoadedError
from ._errors import ValidationError as ValidationError

for _cls in (
    ConcurrentModificationError,
    DocumentNotFoundError,
    FieldNotLoadedError,
    ReferenceNotLoadedError,
    ValidationError,
):
    _cls.__module__ = "mongotor.orm"
del _cls

__all__ = [
    "ConcurrentModificationError",
    "DocumentNotFoundError",
    "FieldNotLoadedError",
    "ReferenceNotLoadedError",
    "ValidationError",
]
