"""The aggregate command over the storage (manual: "aggregate").

The pipeline engine lives in :mod:`fakemongo._aggregate`; this module gives
it the server: the source collection's documents (through the query planner
when the pipeline starts with ``$match``, so an index serves it), other
collections for ``$lookup``/``$unionWith``, and the writes of ``$out`` and
``$merge``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from bson import ObjectId

from ._aggregate import compile_pipeline
from ._args import check_fields, get_bool, get_document, get_int
from ._bsonorder import values_equal
from ._collation import parse_collation
from ._cursors import Cursor, cursor_reply, first_reply
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode
from ._paths import LeafArrays, candidates, parse_field_path
from ._query import compile_query
from ._storage import Collection, Storage, id_key, validate_namespace
from ._writes import check_document_size

__all__: list[str] = []

_OPTIONS = (
    "pipeline",
    "cursor",
    "explain",
    "allowDiskUse",
    "bypassDocumentValidation",
    "collation",
    "hint",
    "let",
    "fromMongos",
    "needsMerge",
    "isMapReduceCommand",
)


class _Target:
    """A ``$merge`` target: find by the ``on`` fields, insert, replace."""

    def __init__(self, storage: Storage, db: str, name: str) -> None:
        self._storage, self._db, self._name = storage, db, name

    def _collection(self) -> Collection | None:
        return self._storage.collection(self._db, self._name)

    def has_unique_index(self, on: tuple[str, ...]) -> bool:
        collection = self._collection()
        if on == ("_id",):
            return True
        if collection is None:
            return False
        return any(
            index.unique and tuple(index.fields) == on for index in collection.indexes.values()
        )

    def find_matching(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        collection = self._collection()
        if collection is None:
            return None
        for doc in collection:
            if all(
                any(
                    values_equal(value, want)
                    for value, _ in candidates(doc, parse_field_path(name), LeafArrays.NO_TRAVERSE)
                )
                for name, want in key.items()
            ):
                return doc
        return None

    def insert(self, doc: dict[str, Any]) -> None:
        doc = doc if "_id" in doc else {"_id": ObjectId(), **doc}
        check_document_size(doc)
        self._storage.get_or_create(self._db, self._name).insert(doc)

    def replace(self, existing: Mapping[str, Any], doc: dict[str, Any]) -> None:
        collection = self._collection()
        assert collection is not None
        check_document_size(doc)
        collection.replace(id_key(existing["_id"]), doc)


class _PipelineContext:
    def __init__(self, ctx: Context, string_key: Any) -> None:
        self.db = ctx.db
        self.string_key = string_key
        self.variables: dict[str, Any] = {}
        self._storage = ctx.server.storage

    def collection_documents(self, db: str, coll: str) -> Iterable[dict[str, Any]]:
        collection = self._storage.collection(db, coll)
        return [] if collection is None else list(collection)

    def write_out(self, db: str, coll: str, docs: list[dict[str, Any]]) -> None:
        # $out replaces the target's documents atomically and keeps its
        # indexes (manual: "$out"); on any error the target is unchanged.
        validate_namespace(db, coll)
        existing = self._storage.collection(db, coll)
        fresh = Collection(db, coll, existing.options if existing else None)
        if existing is not None:
            for index in existing.indexes.values():
                if index.name != "_id_":
                    fresh.add_index(
                        type(index)(
                            index.name,
                            list(index.key),
                            dict(index.spec),
                            unique=index.unique,
                            sparse=index.sparse,
                            partial=index.partial,
                            expire_after_seconds=index.expire_after_seconds,
                        )
                    )
        for doc in docs:
            stored = doc if "_id" in doc else {"_id": ObjectId(), **doc}
            check_document_size(stored)
            fresh.insert(stored)
        self._storage.install(fresh)

    def merge_target(self, db: str, coll: str) -> _Target:
        validate_namespace(db, coll)
        return _Target(self._storage, db, coll)


def _source(
    ctx: Context, name: str | None, pipeline: list[Any], collation: Any, hint: Any
) -> Iterator[dict[str, Any]]:
    if name is None:
        return iter(())
    collection = ctx.server.storage.collection(ctx.db, name)
    first = pipeline[0] if pipeline else None
    match = first.get("$match") if isinstance(first, Mapping) and len(first) == 1 else None
    if not isinstance(match, Mapping):
        match = {}
    # The pipeline compiler has already validated this $match; here it only
    # chooses an index. The $match stage still runs on what comes out.
    query = compile_query(collection, match, command="aggregate", collation=collation, hint=hint)
    return (doc for doc, _ in query.matches())


@command("aggregate")
def aggregate(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Run a pipeline; the result as a cursor (empty for $out/$merge)."""
    target = body["aggregate"]
    check_fields("aggregate", body, _OPTIONS)
    pipeline = body.get("pipeline")
    if not isinstance(pipeline, list):
        raise CommandError(
            ErrorCode.TypeMismatch, "'pipeline' option must be specified as an array"
        )
    explain = get_bool("aggregate", body, "explain")
    cursor_options = get_document("aggregate", body, "cursor")
    if cursor_options is None and not explain:
        raise CommandError(
            ErrorCode.FailedToParse,
            "The 'cursor' option is required, except for aggregate with the explain argument",
        )
    collation = get_document("aggregate", body, "collation")
    parsed = parse_collation(collation)
    string_key = None if parsed is None else parsed.key
    compiled = compile_pipeline(
        pipeline, string_key=string_key, variables=get_document("aggregate", body, "let")
    )
    if target == 1:
        if not compiled.stage_names or compiled.stage_names[0] != "$documents":
            first = compiled.stage_names[0] if compiled.stage_names else "aggregate"
            raise CommandError(
                ErrorCode.InvalidNamespace,
                f"{{aggregate: 1}} is not valid for '{first}'; a collection is required.",
            )
        name: str | None = None
        namespace = f"{ctx.db}.$cmd.aggregate"
    elif isinstance(target, str):
        validate_namespace(ctx.db, target)
        name, namespace = target, f"{ctx.db}.{target}"
    else:
        raise CommandError(
            ErrorCode.InvalidNamespace, f"Invalid collection name specified '{ctx.db}.{target}'"
        )
    source = _source(ctx, name, pipeline, collation, body.get("hint"))
    results = compiled.run(source, _PipelineContext(ctx, string_key))
    if explain:
        return {
            "explainVersion": "1",
            "stages": [{name: {}} for name in compiled.stage_names],
            "command": {**body, "$db": ctx.db},
        }
    if compiled.writes:
        list(results)  # runs the pipeline; $out / $merge yield nothing
        return cursor_reply(Cursor(namespace, iter(()), exhausted=True), [], first=True)
    batch_size = get_int("cursor", cursor_options or {}, "batchSize")
    if batch_size is not None and batch_size < 0:
        raise CommandError(
            ErrorCode.Location51024,
            f"BSON field 'batchSize' value must be >= 0, actual value '{batch_size}'",
        )
    cursor = Cursor(namespace, results)
    batch = (
        cursor.next_batch(101 if batch_size is None else batch_size or 0) if batch_size != 0 else []
    )
    return first_reply(ctx.server.cursors, cursor, batch)
