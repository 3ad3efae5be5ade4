"""``$jsonSchema``: compile a schema (draft 4 subset, as MongoDB implements it).

Manual, "$jsonSchema": supported keywords and their MongoDB twists. Type-specific
keywords (``minimum``, ``minLength``, ``items``...) constrain only values of their
type and pass any other; a property that is absent passes unless ``required``;
``bsonType`` takes BSON type aliases, ``type`` JSON types (without "integer").
``additionalProperties: false`` has no exception for ``_id``. ``encrypt`` and
``encryptMetadata`` (client-side field level encryption) answer 115.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from bson import Decimal128

from fakemongo._bsonorder import Rank, bson_repr, is_nan, type_number, type_rank, values_equal
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._matchops import TYPE_ALIASES, compile_regex, parse_type_set

__all__ = ["compile_schema"]

Test = Callable[[Any], bool]

_JSON_TYPES = {"object": 3, "array": 4, "boolean": 8, "null": 10, "string": 2}
_IGNORED = frozenset({"title", "description"})
_UNSUPPORTED = frozenset({"encrypt", "encryptMetadata"})
_KEYWORDS = frozenset(
    {"type", "bsonType", "properties", "required", "minimum", "maximum", "exclusiveMinimum"}
    | {"exclusiveMaximum", "minLength", "maxLength", "pattern", "enum", "items", "additionalItems"}
    | {"minItems", "maxItems", "uniqueItems", "additionalProperties", "patternProperties"}
    | {"minProperties", "maxProperties", "multipleOf", "allOf", "anyOf", "oneOf", "not"}
    | {"dependencies"}
    | _IGNORED
    | _UNSUPPORTED
)


def compile_schema(schema: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a ``$jsonSchema`` document into a document test.

    Raises CommandError 9 FailedToParse for an unknown keyword or invalid value,
    14 TypeMismatch for a keyword of the wrong type, 115 for encryption keywords.
    """
    return _compile(schema)


def _number_keyword(schema: Mapping[str, Any], keyword: str) -> Any:
    value = schema[keyword]
    if type_rank(value) != Rank.NUMBER:
        raise CommandError(
            ErrorCode.TypeMismatch, f"$jsonSchema keyword '{keyword}' must be a number"
        )
    return value.to_decimal() if isinstance(value, Decimal128) else value


def _count_keyword(schema: Mapping[str, Any], keyword: str) -> int:
    value = _number_keyword(schema, keyword)
    if is_nan(schema[keyword]) or math.isinf(value) or value != int(value) or value < 0:
        raise CommandError(
            ErrorCode.FailedToParse,
            f"$jsonSchema keyword '{keyword}' must be a non-negative integer, "
            f"not {bson_repr(schema[keyword])}",
        )
    return int(value)


def _bool_keyword(schema: Mapping[str, Any], keyword: str) -> bool:
    value = schema[keyword]
    if not isinstance(value, bool):
        raise CommandError(
            ErrorCode.TypeMismatch, f"$jsonSchema keyword '{keyword}' must be a boolean"
        )
    return value


def _object_keyword(schema: Mapping[str, Any], keyword: str) -> Mapping[str, Any]:
    value = schema[keyword]
    if not isinstance(value, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch, f"$jsonSchema keyword '{keyword}' must be an object"
        )
    return value


def _schema_list(schema: Mapping[str, Any], keyword: str) -> list[Test]:
    value = schema[keyword]
    if not isinstance(value, list) or not value:
        raise CommandError(
            ErrorCode.TypeMismatch, f"$jsonSchema keyword '{keyword}' must be a nonempty array"
        )
    tests = []
    for item in value:
        if not isinstance(item, Mapping):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"$jsonSchema keyword '{keyword}' must be an array of objects",
            )
        tests.append(_compile(item))
    return tests


def _types(schema: Mapping[str, Any]) -> Test | None:
    if "type" in schema and "bsonType" in schema:
        raise CommandError(
            ErrorCode.FailedToParse,
            "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'",
        )
    for keyword, aliases in (("type", _JSON_TYPES), ("bsonType", TYPE_ALIASES)):
        if keyword not in schema:
            continue
        spec = schema[keyword]
        names = spec if isinstance(spec, list) else [spec]
        if not names or not all(isinstance(name, str) for name in names):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"$jsonSchema keyword '{keyword}' must be either a string or an array of strings",
            )
        if keyword == "type" and "integer" in names:
            raise CommandError(
                ErrorCode.FailedToParse, "$jsonSchema type 'integer' is not currently supported."
            )
        types = parse_type_set(keyword, spec, aliases)
        return lambda value: type_number(value) in types
    return None


def _compile(schema: Mapping[str, Any]) -> Test:
    for keyword in schema:
        if keyword in _UNSUPPORTED:
            raise CommandError(
                ErrorCode.CommandNotSupported,
                f"$jsonSchema keyword '{keyword}' is not supported by fakemongo",
            )
        if keyword not in _KEYWORDS:
            raise CommandError(ErrorCode.FailedToParse, f"Unknown $jsonSchema keyword: {keyword}")
    tests: list[Test] = []
    type_test = _types(schema)
    if type_test is not None:
        tests.append(type_test)
    tests.extend(_numeric(schema))
    tests.extend(_strings(schema))
    tests.extend(_arrays(schema))
    tests.extend(_objects(schema))
    tests.extend(_logic(schema))
    return lambda value: all(test(value) for test in tests)


def _numeric(schema: Mapping[str, Any]) -> list[Test]:
    tests: list[Test] = []

    def number_of(value: Any) -> Any:
        return value.to_decimal() if isinstance(value, Decimal128) else value

    def is_number(value: Any) -> bool:
        return type_rank(value) == Rank.NUMBER

    for keyword, exclusive_keyword, below in (
        ("minimum", "exclusiveMinimum", False),
        ("maximum", "exclusiveMaximum", True),
    ):
        if exclusive_keyword in schema:
            exclusive = _bool_keyword(schema, exclusive_keyword)
            if keyword not in schema:
                raise CommandError(
                    ErrorCode.FailedToParse,
                    f"$jsonSchema keyword '{keyword}' must be a present if "
                    f"{exclusive_keyword} is present",
                )
        else:
            exclusive = False
        if keyword in schema:
            bound = _number_keyword(schema, keyword)
            tests.append(_bound_test(bound, below, exclusive, is_number, number_of))
    if "multipleOf" in schema:
        divisor = _number_keyword(schema, "multipleOf")
        if not divisor > 0:
            raise CommandError(
                ErrorCode.FailedToParse,
                "$jsonSchema keyword 'multipleOf' must have a positive value",
            )
        tests.append(lambda v: not is_number(v) or number_of(v) % divisor == 0)
    return tests


def _bound_test(
    bound: Any, below: bool, exclusive: bool, is_number: Test, number_of: Callable[[Any], Any]
) -> Test:
    def test(value: Any) -> bool:
        if not is_number(value):
            return True
        number = number_of(value)
        if is_nan(value):
            return False
        if below:
            return bool(number < bound if exclusive else number <= bound)
        return bool(number > bound if exclusive else number >= bound)

    return test


def _strings(schema: Mapping[str, Any]) -> list[Test]:
    tests: list[Test] = []
    if "minLength" in schema:
        shortest = _count_keyword(schema, "minLength")
        tests.append(lambda v: not isinstance(v, str) or len(v) >= shortest)
    if "maxLength" in schema:
        longest = _count_keyword(schema, "maxLength")
        tests.append(lambda v: not isinstance(v, str) or len(v) <= longest)
    if "pattern" in schema:
        pattern = schema["pattern"]
        if not isinstance(pattern, str):
            raise CommandError(
                ErrorCode.TypeMismatch, "$jsonSchema keyword 'pattern' must be a string"
            )
        regex = compile_regex(pattern, "")
        tests.append(lambda v: not isinstance(v, str) or regex.search(v) is not None)
    if "enum" in schema:
        choices = schema["enum"]
        if not isinstance(choices, list) or not choices:
            raise CommandError(
                ErrorCode.FailedToParse, "$jsonSchema keyword 'enum' cannot be an empty array"
            )
        tests.append(lambda v: any(values_equal(v, choice) for choice in choices))
    return tests


def _arrays(schema: Mapping[str, Any]) -> list[Test]:
    tests: list[Test] = []
    if "minItems" in schema:
        fewest = _count_keyword(schema, "minItems")
        tests.append(lambda v: not isinstance(v, list) or len(v) >= fewest)
    if "maxItems" in schema:
        most = _count_keyword(schema, "maxItems")
        tests.append(lambda v: not isinstance(v, list) or len(v) <= most)
    if "uniqueItems" in schema and _bool_keyword(schema, "uniqueItems"):
        tests.append(lambda v: not isinstance(v, list) or _all_distinct(v))
    items = schema.get("items")
    if isinstance(items, list):
        positional = _schema_list(schema, "items")
        extra = _schema_or_bool(schema, "additionalItems")

        def tuple_test(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            head = all(test(item) for test, item in zip(positional, value, strict=False))
            return head and all(extra(item) for item in value[len(positional) :])

        tests.append(tuple_test)
    elif items is not None:
        each = _compile(_object_keyword(schema, "items"))
        tests.append(lambda v: not isinstance(v, list) or all(each(item) for item in v))
    return tests


def _all_distinct(values: list[Any]) -> bool:
    return all(
        not values_equal(values[i], values[j])
        for i in range(len(values))
        for j in range(i + 1, len(values))
    )


def _schema_or_bool(schema: Mapping[str, Any], keyword: str) -> Test:
    value = schema.get(keyword, True)
    if isinstance(value, bool):
        return lambda item: value
    return _compile(_object_keyword(schema, keyword))


def _objects(schema: Mapping[str, Any]) -> list[Test]:
    tests: list[Test] = []
    properties = {
        name: _compile(_object_keyword({name: sub}, name))
        for name, sub in (
            _object_keyword(schema, "properties") if "properties" in schema else {}
        ).items()
    }
    if properties:

        def properties_test(value: Any) -> bool:
            if not isinstance(value, Mapping):
                return True
            return all(test(value[name]) for name, test in properties.items() if name in value)

        tests.append(properties_test)
    if "required" in schema:
        required = schema["required"]
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise CommandError(
                ErrorCode.TypeMismatch, "$jsonSchema keyword 'required' must be an array of strings"
            )
        if not required:
            raise CommandError(
                ErrorCode.FailedToParse, "$jsonSchema keyword 'required' cannot be an empty array"
            )
        tests.append(lambda v: not isinstance(v, Mapping) or all(r in v for r in required))
    for keyword, at_least in (("minProperties", True), ("maxProperties", False)):
        if keyword in schema:
            count = _count_keyword(schema, keyword)
            tests.append(_property_count_test(count, at_least))
    patterns = [
        (compile_regex(pattern, ""), _compile(_object_keyword({pattern: sub}, pattern)))
        for pattern, sub in (
            _object_keyword(schema, "patternProperties") if "patternProperties" in schema else {}
        ).items()
    ]
    if "additionalProperties" in schema or patterns:
        extra = _schema_or_bool(schema, "additionalProperties")
        tests.append(_additional_test(properties, patterns, extra))
    if "dependencies" in schema:
        tests.append(_dependencies_test(_object_keyword(schema, "dependencies")))
    return tests


def _property_count_test(count: int, at_least: bool) -> Test:
    def test(value: Any) -> bool:
        if not isinstance(value, Mapping):
            return True
        return len(value) >= count if at_least else len(value) <= count

    return test


def _additional_test(properties: Mapping[str, Test], patterns: list[Any], extra: Test) -> Test:
    def test(value: Any) -> bool:
        if not isinstance(value, Mapping):
            return True
        for name, item in value.items():
            matched = [check for regex, check in patterns if regex.search(name)]
            if not all(check(item) for check in matched):
                return False
            if name not in properties and not matched and not extra(item):
                return False
        return True

    return test


def _dependencies_test(dependencies: Mapping[str, Any]) -> Test:
    checks: list[tuple[str, Test]] = []
    for name, spec in dependencies.items():
        if isinstance(spec, list):
            if not all(isinstance(field, str) for field in spec):
                raise CommandError(
                    ErrorCode.TypeMismatch,
                    "property dependencies in $jsonSchema keyword 'dependencies' must be "
                    "an array of strings",
                )
            checks.append((name, _fields_present(list(spec))))
        else:
            checks.append((name, _compile(_object_keyword({name: spec}, name))))

    def test(value: Any) -> bool:
        if not isinstance(value, Mapping):
            return True
        return all(check(value) for name, check in checks if name in value)

    return test


def _fields_present(fields: list[str]) -> Test:
    return lambda value: all(field in value for field in fields)


def _logic(schema: Mapping[str, Any]) -> list[Test]:
    tests: list[Test] = []
    if "allOf" in schema:
        all_tests = _schema_list(schema, "allOf")
        tests.append(lambda v: all(test(v) for test in all_tests))
    if "anyOf" in schema:
        any_tests = _schema_list(schema, "anyOf")
        tests.append(lambda v: any(test(v) for test in any_tests))
    if "oneOf" in schema:
        one_tests = _schema_list(schema, "oneOf")
        tests.append(lambda v: sum(1 for test in one_tests if test(v)) == 1)
    if "not" in schema:
        negated = _compile(_object_keyword(schema, "not"))
        tests.append(lambda v: not negated(v))
    return tests
