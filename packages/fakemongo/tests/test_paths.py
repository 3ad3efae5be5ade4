"""Dotted paths: the query language's array-aware traversal and aggregation's."""

from __future__ import annotations

from typing import Any

import pytest

from fakemongo._bsonorder import MISSING
from fakemongo._errors import CommandError
from fakemongo._paths import EMPTY_ARRAY, LeafArrays, candidates, expr_path_value, parse_field_path


@pytest.mark.parametrize(
    ("doc", "path", "expected"),
    [
        ({"a": 1}, "a", [(1, None)]),
        ({}, "a", [(MISSING, None)]),
        ({"a": None}, "a", [(None, None)]),
        ({"a": {"b": 2}}, "a.b", [(2, None)]),
        ({"a": {}}, "a.b", [(MISSING, None)]),
        ({"a": 5}, "a.b", [(MISSING, None)]),  # through a scalar: missing
        # Manual, "Query an Array": a leaf array yields each element, then itself.
        ({"a": [1, 2]}, "a", [(1, 0), (2, 1), ([1, 2], None)]),
        ({"a": []}, "a", [([], None)]),
        # Nested arrays are not flattened past one level.
        ({"a": [[1]]}, "a", [([1], 0), ([[1]], None)]),
        # Arrays of documents are traversed implicitly; the outer index is kept.
        ({"a": [{"b": 1}, {"b": [2, 3]}]}, "a.b", [(1, 0), (2, 1), (3, 1), ([2, 3], 1)]),
        # A document lacking the field yields missing; a scalar element yields nothing.
        ({"a": [{"c": 1}, 7]}, "a.b", [(MISSING, 0)]),
        ({"a": [1, 2]}, "a.b", []),
        ({"a": []}, "a.b", []),
        # A numeric component is an index into an array (no offset: explicit)...
        ({"a": [10, 20]}, "a.1", [(20, None)]),
        ({"a": [10, 20]}, "a.5", []),
        ({"a": [[1, 2], 3]}, "a.0", [([1, 2], None)]),
        ({"a": [[{"b": 1}]]}, "a.0.b", [(1, 0)]),
        ({"a": [[5, 6]]}, "a.0.1", [(6, None)]),
        ({"a": [7]}, "a.0.b", []),
        # ...and a field name of the documents in it: both readings are tried.
        ({"a": [{"0": "f"}]}, "a.0", [("f", 0), ({"0": "f"}, None)]),
        ({"a": [{"b": 1}]}, "a.0.b", [(MISSING, 0), (1, None)]),
        ({"a": {"0": 3}}, "a.0", [(3, None)]),
        ({"a": [{"b": [{"c": 1}]}]}, "a.b.c", [(1, 0)]),
    ],
)
def test_candidates(doc: dict[str, Any], path: str, expected: list[Any]) -> None:
    assert candidates(doc, tuple(path.split("."))) == expected


def test_leaf_modes() -> None:
    doc = {"a": [1, [2]], "e": [], "s": 3}
    assert candidates(doc, ("a",), LeafArrays.NO_TRAVERSE) == [([1, [2]], None)]
    assert candidates(doc, ("a",), LeafArrays.ELEMENTS) == [(1, 0), ([2], 1)]
    assert candidates(doc, ("e",), LeafArrays.ELEMENTS) == [(EMPTY_ARRAY, None)]
    assert candidates(doc, ("s",), LeafArrays.ELEMENTS) == [(3, None)]
    assert repr(EMPTY_ARRAY) == "EMPTY_ARRAY"


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("", 40352, "FieldPath cannot be constructed with empty string"),
        ("a..b", 15998, "FieldPath field names may not be empty strings."),
        ("a.", 15998, "FieldPath field names may not be empty strings."),
        ("$a", 16410, "FieldPath field names may not start with '$'."),
        ("a.$b", 16410, "FieldPath field names may not start with '$'."),
    ],
)
def test_parse_field_path_errors(path: str, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_field_path(path)
    assert info.value.code == code
    assert info.value.errmsg.startswith(message)
    assert info.value.code_name == f"Location{code}"


def test_parse_field_path() -> None:
    assert parse_field_path("a.b.0") == ("a", "b", "0")


@pytest.mark.parametrize(
    ("doc", "path", "expected"),
    [
        ({"a": {"b": 1}}, "a.b", 1),
        ({"a": 1}, "a.b", MISSING),
        ({}, "a", MISSING),
        # Manual, "$project": a path through an array of documents maps over it;
        # numbers are field names, never indexes, in aggregation.
        ({"a": [{"b": 1}, {"c": 2}, {"b": 3}, 4]}, "a.b", [1, 3]),
        ({"a": [[{"b": 1}], {"b": 2}]}, "a.b", [[1], 2]),
        ({"a": [10, 20]}, "a.0", []),
        ({"a": [1, 2]}, "a", [1, 2]),
    ],
)
def test_expr_path_value(doc: dict[str, Any], path: str, expected: Any) -> None:
    assert expr_path_value(doc, tuple(path.split("."))) == expected
