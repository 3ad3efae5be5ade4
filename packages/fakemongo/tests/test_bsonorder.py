"""BSON comparison order: the manual's "Comparison/Sort Order" page, case by case."""

from __future__ import annotations

import datetime
import itertools
import re
import uuid
from typing import Any

import pytest
from bson import DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.binary import Binary
from bson.code import Code
from bson.datetime_ms import DatetimeMS
from bson.son import SON
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._bsonorder import (
    MISSING,
    Rank,
    bson_repr,
    compare,
    is_nan,
    is_number,
    regex_flags,
    sort_key,
    type_alias,
    type_number,
    type_rank,
    values_equal,
)

UTC = datetime.UTC

# Manual, "Comparison/Sort Order": one value of each type, in ascending order.
ASCENDING: list[Any] = [
    MinKey(),
    MISSING,
    None,
    float("nan"),
    -1.5,
    0,
    Int64(1),
    Decimal128("1.5"),
    2.0,
    "",
    "a",
    "b",
    {},
    {"a": 1},
    [],
    [1],
    b"",
    Binary(b"\x00", 5),
    ObjectId("000000000000000000000000"),
    ObjectId("ffffffffffffffffffffffff"),
    False,
    True,
    datetime.datetime(1970, 1, 1, tzinfo=UTC),
    datetime.datetime(2020, 1, 1),  # naive datetimes are UTC in bson
    Timestamp(0, 1),
    Timestamp(1, 0),
    Regex("a"),
    Regex("a", "i"),
    Code("x"),
    Code("x", {"a": 1}),
    MaxKey(),
]


@pytest.mark.parametrize("index", range(len(ASCENDING) - 1))
def test_ascending_chain(index: int) -> None:
    low, high = ASCENDING[index], ASCENDING[index + 1]
    assert compare(low, high) == -1
    assert compare(high, low) == 1
    assert compare(low, low) == 0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, Int64(1)),
        (1, Decimal128("1")),
        (Decimal128("1.0"), Decimal128("1.00")),
        (0.0, -0.0),
        (float("nan"), Decimal128("NaN")),
        (float("inf"), Decimal128("Infinity")),
        ({"a": 1}, {"a": 1.0}),
        ([1, "x"], [Int64(1), "x"]),
        (Binary(b"ab", 0), b"ab"),
        (uuid.UUID(int=1), Binary(uuid.UUID(int=1).bytes, 4)),
        (datetime.datetime(2020, 1, 1, tzinfo=UTC), DatetimeMS(1577836800000)),
        (datetime.datetime(2020, 1, 1), datetime.datetime(2020, 1, 1, tzinfo=UTC)),
        # bson encodes a Python pattern's implicit UNICODE as "u" unless it is alone.
        (Regex("a", "imu"), re.compile("a", re.I | re.M)),
        (re.compile("a"), Regex("a")),
        (DBRef("c", 1), {"$ref": "c", "$id": 1}),
        (SON([("a", 1)]), {"a": 1}),
        (MinKey(), MinKey()),
        (None, None),
    ],
)
def test_equal_across_representations(a: Any, b: Any) -> None:
    assert values_equal(a, b)
    assert compare(a, b) == 0
    assert hash(sort_key(a)) == hash(sort_key(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (True, 1),  # bool is its own type, after ObjectId
        (False, 0),
        (None, MISSING),  # distinct for aggregation; the query layer equates them
        ("1", 1),
        ([1], 1),
        (0.1, Decimal128("0.1")),  # compared exactly: the double is not 0.1
        (float("nan"), 0),
        ("a", "A"),
        (Code("x"), "x"),
    ],
)
def test_not_equal(a: Any, b: Any) -> None:
    assert not values_equal(a, b)
    assert compare(a, b) != 0


@pytest.mark.parametrize(
    ("low", "high"),
    [
        # Manual: objects compare field type first, then name, then value.
        ({"b": 1}, {"a": "x"}),
        ({"a": 1}, {"b": 1}),
        ({"a": 1}, {"a": 2}),
        ({"a": 1}, {"a": 1, "b": 0}),
        # Arrays compare element by element; a prefix sorts first.
        ([1, 2], [1, 3]),
        ([1], [1, 0]),
        ([2], ["a"]),
        # binData: length, then subtype, then bytes.
        (Binary(b"zz", 9), b"aaa"),
        (b"ab", Binary(b"ab", 1)),
        (b"ab", b"ac"),
        (Regex("a", "i"), Regex("b")),
        (Code("a", {"x": 1}), Code("a", {"x": 2})),
        (Decimal128("-Infinity"), -1e308),
        (float("nan"), float("-inf")),
        (Timestamp(1, 5), Timestamp(2, 0)),
    ],
)
def test_ordering_within_type(low: Any, high: Any) -> None:
    assert compare(low, high) == -1
    assert sort_key(low) < sort_key(high)


def test_nan_equals_nan() -> None:
    # Manual: NaN compares equal to itself and below every other number.
    assert values_equal(float("nan"), float("nan"))
    assert compare(float("nan"), float("nan")) == 0
    assert compare(float("nan"), 1.0) == -1
    assert compare(2.0, float("nan")) == 1


def test_fast_paths_agree_with_keys() -> None:
    assert compare(1, 2) == -1
    assert compare("b", "a") == 1
    assert compare(1.5, 1.5) == 0
    assert values_equal("a", "a")
    assert not values_equal(1, 2)
    assert compare(1, 1.0) == 0  # different Python types: the key path


def test_string_key_replaces_binary_order() -> None:
    def fold(text: str) -> str:
        return text.casefold()

    assert values_equal("A", "a", fold)
    assert compare("B", "a", fold) == 1
    assert values_equal({"k": "A"}, {"k": "a"}, fold)
    assert values_equal(["A"], ["a"], fold)
    assert values_equal(Code("x", {"k": "A"}), Code("x", {"k": "a"}), fold)
    assert compare("B", "a") == -1


def test_type_rank_of_subclasses_and_unknowns() -> None:
    class MyDict(dict[str, Any]):
        pass

    class MyInt(int):
        pass

    assert type_rank(MyDict()) == Rank.OBJECT
    assert type_rank(MyInt(3)) == Rank.NUMBER
    assert type_rank(Code("x")) == Rank.CODE
    assert type_rank(Code("x", {})) == Rank.CODE_W_SCOPE

    class View(dict[str, Any]):  # any Mapping counts as a document
        pass

    assert type_rank(View(a=1)) == Rank.OBJECT
    with pytest.raises(TypeError, match="not a BSON value"):
        type_rank(object())
    with pytest.raises(TypeError):
        sort_key({1, 2})


def test_mapping_that_is_not_a_dict() -> None:
    from types import MappingProxyType

    assert type_rank(MappingProxyType({"a": 1})) == Rank.OBJECT
    assert values_equal(MappingProxyType({"a": 1}), {"a": 1})


@pytest.mark.parametrize(
    ("value", "alias", "number"),
    [
        (1.5, "double", 1),
        ("s", "string", 2),
        ({}, "object", 3),
        (DBRef("c", 1), "object", 3),
        ([], "array", 4),
        (b"", "binData", 5),
        (ObjectId(), "objectId", 7),
        (True, "bool", 8),
        (datetime.datetime(2020, 1, 1, tzinfo=UTC), "date", 9),
        (None, "null", 10),
        (Regex("a"), "regex", 11),
        (Code("x"), "javascript", 13),
        (Code("x", {}), "javascriptWithScope", 15),
        (1, "int", 16),
        (2**31, "long", 18),  # a Python int too wide for int32 is encoded as int64
        (Int64(1), "long", 18),
        (Timestamp(0, 0), "timestamp", 17),
        (Decimal128("1"), "decimal", 19),
        (MinKey(), "minKey", -1),
        (MaxKey(), "maxKey", 127),
        (MISSING, "missing", 0),
    ],
)
def test_type_alias_and_number(value: Any, alias: str, number: int) -> None:
    assert type_alias(value) == alias
    assert type_number(value) == number


def test_number_and_nan_predicates() -> None:
    assert is_number(Int64(1))
    assert not is_number(True)
    assert is_nan(float("nan"))
    assert is_nan(Decimal128("NaN"))
    assert not is_nan(Decimal128("1"))
    assert not is_nan("nan")


def test_regex_flags() -> None:
    assert regex_flags(Regex("a", "xmsi")) == "imsx"
    assert regex_flags(re.compile("a")) == ""  # Python's implicit UNICODE is no option
    assert regex_flags(re.compile("a", re.I)) == "iu"
    assert regex_flags(Regex("a", re.L | re.U)) == "lu"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('a"b', '"a\\"b"'),
        ({}, "{}"),
        ({"a": 1, "b": [1.0, 2.5]}, "{ a: 1, b: [ 1.0, 2.5 ] }"),
        ([], "[]"),
        (DBRef("c", 1), '{ $ref: "c", $id: 1 }'),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (MISSING, "null"),
        (Int64(5), "5"),
        (Decimal128("1.5"), 'NumberDecimal("1.5")'),
        (ObjectId("000000000000000000000001"), "ObjectId('000000000000000000000001')"),
        (Regex("a", "i"), "/a/i"),
        (MinKey(), "MinKey()"),
    ],
)
def test_bson_repr(value: Any, text: str) -> None:
    assert bson_repr(value) == text


def test_missing_is_a_singleton() -> None:
    import copy
    import pickle

    assert repr(MISSING) == "MISSING"
    assert copy.deepcopy(MISSING) is MISSING
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING


# ---------------------------------------------------------------- properties

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(Int64),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=False, places=3, min_value=-(10**6), max_value=10**6).map(
        lambda d: Decimal128(str(d))
    ),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.just(MinKey()),
    st.just(MaxKey()),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(values, values)
def test_antisymmetric(a: Any, b: Any) -> None:
    assert compare(a, b) == -compare(b, a)
    assert (compare(a, b) == 0) == values_equal(a, b)


@given(values, values, values)
def test_transitive(a: Any, b: Any, c: Any) -> None:
    if compare(a, b) <= 0 and compare(b, c) <= 0:
        assert compare(a, c) <= 0


@given(st.lists(values, max_size=6))
def test_sorting_by_key_is_consistent_with_compare(items: list[Any]) -> None:
    ordered = sorted(items, key=sort_key)
    for low, high in itertools.pairwise(ordered):
        assert compare(low, high) <= 0


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_numeric_equality_across_widths(n: int) -> None:
    forms = [n, Int64(n) if abs(n) < 2**63 else n, float(n), Decimal128(str(n))]
    for form in forms:
        assert values_equal(forms[0], form)
        assert hash(sort_key(forms[0])) == hash(sort_key(form))
