"""SASLprep (RFC 4013): the RFC's own examples, every prohibited table, bidi rules."""

from __future__ import annotations

import pytest

from mongotor.pool import SASLprepError, saslprep


@pytest.mark.parametrize(
    ("text", "prepared"),
    [
        # RFC 4013 section 3, "Examples".
        ("I\u00adX", "IX"),  # SOFT HYPHEN mapped to nothing
        ("user", "user"),
        ("USER", "USER"),
        ("\u00aa", "a"),  # FEMININE ORDINAL INDICATOR, NFKC
        ("\u2168", "IX"),  # ROMAN NUMERAL NINE, NFKC
        # The Auth spec's SASLprep users (tests, "Step 4").
        ("I\u00adV", "IV"),
        ("\u2163", "IV"),
        # Non-ASCII space mapped to SPACE; printable ASCII untouched.
        ("a\u00a0b", "a b"),
        ("p@ss w0rd~", "p@ss w0rd~"),
        ("", ""),
        ("\u200b", ""),  # ZERO WIDTH SPACE maps to nothing
        # Right-to-left text that begins and ends right-to-left is fine.
        ("\u0627\u0628", "\u0627\u0628"),
    ],
)
def test_prepares(text: str, prepared: str) -> None:
    assert saslprep(text) == prepared


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("\u0007", "C.2.1"),  # RFC 4013's example: BELL
        ("a\u0085", "C.2.2"),
        ("\ue000", "C.3"),
        ("\ufdd0", "C.4"),
        ("\ufffd", "C.6"),
        ("\u2ff0", "C.7"),
        ("\u200e", "C.8"),
        ("\U000e0001", "C.9"),
    ],
)
def test_prohibited_characters_name_their_table_not_the_text(text: str, table: str) -> None:
    with pytest.raises(SASLprepError) as caught:
        saslprep(text)
    assert table in caught.value.reason
    assert caught.value.index == len(text) - 1
    assert text not in str(caught.value)


def test_tables_checked_after_mapping() -> None:
    # C.1.2 characters are mapped to SPACE before the prohibited check, so the
    # C.1.2 prohibition can only be met by what NFKC produces: nothing does.
    assert saslprep("\u3000") == " "


def test_surrogates_are_prohibited() -> None:
    with pytest.raises(SASLprepError, match=r"C\.5"):
        saslprep("\ud800")


@pytest.mark.parametrize(
    "text",
    [
        "\u0627\u0031",  # RFC 4013's example: RandALCat then a number (not last RandALCat)
        "\u0031\u0627",
        "\u0627a\u0628",  # both directions
    ],
)
def test_bidi_rules(text: str) -> None:
    with pytest.raises(SASLprepError) as caught:
        saslprep(text)
    assert caught.value.index is None
    assert "RFC 3454 6." in caught.value.reason


def test_unassigned_code_points_allowed_only_in_queries() -> None:
    unassigned = "\u0221"  # unassigned in Unicode 3.2 (stringprep's table A.1)
    assert saslprep(unassigned) == unassigned
    with pytest.raises(SASLprepError, match="unassigned"):
        saslprep(unassigned, allow_unassigned=False)
    assert saslprep("abc\u00e9", allow_unassigned=False) == "abc\u00e9"
