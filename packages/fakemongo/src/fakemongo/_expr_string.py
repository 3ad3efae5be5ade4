"""String expression operators (manual, "String Expression Operators").

``$concat`` ``$substr``/``$substrBytes`` ``$substrCP`` ``$toLower`` ``$toUpper``
``$strcasecmp`` ``$trim`` ``$ltrim`` ``$rtrim`` ``$split`` ``$strLenBytes``
``$strLenCP`` ``$indexOfBytes`` ``$indexOfCP`` ``$regexMatch`` ``$regexFind``
``$regexFindAll`` ``$replaceOne`` ``$replaceAll``.

Byte positions count UTF-8 bytes, CP positions code points. ``$toLower``,
``$toUpper`` and ``$strcasecmp`` change ASCII letters only, as the server does;
they, and the ``$substr`` family, coerce numbers, dates and null to strings
(null becomes ""). Regexes use the PCRE options ``imsx``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64, Timestamp
from bson.code import Code

from fakemongo._bsonorder import MISSING, Rank, regex_flags, type_alias, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope, Vars, fixed_args, operand_list
from fakemongo._expr_util import (
    integral_value,
    is_number,
    is_object,
    iso_string,
    nullish,
    ranged_args,
    register,
    value_text,
)
from fakemongo._matchops import _RE_FLAGS, _translate

__all__ = ["coerce_to_string"]


def coerce_to_string(value: Any) -> str:
    """The server's Value::coerceToString (null and missing become "")."""
    if nullish(value):
        return ""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        raise _not_string(value)
    if isinstance(value, float):
        return value_text(value)
    if isinstance(value, int | Int64 | Decimal128):
        return str(value)
    if type_rank(value) == Rank.DATE:
        return iso_string(value)
    if isinstance(value, Timestamp):
        return f"Timestamp({value.time}, {value.inc})"
    raise _not_string(value)


def _not_string(value: Any) -> CommandError:
    return CommandError(
        ErrorCode.Location16007, f"can't convert from BSON type {type_alias(value)} to String"
    )


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _ascii_upper(text: str) -> str:
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in text)


@register("$concat")
def _concat(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in operand_list(args)]

    def concat(v: Vars) -> Any:
        parts = []
        for item in items:
            value = item(v)
            if nullish(value):
                return None
            if not isinstance(value, str) or isinstance(value, Code):
                raise CommandError(
                    ErrorCode.Location16702,
                    f"$concat only supports strings, not {type_alias(value)}",
                )
            parts.append(value)
        return "".join(parts)

    return concat


def _case(name: str, convert: Callable[[str], str]) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        (item,) = (scope.compile(arg) for arg in fixed_args(name, args, 1))
        return lambda v: convert(coerce_to_string(item(v)))


_case("$toLower", _ascii_lower)
_case("$toUpper", _ascii_upper)


@register("$strcasecmp")
def _strcasecmp(args: Any, scope: Scope) -> Evaluator:
    left, right = (scope.compile(arg) for arg in fixed_args("$strcasecmp", args, 2))

    def strcasecmp(v: Vars) -> int:
        a = _ascii_upper(coerce_to_string(left(v)))
        b = _ascii_upper(coerce_to_string(right(v)))
        return (a > b) - (a < b)

    return strcasecmp


# ---------------------------------------------------------------- substrings


def _substr_bytes(name: str) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        text_of, start_of, length_of = (scope.compile(arg) for arg in fixed_args(name, args, 3))

        def substr(v: Vars) -> Any:
            data = coerce_to_string(text_of(v)).encode()
            start, length = start_of(v), length_of(v)
            for value, what, code in (
                (start, "starting index", ErrorCode.Location16034),
                (length, "length", ErrorCode.Location16035),
            ):
                if not is_number(value) or isinstance(value, Decimal128):
                    raise CommandError(
                        code,
                        f"$substrBytes:  {what} must be a numeric type (is BSON type "
                        f"{type_alias(value)})",
                    )
            lower, count = int(start), int(length)
            if lower < 0:
                raise CommandError(
                    ErrorCode.Location50752,
                    f"$substrBytes:  starting index must be non-negative (got: {lower})",
                )
            if count < 0:
                count = len(data)
            if lower < len(data) and data[lower] & 0xC0 == 0x80:
                raise CommandError(
                    ErrorCode.Location28656,
                    "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.",
                )
            end = lower + count
            if end < len(data) and data[end] & 0xC0 == 0x80:
                raise CommandError(
                    ErrorCode.Location28657,
                    "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 "
                    "character.",
                )
            return data[lower:end].decode()

        return substr


_substr_bytes("$substrBytes")
_substr_bytes("$substr")


def _cp_int(value: Any, what: str, numeric: ErrorCode, integral: ErrorCode) -> int:
    if not is_number(value):
        raise CommandError(
            numeric,
            f"$substrCP: {what} must be a numeric type (is BSON type {type_alias(value)})",
        )
    number = integral_value(value)
    if number is None or not -(2**31) <= number < 2**31:
        raise CommandError(
            integral,
            f"$substrCP: {what} cannot be represented as a 32-bit integral value: "
            f"{value_text(value)}",
        )
    return number


@register("$substrCP")
def _substr_cp(args: Any, scope: Scope) -> Evaluator:
    text_of, start_of, length_of = (scope.compile(arg) for arg in fixed_args("$substrCP", args, 3))

    def substr(v: Vars) -> Any:
        text = coerce_to_string(text_of(v))
        start = _cp_int(
            start_of(v), "starting index", ErrorCode.Location34450, ErrorCode.Location34451
        )
        length = _cp_int(length_of(v), "length", ErrorCode.Location34452, ErrorCode.Location34453)
        if length < 0:
            raise CommandError(
                ErrorCode.Location34454, "$substrCP: length must be a nonnegative integer."
            )
        if start < 0:
            raise CommandError(
                ErrorCode.Location34455,
                "$substrCP: the starting index must be nonnegative integer.",
            )
        return text[start : start + length]

    return substr


# ---------------------------------------------------------------- lengths and searches


def _length(name: str, code: ErrorCode, measure: Callable[[str], int]) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        (item,) = (scope.compile(arg) for arg in fixed_args(name, args, 1))

        def length(v: Vars) -> int:
            value = item(v)
            if not isinstance(value, str):
                raise CommandError(
                    code, f"{name} requires a string argument, found: {type_alias(value)}"
                )
            return measure(value)

        return length


_length("$strLenBytes", ErrorCode.Location34473, lambda s: len(s.encode()))
_length("$strLenCP", ErrorCode.Location34471, len)


def _index_bound(name: str, value: Any, what: str) -> int:
    number = integral_value(value)  # the server's Value::integral(): an int32 value
    if number is None or not -(2**31) <= number < 2**31:
        raise CommandError(
            ErrorCode.Location40096,
            f"{name}requires an integral {what}, found a value of type: {type_alias(value)}, "
            f"with value: {value_text(value)}",
        )
    if number < 0:
        raise CommandError(
            ErrorCode.Location40097,
            f"{name} requires a nonnegative {what}, found: {value_text(value)}",
        )
    return number


def _index_of(name: str, codes: tuple[ErrorCode, ErrorCode], in_bytes: bool) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        items = [scope.compile(arg) for arg in ranged_args(name, args, 2, 4)]

        def index_of(v: Vars) -> Any:
            text, token = items[0](v), items[1](v)
            if nullish(text):
                return None
            for value, code, which in ((text, codes[0], "first"), (token, codes[1], "second")):
                if not isinstance(value, str):
                    raise CommandError(
                        code,
                        f"{name} requires a string as the {which} argument, found: "
                        f"{type_alias(value)}",
                    )
            haystack: str | bytes = text.encode() if in_bytes else text
            needle: str | bytes = token.encode() if in_bytes else token
            start = _index_bound(name, items[2](v), "starting index") if len(items) > 2 else 0
            end = len(haystack)
            if len(items) > 3:
                end = min(end, _index_bound(name, items[3](v), "ending index"))
            if start > len(haystack) or end < start:
                return -1
            return haystack[:end].find(needle, start)  # type: ignore[arg-type]

        return index_of


_index_of("$indexOfBytes", (ErrorCode.Location40091, ErrorCode.Location40092), in_bytes=True)
_index_of("$indexOfCP", (ErrorCode.Location40093, ErrorCode.Location40094), in_bytes=False)


@register("$split")
def _split(args: Any, scope: Scope) -> Evaluator:
    text_of, separator_of = (scope.compile(arg) for arg in fixed_args("$split", args, 2))

    def split(v: Vars) -> Any:
        text, separator = text_of(v), separator_of(v)
        if nullish(text) or nullish(separator):
            return None
        if not isinstance(text, str):
            raise CommandError(
                ErrorCode.Location40085,
                "$split requires an expression that evaluates to a string as a first argument, "
                f"found: {type_alias(text)}",
            )
        if not isinstance(separator, str):
            raise CommandError(
                ErrorCode.Location40086,
                "$split requires an expression that evaluates to a string as a second argument, "
                f"found: {type_alias(separator)}",
            )
        if not separator:
            raise CommandError(ErrorCode.Location40087, "$split requires a non-empty separator")
        return text.split(separator)

    return split


# ---------------------------------------------------------------- trimming

# The server's default trim set: the ASCII whitespace and NUL, and Unicode spaces.
_WHITESPACE = "\0 \t\n\v\f\r\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"


def _named_args(
    name: str, args: Any, allowed: tuple[str, ...], codes: tuple[ErrorCode, ErrorCode]
) -> dict[str, Any]:
    if not is_object(args):
        raise CommandError(
            codes[0], f"{name} requires an object as an argument, found: {type_alias(args)}"
        )
    for key in args:
        if key not in allowed:
            raise CommandError(codes[1], f"{name} found an unknown argument: {key}")
    return dict(args)


def _trim(name: str, left: bool, right: bool) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        spec = _named_args(
            name, args, ("input", "chars"), (ErrorCode.Location50696, ErrorCode.Location50694)
        )
        if "input" not in spec:
            raise CommandError(ErrorCode.Location50695, f"{name} requires an 'input' field")
        input_of = scope.compile(spec["input"])
        chars_of = scope.compile(spec["chars"]) if "chars" in spec else None

        def trim(v: Vars) -> Any:
            text = input_of(v)
            if nullish(text):
                return None
            if not isinstance(text, str):
                raise CommandError(
                    ErrorCode.Location50699,
                    f"{name} requires its input to be a string, got {value_text(text)} (of type "
                    f"{type_alias(text)}) instead.",
                )
            chars = _WHITESPACE
            if chars_of is not None:
                chars = chars_of(v)
                if nullish(chars):
                    return None
                if not isinstance(chars, str):
                    raise CommandError(
                        ErrorCode.Location50700,
                        f"{name} requires 'chars' to be a string, got {value_text(chars)} (of "
                        f"type {type_alias(chars)}) instead.",
                    )
            if left:
                text = text.lstrip(chars)
            return text.rstrip(chars) if right else text

        return trim


_trim("$trim", left=True, right=True)
_trim("$ltrim", left=True, right=False)
_trim("$rtrim", left=False, right=True)


# ---------------------------------------------------------------- regexes


def _regex_operator(name: str, result: Callable[[re.Pattern[str] | None, str | None], Any]) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        spec = _named_args(
            name,
            args,
            ("input", "regex", "options"),
            (ErrorCode.Location51103, ErrorCode.Location31024),
        )
        for key, code in (("input", ErrorCode.Location31022), ("regex", ErrorCode.Location31023)):
            if key not in spec:
                raise CommandError(code, f"{name} requires '{key}' parameter")
        input_of, regex_of = scope.compile(spec["input"]), scope.compile(spec["regex"])
        options_of = scope.compile(spec["options"]) if "options" in spec else None

        def evaluate(v: Vars) -> Any:
            text = input_of(v)
            pattern = _pattern(name, regex_of(v), options_of(v) if options_of else MISSING)
            if nullish(text):
                return result(None, None)
            if not isinstance(text, str):
                raise CommandError(
                    ErrorCode.Location51104, f"{name} needs 'input' to be of type string"
                )
            return result(pattern, text)

        return evaluate


def _pattern(name: str, regex: Any, options: Any) -> re.Pattern[str] | None:
    if nullish(regex):
        return None
    if type_rank(regex) == Rank.REGEX:
        text, flags = str(regex.pattern), regex_flags(regex)
        if not nullish(options) and flags:
            raise CommandError(
                ErrorCode.Location51107,
                f"{name} found regex option(s) specified in both 'regex' and 'option' fields",
            )
    elif isinstance(regex, str):
        text, flags = regex, ""
    else:
        raise CommandError(
            ErrorCode.Location51105, f"{name} needs 'regex' to be of type string or regex"
        )
    if not nullish(options):
        if not isinstance(options, str):
            raise CommandError(
                ErrorCode.Location51106, f"{name} needs 'options' to be of type string"
            )
        flags = options
    bits = 0
    for letter in flags:
        if letter not in _RE_FLAGS:
            raise CommandError(
                ErrorCode.Location51108, f"{name} invalid flag in regex options: {letter}"
            )
        bits |= _RE_FLAGS[letter]
    if "\0" in text:
        raise CommandError(
            ErrorCode.Location51109,
            f"{name} needs 'regex' pattern to be a string without null characters",
        )
    try:
        return re.compile(_translate(text), bits)
    except re.error as exc:
        raise CommandError(ErrorCode.Location51111, f"Invalid Regex in {name}: {exc.msg}") from None


def _match_document(text: str, match: re.Match[str]) -> dict[str, Any]:
    return {"match": match.group(0), "idx": match.start(), "captures": list(match.groups())}


def _find(pattern: re.Pattern[str] | None, text: str | None) -> Any:
    if pattern is None or text is None:
        return None
    match = pattern.search(text)
    return None if match is None else _match_document(text, match)


def _find_all(pattern: re.Pattern[str] | None, text: str | None) -> Any:
    if pattern is None or text is None:
        return []
    return [_match_document(text, match) for match in pattern.finditer(text)]


def _matches(pattern: re.Pattern[str] | None, text: str | None) -> Any:
    return pattern is not None and text is not None and pattern.search(text) is not None


_regex_operator("$regexFind", _find)
_regex_operator("$regexFindAll", _find_all)
_regex_operator("$regexMatch", _matches)


# ---------------------------------------------------------------- replacing


def _replace(name: str, count: int) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        spec = _named_args(
            name,
            args,
            ("input", "find", "replacement"),
            (ErrorCode.Location51751, ErrorCode.Location51750),
        )
        for key, code in (
            ("input", ErrorCode.Location51749),
            ("find", ErrorCode.Location51748),
            ("replacement", ErrorCode.Location51747),
        ):
            if key not in spec:
                raise CommandError(code, f"{name} requires '{key}' to be specified")
        parts = [scope.compile(spec[key]) for key in ("input", "find", "replacement")]

        def replace(v: Vars) -> Any:
            values = [part(v) for part in parts]
            for value, key, code in zip(
                values,
                ("input", "find", "replacement"),
                (ErrorCode.Location51746, ErrorCode.Location51745, ErrorCode.Location51744),
                strict=True,
            ):
                if not isinstance(value, str) and not nullish(value):
                    raise CommandError(
                        code,
                        f"{name} requires that '{key}' be a string, found: {value_text(value)}",
                    )
            if any(nullish(value) for value in values):
                return None
            text, find, replacement = values
            return text.replace(find, replacement, count)

        return replace


_replace("$replaceOne", 1)
_replace("$replaceAll", -1)
