"""Sort specifications and sort keys (manual, "cursor.sort()")."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Decimal128, Int64, MaxKey, MinKey

from fakemongo._collation import parse_collation
from fakemongo._errors import CommandError
from fakemongo._sort import SortSpec, document_sort_key, parse_sort, sort_documents


def ids(docs: list[dict[str, Any]], spec: dict[str, Any], string_key: Any = None) -> list[Any]:
    return [doc["_id"] for doc in sort_documents(docs, parse_sort(spec), string_key)]


def test_parse() -> None:
    assert parse_sort({"a.b": 1, "c": -1.0, "d": Int64(1), "e": Decimal128("-1")}) == SortSpec(
        ((("a", "b"), True), (("c",), False), (("d",), True), (("e",), False))
    )
    # The server truncates (safeNumberLong): 1.5 is ascending.
    assert parse_sort({"a": 1.5}).keys[0][1] is True
    assert parse_sort({}) == SortSpec(())


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ({"a": 2}, 15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)"),
        ({"a": 0}, 15975, "$sort key ordering must be 1"),
        ({"a": float("nan")}, 15975, "$sort key ordering must be 1"),
        ({"a": float("inf")}, 15975, "$sort key ordering must be 1"),
        ({"a": "asc"}, 15974, 'Illegal key in $sort specification: a: "asc"'),
        ({"a": True}, 15974, "Illegal key in $sort specification: a: true"),
        ({"a": {"$foo": 1}}, 17312, "$meta is the only expression supported by $sort right now"),
        ({"a": {}}, 17312, "$meta is the only expression supported"),
        ({"a": {"$meta": "textScore", "x": 1}}, 9, "Cannot have additional keys in a $meta sort"),
        ({"a": {"$meta": "bogus"}}, 31138, 'Illegal $meta sort: $meta: "bogus"'),
        ({"a": {"$meta": "textScore"}}, 115, 'sorting by {$meta: "textScore"} is not supported'),
        ({"a..b": 1}, 15998, "FieldPath field names may not be empty strings."),
        ({"$a": 1}, 16410, "FieldPath field names may not start with '$'."),
    ],
)
def test_parse_errors(spec: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_sort(spec)
    assert info.value.code == code
    assert info.value.errmsg.startswith(message)


DOCS = [
    {"_id": 1, "a": [3, 1, 9]},
    {"_id": 2, "a": 2},
    {"_id": 3},
    {"_id": 4, "a": None},
    {"_id": 5, "a": []},
    {"_id": 6, "a": "s"},
    {"_id": 7, "a": [MinKey(), 50]},
    {"_id": 8, "a": MaxKey()},
]


def test_ascending_uses_the_smallest_array_element() -> None:
    # Manual: ascending compares the smallest element; missing sorts as null and
    # keeps input order (stable); an empty array sorts below null.
    assert ids(DOCS, {"a": 1}) == [7, 5, 3, 4, 1, 2, 6, 8]


def test_descending_uses_the_largest_array_element() -> None:
    assert ids(DOCS, {"a": -1}) == [8, 6, 7, 1, 2, 3, 4, 5]


def test_compound_and_nested() -> None:
    docs = [
        {"_id": 1, "x": 1, "y": {"z": 2}},
        {"_id": 2, "x": 1, "y": {"z": 3}},
        {"_id": 3, "x": 0, "y": [{"z": 9}, {"z": 0}]},
        {"_id": 4, "x": 0, "y": [{"q": 1}]},
        {"_id": 5, "x": 0, "y": [1, 2]},
    ]
    assert ids(docs, {"x": 1, "y.z": -1}) == [3, 4, 5, 2, 1]
    assert ids(docs, {"y.z": 1}) == [4, 5, 3, 1, 2]


def test_numbers_of_every_width_interleave() -> None:
    docs = [{"_id": i, "n": n} for i, n in enumerate([2.5, Int64(1), Decimal128("3"), 0])]
    assert ids(docs, {"n": 1}) == [3, 1, 0, 2]


def test_collation() -> None:
    docs = [{"_id": 1, "s": "b"}, {"_id": 2, "s": "B"}, {"_id": 3, "s": "a"}]
    assert ids(docs, {"s": 1}) == [2, 3, 1]
    en = parse_collation({"locale": "en"})
    assert en is not None
    assert ids(docs, {"s": 1}, en.key) == [3, 1, 2]


def test_empty_spec_keeps_order_and_keys_compare() -> None:
    assert ids(DOCS, {}) == [1, 2, 3, 4, 5, 6, 7, 8]
    spec = parse_sort({"a": -1})
    high, low = document_sort_key({"a": 2}, spec), document_sort_key({"a": 1}, spec)
    assert high < low
    assert high == document_sort_key({"a": 2.0}, spec)
    assert high != document_sort_key({"a": 1}, spec)
    assert high[0] != 5
