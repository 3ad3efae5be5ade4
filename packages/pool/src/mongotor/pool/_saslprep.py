"""SASLprep (RFC 4013), the stringprep profile SCRAM-SHA-256 applies to passwords.

Built on the stdlib's :mod:`stringprep` tables (RFC 3454). RFC 5802 ("Normalize")
treats the password as a *query* string, so unassigned code points are allowed
unless ``allow_unassigned=False``. Errors never quote the text: it is a password.
"""

from __future__ import annotations

import stringprep
import unicodedata
from collections.abc import Callable
from typing import Final

__all__ = ["SASLprepError", "saslprep"]

# RFC 4013 section 2.3, "Prohibited Output", with the RFC 3454 table of each.
_PROHIBITED: Final[tuple[tuple[str, Callable[[str], bool]], ...]] = (
    ("C.1.2 non-ASCII space", stringprep.in_table_c12),
    ("C.2.1 ASCII control character", stringprep.in_table_c21),
    ("C.2.2 non-ASCII control character", stringprep.in_table_c22),
    ("C.3 private use character", stringprep.in_table_c3),
    ("C.4 non-character code point", stringprep.in_table_c4),
    ("C.5 surrogate code", stringprep.in_table_c5),
    ("C.6 character inappropriate for plain text", stringprep.in_table_c6),
    ("C.7 character inappropriate for canonical representation", stringprep.in_table_c7),
    ("C.8 change display property or deprecated character", stringprep.in_table_c8),
    ("C.9 tagging character", stringprep.in_table_c9),
)


class SASLprepError(ValueError):
    """The text cannot be prepared: a prohibited or unassigned character, or a
    bidirectional-text violation (RFC 3454 section 6).

    ``index`` is the position of the offending character in the *mapped and
    normalized* text, or ``None`` for a rule about the whole string; ``reason``
    names the rule. The text itself is never included.
    """

    def __init__(self, reason: str, *, index: int | None = None) -> None:
        self.reason = reason
        self.index = index
        where = f" at position {index}" if index is not None else ""
        super().__init__(f"SASLprep failed: {reason}{where}")


def saslprep(text: str, *, allow_unassigned: bool = True) -> str:
    """``text`` prepared per RFC 4013: mapped, NFKC-normalized and checked.

    Raises :class:`SASLprepError` for prohibited output, unassigned code points
    (when not allowed) and bidirectional rule violations.
    """
    if text.isascii() and all(" " <= char <= "~" for char in text):
        # Printable ASCII maps to itself and is never prohibited: skip the tables.
        return text
    # Section 2.1, "Mapping": C.1.2 non-ASCII spaces become SPACE, B.1
    # "commonly mapped to nothing" characters disappear.
    mapped = "".join(
        " " if stringprep.in_table_c12(char) else char
        for char in text
        if not stringprep.in_table_b1(char)
    )
    # Section 2.2, "Normalization": Unicode normalization form KC.
    prepared = unicodedata.normalize("NFKC", mapped)
    if not prepared:
        return prepared
    for index, char in enumerate(prepared):
        for name, in_table in _PROHIBITED:
            if in_table(char):
                raise SASLprepError(f"prohibited character ({name})", index=index)
        if not allow_unassigned and stringprep.in_table_a1(char):
            raise SASLprepError("unassigned code point (A.1)", index=index)
    _check_bidi(prepared)
    return prepared


def _check_bidi(prepared: str) -> None:
    # RFC 3454 section 6: a string with any RandALCat character must hold no
    # LCat character, and must begin and end with a RandALCat character.
    right_to_left = [stringprep.in_table_d1(char) for char in prepared]
    if not any(right_to_left):
        return
    if any(stringprep.in_table_d2(char) for char in prepared):
        raise SASLprepError("both left-to-right and right-to-left characters (RFC 3454 6.2)")
    if not (right_to_left[0] and right_to_left[-1]):
        raise SASLprepError(
            "right-to-left text must begin and end with a right-to-left character (RFC 3454 6.3)"
        )
