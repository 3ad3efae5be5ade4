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
from ._bsonorder import sort_key
from ._cursors import DEFAULT_FIRST_BATCH, Cursor, first_reply
from ._dispatch import Context
from ._errors import CommandError, ErrorCode
from ._indexes import Index
from ._planner import plan_query
from ._storage import Collection

__all__ = ["find_point", "non_negative", "planned_index"]

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
    # The index the general path's plan would use, so the same order.
    index = planned_index(collection, field)
    if index is None or len(index.key) != 1:
        return None
    limit, batch_size, single_batch = _point_options(body)
    limit = limit or None
    # On a one-field index over a top-level field, the entry for a scalar's
    # key holds exactly the documents the filter matches: the field equals
    # the value, or is an array with an element that does (manual, "Query an
    # Array", and "Multikey Indexes": one key per element). So the matcher,
    # which would pass every candidate, is not run.
    if limit == 1:
        # find_one: the first candidate, and a cursor closed by its limit
        # whether or not there was one (what Cursor.next_batch would say).
        # The plan's one bound would be the value's point, and its first id
        # what plan.candidates() would yield first: read at once, the index
        # and the documents agree (every write updates both).
        ids = index.entries.get((sort_key(value),))
        batch = [collection.documents[next(iter(ids))]] if ids else []
        return {"cursor": {"firstBatch": batch, "id": _CLOSED, "ns": f"{ctx.db}.{name}"}}
    plan = plan_query(collection, filter)
    assert plan is not None
    assert plan.index is index
    cursor = Cursor(f"{ctx.db}.{name}", plan.candidates(), batch_size=batch_size, remaining=limit)
    batch = cursor.next_batch(DEFAULT_FIRST_BATCH if batch_size is None else batch_size)
    return first_reply(ctx.server.cursors, cursor, batch, single_batch=single_batch)


def _point_options(body: dict[str, Any]) -> tuple[int | None, int | None, bool]:
    """limit, batchSize and singleBatch, checked in the general path's order
    (the filter is valid), with its errors. find_one's (limit 1, singleBatch
    true, no batchSize) pass one test rather than a call per option."""
    limit = body.get("limit")
    single_batch = body.get("singleBatch")
    if (
        (limit is None or (type(limit) is int and 0 <= limit < _INT64_MAX))
        and body.get("batchSize") is None
        and (single_batch is None or type(single_batch) is bool)
    ):
        return limit, None, bool(single_batch)
    return (
        non_negative("find", body, "limit"),
        non_negative("find", body, "batchSize"),
        get_bool("find", body, "singleBatch"),
    )


def planned_index(collection: Collection, field: str) -> Index | None:
    """The index :func:`plan_query` picks for ``{field: value}`` with a plain
    scalar value (not null, an array, a document or a regex), found without
    building a plan per index: the first, in the collection's order, of the
    lowest rank among the indexes led by ``field`` (neither sparse nor
    partial, which the planner never uses for it), a unique one ranking
    before the others, then fewer fields (the planner's ``_rank`` of the
    point bounds each of them would get). None when no index is led by it."""
    best = None
    best_rank = (3, 0)  # after every rank below
    for index in collection.indexes.values():
        if index.key[0][0] != field or index.partial is not None or index.sparse:
            continue
        rank = (1 if index.unique else 2, len(index.key))
        if rank < best_rank:
            best, best_rank = index, rank
    return best


def _find_by_id(ctx: Context, body: dict[str, Any], name: str, value: Any) -> dict[str, Any] | None:
    """mongod's IDHACK: an equality on _id is one lookup in the _id index."""
    if isinstance(value, _NOT_AN_ID) or value is None:
        return None
    _point_options(body)
    if "maxTimeMS" in body:
        non_negative("find", body, "maxTimeMS")
    collection = ctx.server.storage.collection(ctx.db, name)
    # Collection.get(id_key(value)), two calls less.
    doc = None if collection is None else collection.documents.get(sort_key(value))
    batch = [] if doc is None else [doc]
    return {"cursor": {"firstBatch": batch, "id": _CLOSED, "ns": f"{ctx.db}.{name}"}}
