"""Database and collection names MongoDB accepts (manual: "Naming Restrictions")."""

from __future__ import annotations

from typing import Final

from mongotor.errors import InvalidName

__all__ = ["check_collection_name", "check_database_name"]

# Characters a database name may not contain (on any platform), and its limit in bytes.
_BAD_DATABASE_CHARACTERS: Final = frozenset('/\\. "$\x00')
_MAX_DATABASE_NAME_BYTES: Final = 63


def check_database_name(name: str) -> str:
    """``name`` if MongoDB accepts it as a database name; raises :class:`InvalidName`."""
    if not isinstance(name, str):
        raise TypeError(f"a database name must be a str, not {type(name).__name__}")
    if not name:
        raise InvalidName("a database name cannot be empty", name=name)
    if bad := sorted(set(name) & _BAD_DATABASE_CHARACTERS):
        raise InvalidName(f"a database name cannot contain {bad[0]!r}", name=name)
    if len(name.encode()) > _MAX_DATABASE_NAME_BYTES:
        raise InvalidName(
            f"a database name must be shorter than {_MAX_DATABASE_NAME_BYTES + 1} bytes", name=name
        )
    return name


def check_collection_name(name: str) -> str:
    """``name`` if MongoDB accepts it as a collection name; raises :class:`InvalidName`."""
    if not isinstance(name, str):
        raise TypeError(f"a collection name must be a str, not {type(name).__name__}")
    if not name:
        raise InvalidName("a collection name cannot be empty", name=name)
    if "$" in name or "\x00" in name:
        raise InvalidName("a collection name cannot contain '$' or a NUL character", name=name)
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise InvalidName(
            "a collection name cannot start or end with '.' or contain '..'", name=name
        )
    return name
