"""Collations: ``simple`` (binary) and locale ``en`` at strengths 1 to 3.

Manual, "Collation": strength 1 compares base letters only (case and diacritics
ignored), 2 adds diacritics, 3 (the default) adds case, lowercase first. The key
built here follows those levels exactly for equality; for ordering it follows the
root collation's broad classes (spaces and punctuation, then digits, then letters)
and compares within a class by code point, which is what ICU does for Latin text.
Any other locale, strength or option is refused rather than silently ignored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fakemongo._bsonorder import type_alias
from fakemongo._errors import CommandError, ErrorCode

__all__ = ["Collation", "parse_collation"]

# Manual, "Collation Document": every field and its default.
_DEFAULTS: dict[str, Any] = {
    "caseLevel": False,
    "caseFirst": "off",
    "strength": 3,
    "numericOrdering": False,
    "alternate": "non-ignorable",
    "maxVariable": "punct",
    "normalization": False,
    "backwards": False,
}
_ICU_VERSION = "57.1"  # what MongoDB 8.0 reports in a collation document


@dataclass(frozen=True, slots=True)
class Collation:
    """A non-simple collation; ``key(s)`` is the comparison key of a string."""

    locale: str
    strength: int

    def key(self, text: str) -> tuple[Any, ...]:
        """The comparison key of ``text`` (hashable, ordered like the collation)."""
        return _key(text, self.strength)

    def document(self) -> dict[str, Any]:
        """The full collation document, as the server reports it."""
        doc: dict[str, Any] = {"locale": self.locale, **_DEFAULTS, "strength": self.strength}
        doc["version"] = _ICU_VERSION
        return doc


def _class(char: str) -> int:
    category = unicodedata.category(char)
    if category == "Nd":
        return 1
    if category[0] in "LM" or category == "No":
        return 2
    return 0  # spaces, punctuation, symbols sort first


@lru_cache(maxsize=4096)
def _key(text: str, strength: int) -> tuple[Any, ...]:
    primary: list[tuple[int, str]] = []
    secondary: list[str] = []
    tertiary: list[int] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and primary:
            secondary[-1] += char
            continue
        weight, case = _class(char), 1 if char.isupper() else 0  # lowercase first
        for folded in char.casefold():  # full folding: "ß" is "ss"
            primary.append((weight, folded))
            secondary.append("")
            tertiary.append(case)
    if strength == 1:
        return (tuple(primary),)
    if strength == 2:
        return (tuple(primary), tuple(secondary))
    return (tuple(primary), tuple(secondary), tuple(tertiary))


def _wrong_type(field: str, value: Any, expected: str) -> CommandError:
    return CommandError(
        ErrorCode.TypeMismatch,
        f"BSON field 'collation.{field}' is the wrong type '{type_alias(value)}', "
        f"expected type '{expected}'",
    )


def parse_collation(spec: Mapping[str, Any] | None) -> Collation | None:
    """Validate a collation document; ``None`` (simple, binary order) or a Collation.

    Raises CommandError: 40414 when ``locale`` is missing, 40415 for an unknown
    field, 14 TypeMismatch for a mistyped field, 2 BadValue for a locale other than
    "simple"/"en" or an option this emulator does not implement.
    """
    if spec is None:
        return None
    for field in spec:
        if field not in _DEFAULTS and field not in ("locale", "version"):
            raise CommandError(
                ErrorCode.Location40415, f"BSON field 'collation.{field}' is an unknown field."
            )
    if "locale" not in spec:
        raise CommandError(
            ErrorCode.Location40414, "BSON field 'collation.locale' is missing but a required field"
        )
    locale = spec["locale"]
    if not isinstance(locale, str):
        raise _wrong_type("locale", locale, "string")
    strength = spec.get("strength", 3)
    if isinstance(strength, bool) or not isinstance(strength, int | float):
        raise _wrong_type("strength", strength, "int")
    if strength not in (1, 2, 3, 4, 5):
        raise CommandError(
            ErrorCode.BadValue, f"Field 'strength' must be an integer 1 through 5. Got: {strength}"
        )
    for field, default in _DEFAULTS.items():
        if field != "strength" and field in spec and spec[field] != default:
            raise CommandError(
                ErrorCode.BadValue,
                f"collation option {field}: {spec[field]!r} is not supported by fakemongo",
            )
    if locale == "simple":
        return None
    if locale != "en":
        raise CommandError(
            ErrorCode.BadValue,
            f"collation locale '{locale}' is not supported by fakemongo (only 'simple' and 'en')",
        )
    if strength > 3:
        raise CommandError(
            ErrorCode.BadValue,
            f"collation strength {strength} is not supported by fakemongo (only 1, 2 and 3)",
        )
    return Collation(locale, int(strength))
