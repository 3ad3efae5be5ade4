"""The four BSON number types, as arithmetic needs to tell them apart.

Manual, "BSON Types": int (32-bit), long (64-bit), double and decimal (128-bit).
A Python int is an int32 when it fits and an int64 otherwise, which is how
bson encodes it; Int64 is always a long. Arithmetic in both the update
operators and the aggregation expressions widens along int -> long -> double,
and decimal wins over everything.
"""

from __future__ import annotations

from typing import Any

from bson import Decimal128, Int64
from bson.decimal128 import create_decimal128_context

__all__ = [
    "DECIMAL",
    "DECIMAL128_CONTEXT",
    "DOUBLE",
    "INT",
    "INT32",
    "INT64",
    "LONG",
    "number_kind",
]

INT, LONG, DOUBLE, DECIMAL = range(4)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
#: The decimal context of IEEE 754 decimal128 (34 digits, exponent limits).
DECIMAL128_CONTEXT = create_decimal128_context()


def number_kind(value: Any) -> int:
    """INT, LONG, DOUBLE or DECIMAL for a numeric value (not bool)."""
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, Decimal128):
        return DECIMAL
    if isinstance(value, Int64) or not INT32[0] <= value <= INT32[1]:
        return LONG
    return INT
