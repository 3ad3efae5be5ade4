"""Command arguments checked the way mongod's IDL parsers check them.

Unknown fields fail with 40415 "BSON field 'cmd.x' is an unknown field.";
wrong types with 14 TypeMismatch "BSON field 'cmd.x' is the wrong type 'string',
expected type 'bool'". Generic arguments every command accepts (session,
read/write concern, API version, comment...) are listed once here (manual:
"Database Commands", and the server's generic_argument.idl).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from bson import Decimal128, Int64

from ._bsonorder import type_alias
from ._errors import CommandError, ErrorCode
from ._storage import validate_namespace

__all__ = [
    "GENERIC_ARGUMENTS",
    "check_fields",
    "check_minimum",
    "collection_name",
    "get_bool",
    "get_document",
    "get_int",
    "get_string",
    "missing_field",
    "unknown_field",
    "wrong_type",
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
        "readPreference",
    }
)

# mongod's IDL parser prints a list of accepted types with the closing quote
# inside the bracket ("expected types '[long, int, decimal, double']"), and
# drivers' tests compare the text; so does fakemongo (MongoDB 7.0 and 8.0).
_NUMBER_TYPES = "types '[long, int, decimal, double']"
_BOOL_TYPES = "types '[bool, long, int, decimal, double']"
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)


def unknown_field(command: str, field: str) -> CommandError:
    return CommandError(
        ErrorCode.Location40415, f"BSON field '{command}.{field}' is an unknown field."
    )


def missing_field(command: str, field: str) -> CommandError:
    return CommandError(
        ErrorCode.Location40414, f"BSON field '{command}.{field}' is missing but a required field"
    )


def check_fields(command: str, body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise 40415 for the first field, after the command's own (whatever
    alias it was spelled with), that is neither ``allowed`` nor generic.
    A hot command passes a frozenset, built once, rather than a new set each call."""
    known = allowed if isinstance(allowed, frozenset) else set(allowed)
    for field in itertools.islice(body, 1, None):
        if field not in known and field not in GENERIC_ARGUMENTS:
            raise unknown_field(command, field)


def wrong_type(command: str, field: str, value: Any, expected: str) -> CommandError:
    """14 TypeMismatch as the IDL words it; ``expected`` is e.g. "type 'object'"."""
    return CommandError(
        ErrorCode.TypeMismatch,
        f"BSON field '{command}.{field}' is the wrong type '{type_alias(value)}', "
        f"expected {expected}",
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
    raise wrong_type(command, field, value, _BOOL_TYPES)


def _is_nan(number: int | float | Decimal) -> bool:
    # Decimal's is_nan() also covers signalling NaNs, which raise when compared.
    if isinstance(number, Decimal):
        return number.is_nan()
    return isinstance(number, float) and math.isnan(number)


def get_int(
    command: str, body: Mapping[str, Any], field: str, default: int | None = None
) -> int | None:
    """A whole-number option, converted as mongod's ``safeNumberLong`` converts:
    any numeric type, truncated toward zero; NaN is 0 and out-of-range values
    clamp to the int64 bounds."""
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | Int64 | Decimal128):
        raise wrong_type(command, field, value, _NUMBER_TYPES)
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if _is_nan(number):
        return 0
    if number >= _INT64_MAX:
        return _INT64_MAX
    if number <= _INT64_MIN:
        return _INT64_MIN
    return int(number)


def check_minimum(field: str, value: int, minimum: int) -> int:
    """An IDL ``validator: {gte: minimum}``: 51024, naming the bare field."""
    if value < minimum:
        raise CommandError(
            ErrorCode.Location51024,
            f"BSON field '{field}' value must be >= {minimum}, actual value '{value}'",
        )
    return value


def get_string(
    command: str, body: Mapping[str, Any], field: str, default: str | None = None
) -> str | None:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise wrong_type(command, field, value, "type 'string'")
    return value


def get_document(
    command: str, body: Mapping[str, Any], field: str, default: Mapping[str, Any] | None = None
) -> Mapping[str, Any] | None:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, Mapping):
        raise wrong_type(command, field, value, "type 'object'")
    return value


def collection_name(db: str, body: Mapping[str, Any]) -> str:
    """The collection a command names in its first field, validated as mongod's
    CommandHelpers::parseNsCollectionRequired does (2 for a non-string, 73 for
    an invalid name)."""
    value = body[next(iter(body))]
    if not isinstance(value, str):
        raise CommandError(
            ErrorCode.BadValue, f"collection name has invalid type {type_alias(value)}"
        )
    if not value:
        raise CommandError(ErrorCode.InvalidNamespace, f"Invalid namespace specified '{db}.'")
    validate_namespace(db, value)
    return value
