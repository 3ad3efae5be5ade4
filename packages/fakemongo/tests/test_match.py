"""Query filters (manual, "Query and Projection Operators"), operator by operator."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bson import DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex
from bson.binary import Binary

from fakemongo._collation import parse_collation
from fakemongo._errors import CommandError
from fakemongo._match import compile_filter, is_operator_document
from fakemongo._matchops import compile_regex

Case = tuple[dict[str, Any], dict[str, Any], bool]

EQUALITY: list[Case] = [
    ({"a": 1}, {"a": 1.0}, True),
    ({"a": 1}, {"a": Int64(1)}, True),
    ({"a": 1}, {"a": Decimal128("1")}, True),
    ({"a": 1}, {"a": True}, False),  # bool is not a number
    ({"a": True}, {"a": 1}, False),
    ({"a": 1.5}, {"a": 1.5}, True),
    ({"a": 1.5}, {"a": "1.5"}, False),
    ({"a": float("nan")}, {"a": float("nan")}, True),
    ({"a": "x"}, {"a": "x"}, True),
    ({"a": "x"}, {"a": "X"}, False),
    ({"a": "x"}, {"a": ["y", "x"]}, True),  # manual, "Query an Array": any element
    ({"a": [1, 2]}, {"a": [1, 2]}, True),  # or the whole array
    ({"a": [1, 2]}, {"a": [[1, 2], 3]}, True),
    ({"a": [1, 2]}, {"a": [2, 1]}, False),
    ({"a": {"b": 1}}, {"a": {"b": 1}}, True),
    ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, False),  # exact document match
    ({"a": {"b": 1, "c": 2}}, {"a": {"c": 2, "b": 1}}, False),  # field order matters
    ({"a.b": 1}, {"a": {"b": 1, "c": 2}}, True),
    ({"a.b": 1}, {"a": [{"b": 0}, {"b": 1}]}, True),
    ({"a.1": 20}, {"a": [10, 20]}, True),
    ({"a": 1}, {}, False),
    # Manual, "Query for Null or Missing Fields".
    ({"a": None}, {}, True),
    ({"a": None}, {"a": None}, True),
    ({"a": None}, {"a": 0}, False),
    ({"a": None}, {"a": [1, None]}, True),
    ({"a": None}, {"a": []}, False),
    ({"a.b": None}, {"a": [{"b": 1}, {"c": 1}]}, True),
    ({"a.b": None}, {"a": [1, 2]}, False),
    ({"a.b": None}, {}, True),
    ({"a.b.c": None}, {"a": 5}, True),  # through a scalar: missing
    ({"a.b.c": 5}, {"a": 5}, False),
    ({"a": {"$eq": None}}, {"b": 1}, True),
    ({"a": ObjectId("0" * 24)}, {"a": ObjectId("0" * 24)}, True),
    ({"a": DBRef("c", 1)}, {"a": {"$ref": "c", "$id": 1}}, True),
    ({"a": {"$ref": "c", "$id": 1}}, {"a": DBRef("c", 1)}, True),  # a DBRef, not operators
    ({"a": Regex("^x")}, {"a": "xyz"}, True),  # a regex value is a pattern match
    ({"a": re.compile("^x")}, {"a": ["q", "xy"]}, True),
    ({"a": {"$eq": Regex("^x")}}, {"a": "xyz"}, False),  # $eq compares the regex itself
    ({"a": {"$eq": Regex("^x")}}, {"a": Regex("^x")}, True),
    ({"a": MinKey()}, {"a": MinKey()}, True),
    ({}, {"anything": 1}, True),
    ({"a": 1, "b": 2}, {"a": 1, "b": 3}, False),
]

COMPARISON: list[Case] = [
    ({"a": {"$gt": 1}}, {"a": 2}, True),
    ({"a": {"$gt": 1}}, {"a": Int64(2)}, True),
    ({"a": {"$gt": 1}}, {"a": Decimal128("1.5")}, True),
    ({"a": {"$gt": 1}}, {"a": 1}, False),
    ({"a": {"$gte": 1}}, {"a": 1.0}, True),
    ({"a": {"$lt": 1}}, {"a": 0.5}, True),
    ({"a": {"$lte": 1}}, {"a": 2}, False),
    ({"a": {"$gt": 1}}, {"a": "2"}, False),  # type bracketing: no cross-type matches
    ({"a": {"$lt": "b"}}, {"a": 1}, False),
    ({"a": {"$gt": 1}}, {"a": [0, 5]}, True),  # any element
    ({"a": {"$gt": 1, "$lt": 3}}, {"a": [0, 5]}, True),  # each bound by some element
    ({"a": {"$gt": [1]}}, {"a": [2]}, True),  # or the array itself
    ({"a": {"$gt": "a"}}, {"a": "b"}, True),
    ({"a": {"$gte": None}}, {}, True),  # null and missing are equal
    ({"a": {"$lte": None}}, {"a": None}, True),
    ({"a": {"$gt": None}}, {}, False),
    ({"a": {"$lt": None}}, {"a": None}, False),
    ({"a": {"$gt": MinKey()}}, {"a": "x"}, True),  # only MinKey/MaxKey cross brackets
    ({"a": {"$gt": MinKey()}}, {}, True),
    ({"a": {"$gte": MinKey()}}, {"a": MinKey()}, True),
    ({"a": {"$lt": MinKey()}}, {"a": 1}, False),
    ({"a": {"$lt": MaxKey()}}, {"a": {"x": 1}}, True),
    ({"a": {"$lte": MaxKey()}}, {"a": None}, True),
    ({"a": {"$gt": MaxKey()}}, {"a": 1}, False),
    ({"a": {"$gt": float("nan")}}, {"a": 1}, False),  # NaN is neither less nor greater
    ({"a": {"$lt": 1}}, {"a": float("nan")}, False),
    ({"a": {"$gte": float("nan")}}, {"a": float("nan")}, True),
    ({"a": {"$lte": Decimal128("NaN")}}, {"a": float("nan")}, True),
    ({"a": {"$gte": float("nan")}}, {"a": 1}, False),
    ({"a": {"$gte": 2}}, {"a": float("nan")}, False),
    ({"a": {"$gt": {"b": 1}}}, {"a": {"b": 2}}, True),
    ({"a": {"$lt": 2.5}}, {"a": 2}, True),
    ({"a.b": {"$gt": 1}}, {"a": [{"b": 0}, {"b": 3}]}, True),
]

SETS: list[Case] = [
    ({"a": {"$ne": 1}}, {"a": 2}, True),
    ({"a": {"$ne": 1}}, {}, True),
    ({"a": {"$ne": 1}}, {"a": [1, 2]}, False),  # negates the whole path
    ({"a": {"$ne": None}}, {}, False),
    ({"a": {"$in": [1, "x"]}}, {"a": "x"}, True),
    ({"a": {"$in": [1, 2]}}, {"a": [0, 2]}, True),
    ({"a": {"$in": [[1, 2]]}}, {"a": [1, 2]}, True),
    ({"a": {"$in": [None]}}, {}, True),  # a null in $in matches missing
    ({"a": {"$in": [1]}}, {}, False),
    ({"a": {"$in": [Regex("^b")]}}, {"a": "bar"}, True),
    ({"a": {"$in": [re.compile("^b"), 1]}}, {"a": 2}, False),
    ({"a": {"$in": []}}, {"a": 1}, False),
    ({"a": {"$in": [Int64(3)]}}, {"a": 3.0}, True),
    ({"a": {"$nin": [1, 2]}}, {"a": 3}, True),
    ({"a": {"$nin": [1, 2]}}, {}, True),
    ({"a": {"$nin": [1, 2]}}, {"a": [3, 2]}, False),
    ({"a": {"$all": [1, 2]}}, {"a": [2, 3, 1]}, True),
    ({"a": {"$all": [1, 2]}}, {"a": [1]}, False),
    ({"a": {"$all": [1]}}, {"a": 1}, True),
    ({"a": {"$all": [[1, 2]]}}, {"a": [1, 2]}, True),  # manual, "$all": nested arrays
    ({"a": {"$all": [[1, 2]]}}, {"a": [[1, 2], 3]}, True),
    ({"a": {"$all": []}}, {"a": [1]}, False),  # an empty $all matches nothing
    ({"a": {"$all": [Regex("^x"), "y"]}}, {"a": ["xa", "y"]}, True),
    ({"a": {"$all": [{"b": 1}]}}, {"a": [{"b": 1}]}, True),
    (
        {"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}},
        {"a": [{"b": 1}, {"c": 2}]},
        True,
    ),
    ({"a": {"$all": [{"$elemMatch": {"b": 1}}]}}, {"a": [{"b": 2}]}, False),
]

ELEMENTS: list[Case] = [
    ({"a": {"$exists": True}}, {"a": None}, True),
    ({"a": {"$exists": True}}, {}, False),
    ({"a": {"$exists": False}}, {}, True),
    ({"a": {"$exists": 0}}, {"a": 1}, False),
    ({"a": {"$exists": 1}}, {"a": []}, True),
    ({"a": {"$exists": Decimal128("0")}}, {}, True),
    ({"a": {"$exists": None}}, {}, True),
    ({"a": {"$exists": "yes"}}, {"a": 1}, True),
    ({"a.b": {"$exists": True}}, {"a": [{"c": 1}, {"b": 2}]}, True),
    ({"a.b": {"$exists": False}}, {"a": [1, 2]}, True),
    ({"a": {"$type": "string"}}, {"a": "x"}, True),
    ({"a": {"$type": 2}}, {"a": "x"}, True),
    ({"a": {"$type": 2.0}}, {"a": "x"}, True),
    ({"a": {"$type": "number"}}, {"a": Int64(1)}, True),
    ({"a": {"$type": "number"}}, {"a": True}, False),
    ({"a": {"$type": "int"}}, {"a": [1.5, 2]}, True),  # array elements are checked
    ({"a": {"$type": "array"}}, {"a": []}, True),
    ({"a": {"$type": ["string", "null"]}}, {"a": None}, True),
    ({"a": {"$type": "null"}}, {}, False),
    ({"a": {"$type": "long"}}, {"a": 2**40}, True),
    ({"a": {"$type": "decimal"}}, {"a": Decimal128("1")}, True),
    ({"a": {"$type": "objectId"}}, {"a": ObjectId()}, True),
    ({"a": {"$type": -1}}, {"a": MinKey()}, True),
    ({"a": {"$type": "maxKey"}}, {"a": MaxKey()}, True),
    ({"a": {"$type": Int64(16)}}, {"a": 1}, True),
]

EVALUATION: list[Case] = [
    ({"a": {"$mod": [4, 1]}}, {"a": 5}, True),
    ({"a": {"$mod": [4, 1]}}, {"a": 5.9}, True),  # the dividend is truncated
    ({"a": {"$mod": [4, -1]}}, {"a": -5}, True),  # the remainder keeps the dividend's sign
    ({"a": {"$mod": [4, 3]}}, {"a": -5}, False),
    ({"a": {"$mod": [4.5, 1]}}, {"a": 5}, True),  # since 5.0 the divisor is truncated
    ({"a": {"$mod": [Decimal128("4"), Int64(1)]}}, {"a": Decimal128("9.5")}, True),
    ({"a": {"$mod": [2, 0]}}, {"a": "4"}, False),
    ({"a": {"$mod": [2, 0]}}, {"a": float("inf")}, False),
    ({"a": {"$mod": [2, 0]}}, {"a": 1e300}, False),
    ({"a": {"$mod": [2, 0]}}, {"a": [1, 4]}, True),
    ({"a": {"$regex": "^ab"}}, {"a": "abc"}, True),
    ({"a": {"$regex": "^AB", "$options": "i"}}, {"a": "abc"}, True),
    ({"a": {"$options": "i", "$regex": "^AB"}}, {"a": "abc"}, True),
    ({"a": {"$regex": Regex("^AB", "i")}}, {"a": "abc"}, True),
    ({"a": {"$regex": Regex("^AB"), "$options": "i"}}, {"a": "abc"}, True),
    ({"a": {"$options": "i", "$regex": Regex("^AB")}}, {"a": "abc"}, True),
    ({"a": {"$regex": "^b", "$options": "m"}}, {"a": "a\nb"}, True),
    ({"a": {"$regex": "^b"}}, {"a": "a\nb"}, False),
    ({"a": {"$regex": "a.b", "$options": "s"}}, {"a": "a\nb"}, True),
    ({"a": {"$regex": "a b # comment", "$options": "x"}}, {"a": "ab"}, True),
    ({"a": {"$regex": "x", "$options": "u"}}, {"a": "x"}, True),
    ({"a": {"$regex": "(?<word>b)c"}}, {"a": "abc"}, True),  # PCRE named groups
    ({"a": {"$regex": "(?<=a)b"}}, {"a": "ab"}, True),  # lookbehind stays lookbehind
    ({"a": {"$regex": "b\\z"}}, {"a": "ab\n"}, False),  # PCRE \z: the very end
    ({"a": {"$regex": "b\\Z"}}, {"a": "ab\n"}, True),  # PCRE \Z: before a final newline
    ({"a": {"$regex": "\\d"}}, {"a": "x1"}, True),
    ({"a": {"$regex": "b"}}, {"a": 1}, False),
    ({"a": {"$regex": "^x", "$ne": "xy"}}, {"a": "xy"}, False),  # other operators AND in
    ({"a": {"$regex": "b"}}, {}, False),
    ({"a": {"$regex": "^a"}}, {"a": Regex("^a")}, True),  # a stored regex equal to it
    ({"a": {"$regex": "^a", "$options": "i"}}, {"a": Regex("^a", "i")}, True),
    ({"a": {"$regex": "^a"}}, {"a": Regex("^a", "i")}, False),
    ({"a": Regex("b")}, {"a": ["x", "ab"]}, True),
    ({"$expr": {"$gt": ["$a", "$b"]}}, {"a": 2, "b": 1}, True),
    ({"$expr": {"$eq": ["$a", None]}}, {}, False),  # aggregation: missing is not null
    ({"$expr": "$flag"}, {"flag": 0}, False),
    ({"$comment": "anything"}, {}, True),
    ({"$alwaysTrue": 1}, {}, True),
    ({"$alwaysFalse": 1.0}, {}, False),
    ({"$jsonSchema": {"required": ["a"]}}, {"a": 1}, True),
    ({"$jsonSchema": {"required": ["a"]}}, {}, False),
    ({"$id": 1}, {"$id": 1}, True),
]

ARRAYS: list[Case] = [
    ({"a": {"$size": 2}}, {"a": [1, [2, 3]]}, True),
    ({"a": {"$size": 2}}, {"a": [[1, 2]]}, False),  # a leaf array is not traversed
    ({"a": {"$size": 0}}, {"a": []}, True),
    ({"a": {"$size": 1}}, {"a": 1}, False),
    ({"a": {"$size": Int64(1)}}, {"a": [1]}, True),
    ({"a": {"$size": 1.0}}, {"a": [1]}, True),
    ({"a.b": {"$size": 2}}, {"a": [{"b": [1, 2]}]}, True),
    ({"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}}, {"a": [82, 90]}, True),
    ({"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}}, {"a": [79, 90]}, False),
    ({"a": {"$gte": 80, "$lt": 85}}, {"a": [79, 90]}, True),  # without it: any elements
    ({"a": {"$elemMatch": {"$gt": 5}}}, {"a": [[6]]}, False),  # elements as single values
    ({"a": {"$elemMatch": {"$gt": 5}}}, {"a": 6}, False),
    ({"a": {"$elemMatch": {"b": 1, "c": 2}}}, {"a": [{"b": 1}, {"c": 2}]}, False),
    ({"a": {"$elemMatch": {"b": 1, "c": 2}}}, {"a": [{"b": 1, "c": 2}]}, True),
    ({"a": {"$elemMatch": {"b": {"$gt": 1}}}}, {"a": [{"b": [0, 5]}]}, True),
    ({"a": {"$elemMatch": {"0": 1}}}, {"a": [[1, 2]]}, True),  # nested arrays as documents
    ({"a": {"$elemMatch": {}}}, {"a": [1, {}]}, True),
    ({"a": {"$elemMatch": {}}}, {"a": [1]}, False),
    ({"a": {"$elemMatch": {"$or": [{"b": 1}, {"b": 2}]}}}, {"a": [{"b": 2}]}, True),
    ({"a": {"$elemMatch": {"$ref": "c"}}}, {"a": [{"$ref": "c", "$id": 1}]}, True),
    ({"a": {"$elemMatch": DBRef("c", 1)}}, {"a": [{"$ref": "c", "$id": 1, "x": 2}]}, True),
    ({"a": {"$elemMatch": {"$not": {"$gt": 5}}}}, {"a": [9, 3]}, True),
    ({"a": {"$elemMatch": {"$not": {"$gt": 5}}}}, {"a": [9]}, False),
    ({"a": {"$elemMatch": {"$elemMatch": {"$eq": 1}}}}, {"a": [[0, 1]]}, True),
    ({"a": {"$elemMatch": {"$size": 1}}}, {"a": [[0, 1], 3]}, False),
    ({"a": {"$elemMatch": {"$ne": 1}}}, {"a": [1, 1]}, False),
    # Value-form children test each element as one value: no traversal into [1].
    ({"a": {"$elemMatch": {"$all": [1]}}}, {"a": [[1]]}, False),
    ({"a": {"$elemMatch": {"$all": [[1]]}}}, {"a": [[1]]}, True),
    ({"a": {"$elemMatch": {"$exists": False}}}, {"a": [1]}, False),
]

LOGICAL: list[Case] = [
    ({"$and": [{"a": 1}, {"b": 2}]}, {"a": 1, "b": 2}, True),
    ({"$and": [{"a": 1}, {"b": 2}]}, {"a": 1}, False),
    ({"$or": [{"a": 1}, {"b": 2}]}, {"b": 2}, True),
    ({"$or": [{"a": 1}, {"b": 2}]}, {}, False),
    ({"$nor": [{"a": 1}, {"b": 2}]}, {}, True),
    ({"$nor": [{"a": 1}]}, {"a": [0, 1]}, False),
    ({"a": {"$not": {"$gt": 5}}}, {"a": 3}, True),
    ({"a": {"$not": {"$gt": 5}}}, {}, True),
    ({"a": {"$not": {"$gt": 5}}}, {"a": "x"}, True),
    ({"a": {"$not": {"$gt": 5}}}, {"a": [1, 9]}, False),
    ({"a": {"$not": Regex("^x")}}, {"a": "xy"}, False),
    ({"a": {"$not": {"$regex": "^x", "$options": "i"}}}, {"a": "Xy"}, False),
    ({"a": {"$not": {"$elemMatch": {"$gt": 1}}}}, {"a": [0]}, True),
    ({"$or": [{"$and": [{"a": 1}, {"b": 1}]}, {"c": 1}]}, {"a": 1, "b": 1}, True),
]


@pytest.mark.parametrize(
    ("filter", "doc", "expected"),
    EQUALITY + COMPARISON + SETS + ELEMENTS + EVALUATION + ARRAYS + LOGICAL,
)
def test_matches(filter: dict[str, Any], doc: dict[str, Any], expected: bool) -> None:
    assert compile_filter(filter).matches(doc) is expected


BITS_DOC = {"a": 0b1010_0101, "neg": -1, "big": 2**40, "bin": Binary(b"\x05\x80", 0)}


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        # Manual, "Bitwise Query Operators": positions, masks and BinData masks.
        ({"a": {"$bitsAllSet": [0, 2]}}, True),
        ({"a": {"$bitsAllSet": [0, 1]}}, False),
        ({"a": {"$bitsAllSet": 0b101}}, True),
        ({"a": {"$bitsAllSet": Binary(b"\x05")}}, True),
        ({"a": {"$bitsAnySet": [1, 2]}}, True),
        ({"a": {"$bitsAnySet": [1, 3]}}, False),
        ({"a": {"$bitsAllClear": [1, 3]}}, True),
        ({"a": {"$bitsAllClear": [0, 1]}}, False),
        ({"a": {"$bitsAnyClear": [0, 1]}}, True),
        ({"a": {"$bitsAnyClear": [0, 2]}}, False),
        ({"neg": {"$bitsAllSet": [63, 100]}}, True),  # negatives sign-extend
        ({"big": {"$bitsAllSet": [40]}}, True),
        ({"bin": {"$bitsAllSet": [0, 2, 15]}}, True),
        ({"bin": {"$bitsAllSet": [0, 16]}}, False),  # past the data: clear
        ({"bin": {"$bitsAnySet": [1, 15]}}, True),
        ({"bin": {"$bitsAnySet": [1, 99]}}, False),
        ({"bin": {"$bitsAllClear": [1, 99]}}, True),
        ({"bin": {"$bitsAnyClear": [0, 2]}}, False),
        ({"bin": {"$bitsAllSet": Binary(b"\x00\x00\x00\x00\x00\x00\x00\x00\x01")}}, False),
        ({"a": {"$bitsAllSet": Binary(b"\x00\x00\x00\x00\x00\x00\x00\x00\x01")}}, False),
        ({"neg": {"$bitsAllSet": Binary(b"\x00\x00\x00\x00\x00\x00\x00\x00\x01")}}, True),
        ({"nope": {"$bitsAllClear": [0]}}, False),
    ],
)
def test_bits(filter: dict[str, Any], expected: bool) -> None:
    assert compile_filter(filter).matches(BITS_DOC) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5.0, True),
        (5.5, False),  # a non-integral double never matches
        (float("nan"), False),
        (1e19, False),
        (Decimal128("5"), True),
        (Decimal128("5.5"), False),
        ("5", False),
        (Int64(5), True),
    ],
)
def test_bits_on_number_kinds(value: Any, expected: bool) -> None:
    assert compile_filter({"a": {"$bitsAllSet": [0, 2]}}).matches({"a": value}) is expected


def test_collation_applies_to_comparisons_not_regexes() -> None:
    en = parse_collation({"locale": "en", "strength": 2})
    assert en is not None
    assert compile_filter({"a": "CAFE"}, en.key).matches({"a": "cafe"})
    assert compile_filter({"a": {"$in": ["CAFE"]}}, en.key).matches({"a": "cafe"})
    assert compile_filter({"a": {"$gt": "B"}}, en.key).matches({"a": "c"})
    assert compile_filter({"a": {"$gt": "B"}}).matches({"a": "c"})
    assert not compile_filter({"a": {"$regex": "CAFE"}}, en.key).matches({"a": "cafe"})
    assert compile_filter({"a": {"b": "X"}}, en.key).matches({"a": {"b": "x"}})


@pytest.mark.parametrize(
    ("filter", "doc", "index"),
    [
        # The index positional $ uses: the array element the match went through.
        ({"a": 5}, {"a": [1, 5, 9]}, 1),
        ({"a": {"$gt": 4}}, {"a": [1, 5, 9]}, 1),
        ({"a": 5}, {"a": 5}, None),
        ({"a": [1]}, {"a": [1]}, None),  # the whole array matched
        ({"a.b": 2}, {"a": [{"b": 1}, {"b": 2}]}, 1),
        ({"a.b": 3}, {"a": [{"b": [1, 2]}, {"b": [3]}]}, 1),  # outermost array wins
        ({"a.1": 2}, {"a": [1, 2]}, None),  # an explicit index is no traversal
        ({"a": {"$elemMatch": {"b": 2}}}, {"a": [{"b": 1}, {"b": 2}]}, 1),
        ({"a": {"$elemMatch": {"$gt": 1}}}, {"a": [0, 7]}, 1),
        ({"a.b": {"$elemMatch": {"$gt": 1}}}, {"a": [{"b": [0]}, {"b": [5]}]}, 1),
        ({"a": {"$size": 2}}, {"a": [1, 2]}, None),
        ({"a.b": {"$size": 1}}, {"a": [{"b": []}, {"b": [1]}]}, 1),
        ({"x": 1, "a": 2}, {"x": 1, "a": [0, 2]}, 1),
        ({"a": 2, "x": 1}, {"x": 1, "a": [0, 2]}, 1),  # later predicates keep it
        ({"a": 2, "b": 1}, {"a": [0, 2], "b": [3, 1]}, 1),  # last predicate wins
        ({"$or": [{"a": 2}, {"b": 1}]}, {"a": [0, 2]}, None),  # $or records nothing
        ({"$or": [{"a": 2}]}, {"a": [0, 2]}, 1),  # a one-clause $or is its clause
        ({"$and": [{"a": 2}]}, {"a": [0, 2]}, 1),
        ({"a": {"$ne": 2}}, {"a": [0, 1]}, None),
        ({"a": {"$all": [{"$elemMatch": {"$gt": 0}}]}}, {"a": [0, 3]}, 1),
        ({"a.b": 1}, {"a": [{"b": 1}], "c": 1}, 0),
    ],
)
def test_match_index(filter: dict[str, Any], doc: dict[str, Any], index: int | None) -> None:
    assert compile_filter(filter).match_index(doc) == (True, index)


def test_match_index_resets_on_failure() -> None:
    matcher = compile_filter({"a": 2, "b": 9})
    assert matcher.match_index({"a": [0, 2], "b": 1}) == (False, None)


def test_is_operator_document() -> None:
    assert is_operator_document({"$gt": 1})
    assert not is_operator_document({})
    assert not is_operator_document({"a": 1, "$gt": 1})
    assert not is_operator_document({"$ref": "c", "$id": 1})
    assert is_operator_document({"$ref": "c"})
    assert not is_operator_document({"$ref": "c"}, incomplete_dbref=True)
    assert not is_operator_document(5)


def test_compile_regex_is_cached_and_translates() -> None:
    assert compile_regex("a", "i") is compile_regex("a", "i")
    assert compile_regex("(?<n>x)\\z\\.", "").pattern == "(?P<n>x)\\Z\\."
    with pytest.raises(CommandError) as info:
        compile_regex("x\\", "")  # a trailing backslash
    assert info.value.code == 51091


ERRORS: list[tuple[dict[str, Any], int, str]] = [
    (
        {"$foo": 1},
        2,
        "unknown top level operator: $foo. If you have a field name that starts "
        "with a '$' symbol, consider using $getField or $setField.",
    ),
    (
        {"$not": {"a": 1}},
        2,
        "unknown top level operator: $not. If you are trying to negate "
        "an entire expression, use $nor.",
    ),
    ({"a": {"$foo": 1}}, 2, "unknown operator: $foo"),
    ({"a": {"$gt": 1, "b": 1}}, 2, "unknown operator: b"),
    ({"a": {"$comment": 1}}, 2, "unknown operator: $comment"),
    ({"a": {"$where": "x"}}, 2, "$where cannot be applied to a field"),
    (
        {"$where": "this.a"},
        115,
        "$where is not supported by fakemongo: it has no JavaScript engine",
    ),
    (
        {"$text": {"$search": "x"}},
        115,
        "$text is not supported by fakemongo: it has no text indexes",
    ),
    ({"a": {"$near": [0, 0]}}, 115, "$near is not supported by fakemongo"),
    ({"a": {"$geoWithin": {}}}, 115, "$geoWithin is not supported by fakemongo"),
    (
        {"a": {"$nearSphere": [0, 0], "$maxDistance": 1}},
        115,
        "$nearSphere is not supported by fakemongo",
    ),
    # The server looks for $near only in first position.
    ({"a": {"$maxDistance": 1, "$nearSphere": [0, 0]}}, 2, "unknown operator: $maxDistance"),
    ({"a": {"$elemMatch": {"$where": "x"}}}, 2, "$elemMatch cannot contain $where expression"),
    (
        {"a": {"$elemMatch": {"$text": {}}}},
        2,
        "$text can only be applied to the top-level document",
    ),
    ({"a": {"$elemMatch": {"$expr": 1}}}, 2, "$expr can only be applied to the top-level document"),
    ({"a": {"$gt": Regex("x")}}, 2, "Can't have RegEx as arg to predicate over field 'a'."),
    ({"a": {"$ne": re.compile("x")}}, 2, "Can't have regex as arg to $ne."),
    ({"a": {"$in": 1}}, 2, "$in needs an array"),
    ({"a": {"$nin": {}}}, 2, "$nin needs an array"),
    ({"a": {"$in": [{"$gt": 1}]}}, 2, "cannot nest $ under $in"),
    ({"a": {"$size": "1"}}, 2, "$size needs a number"),
    ({"a": {"$size": -1}}, 2, "$size may not be negative"),
    ({"a": {"$size": 1.5}}, 2, "$size must be a whole number"),
    ({"a": {"$size": Int64(2**40)}}, 2, "$size must be representable as a 32-bit integer"),
    ({"a": {"$size": Decimal128("1")}}, 2, "$size needs a number"),
    ({"a": {"$type": "foo"}}, 2, "Unknown type name alias: foo"),
    (
        {"a": {"$type": "missing"}},
        2,
        "'missing' is not a legal type name. To query for "
        "non-existence of a field, use {$exists:false}.",
    ),
    ({"a": {"$type": 0}}, 2, "Invalid numerical type code: 0. Instead use {$exists:false}."),
    ({"a": {"$type": 99}}, 2, "Invalid numerical type code: 99"),
    ({"a": {"$type": 1.5}}, 2, "Invalid numerical type code: 1.5"),
    ({"a": {"$type": Decimal128("2.5")}}, 2, "Invalid numerical type code: 2.5"),
    ({"a": {"$type": True}}, 14, "type must be represented as a number or a string"),
    ({"a": {"$type": []}}, 9, "a must match at least one type"),
    ({"a": {"$mod": 1}}, 2, "malformed mod, needs to be an array"),
    ({"a": {"$mod": []}}, 2, "malformed mod, not enough elements"),
    ({"a": {"$mod": ["x"]}}, 2, "malformed mod, divisor not a number"),
    ({"a": {"$mod": [1]}}, 2, "malformed mod, not enough elements"),
    ({"a": {"$mod": [1, "x"]}}, 2, "malformed mod, remainder not a number"),
    ({"a": {"$mod": [1, 2, 3]}}, 2, "malformed mod, too many elements"),
    (
        {"a": {"$mod": [float("nan"), 1]}},
        2,
        "malformed mod, divisor value is invalid :: caused "
        "by :: Unable to coerce NaN/Inf to integral type",
    ),
    (
        {"a": {"$mod": [1, float("inf")]}},
        2,
        "malformed mod, remainder value is invalid :: caused "
        "by :: Unable to coerce NaN/Inf to integral type",
    ),
    (
        {"a": {"$mod": [1e20, 1]}},
        2,
        "malformed mod, divisor value is invalid :: caused by :: "
        "Out of bounds coercing to integral value",
    ),
    ({"a": {"$mod": [0.5, 1]}}, 2, "divisor cannot be 0"),
    ({"a": {"$regex": 1}}, 2, "$regex has to be a string"),
    ({"a": {"$regex": "x", "$options": 1}}, 2, "$options has to be a string"),
    ({"a": {"$options": "i"}}, 2, "$options needs a $regex"),
    (
        {"a": {"$regex": Regex("x", "i"), "$options": "m"}},
        51075,
        "options set in both $regex and $options",
    ),
    (
        {"a": {"$options": "m", "$regex": Regex("x", "i")}},
        51074,
        "options set in both $regex and $options",
    ),
    ({"a": {"$regex": "x", "$options": "g"}}, 51108, " invalid flag in regex options: g"),
    (
        {"a": {"$regex": "("}},
        51091,
        "Regular expression is invalid: missing ), unterminated subpattern",
    ),
    ({"a": {"$regex": "a\0"}}, 2, "Regular expression cannot contain an embedded null byte"),
    ({"a": {"$elemMatch": 1}}, 2, "$elemMatch needs an Object"),
    ({"a": {"$all": 1}}, 2, "$all needs an array"),
    ({"a": {"$all": [{"$elemMatch": {}}, 1]}}, 2, "$all/$elemMatch has to be consistent"),
    ({"a": {"$all": [{"$elemMatch": {}}, {"b": 1}]}}, 2, "$all/$elemMatch has to be consistent"),
    ({"a": {"$all": [{"$gt": 1}]}}, 2, "no $ expressions in $all"),
    ({"a": {"$not": 1}}, 2, "$not needs a regex or a document"),
    ({"a": {"$not": {}}}, 2, "$not cannot be empty"),
    ({"$and": {}}, 2, "$and must be an array"),
    ({"$or": []}, 2, "$and/$or/$nor must be a nonempty array"),
    ({"$nor": [1]}, 2, "$or/$and/$nor entries need to be full objects"),
    ({"$jsonSchema": 1}, 14, "$jsonSchema must be an object"),
    ({"$alwaysTrue": 2}, 9, "$alwaysTrue must be an integer value of 1"),
    ({"$alwaysTrue": "x"}, 9, 'Expected a number in: $alwaysTrue: "x"'),
    ({"$alwaysFalse": 1.5}, 9, "Expected an integer: $alwaysFalse: 1.5"),
    ({"$alwaysFalse": float("nan")}, 9, "Expected an integer, but found NaN in: $alwaysFalse: nan"),
    ({"$alwaysFalse": 1e19}, 9, "Cannot represent as a 64-bit integer: $alwaysFalse: 1e+19"),
    ({"$alwaysFalse": float("inf")}, 9, "Cannot represent as a 64-bit integer: $alwaysFalse: inf"),
    ({"$expr": {"$foo": 1}}, 168, "Unrecognized expression '$foo'"),
    (
        {"a": {"$bitsAllSet": "x"}},
        2,
        'a takes an Array, a number, or a BinData but received: $bitsAllSet: "x"',
    ),
    ({"a": {"$bitsAnySet": -1}}, 9, "Expected a positive number in: $bitsAnySet: -1"),
    ({"a": {"$bitsAnySet": 1.5}}, 9, "Expected an integer: $bitsAnySet: 1.5"),
    ({"a": {"$bitsAllClear": ["x"]}}, 2, 'bit positions must be an integer but got: 0: "x"'),
    ({"a": {"$bitsAllClear": [1, 1.5]}}, 2, "bit positions must be an integer but got: 1: 1.5"),
    ({"a": {"$bitsAllClear": [float("nan")]}}, 2, "bit positions cannot take a NaN: 0: nan"),
    (
        {"a": {"$bitsAllClear": [2**31]}},
        2,
        "bit positions cannot be represented as a 32-bit signed integer: 0: 2147483648",
    ),
    ({"a": {"$bitsAnyClear": [-1]}}, 2, "bit positions must be >= 0 but got: 0: -1"),
]


@pytest.mark.parametrize(("filter", "code", "message"), ERRORS)
def test_errors(filter: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        compile_filter(filter)
    assert info.value.code == code
    assert info.value.errmsg.startswith(message)


def test_bit_positions_from_decimal_and_long() -> None:
    matcher = compile_filter({"a": {"$bitsAllSet": [Decimal128("1"), Int64(0)]}})
    assert matcher.matches({"a": 3})
    assert compile_filter({"a": {"$bitsAllSet": Decimal128("3")}}).matches({"a": 3})


def test_many_documents() -> None:
    docs = [{"_id": i, "v": i % 7, "t": [i, i + 1]} for i in range(2000)]
    matcher = compile_filter({"v": {"$in": [1, 3]}, "t": {"$gt": 1990}})
    assert [doc["_id"] for doc in docs if matcher.matches(doc)] == [1991, 1996, 1998]
