"""Write concern, read concern and read preference values (Read and Write Concern
spec; Server Selection spec), and the per-Database / per-Client / per-operation
options that carry them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from mongotor.errors import ConfigurationError
from mongotor.pool import PRIMARY, ReadPreference, ReadPreferenceMode

__all__ = [
    "ACKNOWLEDGED",
    "UNACKNOWLEDGED",
    "CollectionOptions",
    "ReadConcern",
    "WriteConcern",
    "read_preference_from",
    "write_concern_from",
]


@dataclass(frozen=True, slots=True)
class WriteConcern:
    """How many servers must acknowledge a write, and how durably.

    ``w`` is a number of members or a tag set name (``"majority"``); ``None``
    leaves it to the server (w: 1 by default). ``wtimeout`` is in milliseconds;
    ``j`` asks for the journal. ``w=0`` is unacknowledged: the write is sent with
    ``moreToCome`` and no reply is read. Raises :class:`ConfigurationError` for a
    negative ``w`` or ``wtimeout``, or ``w=0`` with ``j=True``.
    """

    w: int | str | None = None
    wtimeout: int | None = None
    j: bool | None = None

    def __post_init__(self) -> None:
        if isinstance(self.w, int) and (isinstance(self.w, bool) or self.w < 0):
            raise ConfigurationError("w must be a non-negative integer or a string", option="w")
        if self.wtimeout is not None and self.wtimeout < 0:
            raise ConfigurationError("wtimeout must be non-negative", option="wtimeout")
        if self.w == 0 and self.j:
            raise ConfigurationError("w=0 cannot be combined with j=True", option="j")

    @property
    def acknowledged(self) -> bool:
        """False for ``w: 0``."""
        return self.w != 0

    @property
    def is_server_default(self) -> bool:
        """Whether nothing is set (the command then carries no writeConcern)."""
        return self.w is None and self.wtimeout is None and self.j is None

    def to_document(self) -> dict[str, Any]:
        """The ``writeConcern`` document."""
        document: dict[str, Any] = {}
        if self.w is not None:
            document["w"] = self.w
        if self.wtimeout is not None:
            document["wtimeout"] = self.wtimeout
        if self.j is not None:
            document["j"] = self.j
        return document


#: ``w: 1``: the 2012 library's ``safe=True``.
ACKNOWLEDGED: Final = WriteConcern(w=1)
#: ``w: 0``: the 2012 library's ``safe=False``.
UNACKNOWLEDGED: Final = WriteConcern(w=0)


@dataclass(frozen=True, slots=True)
class ReadConcern:
    """The consistency a read asks for: ``level`` is ``"local"``, ``"majority"``,
    ``"available"``, ``"linearizable"`` or ``"snapshot"``; ``None`` is the
    server's default (the command then carries no readConcern)."""

    level: str | None = None

    def to_document(self) -> dict[str, Any]:
        """The ``readConcern`` document."""
        return {} if self.level is None else {"level": self.level}


# PyMongo 2's (and the 2012 library's) numeric read preference modes.
_LEGACY_MODES: Final = (
    ReadPreferenceMode.PRIMARY,
    ReadPreferenceMode.PRIMARY_PREFERRED,
    ReadPreferenceMode.SECONDARY,
    ReadPreferenceMode.SECONDARY_PREFERRED,
    ReadPreferenceMode.NEAREST,
)


def read_preference_from(value: ReadPreference | ReadPreferenceMode | str | int) -> ReadPreference:
    """A :class:`~mongotor.pool.ReadPreference` from itself, a mode (``"secondary"``,
    ``ReadPreferenceMode.NEAREST``) or the 2012 library's numbers (0 primary, 1
    primaryPreferred, 2 secondary, 3 secondaryPreferred, 4 nearest). Raises
    :class:`ConfigurationError` for anything else."""
    if isinstance(value, ReadPreference):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(_LEGACY_MODES):
        return ReadPreference(_LEGACY_MODES[value])
    if isinstance(value, str):
        for mode in ReadPreferenceMode:
            if mode.value.lower() == value.lower():
                return PRIMARY if mode is ReadPreferenceMode.PRIMARY else ReadPreference(mode)
    raise ConfigurationError(
        f"not a read preference: {value!r} (use a mode name such as 'secondaryPreferred')",
        option="readPreference",
    )


def write_concern_from(value: WriteConcern | Mapping[str, Any] | None) -> WriteConcern:
    """A :class:`WriteConcern` from itself, a ``{"w": ..., "wtimeout": ..., "j": ...}``
    mapping, or ``None`` (the server's default)."""
    if value is None:
        return WriteConcern()
    if isinstance(value, WriteConcern):
        return value
    unknown = set(value) - {"w", "wtimeout", "j"}
    if unknown:
        raise ConfigurationError(
            f"unknown write concern option(s): {', '.join(sorted(unknown))}", option="writeConcern"
        )
    return WriteConcern(w=value.get("w"), wtimeout=value.get("wtimeout"), j=value.get("j"))


@dataclass(frozen=True, slots=True)
class CollectionOptions:
    """The options a Database passes to its Clients and a Client to its operations."""

    read_preference: ReadPreference = PRIMARY
    write_concern: WriteConcern = WriteConcern()
    read_concern: ReadConcern = ReadConcern()

    def replace(
        self,
        *,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        write_concern: WriteConcern | Mapping[str, Any] | None = None,
        read_concern: ReadConcern | None = None,
    ) -> CollectionOptions:
        """These options with the ones given replaced (``None``: keep)."""
        return CollectionOptions(
            read_preference=self.read_preference
            if read_preference is None
            else read_preference_from(read_preference),
            write_concern=self.write_concern
            if write_concern is None
            else write_concern_from(write_concern),
            read_concern=self.read_concern if read_concern is None else read_concern,
        )
