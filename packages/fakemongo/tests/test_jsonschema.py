"""$jsonSchema (manual, "$jsonSchema": "Available Keywords" and "Extensions")."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Decimal128, Int64

from fakemongo._errors import CommandError
from fakemongo._jsonschema import compile_schema


def valid(schema: dict[str, Any], doc: dict[str, Any]) -> bool:
    return compile_schema(schema)(doc)


PERSON = {
    "bsonType": "object",
    "required": ["name"],
    "properties": {
        "name": {"bsonType": "string", "minLength": 2, "maxLength": 4, "pattern": "^[A-Z]"},
        "age": {"bsonType": ["int", "long"], "minimum": 0, "maximum": 150},
        "tags": {"bsonType": "array", "items": {"bsonType": "string"}, "maxItems": 2},
        "kind": {"enum": ["a", 1]},
    },
}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"name": "Bob"}, True),
        ({"name": "Bob", "age": 30, "tags": ["x"], "kind": 1.0}, True),
        ({}, False),  # required
        ({"name": "B"}, False),  # minLength
        ({"name": "Bobby"}, False),  # maxLength
        ({"name": "bob"}, False),  # pattern
        ({"name": 123}, False),  # bsonType
        ({"name": "Bob", "age": 1.5}, False),
        ({"name": "Bob", "age": Int64(200)}, False),
        ({"name": "Bob", "age": -1}, False),
        ({"name": "Bob", "tags": ["x", "y", "z"]}, False),
        ({"name": "Bob", "tags": [1]}, False),
        ({"name": "Bob", "kind": "b"}, False),
    ],
)
def test_person(doc: dict[str, Any], expected: bool) -> None:
    assert valid(PERSON, doc) is expected


@pytest.mark.parametrize(
    ("schema", "doc", "expected"),
    [
        # Type-specific keywords pass values of other types.
        ({"properties": {"a": {"minimum": 5}}}, {"a": "x"}, True),
        ({"properties": {"a": {"minLength": 5}}}, {"a": 1}, True),
        ({"properties": {"a": {"minItems": 5}}}, {"a": 1}, True),
        ({"properties": {"a": {"required": ["b"]}}}, {"a": 1}, True),
        ({"properties": {"a": {"minimum": 5}}}, {"a": float("nan")}, False),
        ({"properties": {"a": {"minimum": 5, "exclusiveMinimum": True}}}, {"a": 5}, False),
        ({"properties": {"a": {"maximum": 5, "exclusiveMaximum": True}}}, {"a": 5}, False),
        ({"properties": {"a": {"maximum": 5, "exclusiveMaximum": False}}}, {"a": 5}, True),
        ({"properties": {"a": {"minimum": Decimal128("1.5")}}}, {"a": Decimal128("2")}, True),
        ({"properties": {"a": {"multipleOf": 3}}}, {"a": 9}, True),
        ({"properties": {"a": {"multipleOf": 3}}}, {"a": 10}, False),
        ({"properties": {"a": {"type": "number"}}}, {"a": Int64(1)}, True),
        ({"properties": {"a": {"type": ["string", "null"]}}}, {"a": None}, True),
        ({"properties": {"a": {"type": "boolean"}}}, {"a": 0}, False),
        ({"properties": {"a": {"uniqueItems": True}}}, {"a": [1, 1.0]}, False),
        ({"properties": {"a": {"uniqueItems": True}}}, {"a": [1, 2]}, True),
        ({"properties": {"a": {"uniqueItems": False}}}, {"a": [1, 1]}, True),
        ({"properties": {"a": {"items": [{"type": "string"}]}}}, {"a": ["x", 2]}, True),
        (
            {"properties": {"a": {"items": [{"type": "string"}], "additionalItems": False}}},
            {"a": ["x", 2]},
            False,
        ),
        (
            {"properties": {"a": {"items": [{}], "additionalItems": {"type": "number"}}}},
            {"a": ["x", 2]},
            True,
        ),
        ({"properties": {"a": {"items": [{"type": "string"}]}}}, {"a": "x"}, True),
        # additionalProperties has no exception for _id.
        ({"additionalProperties": False}, {"_id": 1}, False),
        ({"properties": {"_id": {}}, "additionalProperties": False}, {"_id": 1}, True),
        ({"additionalProperties": {"type": "string"}}, {"x": "y"}, True),
        ({"additionalProperties": True}, {"x": 1}, True),
        ({"patternProperties": {"^n": {"type": "number"}}}, {"n1": 1, "s": "x"}, True),
        ({"patternProperties": {"^n": {"type": "number"}}}, {"n1": "x"}, False),
        (
            {"patternProperties": {"^n": {}}, "additionalProperties": False},
            {"n1": 1, "x": 1},
            False,
        ),
        ({"minProperties": 2}, {"a": 1}, False),
        ({"maxProperties": 1}, {"a": 1}, True),
        ({"dependencies": {"a": ["b"]}}, {"a": 1}, False),
        ({"dependencies": {"a": ["b"]}}, {"c": 1}, True),
        ({"dependencies": {"a": {"required": ["c"]}}}, {"a": 1, "c": 1}, True),
        ({"allOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1}, False),
        ({"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1}, True),
        ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1, "b": 1}, False),
        ({"not": {"required": ["a"]}}, {"a": 1}, False),
        ({"title": "t", "description": "d"}, {}, True),
        ({"properties": {"a": {"properties": {"b": {"enum": [1]}}}}}, {"a": {"b": 2}}, False),
        ({"properties": {"a": {"minProperties": 1}}}, {"a": 5}, True),
        ({"properties": {"a": {"properties": {"b": {"enum": [1]}}}}}, {"a": 5}, True),
        ({"properties": {"a": {"additionalProperties": False}}}, {"a": 5}, True),
        ({"properties": {"a": {"dependencies": {"x": ["y"]}}}}, {"a": 5}, True),
    ],
)
def test_keywords(schema: dict[str, Any], doc: dict[str, Any], expected: bool) -> None:
    assert valid(schema, doc) is expected


@pytest.mark.parametrize(
    ("schema", "code", "message"),
    [
        ({"foo": 1}, 9, "Unknown $jsonSchema keyword: foo"),
        ({"encrypt": {}}, 115, "$jsonSchema keyword 'encrypt' is not supported by fakemongo"),
        ({"type": "object", "bsonType": "object"}, 9, "Cannot specify both $jsonSchema keywords"),
        ({"type": "integer"}, 9, "$jsonSchema type 'integer' is not currently supported."),
        ({"type": "int"}, 2, "Unknown type name alias: int"),
        ({"bsonType": 1}, 14, "$jsonSchema keyword 'bsonType' must be either a string or an array"),
        ({"bsonType": []}, 14, "$jsonSchema keyword 'bsonType' must be either a string"),
        ({"minimum": "1"}, 14, "$jsonSchema keyword 'minimum' must be a number"),
        ({"exclusiveMinimum": True}, 9, "$jsonSchema keyword 'minimum' must be a present if"),
        ({"maximum": 1, "exclusiveMaximum": 1}, 14, "$jsonSchema keyword 'exclusiveMaximum' must"),
        ({"multipleOf": 0}, 9, "$jsonSchema keyword 'multipleOf' must have a positive value"),
        ({"minLength": -1}, 9, "$jsonSchema keyword 'minLength' must be a non-negative integer"),
        ({"maxLength": 1.5}, 9, "$jsonSchema keyword 'maxLength' must be a non-negative integer"),
        ({"minItems": float("nan")}, 9, "$jsonSchema keyword 'minItems' must be a non-negative"),
        ({"maxItems": float("inf")}, 9, "$jsonSchema keyword 'maxItems' must be a non-negative"),
        ({"pattern": 1}, 14, "$jsonSchema keyword 'pattern' must be a string"),
        ({"pattern": "("}, 51091, "Regular expression is invalid"),
        ({"enum": []}, 9, "$jsonSchema keyword 'enum' cannot be an empty array"),
        ({"enum": 1}, 9, "$jsonSchema keyword 'enum' cannot be an empty array"),
        ({"items": 1}, 14, "$jsonSchema keyword 'items' must be an object"),
        ({"items": [1]}, 14, "$jsonSchema keyword 'items' must be an array of objects"),
        ({"items": []}, 14, "$jsonSchema keyword 'items' must be a nonempty array"),
        ({"uniqueItems": 1}, 14, "$jsonSchema keyword 'uniqueItems' must be a boolean"),
        ({"properties": 1}, 14, "$jsonSchema keyword 'properties' must be an object"),
        ({"properties": {"a": 1}}, 14, "$jsonSchema keyword 'a' must be an object"),
        ({"required": "a"}, 14, "$jsonSchema keyword 'required' must be an array of strings"),
        ({"required": []}, 9, "$jsonSchema keyword 'required' cannot be an empty array"),
        ({"additionalProperties": 1}, 14, "$jsonSchema keyword 'additionalProperties' must be"),
        ({"dependencies": {"a": [1]}}, 14, "property dependencies in $jsonSchema keyword"),
        ({"allOf": {}}, 14, "$jsonSchema keyword 'allOf' must be a nonempty array"),
        ({"not": 1}, 14, "$jsonSchema keyword 'not' must be an object"),
    ],
)
def test_errors(schema: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        compile_schema(schema)
    assert info.value.code == code
    assert info.value.errmsg.startswith(message)
