"""The pure diff of stored values: what ``$set`` / ``$unset`` turn one into the other."""

from __future__ import annotations

from typing import Any

import pytest

from mongotor.orm._values import MISSING, copy_value, diff_into, same


def diff(old: Any, new: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    sets: dict[str, Any] = {}
    unsets: dict[str, Any] = {}
    diff_into("f", old, new, sets, unsets)
    return sets, unsets


def test_copy_shares_nothing_mutable() -> None:
    original = {"a": [1, {"b": [2]}], "c": "x"}
    copied = copy_value(original)
    assert copied == original
    assert copied is not original
    assert copied["a"] is not original["a"]
    assert copied["a"][1]["b"] is not original["a"][1]["b"]
    assert copy_value("x") == "x"
    assert repr(MISSING) == "MISSING"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (1, 1, True),
        (1, 1.0, False),  # a type change is a change
        (True, 1, False),
        ("a", "a", True),
        ([1], [1], True),
        (float("nan"), float("nan"), False),
    ],
)
def test_same_is_equal_and_of_the_same_type(old: Any, new: Any, expected: bool) -> None:
    assert same(old, new) is expected


def test_same_object_is_the_same_even_when_unequal() -> None:
    nan = float("nan")
    assert same(nan, nan)


def test_equal_values_give_nothing() -> None:
    assert diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == ({}, {})


def test_scalars_are_set_whole() -> None:
    assert diff(1, 2) == ({"f": 2}, {})


def test_documents_are_diffed_key_by_key() -> None:
    old = {"a": 1, "b": {"c": 1, "d": 2}, "gone": 1}
    new = {"a": 1, "b": {"c": 5, "d": 2}, "added": 3}
    assert diff(old, new) == ({"f.b.c": 5, "f.added": 3}, {"f.gone": ""})


def test_lists_of_the_same_length_are_diffed_by_index() -> None:
    old = [{"x": 1}, {"x": 2}, {"x": 3}]
    new = [{"x": 1}, {"x": 9}, {"x": 3}]
    assert diff(old, new) == ({"f.1.x": 9}, {})


def test_a_field_removed_inside_a_list_element_is_unset() -> None:
    old = [{"x": 1, "y": 1}, {"x": 2}, {"x": 3}]
    new = [{"x": 1}, {"x": 2}, {"x": 3}]
    assert diff(old, new) == ({}, {"f.0.y": ""})


def test_a_list_mostly_changed_is_set_whole() -> None:
    assert diff([1, 2, 3], [4, 5, 3]) == ({"f": [4, 5, 3]}, {})
    assert diff(["a"], ["b"]) == ({"f": ["b"]}, {})


def test_a_list_of_another_length_is_set_whole() -> None:
    assert diff([1, 2], [1, 2, 3]) == ({"f": [1, 2, 3]}, {})


def test_keys_that_cannot_be_paths_set_their_document_whole() -> None:
    assert diff({"a.b": 1}, {"a.b": 2}) == ({"f": {"a.b": 2}}, {})
    assert diff({"$x": 1, "y": 1}, {"$x": 1, "y": 2}) == ({"f": {"$x": 1, "y": 2}}, {})
    assert diff({"": 1}, {"": 1}) == ({}, {})


def test_a_type_change_between_document_and_list_is_set_whole() -> None:
    assert diff({"a": 1}, [1]) == ({"f": [1]}, {})
