"""What every write command shares: write concern, statement lists, results.

Write concern on a standalone (manual: "Write Concern"): w: 0, 1 and
"majority" are satisfied by the one member; a numeric w above 1 cannot be
(mongod: 2 BadValue "cannot use 'w' > 1 with a standalone"), nor a custom mode
(79 UnknownReplWriteConcern). ``j`` and ``wtimeout`` are accepted: there is
nothing to wait for.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import bson
from bson import Int64, ObjectId

from ._errors import CommandError, ErrorCode
from ._identity import MAX_BSON_OBJECT_SIZE

__all__ = [
    "check_document_size",
    "check_write_concern",
    "run_statements",
    "statements",
    "write_error",
]

T = TypeVar("T")
R = TypeVar("R")


def check_write_concern(body: Mapping[str, Any]) -> None:
    """Validate ``writeConcern`` for a standalone server."""
    concern = body.get("writeConcern")
    if concern is None:
        return
    if not isinstance(concern, Mapping):
        raise CommandError(ErrorCode.TypeMismatch, "writeConcern must be an object")
    for name in concern:
        if name not in ("w", "j", "wtimeout", "fsync", "provenance", "getLastError"):
            raise CommandError(ErrorCode.FailedToParse, f"unrecognized write concern field: {name}")
    w = concern.get("w", 1)
    if isinstance(w, str):
        if w != "majority":
            raise CommandError(
                ErrorCode.UnknownReplWriteConcern,
                f"No write concern mode named '{w}' found in replica set configuration",
            )
    elif isinstance(w, bool) or not isinstance(w, int | float | Int64):
        raise CommandError(ErrorCode.FailedToParse, "w has to be a number or string")
    elif w < 0:
        raise CommandError(ErrorCode.FailedToParse, "w cannot be a negative value")
    elif w > 1:
        raise CommandError(ErrorCode.BadValue, "cannot use 'w' > 1 with a standalone")


def statements(command: str, body: Mapping[str, Any], field: str) -> list[Any]:
    """The statement array (``documents``, ``updates``, ``deletes``)."""
    value = body.get(field)
    if value is None:
        raise CommandError(
            ErrorCode.Location40414,
            f"BSON field '{command}.{field}' is missing but a required field",
        )
    if not isinstance(value, list):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field '{command}.{field}' is the wrong type, expected type 'array'",
        )
    if not value:
        raise CommandError(
            ErrorCode.InvalidLength,
            "Write batch sizes must be between 1 and 100000. Got 0 operations.",
        )
    if len(value) > 100_000:
        raise CommandError(
            ErrorCode.InvalidLength,
            f"Write batch sizes must be between 1 and 100000. Got {len(value)} operations.",
        )
    return value


def run_statements(
    items: Sequence[T], run: Callable[[int, T], R], *, ordered: bool
) -> tuple[list[R], list[dict[str, Any]]]:
    """Run each statement; a failure becomes a write error (manual: "insert",
    "update", "delete": an ordered batch stops at the first error, an unordered
    one goes on). Returns the results of those that ran, and the write errors."""
    results: list[R] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            results.append(run(index, item))
        except CommandError as exc:
            errors.append(write_error(index, exc))
            if ordered:
                break
    return results, errors


def write_error(index: int, error: CommandError) -> dict[str, Any]:
    """A ``writeErrors`` entry: {index, code, errmsg[, keyPattern, keyValue]}."""
    write_error_of = getattr(error, "write_error", None)
    if write_error_of is not None:
        entry: dict[str, Any] = write_error_of(index)
        return entry
    return {"index": index, "code": error.code, "errmsg": error.errmsg}


def check_document_size(doc: Mapping[str, Any], *, from_request: bool = False) -> None:
    """mongod refuses stored documents over 16 MiB (10334 BSONObjectTooLarge).

    ``from_request``: ``doc`` was decoded from a request (an inserted document,
    perhaps with an ``_id`` added), so it is encodable; when its size is
    surely within the limit, it is not encoded just to be measured.
    """
    if from_request and _surely_small(doc):
        return
    size = len(bson.encode(doc))
    if size > MAX_BSON_OBJECT_SIZE:
        raise CommandError(
            ErrorCode.BSONObjectTooLarge,
            f"object to insert too large. size in bytes: {size}, max size: {MAX_BSON_OBJECT_SIZE}",
        )


# The most bytes a value of each type encodes to (an int is an int32 or,
# when it does not fit one, an int64).
_VALUE_BOUNDS: dict[type, int] = {
    int: 8,
    float: 8,
    bool: 1,
    type(None): 0,
    Int64: 8,
    ObjectId: 12,
    datetime.datetime: 8,
}


def _surely_small(doc: Mapping[str, Any]) -> bool:
    """Whether a flat document of scalars is surely within the limit: a bound
    of its encoded size, summed field by field, is (a UTF-8 character takes
    at most 4 bytes). False (measure it) for anything else."""
    bound = 5  # the length prefix and the terminating NUL
    for name, value in doc.items():
        size = _VALUE_BOUNDS.get(type(value))
        if size is None:
            if type(value) is not str:
                return False  # an embedded document, an array, a binary...: measure
            size = 5 + 4 * len(value)  # length prefix, characters, NUL
        bound += 2 + 4 * len(name) + size  # type byte, name, NUL, value
    return bound <= MAX_BSON_OBJECT_SIZE
