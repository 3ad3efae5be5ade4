"""Command arguments checked the way mongod's IDL parsers check them.

Unknown fields fail with 40415 "BSON field 'cmd.x' is an unknown field.";
wrong types with 14 TypeMismatch "BSON field 'cmd.x' is the wrong type 'string',
expected type 'bool'". Generic arguments every command accepts (session,
read/write concern, API version, comment...) are listed once here (manual:
"Database Commands", and the server's generic_argument.idl).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bson import Decimal128, Int64

from ._bsonorder import type_alias
from ._errors import CommandError, ErrorCode

__all__ = [
    "GENERIC_ARGUMENTS",
    "check_fields",
    "get_bool",
    "get_document",
    "get_int",
    "get_string",
    "unknown_field",
]

GENERIC_ARGUMENTS = frozenset(
    {
        "$db",
        "lsid",
        "$clusterTime",
        "$readPreference",
        "txnNumber",
        "autocommit",
        "startTransaction",
        "writeConcern",
        "readConcern",
        "comment",
        "maxTimeMS",
        "apiVersion",
        "apiStrict",
        "apiDeprecationErrors",
        "$client",
        "$audit",
        "mayBypassWriteBlocking",
        "$queryOptions",
        "$readPreference",
        "readPreference",
    }
)

_NUMBER_TYPES = "[long, int, decimal, double]"


def unknown_field(command: str, field: str) -> CommandError:
    return CommandError(ErrorCode.Location40415, f"BSON field '{command}.{field}' is an unknown field.")


def check_fields(command: str, body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise 40415 for the first field neither ``allowed`` nor generic."""
    known = set(allowed)
    for field in body:
        if field != command and field not in known and field not in GENERIC_ARGUMENTS:
            raise unknown_field(command, field)


def _wrong_type(command: str, field: str, value: Any, expected: str) -> CommandError:
    return CommandError(
        ErrorCode.TypeMismatch,
        f"BSON field '{command}.{field}' is the wrong type '{type_alias(value)}', expected {expected}",
    )


def get_bool(command: str, body: Mapping[str, Any], field: str, default: bool = False) -> bool:
    """A boolean option; numbers are accepted as booleans, as mongod does."""
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Int64 | Decimal128):
        return bool(value.to_decimal() if isinstance(value, Decimal128) else value)
    raise _wrong_type(command, field, value, "types '[bool, long, int, decimal, double]'")


def get_int(command: str, body: Mapping[str, Any], field: str, default: int | None = None) -> int | None:
    """A whole-number option (any numeric type holding a whole value)."""
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | Int64 | Decimal128):
        raise _wrong_type(command, field, value, f"types '{_NUMBER_TYPES}'")
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if number != number or number in (float("inf"), float("-inf")):  # NaN / infinities
        raise CommandError(ErrorCode.BadValue, f"BSON field '{command}.{field}' value must be a finite number")
    if number != int(number):
        raise CommandError(
            ErrorCode.BadValue, f"BSON field '{command}.{field}' value must be a whole number, got {value}"
        )
    return int(number)


def get_string(command: str, body: Mapping[str, Any], field: str, default: str | None = None) -> str | None:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _wrong_type(command, field, value, "type 'string'")
    return value


def get_document(
    command: str, body: Mapping[str, Any], field: str, default: Mapping[str, Any] | None = None
) -> Mapping[str, Any] | None:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, Mapping):
        raise _wrong_type(command, field, value, "type 'object'")
    return value
