"""Read preferences: which servers may take a read (Server Selection, "Read Preference").

A :class:`ReadPreference` is a mode, an ordered list of tag sets and an optional
``maxStalenessSeconds``. It is checked when made (what the specs forbid in any
topology) and again, against the heartbeat frequency, when a replica set is
selected from (:meth:`ReadPreference.check_max_staleness`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ._errors import InvalidReadPreferenceError
from ._options import ConnectionOptions, FrozenMap, ReadPreferenceMode

__all__ = [
    "IDLE_WRITE_PERIOD_MS",
    "PRIMARY",
    "SMALLEST_MAX_STALENESS_SECONDS",
    "ReadPreference",
]

# Max Staleness, "idleWritePeriodMS": an idle primary writes a no-op this often.
IDLE_WRITE_PERIOD_MS: Final = 10_000
# Server Selection, "smallestMaxStalenessSeconds".
SMALLEST_MAX_STALENESS_SECONDS: Final = 90

_MAX_STALENESS = "maxStalenessSeconds"
# Server Selection, "Components of a read preference": the default tag set list
# holds one empty tag set, which matches every server.
_ANY_TAGS: Final[tuple[Mapping[str, str], ...]] = (FrozenMap(),)


@dataclass(frozen=True, slots=True, init=False)
class ReadPreference:
    """Which servers a read may go to.

    ``mode`` is a :class:`ReadPreferenceMode` (default primary). ``tag_sets`` are
    tried in order until one matches a candidate (default ``({},)``, any server).
    ``max_staleness_seconds`` is ``None`` for no maximum (-1 is accepted and means
    the same). Raises :class:`InvalidReadPreferenceError` for non-empty tag sets or
    a maximum staleness with mode primary (Server Selection, "tag_sets" and
    "maxStalenessSeconds"), and for a maximum staleness that is neither -1 nor a
    positive integer (Max Staleness, "API").
    """

    mode: ReadPreferenceMode
    tag_sets: tuple[Mapping[str, str], ...]
    max_staleness_seconds: int | None

    def __init__(
        self,
        mode: ReadPreferenceMode = ReadPreferenceMode.PRIMARY,
        tag_sets: Iterable[Mapping[str, str]] = _ANY_TAGS,
        max_staleness_seconds: int | None = None,
    ) -> None:
        tags = tuple(FrozenMap(tag_set) for tag_set in tag_sets)
        if max_staleness_seconds == -1:
            max_staleness_seconds = None
        if max_staleness_seconds is not None and (
            isinstance(max_staleness_seconds, bool)
            or not isinstance(max_staleness_seconds, int)
            or max_staleness_seconds <= 0
        ):
            raise InvalidReadPreferenceError(
                "maxStalenessSeconds must be -1 (no maximum) or a positive integer",
                option=_MAX_STALENESS,
                value=str(max_staleness_seconds),
                expected="-1 or a positive integer",
            )
        if mode is ReadPreferenceMode.PRIMARY:
            if any(tags):
                raise InvalidReadPreferenceError(
                    "tag sets cannot be used with read preference mode primary",
                    option="readPreferenceTags",
                    value=None,
                    expected="no tag sets, or another mode",
                )
            if max_staleness_seconds is not None:
                raise InvalidReadPreferenceError(
                    "maxStalenessSeconds cannot be used with read preference mode primary",
                    option=_MAX_STALENESS,
                    value=str(max_staleness_seconds),
                    expected="-1, or another mode",
                )
        object.__setattr__(self, "mode", ReadPreferenceMode(mode))
        object.__setattr__(self, "tag_sets", tags)
        object.__setattr__(self, "max_staleness_seconds", max_staleness_seconds)

    @classmethod
    def from_options(cls, options: ConnectionOptions) -> ReadPreference:
        """The read preference a connection string sets (``readPreference``,
        ``readPreferenceTags``, ``maxStalenessSeconds``); raises as the constructor."""
        return cls(
            options.read_preference or ReadPreferenceMode.PRIMARY,
            options.read_preference_tags or _ANY_TAGS,
            options.max_staleness_seconds,
        )

    def check_max_staleness(self, heartbeat_frequency_ms: int) -> None:
        """Raise :class:`InvalidReadPreferenceError` if ``max_staleness_seconds`` is
        too small to select from a replica set: below 90 seconds, or below the
        heartbeat frequency plus the idle write period (Server Selection,
        "maxStalenessSeconds"; Max Staleness, "Smallest allowed value")."""
        seconds = self.max_staleness_seconds
        if seconds is None:
            return
        least_ms = heartbeat_frequency_ms + IDLE_WRITE_PERIOD_MS
        if seconds * 1000 < least_ms or seconds < SMALLEST_MAX_STALENESS_SECONDS:
            least = max(SMALLEST_MAX_STALENESS_SECONDS, -(-least_ms // 1000))
            raise InvalidReadPreferenceError(
                f"maxStalenessSeconds must be at least {least} with heartbeatFrequencyMS="
                f"{heartbeat_frequency_ms}: at least {SMALLEST_MAX_STALENESS_SECONDS}, and at "
                f"least heartbeatFrequencyMS + {IDLE_WRITE_PERIOD_MS} ms",
                option=_MAX_STALENESS,
                value=str(seconds),
                expected=f"an integer of at least {least}",
            )

    def to_document(self) -> dict[str, Any]:
        """The ``$readPreference`` document (Server Selection, "Document structure"):
        the mode in camel case, ``tags`` unless they are the default, and
        ``maxStalenessSeconds`` when set."""
        document: dict[str, Any] = {"mode": self.mode.value}
        if self.tag_sets and self.tag_sets != _ANY_TAGS:
            document["tags"] = [dict(tag_set) for tag_set in self.tag_sets]
        if self.max_staleness_seconds is not None:
            document[_MAX_STALENESS] = self.max_staleness_seconds
        return document

    def __repr__(self) -> str:
        shown = [f"mode={self.mode.value!r}"]
        if self.tag_sets != _ANY_TAGS:
            shown.append(f"tag_sets={[dict(tag_set) for tag_set in self.tag_sets]!r}")
        if self.max_staleness_seconds is not None:
            shown.append(f"max_staleness_seconds={self.max_staleness_seconds}")
        return f"ReadPreference({', '.join(shown)})"


#: The default read preference: the primary only.
PRIMARY: Final = ReadPreference()
