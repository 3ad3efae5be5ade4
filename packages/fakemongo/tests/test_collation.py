"""Collations: simple and "en" at strengths 1-3; everything else refused."""

from __future__ import annotations

from typing import Any

import pytest

from fakemongo._bsonorder import compare, values_equal
from fakemongo._collation import Collation, parse_collation
from fakemongo._errors import CommandError


def test_simple_and_absent_mean_binary() -> None:
    assert parse_collation(None) is None
    assert parse_collation({"locale": "simple"}) is None


def key(strength: int) -> Any:
    collation = parse_collation({"locale": "en", "strength": strength})
    assert isinstance(collation, Collation)
    return collation.key


@pytest.mark.parametrize(
    ("strength", "a", "b", "equal"),
    [
        # Manual, "Collation": strength 1 ignores case and diacritics...
        (1, "cafe", "Café", True),
        (1, "a", "b", False),
        # ...2 ignores case only...
        (2, "cafe", "CAFE", True),
        (2, "cafe", "café", False),
        # ...3 (the default) distinguishes both.
        (3, "cafe", "Cafe", False),
        (3, "café", "café", True),  # NFC and NFD forms are canonically equal
        (1, "Straße", "STRASSE", True),  # full case folding
    ],
)
def test_equality_by_strength(strength: int, a: str, b: str, equal: bool) -> None:
    assert values_equal(a, b, key(strength)) is equal


def test_ordering() -> None:
    en = key(3)
    assert compare("a", "B", en) == -1  # binary order would put "B" first
    assert compare("a", "A", en) == -1  # lowercase first at the tertiary level
    assert compare("résumé", "resume", en) == 1  # diacritics at the secondary level
    assert compare(" z", "0", en) == -1  # spaces and punctuation before digits
    assert compare("9", "a", en) == -1  # digits before letters
    assert compare("¼", "z", en) == 1  # other numbers sort as letters, by code point
    assert compare("̀a", "a", en) == 1  # a leading combining mark is a character of its own


def test_document() -> None:
    collation = parse_collation({"locale": "en", "strength": 2})
    assert collation is not None
    assert collation.document() == {
        "locale": "en",
        "caseLevel": False,
        "caseFirst": "off",
        "strength": 2,
        "numericOrdering": False,
        "alternate": "non-ignorable",
        "maxVariable": "punct",
        "normalization": False,
        "backwards": False,
        "version": "57.1",
    }


def test_default_options_are_accepted() -> None:
    spec = {"locale": "en", "caseLevel": False, "alternate": "non-ignorable", "version": "57.1"}
    assert parse_collation(spec) == Collation("en", 3)
    assert parse_collation({"locale": "en", "strength": 1.0}) == Collation("en", 1)


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ({"locale": "en", "foo": 1}, 40415, "BSON field 'collation.foo' is an unknown field."),
        ({"strength": 1}, 40414, "BSON field 'collation.locale' is missing but a required field"),
        ({"locale": 1}, 14, "BSON field 'collation.locale' is the wrong type 'int'"),
        ({"locale": "en", "strength": "1"}, 14, "BSON field 'collation.strength' is the wrong"),
        ({"locale": "en", "strength": True}, 14, "BSON field 'collation.strength' is the wrong"),
        ({"locale": "en", "strength": 6}, 2, "Field 'strength' must be an integer 1 through 5"),
        ({"locale": "en", "strength": 4}, 2, "collation strength 4 is not supported"),
        ({"locale": "fr"}, 2, "collation locale 'fr' is not supported"),
        ({"locale": "en", "numericOrdering": True}, 2, "collation option numericOrdering"),
        ({"locale": "en", "caseFirst": "upper"}, 2, "collation option caseFirst"),
    ],
)
def test_refused(spec: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_collation(spec)
    assert info.value.code == code
    assert info.value.errmsg.startswith(message)
