"""insert, find, getMore, killCursors, delete, count, distinct, explain.

Each follows the manual's page for the command: its options, its reply
shape, and its errors (write errors in ``writeErrors`` with ``ok: 1``;
ordered batches stop at the first error, unordered ones go on).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Mapping
from typing import Any

from bson import Int64, ObjectId

from ._args import check_fields, collection_name, get_bool, get_document, get_int
from ._bsonorder import MISSING, sort_key
from ._cursors import DEFAULT_FIRST_BATCH, END_OF_DATA, Cursor, cursor_reply, first_reply
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode
from ._find_fast import find_point, non_negative
from ._paths import LeafArrays, candidates, parse_field_path
from ._query import Query, compile_query
from ._storage import Collection, id_key
from ._writes import (
    check_document_size,
    check_write_concern,
    run_statements,
    statements,
    write_error,
)

__all__: list[str] = []


# ---------------------------------------------------------------- insert


def _prepare(doc: Any) -> dict[str, Any]:
    if type(doc) is not dict and not isinstance(doc, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch, "BSON field 'insert.documents' elements must be objects"
        )
    # mongod stores _id first, adding an ObjectId when it is absent (manual:
    # "Documents", The _id Field).
    if "_id" in doc:
        value = doc["_id"]
        if isinstance(value, list):
            raise CommandError(ErrorCode.InvalidIdField, "The '_id' value cannot be of type array")
        prepared = {"_id": value}
        prepared.update(doc)
    else:
        prepared = {"_id": ObjectId()}
        prepared.update(doc)
    check_document_size(prepared, from_request=True)
    return prepared


_INSERT_OPTIONS = frozenset({"documents", "ordered", "bypassDocumentValidation", "let"})


@command("insert")
def insert(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Insert documents (manual: insert)."""
    name = collection_name(ctx.db, body)
    check_fields("insert", body, _INSERT_OPTIONS)
    check_write_concern(body)
    documents = statements("insert", body, "documents")
    ordered = get_bool("insert", body, "ordered", True)
    collection = ctx.server.storage.get_or_create(ctx.db, name)
    # run_statements' loop, written out: a call less per document.
    inserted = 0
    errors: list[dict[str, Any]] = []
    for index, doc in enumerate(documents):
        try:
            collection.insert(_prepare(doc))
        except CommandError as exc:
            errors.append(write_error(index, exc))
            if ordered:
                break
        else:
            inserted += 1
    ctx.server.opcounters["insert"] += inserted
    reply: dict[str, Any] = {"n": inserted}
    if errors:
        reply["writeErrors"] = errors
    return reply


# ---------------------------------------------------------------- find

_FIND_OPTIONS = frozenset(
    {
        "filter",
        "projection",
        "sort",
        "skip",
        "limit",
        "batchSize",
        "singleBatch",
        "hint",
        "comment",
        "maxTimeMS",
        "let",
        "collation",
        "allowDiskUse",
        "noCursorTimeout",
        "tailable",
        "awaitData",
        "returnKey",
        "showRecordId",
        "min",
        "max",
        "readConcern",
        "allowPartialResults",
        "oplogReplay",
        "maxScan",
        "snapshot",
    }
)


def _refuse(body: Mapping[str, Any], *options: str) -> None:
    for option in options:
        if body.get(option):
            raise CommandError(
                ErrorCode.BadValue, f"fakemongo does not support the option '{option}' yet"
            )


def _find_query(ctx: Context, body: dict[str, Any], name: str) -> tuple[Query, int | None, bool]:
    check_fields("find", body, _FIND_OPTIONS)
    _refuse(body, "returnKey", "showRecordId")
    skip = non_negative("find", body, "skip") or 0
    limit = non_negative("find", body, "limit") or None
    batch_size = non_negative("find", body, "batchSize")
    single_batch = get_bool("find", body, "singleBatch")
    query = compile_query(
        ctx.server.storage.collection(ctx.db, name),
        get_document("find", body, "filter", {}),
        command="find",
        sort=body.get("sort"),
        projection=body.get("projection"),
        collation=body.get("collation"),
        hint=body.get("hint"),
        skip=skip,
        limit=limit,
        let=body.get("let"),
        min=body.get("min"),
        max=body.get("max"),
        max_time_ms=non_negative("find", body, "maxTimeMS"),
    )
    return query, batch_size, single_batch


@command("find")
def find(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Query a collection; the first batch and, if more remain, a cursor."""
    name = collection_name(ctx.db, body)
    fast = find_point(ctx, body, name)
    if fast is not None:
        return fast
    query, batch_size, single_batch = _find_query(ctx, body, name)
    tailable = _tailable_options(body, query)
    cursor = Cursor(
        f"{ctx.db}.{name}",
        _tail(query) if tailable else query.documents(),
        batch_size=batch_size,
        no_timeout=get_bool("find", body, "noCursorTimeout"),
        tailable=tailable,
        await_data=get_bool("find", body, "awaitData"),
        remaining=query.limit,
    )
    first = DEFAULT_FIRST_BATCH if batch_size is None else batch_size
    # batchSize 0 opens the cursor without returning anything (manual: "find").
    batch = cursor.next_batch(first) if first else []
    # maxTimeMS bounds the find itself; later batches come from getMore.
    query.deadline = None
    if tailable and first and not batch and not cursor.exhausted:
        # Manual, "Tailable Cursors": a tailable cursor that finds nothing at
        # first is dead; the client must query again.
        cursor.exhausted = True
    return first_reply(ctx.server.cursors, cursor, batch, single_batch=single_batch)


def _tailable_options(body: Mapping[str, Any], query: Query) -> bool:
    """Validate tailable / awaitData (manual: "Tailable Cursors"): only on a
    capped collection, in natural order."""
    tailable = get_bool("find", body, "tailable")
    if get_bool("find", body, "awaitData") and not tailable:
        raise CommandError(
            ErrorCode.FailedToParse, "Cannot set 'awaitData' without also setting 'tailable'"
        )
    if not tailable:
        return False
    sort = body.get("sort")
    if sort and dict(sort) != {"$natural": 1}:
        raise CommandError(
            ErrorCode.BadValue, "cannot use tailable option with a sort other than {$natural: 1}"
        )
    if query.collection is not None and not query.collection.capped:
        raise CommandError(
            ErrorCode.BadValue,
            f"error processing query: ns={query.collection.namespace} "
            "tailable cursor requested on non capped collection",
        )
    return query.collection is not None


def _tail(query: Query) -> Iterator[Any]:
    """Matching documents in insertion order, then END_OF_DATA whenever it
    has caught up, resuming after the last document it saw."""
    collection = query.collection
    assert collection is not None
    last: Any = None
    skip = query.skip
    while True:
        keys = list(collection.documents)
        if last is None:
            start = 0
        elif last in collection.documents:
            start = keys.index(last) + 1
        else:
            # The capped collection overwrote the cursor's position.
            raise CommandError(
                ErrorCode.CappedPositionLost,
                f"CollectionScan died due to position in capped collection being deleted. "
                f"Last seen record id: {last}",
            )
        for key in keys[start:]:
            doc = collection.documents[key]
            last = key
            if not query.matcher.matches(doc):
                continue
            if skip:
                skip -= 1
                continue
            yield doc if query.projection is None else query.projection.apply(doc)
        yield END_OF_DATA


@command("getMore")
def get_more(ctx: Context, body: dict[str, Any]) -> dict[str, Any] | Awaitable[dict[str, Any]]:
    """The next batch of an open cursor; 43 CursorNotFound for unknown ids."""
    cursor_id = body["getMore"]
    if not isinstance(cursor_id, Int64):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field 'getMore.getMore' is the wrong type '{'int' if isinstance(cursor_id, int) else type(cursor_id).__name__}', expected type 'long'",
        )
    check_fields(
        "getMore",
        body,
        ("collection", "batchSize", "maxTimeMS", "comment", "term", "lastKnownCommittedOpTime"),
    )
    collection = body.get("collection")
    if not isinstance(collection, str):
        raise CommandError(
            ErrorCode.Location40414,
            "BSON field 'getMore.collection' is missing but a required field",
        )
    batch_size = non_negative("getMore", body, "batchSize")
    max_time_ms = non_negative("getMore", body, "maxTimeMS")
    cursor = ctx.server.cursors.get(int(cursor_id), f"{ctx.db}.{collection}")
    if max_time_ms is not None and not cursor.await_data:
        raise CommandError(
            ErrorCode.BadValue, "cannot set maxTimeMS on getMore command for a non-awaitData cursor"
        )
    limit = batch_size or cursor.batch_size or None
    batch = _next_batch(ctx, cursor, limit)
    if not batch and cursor.await_data and not cursor.exhausted:
        # Manual, "Tailable Cursors": with awaitData a getMore waits up to
        # maxTimeMS (1 second by default) for new documents.
        return _await_data(ctx, cursor, limit, 1.0 if max_time_ms is None else max_time_ms / 1000)
    return cursor_reply(cursor, batch, first=False)


def _next_batch(ctx: Context, cursor: Cursor, limit: int | None) -> list[Any]:
    try:
        batch = cursor.next_batch(limit)
    except CommandError:
        ctx.server.cursors.kill(cursor.cursor_id)  # e.g. CappedPositionLost
        raise
    if cursor.exhausted and cursor.held is None:
        ctx.server.cursors.kill(cursor.cursor_id)
    return batch


async def _await_data(
    ctx: Context, cursor: Cursor, limit: int | None, wait_seconds: float
) -> dict[str, Any]:
    db, _, name = cursor.namespace.partition(".")
    collection = ctx.server.storage.collection(db, name)
    # A live tailable cursor's collection exists: dropping it kills the cursor.
    assert collection is not None
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    collection.insert_waiters.append(waiter)
    try:
        async with asyncio.timeout(wait_seconds):
            await waiter
    except TimeoutError:
        pass
    finally:
        if waiter in collection.insert_waiters:
            collection.insert_waiters.remove(waiter)
    # The cursor may have been killed or its collection dropped meanwhile.
    if ctx.server.cursors.cursors.get(cursor.cursor_id) is not cursor:
        raise CommandError(ErrorCode.CursorNotFound, f"cursor id {cursor.cursor_id} not found")
    return cursor_reply(cursor, _next_batch(ctx, cursor, limit), first=False)


@command("killCursors")
def kill_cursors(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Close cursors by id; reports which were killed and which not found."""
    name = body["killCursors"]
    # listCollections / listIndexes cursors live in "$cmd.listCollections" and
    # "$cmd.listIndexes.<collection>" namespaces, which drivers kill by name.
    if not (isinstance(name, str) and name.startswith("$cmd.list")):
        collection_name(ctx.db, body)
    check_fields("killCursors", body, ("cursors",))
    ids = body.get("cursors")
    if not isinstance(ids, list):
        raise CommandError(
            ErrorCode.Location40414,
            "BSON field 'killCursors.cursors' is missing but a required field",
        )
    killed: list[Int64] = []
    not_found: list[Int64] = []
    for cursor_id in ids:
        (killed if ctx.server.cursors.kill(int(cursor_id)) else not_found).append(Int64(cursor_id))
    return {
        "cursorsKilled": killed,
        "cursorsNotFound": not_found,
        "cursorsAlive": [],
        "cursorsUnknown": [],
    }


# ---------------------------------------------------------------- delete


@command("delete")
def delete(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Delete by statements {q, limit: 0|1, collation, hint} (manual: delete).

    Statement shapes are checked before anything runs (a bad one fails the
    whole command, as mongod's parser does); a statement that fails while
    running is a write error.
    """
    name = collection_name(ctx.db, body)
    check_fields("delete", body, ("deletes", "ordered", "let"))
    check_write_concern(body)
    if body.get("let") is not None:
        raise CommandError(
            ErrorCode.BadValue, "fakemongo does not support the delete option 'let' yet"
        )
    deletes = [_parse_delete(statement) for statement in statements("delete", body, "deletes")]
    ordered = get_bool("delete", body, "ordered", True)
    collection = ctx.server.storage.collection(ctx.db, name)
    results, errors = run_statements(
        deletes, lambda _, statement: _run_delete(collection, statement), ordered=ordered
    )
    removed = sum(results)
    ctx.server.opcounters["delete"] += removed
    reply: dict[str, Any] = {"n": removed}
    if errors:
        reply["writeErrors"] = errors
    return reply


def _parse_delete(statement: Any) -> Mapping[str, Any]:
    if not isinstance(statement, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch, "BSON field 'delete.deletes' elements must be objects"
        )
    for field in statement:
        if field not in ("q", "limit", "collation", "hint"):
            raise CommandError(
                ErrorCode.Location40415, f"BSON field 'delete.deletes.{field}' is an unknown field."
            )
    for required in ("q", "limit"):
        if required not in statement:
            raise CommandError(
                ErrorCode.Location40414,
                f"BSON field 'delete.deletes.{required}' is missing but a required field",
            )
    limit = get_int("delete.deletes", statement, "limit")
    if limit not in (0, 1):
        raise CommandError(
            ErrorCode.FailedToParse,
            f"The limit field in delete objects must be 0 or 1. Got {limit}",
        )
    return statement


def _run_delete(collection: Collection | None, statement: Mapping[str, Any]) -> int:
    limit = statement["limit"]
    query = compile_query(
        collection,
        statement["q"],
        command="delete",
        collation=statement.get("collation"),
        hint=statement.get("hint"),
    )
    victims = [doc["_id"] for doc, _ in query.matches()]
    if limit:
        victims = victims[:1]
    assert collection is not None or not victims
    for doc_id in victims:
        collection.delete(id_key(doc_id))  # type: ignore[union-attr]
    return len(victims)


# ---------------------------------------------------------------- count / distinct


@command("count")
def count(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Count matching documents, honouring skip and limit (manual: count)."""
    name = collection_name(ctx.db, body)
    check_fields("count", body, ("query", "limit", "skip", "hint", "collation", "fields"))
    skip = non_negative("count", body, "skip") or 0
    limit = get_int("count", body, "limit")
    query = compile_query(
        ctx.server.storage.collection(ctx.db, name),
        get_document("count", body, "query", {}),
        command="count",
        collation=body.get("collation"),
        hint=body.get("hint"),
        max_time_ms=non_negative("count", body, "maxTimeMS"),
    )
    n = sum(1 for _ in query.matches())
    n = max(n - skip, 0)
    if limit:
        n = min(n, abs(limit))  # a negative limit counts like its absolute value
    return {"n": n}


@command("distinct")
def distinct(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Distinct values of a field among matching documents; arrays contribute
    their elements (manual: distinct)."""
    name = collection_name(ctx.db, body)
    check_fields("distinct", body, ("key", "query", "collation", "hint"))
    key = body.get("key")
    if not isinstance(key, str):
        raise CommandError(
            ErrorCode.Location40414, "BSON field 'distinct.key' is missing but a required field"
        )
    parts = parse_field_path(key)
    query = compile_query(
        ctx.server.storage.collection(ctx.db, name),
        get_document("distinct", body, "query", {}),
        command="distinct",
        collation=body.get("collation"),
        hint=body.get("hint"),
        max_time_ms=non_negative("distinct", body, "maxTimeMS"),
    )
    seen: dict[Any, Any] = {}
    string_key = query.string_key
    for doc, _ in query.matches():
        for value, _index in candidates(doc, parts, LeafArrays.ELEMENTS):
            if value is MISSING or value.__class__.__name__ == "_EmptyArray":
                continue
            seen.setdefault(sort_key(value, string_key), value)
    return {"values": list(seen.values())}


# ---------------------------------------------------------------- explain

_EXPLAINABLE = ("find", "count", "distinct")


@command("explain")
def explain(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Explain a find, count or distinct: queryPlanner and executionStats
    with totalDocsExamined / totalKeysExamined (manual: explain)."""
    inner = body.get("explain")
    if not isinstance(inner, Mapping) or not inner:
        raise CommandError(ErrorCode.TypeMismatch, "explain command requires a nested object")
    check_fields("explain", body, ("verbosity",))
    verbosity = body.get("verbosity", "allPlansExecution")
    if verbosity not in ("queryPlanner", "executionStats", "allPlansExecution"):
        raise CommandError(
            ErrorCode.FailedToParse,
            "verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}",
        )
    command_name = next(iter(inner))
    if command_name not in _EXPLAINABLE:
        raise CommandError(
            ErrorCode.CommandNotSupported, f"fakemongo cannot explain '{command_name}' yet"
        )
    inner = dict(inner)
    name = collection_name(ctx.db, inner)
    if command_name == "find":
        query, _, _ = _find_query(ctx, inner, name)
    else:
        field = "query"
        query = compile_query(
            ctx.server.storage.collection(ctx.db, name),
            inner.get(field) or {},
            command=command_name,
            collation=inner.get("collation"),
            hint=inner.get("hint"),
        )
    plan = query.plan
    winning = plan.explain() if plan is not None else {"stage": "EOF"}
    reply: dict[str, Any] = {
        "explainVersion": "1",
        "queryPlanner": {
            "namespace": f"{ctx.db}.{name}",
            "parsedQuery": dict(query.filter),
            "winningPlan": winning,
            "rejectedPlans": [],
        },
        "command": {**inner, "$db": ctx.db},
        "serverInfo": {
            "host": ctx.server.options.host,
            "port": ctx.server.port,
            "version": "8.0.4",
        },
    }
    if verbosity != "queryPlanner":
        returned = sum(1 for _ in query.documents())
        stats = plan.stats if plan is not None else None
        reply["executionStats"] = {
            "executionSuccess": True,
            "nReturned": returned,
            "executionTimeMillis": 0,
            "totalKeysExamined": stats.keys_examined if stats else 0,
            "totalDocsExamined": stats.docs_examined if stats else 0,
            "executionStages": winning,
        }
    return reply
