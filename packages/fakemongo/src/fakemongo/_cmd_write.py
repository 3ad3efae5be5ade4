"""update and findAndModify (manual: the "update" and "findAndModify" pages).

Both match with the query engine, change documents with the update engine
(operator updates, replacements, pipeline updates), and upsert from the
filter's equality conditions when nothing matched. ``nModified`` counts only
documents that really changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from ._args import check_fields, collection_name, get_bool, get_document
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode
from ._query import compile_query
from ._sort import document_sort_key
from ._storage import Collection, id_key
from ._update import Update, compile_update, upsert_seed
from ._writes import check_document_size, check_write_concern, run_statements, statements

__all__: list[str] = []

_UPDATE_STATEMENT_FIELDS = (
    "q",
    "u",
    "upsert",
    "multi",
    "arrayFilters",
    "collation",
    "hint",
    "c",
    "sort",
    "upsertSupplied",
)


def _with_id_first(doc: dict[str, Any], doc_id: Any) -> dict[str, Any]:
    out = {"_id": doc_id}
    out.update((k, v) for k, v in doc.items() if k != "_id")
    return out


def _upsert(
    collection: Collection, query_filter: Mapping[str, Any], update: Update
) -> dict[str, Any]:
    seed = upsert_seed(query_filter, replacement=update.kind == "replacement")
    new, _ = update.apply(seed, upsert_insert=True)
    doc_id = new.get("_id", seed.get("_id"))
    if doc_id is None and "_id" not in new:
        doc_id = ObjectId()
    new = _with_id_first(new, new.get("_id", doc_id))
    check_document_size(new)
    collection.insert(new)
    return new


def _array_filters(
    statement: Mapping[str, Any], command_name: str
) -> list[Mapping[str, Any]] | None:
    value = statement.get("arrayFilters")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(f, Mapping) for f in value):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field '{command_name}.arrayFilters' must be an array of objects",
        )
    return value


class _Outcome:
    __slots__ = ("matched", "modified", "upserted", "upserted_id")

    def __init__(self) -> None:
        self.matched = 0
        self.modified = 0
        self.upserted = False
        self.upserted_id: Any = None


def _run_update(ctx: Context, name: str, statement: Any) -> _Outcome:
    if not isinstance(statement, Mapping):
        raise CommandError(ErrorCode.TypeMismatch, "update statements must be objects")
    check_fields("update", {"update": 1, **statement}, _UPDATE_STATEMENT_FIELDS)
    for required in ("q", "u"):
        if required not in statement:
            raise CommandError(
                ErrorCode.Location40414,
                f"BSON field 'update.updates.{required}' is missing but a required field",
            )
    if statement.get("c") is not None:
        raise CommandError(
            ErrorCode.BadValue,
            "fakemongo does not support the update option 'c' (let constants) yet",
        )
    multi = get_bool("update", statement, "multi")
    upsert = get_bool("update", statement, "upsert")
    storage = ctx.server.storage
    collection = storage.collection(ctx.db, name)
    query = compile_query(
        collection,
        statement["q"],
        command="update",
        collation=statement.get("collation"),
        hint=statement.get("hint"),
        sort=statement.get("sort"),
    )
    update = compile_update(
        statement["u"],
        array_filters=_array_filters(statement, "update"),
        string_key=query.string_key,
        is_multi=multi,
    )
    if multi and statement.get("sort") is not None:
        raise CommandError(ErrorCode.FailedToParse, "Cannot specify sort with multi=true")
    outcome = _Outcome()
    rows = list(query.matches())
    if query.sort is not None and query.sort.keys:
        rows.sort(key=lambda row: document_sort_key(row[0], query.sort, query.string_key))
    if not multi:
        rows = rows[:1]
    assert collection is not None or not rows
    for doc, match_index in rows:
        new, modified = update.apply(doc, match_index=match_index)
        outcome.matched += 1
        if modified:
            check_document_size(new)
            assert collection is not None
            collection.replace(id_key(doc["_id"]), new)
            outcome.modified += 1
    if not rows and upsert:
        target = collection or storage.get_or_create(ctx.db, name)
        inserted = _upsert(target, statement["q"], update)
        outcome.upserted = True
        outcome.upserted_id = inserted["_id"]
    return outcome


@command("update")
def update(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Apply update statements {q, u, upsert, multi, arrayFilters, collation, hint, sort}."""
    name = collection_name(ctx.db, body)
    check_fields("update", body, ("updates", "ordered", "bypassDocumentValidation", "let"))
    check_write_concern(body)
    if body.get("let") is not None:
        raise CommandError(
            ErrorCode.BadValue, "fakemongo does not support the update option 'let' yet"
        )
    updates = statements("update", body, "updates")
    ordered = get_bool("update", body, "ordered", True)
    outcomes, errors = run_statements(
        updates,
        lambda index, statement: (index, _run_update(ctx, name, statement)),
        ordered=ordered,
    )
    matched = sum(outcome.matched for _, outcome in outcomes)
    modified = sum(outcome.modified for _, outcome in outcomes)
    upserted = [
        {"index": index, "_id": outcome.upserted_id}
        for index, outcome in outcomes
        if outcome.upserted
    ]
    ctx.server.opcounters["update"] += len(updates)
    reply: dict[str, Any] = {"n": matched + len(upserted), "nModified": modified}
    if upserted:
        reply["upserted"] = upserted
    if errors:
        reply["writeErrors"] = errors
    return reply


_FAM_FIELDS = (
    "query",
    "sort",
    "remove",
    "update",
    "new",
    "fields",
    "upsert",
    "bypassDocumentValidation",
    "collation",
    "arrayFilters",
    "hint",
    "let",
)


@command("findAndModify", "findandmodify")
def find_and_modify(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Atomically find one document and update, replace or remove it."""
    name = collection_name(ctx.db, body)
    command_name = next(iter(body))
    check_fields(command_name, body, _FAM_FIELDS)
    check_write_concern(body)
    if body.get("let") is not None:
        raise CommandError(
            ErrorCode.BadValue, "fakemongo does not support the findAndModify option 'let' yet"
        )
    remove = get_bool(command_name, body, "remove")
    return_new = get_bool(command_name, body, "new")
    upsert = get_bool(command_name, body, "upsert")
    spec = body.get("update")
    if remove and spec is not None:
        raise CommandError(ErrorCode.FailedToParse, "Cannot specify both an update and remove=true")
    if remove and upsert:
        raise CommandError(
            ErrorCode.FailedToParse, "Cannot specify both upsert=true and remove=true "
        )
    if remove and return_new:
        raise CommandError(
            ErrorCode.FailedToParse,
            "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
        )
    if not remove and spec is None:
        raise CommandError(
            ErrorCode.FailedToParse, "Either an update or remove=true must be specified"
        )
    storage = ctx.server.storage
    collection = storage.collection(ctx.db, name)
    query = compile_query(
        collection,
        get_document(command_name, body, "query", {}),
        command=command_name,
        sort=body.get("sort"),
        projection=body.get("fields"),
        collation=body.get("collation"),
        hint=body.get("hint"),
    )
    update_spec = None
    if spec is not None:
        update_spec = compile_update(
            spec, array_filters=_array_filters(body, command_name), string_key=query.string_key
        )
    rows = list(query.matches())
    if query.sort is not None and query.sort.keys:
        rows.sort(key=lambda row: document_sort_key(row[0], query.sort, query.string_key))
    projection = query.projection

    def shown(doc: dict[str, Any] | None, match_index: int | None = None) -> dict[str, Any] | None:
        if doc is None or projection is None:
            return doc
        return projection.apply(doc, match_index)

    if not rows:
        if upsert and update_spec is not None:
            target = collection or storage.get_or_create(ctx.db, name)
            inserted = _upsert(target, query.filter, update_spec)
            last_error = {"n": 1, "updatedExisting": False, "upserted": inserted["_id"]}
            return {"lastErrorObject": last_error, "value": shown(inserted) if return_new else None}
        return {"lastErrorObject": {"n": 0, "updatedExisting": False}, "value": None}
    doc, match_index = rows[0]
    assert collection is not None
    if remove:
        collection.delete(id_key(doc["_id"]))
        ctx.server.opcounters["delete"] += 1
        return {"lastErrorObject": {"n": 1}, "value": shown(doc, match_index)}
    assert update_spec is not None
    new, modified = update_spec.apply(doc, match_index=match_index)
    if modified:
        check_document_size(new)
        collection.replace(id_key(doc["_id"]), new)
    ctx.server.opcounters["update"] += 1
    value = shown(new, match_index) if return_new else shown(doc, match_index)
    return {"lastErrorObject": {"n": 1, "updatedExisting": True}, "value": value}
