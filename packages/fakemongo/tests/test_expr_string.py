"""String expression operators (manual, "String Expression Operators")."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from bson import Decimal128, Int64, Regex, Timestamp
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._bsonorder import MISSING
from fakemongo._errors import CommandError
from fakemongo._expr import compile_expression, evaluate
from fakemongo._expr_string import coerce_to_string

DOC: dict[str, Any] = {"s": "Hello World", "n": None, "e": "é", "cafe": "café", "num": 5}


def run(spec: Any, doc: dict[str, Any] | None = None) -> Any:
    return evaluate(compile_expression(spec), DOC if doc is None else doc)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$concat": ["a", "$s", "b"]}, "aHello Worldb"),
        ({"$concat": []}, ""),
        ({"$concat": ["a", None]}, None),
        ({"$concat": ["a", "$nope"]}, None),
        # Manual, "$toLower"/"$toUpper": only ASCII letters change; null is "".
        ({"$toLower": "$s"}, "hello world"),
        ({"$toUpper": "$cafe"}, "CAFé"),
        ({"$toUpper": None}, ""),
        ({"$toLower": 5}, "5"),
        ({"$toLower": 2.5}, "2.5"),
        ({"$toLower": Int64(3)}, "3"),
        ({"$toLower": Decimal128("1.50")}, "1.50"),
        ({"$strcasecmp": ["abc", "ABC"]}, 0),
        ({"$strcasecmp": ["abd", "ABC"]}, 1),
        ({"$strcasecmp": [None, "a"]}, -1),
        # Manual, "$substrBytes": byte offsets; a negative length means "to the end".
        ({"$substrBytes": ["$s", 6, 5]}, "World"),
        ({"$substrBytes": ["$s", 6, -1]}, "World"),
        ({"$substrBytes": ["$s", 20, 2]}, ""),
        ({"$substrBytes": ["$cafe", 3, 2]}, "é"),
        ({"$substrBytes": ["$nope", 0, 2]}, ""),
        ({"$substr": ["$s", 0, 5.9]}, "Hello"),
        ({"$substrBytes": [12345, 1, 2]}, "23"),
        ({"$substrCP": ["$cafe", 3, 1]}, "é"),
        ({"$substrCP": ["$s", 6, 100]}, "World"),
        ({"$substrCP": ["$s", 2.0, Int64(2)]}, "ll"),
        ({"$strLenBytes": "$cafe"}, 5),
        ({"$strLenCP": "$cafe"}, 4),
        ({"$split": ["a,b,,c", ","]}, ["a", "b", "", "c"]),
        ({"$split": ["abc", "x"]}, ["abc"]),
        ({"$split": [None, ","]}, None),
        ({"$split": ["a", "$nope"]}, None),
        ({"$indexOfBytes": ["cafétéria", "t"]}, 5),
        ({"$indexOfCP": ["cafétéria", "t"]}, 4),
        ({"$indexOfCP": ["abcabc", "b", 2]}, 4),
        ({"$indexOfCP": ["abcabc", "b", 2, 4]}, -1),
        ({"$indexOfCP": ["abcabc", "c", 0, 100]}, 2),
        ({"$indexOfCP": ["abc", "", 3]}, 3),
        ({"$indexOfCP": ["abc", "a", 4]}, -1),
        ({"$indexOfCP": ["abc", "a", 2, 1]}, -1),
        ({"$indexOfBytes": [None, "a"]}, None),
        ({"$indexOfBytes": ["$nope", "a"]}, None),
        ({"$indexOfCP": ["abc", "z"]}, -1),
        # Manual, "$trim": whitespace (Unicode spaces and NUL too) unless chars given.
        ({"$trim": {"input": "  \u00a0x y\t\n\u3000"}}, "x y"),
        ({"$ltrim": {"input": "  x  "}}, "x  "),
        ({"$rtrim": {"input": "  x  "}}, "  x"),
        ({"$trim": {"input": "xxaxx", "chars": "x"}}, "a"),
        ({"$trim": {"input": "ggaxgg", "chars": "gx"}}, "a"),
        ({"$trim": {"input": None}}, None),
        ({"$trim": {"input": "a", "chars": None}}, None),
        ({"$replaceOne": {"input": "a.b.c", "find": ".", "replacement": "-"}}, "a-b.c"),
        ({"$replaceAll": {"input": "a.b.c", "find": ".", "replacement": "-"}}, "a-b-c"),
        ({"$replaceAll": {"input": None, "find": ".", "replacement": "-"}}, None),
        ({"$replaceOne": {"input": "abc", "find": "$nope", "replacement": "-"}}, None),
    ],
)
def test_values(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$regexMatch": {"input": "$s", "regex": "world", "options": "i"}}, True),
        ({"$regexMatch": {"input": "$s", "regex": "world"}}, False),
        ({"$regexMatch": {"input": "$s", "regex": Regex("^hello", "i")}}, True),
        ({"$regexMatch": {"input": "$nope", "regex": "x"}}, False),
        ({"$regexMatch": {"input": "x", "regex": None}}, False),
        # Manual, "$regexFind": idx counts code points; unmatched groups are null.
        (
            {"$regexFind": {"input": "café au lait", "regex": "(a)(u)?(x)?"}},
            {"match": "a", "idx": 1, "captures": ["a", None, None]},
        ),
        (
            {"$regexFind": {"input": "café au lait", "regex": "au"}},
            {"match": "au", "idx": 5, "captures": []},
        ),
        ({"$regexFind": {"input": "abc", "regex": "z"}}, None),
        ({"$regexFind": {"input": None, "regex": "z"}}, None),
        (
            {"$regexFindAll": {"input": "a1b22", "regex": "(?<digits>\\d+)"}},
            [
                {"match": "1", "idx": 1, "captures": ["1"]},
                {"match": "22", "idx": 3, "captures": ["22"]},
            ],
        ),
        ({"$regexFindAll": {"input": "$n", "regex": "x"}}, []),
        (
            {"$regexFindAll": {"input": "ab\nAB", "regex": "^a", "options": "mi"}},
            [
                {"match": "a", "idx": 0, "captures": []},
                {"match": "A", "idx": 3, "captures": []},
            ],
        ),
        ({"$regexMatch": {"input": "a b", "regex": "a b", "options": "x"}}, False),
        ({"$regexMatch": {"input": "a\nb", "regex": "a.b", "options": "s"}}, True),
        ({"$regexMatch": {"input": "x", "regex": "x", "options": None}}, True),
    ],
)
def test_regex(spec: Any, expected: Any) -> None:
    assert run(spec) == expected


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ({"$concat": ["a", 1]}, 16702, "$concat only supports strings, not int"),
        ({"$toLower": True}, 16007, "can't convert from BSON type bool to String"),
        ({"$toLower": [[1]]}, 16007, "can't convert from BSON type array to String"),
        (
            {"$substrBytes": ["a", "x", 1]},
            16034,
            "$substrBytes:  starting index must be a numeric type (is BSON type string)",
        ),
        (
            {"$substr": ["a", 0, Decimal128("1")]},
            16035,
            "$substrBytes:  length must be a numeric type (is BSON type decimal)",
        ),
        (
            {"$substrBytes": ["a", -1, 1]},
            50752,
            "$substrBytes:  starting index must be non-negative (got: -1)",
        ),
        (
            {"$substrBytes": ["$cafe", 4, 1]},
            28656,
            "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.",
        ),
        (
            {"$substrBytes": ["$cafe", 0, 4]},
            28657,
            "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character.",
        ),
        (
            {"$substrCP": ["a", "x", 1]},
            34450,
            "$substrCP: starting index must be a numeric type (is BSON type string)",
        ),
        (
            {"$substrCP": ["a", 1.5, 1]},
            34451,
            "$substrCP: starting index cannot be represented as a 32-bit integral value: 1.5",
        ),
        (
            {"$substrCP": ["a", 0, None]},
            34452,
            "$substrCP: length must be a numeric type (is BSON type null)",
        ),
        (
            {"$substrCP": ["a", 0, 2**40]},
            34453,
            "$substrCP: length cannot be represented as a 32-bit integral value: 1099511627776",
        ),
        ({"$substrCP": ["a", 0, -1]}, 34454, "$substrCP: length must be a nonnegative integer."),
        (
            {"$substrCP": ["a", -1, 1]},
            34455,
            "$substrCP: the starting index must be nonnegative integer.",
        ),
        ({"$strLenBytes": None}, 34473, "$strLenBytes requires a string argument, found: null"),
        ({"$strLenCP": 1}, 34471, "$strLenCP requires a string argument, found: int"),
        (
            {"$indexOfBytes": [1, "a"]},
            40091,
            "$indexOfBytes requires a string as the first argument, found: int",
        ),
        (
            {"$indexOfBytes": ["a", None]},
            40092,
            "$indexOfBytes requires a string as the second argument, found: null",
        ),
        (
            {"$indexOfCP": [1, "a"]},
            40093,
            "$indexOfCP requires a string as the first argument, found: int",
        ),
        (
            {"$indexOfCP": ["a", 1]},
            40094,
            "$indexOfCP requires a string as the second argument, found: int",
        ),
        (
            {"$indexOfCP": ["a", "a", 1.5]},
            40096,
            "$indexOfCPrequires an integral starting index, found a value of type: double, "
            "with value: 1.5",
        ),
        (
            {"$indexOfCP": ["a", "a", 0, "x"]},
            40096,
            "$indexOfCPrequires an integral ending index, found a value of type: string, "
            'with value: "x"',
        ),
        (
            {"$indexOfCP": ["a", "a", -1]},
            40097,
            "$indexOfCP requires a nonnegative starting index, found: -1",
        ),
        (
            {"$indexOfCP": ["a"]},
            28667,
            "Expression $indexOfCP takes at least 2 arguments, and at most 4, but 1 were passed "
            "in.",
        ),
        (
            {"$split": [1, ","]},
            40085,
            "$split requires an expression that evaluates to a string as a first argument, "
            "found: int",
        ),
        (
            {"$split": ["a", 1]},
            40086,
            "$split requires an expression that evaluates to a string as a second argument, "
            "found: int",
        ),
        ({"$split": ["a", ""]}, 40087, "$split requires a non-empty separator"),
        ({"$trim": "x"}, 50696, "$trim requires an object as an argument, found: string"),
        ({"$trim": {"input": "x", "y": 1}}, 50694, "$trim found an unknown argument: y"),
        ({"$ltrim": {"chars": "x"}}, 50695, "$ltrim requires an 'input' field"),
        (
            {"$trim": {"input": 1}},
            50699,
            "$trim requires its input to be a string, got 1 (of type int) instead.",
        ),
        (
            {"$rtrim": {"input": "a", "chars": 1}},
            50700,
            "$rtrim requires 'chars' to be a string, got 1 (of type int) instead.",
        ),
        (
            {"$regexFind": "x"},
            51103,
            "$regexFind requires an object as an argument, found: string",
        ),
        (
            {"$regexFind": {"input": "a", "regex": "a", "x": 1}},
            31024,
            "$regexFind found an unknown argument: x",
        ),
        ({"$regexMatch": {"regex": "a"}}, 31022, "$regexMatch requires 'input' parameter"),
        ({"$regexFindAll": {"input": "a"}}, 31023, "$regexFindAll requires 'regex' parameter"),
        (
            {"$regexFind": {"input": 1, "regex": "a"}},
            51104,
            "$regexFind needs 'input' to be of type string",
        ),
        (
            {"$regexFind": {"input": "a", "regex": 1}},
            51105,
            "$regexFind needs 'regex' to be of type string or regex",
        ),
        (
            {"$regexFind": {"input": "a", "regex": "a", "options": 1}},
            51106,
            "$regexFind needs 'options' to be of type string",
        ),
        (
            {"$regexFind": {"input": "a", "regex": Regex("a", "i"), "options": "m"}},
            51107,
            "$regexFind found regex option(s) specified in both 'regex' and 'option' fields",
        ),
        (
            {"$regexFind": {"input": "a", "regex": "a", "options": "q"}},
            51108,
            "$regexFind invalid flag in regex options: q",
        ),
        (
            {"$regexFind": {"input": "a", "regex": "a\0"}},
            51109,
            "$regexFind needs 'regex' pattern to be a string without null characters",
        ),
        (
            {"$regexFind": {"input": "a", "regex": "("}},
            51111,
            "Invalid Regex in $regexFind: missing ), unterminated subpattern",
        ),
        (
            {"$replaceOne": "x"},
            51751,
            "$replaceOne requires an object as an argument, found: string",
        ),
        (
            {"$replaceOne": {"input": "a", "find": "a", "replacement": "b", "x": 1}},
            51750,
            "$replaceOne found an unknown argument: x",
        ),
        (
            {"$replaceAll": {"find": "a", "replacement": "b"}},
            51749,
            "$replaceAll requires 'input' to be specified",
        ),
        (
            {"$replaceAll": {"input": "a", "replacement": "b"}},
            51748,
            "$replaceAll requires 'find' to be specified",
        ),
        (
            {"$replaceAll": {"input": "a", "find": "b"}},
            51747,
            "$replaceAll requires 'replacement' to be specified",
        ),
        (
            {"$replaceOne": {"input": 5, "find": "a", "replacement": "b"}},
            51746,
            "$replaceOne requires that 'input' be a string, found: 5",
        ),
        (
            {"$replaceOne": {"input": "a", "find": 5, "replacement": None}},
            51745,
            "$replaceOne requires that 'find' be a string, found: 5",
        ),
        (
            {"$replaceOne": {"input": "a", "find": "a", "replacement": [1]}},
            51744,
            "$replaceOne requires that 'replacement' be a string, found: [1]",
        ),
    ],
)
def test_errors(spec: Any, code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(spec)
    assert (info.value.code, info.value.errmsg) == (code, message)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (MISSING, ""),
        ("s", "s"),
        (1.0, "1"),  # the server prints doubles with six significant digits
        (1234567.0, "1.23457e+06"),
        (float("nan"), "nan"),
        (
            datetime.datetime(2020, 1, 2, 3, 4, 5, 6000, tzinfo=datetime.UTC),
            "2020-01-02T03:04:05.006Z",
        ),
        (Timestamp(5, 1), "Timestamp(5, 1)"),
    ],
)
def test_coerce_to_string(value: Any, expected: str) -> None:
    assert coerce_to_string(value) == expected


@given(st.text(max_size=20), st.integers(0, 25), st.integers(0, 25))
def test_substr_cp_is_python_slicing(text: str, start: int, length: int) -> None:
    assert run({"$substrCP": [{"$literal": text}, start, length]}) == text[start : start + length]


@given(st.text(max_size=20), st.text(min_size=1, max_size=3))
def test_split_is_python_split(text: str, separator: str) -> None:
    assert run({"$split": [{"$literal": text}, {"$literal": separator}]}) == text.split(separator)
