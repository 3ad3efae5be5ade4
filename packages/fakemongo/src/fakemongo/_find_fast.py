"""find's fast paths for the query ``find_one`` sends: one equality, nothing else.

``{find: c, filter: {f: v}, limit: 1, singleBatch: true}`` is most of what a
client asks for. The general path compiles the filter, plans, builds a query
and a cursor over nested generators; here the answer comes from one lookup:

* on ``_id``, the document under the value's key (mongod's IDHACK);
* on a field that leads the index the planner picks, when that index has
  one field: the index entry for the value's key, in the order the planner's
  scan yields it.

Each gives exactly what the general path gives, or returns None to let it
answer: any other option, an operator, an array, an embedded document, a
regex or null as the value (null also matches a missing field), a dotted or
``$`` field, a value type outside the plain scalars, or no usable index.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from bson import Decimal128, Int64, ObjectId, Regex

from ._args import get_bool, get_int
from ._cursors import DEFAULT_FIRST_BATCH, Cursor, cursor_reply
from ._dispatch import Context
from ._errors import CommandError, ErrorCode
from ._planner import plan_query
from ._storage import id_key

__all__ = ["find_point", "non_negative"]

# The fields of a plain point query (what find_one({"k": x}) sends): each
# is one the general path accepts, so no unknown-field error can be missed.
_POINT_FIELDS = frozenset(
    {
        "find",
        "filter",
        "limit",
        "singleBatch",
        "batchSize",
        "lsid",
        "$db",
        "$readPreference",
        "$clusterTime",
        "comment",
        "readConcern",
        "maxTimeMS",
    }
)
# An _id the _id index answers by its key: operators, arrays, regexes and null
# need the matcher (null matches a missing field; an array is not an _id).
_NOT_AN_ID = (dict, list, Regex, re.Pattern)
# Values whose BSON equality is the equality of their index keys, and which
# the compiled filter compares as plain values: exact types only (a Code is a
# str subclass that equals no string; a bool is not a number).
_SCALARS = frozenset({int, float, str, bool, Int64, Decimal128, ObjectId, datetime.datetime})


_INT64_MAX = 2**63 - 1
# The id of a cursor with nothing left (an Int64 is immutable: one serves all).
_CLOSED = Int64(0)


def non_negative(command: str, body: Mapping[str, Any], field: str) -> int | None:
    """An optional count that must be >= 0 (51024 otherwise), as find's IDL checks it."""
    value = body.get(field)
    if value is None:
        return None  # absent, as get_int would say; most finds set none of these
    if type(value) is int and 0 <= value < _INT64_MAX:
        return value  # what get_int gives a plain int in range, without its checks
    value = get_int(command, body, field)
    if value is not None and value < 0:
        raise CommandError(
            ErrorCode.Location51024,
            f"BSON field '{field}' value must be >= 0, actual value '{value}'",
        )
    return value


def find_point(ctx: Context, body: dict[str, Any], name: str) -> dict[str, Any] | None:
    """find's reply for a single equality answered by one lookup; None when the
    general path is needed."""
    filter = body.get("filter")
    if (
        type(filter) is not dict
        or len(filter) != 1
        or not body.keys() <= _POINT_FIELDS
        or body.get("batchSize") == 0
    ):
        return None
    ((field, value),) = filter.items()
    if field == "_id":
        return _find_by_id(ctx, body, name, value)
    if (
        type(value) not in _SCALARS
        or "." in field
        or field.startswith("$")
        or "maxTimeMS" in body  # the general path's scan honours it
    ):
        return None
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        return None
    # The general path's own plan: the same index, and the same order.
    plan = plan_query(collection, filter)
    assert plan is not None
    index = plan.index
    if index is None or len(index.key) != 1:
        return None
    # Options checked in the general path's order (the filter is valid).
    limit = non_negative("find", body, "limit") or None
    batch_size = non_negative("find", body, "batchSize")
    single_batch = get_bool("find", body, "singleBatch")
    # On a one-field index over a top-level field, the entry for a scalar's
    # key holds exactly the documents the filter matches: the field equals
    # the value, or is an array with an element that does (manual, "Query an
    # Array", and "Multikey Indexes": one key per element). So the matcher,
    # which would pass every candidate, is not run.
    if limit == 1:
        # find_one: the first candidate, and a cursor closed by its limit
        # whether or not there was one (what Cursor.next_batch would say).
        # The plan's one bound is the value's point, and its first id is
        # what plan.candidates() would yield first: read at once, the index
        # and the documents agree (every write updates both).
        (bound,) = plan.bounds
        assert bound.point
        ids = index.entries.get(bound.low)
        batch = [collection.documents[next(iter(ids))]] if ids else []
        return {"cursor": {"firstBatch": batch, "id": _CLOSED, "ns": f"{ctx.db}.{name}"}}
    cursor = Cursor(f"{ctx.db}.{name}", plan.candidates(), batch_size=batch_size, remaining=limit)
    batch = cursor.next_batch(DEFAULT_FIRST_BATCH if batch_size is None else batch_size)
    if single_batch:
        cursor.exhausted = True
        cursor.held = None
    elif not cursor.exhausted:
        ctx.server.cursors.register(cursor)
    return cursor_reply(cursor, batch, first=True)


def _find_by_id(ctx: Context, body: dict[str, Any], name: str, value: Any) -> dict[str, Any] | None:
    """mongod's IDHACK: an equality on _id is one lookup in the _id index."""
    if isinstance(value, _NOT_AN_ID) or value is None:
        return None
    # Options checked in the general path's order (the filter is valid).
    non_negative("find", body, "limit")
    non_negative("find", body, "batchSize")
    get_bool("find", body, "singleBatch")
    non_negative("find", body, "maxTimeMS")
    collection = ctx.server.storage.collection(ctx.db, name)
    doc = None if collection is None else collection.get(id_key(value))
    batch = [] if doc is None else [doc]
    return {"cursor": {"firstBatch": batch, "id": _CLOSED, "ns": f"{ctx.db}.{name}"}}
