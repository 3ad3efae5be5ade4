"""Databases, collections and indexes: the administrative commands.

listDatabases, dropDatabase, create, drop, listCollections,
renameCollection, collStats, dbStats, createIndexes, listIndexes,
dropIndexes; each as the manual's page for it describes, errors included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import Int64

from ._args import check_fields, get_bool, get_document, get_int, get_string
from ._bsonorder import bson_repr
from ._cursors import Cursor, cursor_reply
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode
from ._indexes import Index
from ._match import compile_filter
from ._storage import Collection, validate_namespace

__all__: list[str] = []


def _collection_name(ctx: Context, body: dict[str, Any]) -> str:
    name = next(iter(body))
    value = body[name]
    if not isinstance(value, str):
        raise CommandError(
            ErrorCode.InvalidNamespace, f"collection name has invalid type {type(value).__name__}"
        )
    validate_namespace(ctx.db, value)
    return value


def _first_batch(ctx: Context, namespace: str, docs: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    cursor_opts = get_document(next(iter(body)), body, "cursor", {}) or {}
    batch_size = get_int("cursor", cursor_opts, "batchSize")
    cursor = Cursor(namespace, iter(docs))
    batch = cursor.next_batch(batch_size)
    if not cursor.exhausted:
        ctx.server.cursors.register(cursor)
    return cursor_reply(cursor, batch, first=True)


# ---------------------------------------------------------------- databases


def _db_size(ctx: Context, name: str) -> int:
    database = ctx.server.storage.database(name)
    assert database is not None
    return sum(c.data_size() for c in database.collections.values())


@command("listDatabases", admin_only=True)
def list_databases(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Databases with at least one collection (manual: listDatabases)."""
    check_fields("listDatabases", body, ("nameOnly", "filter", "authorizedDatabases"))
    name_only = get_bool("listDatabases", body, "nameOnly")
    matcher = compile_filter(get_document("listDatabases", body, "filter", {}) or {})
    databases = []
    total = 0
    for name in sorted(ctx.server.storage.databases):
        entry: dict[str, Any] = {"name": name}
        if not name_only:
            size = _db_size(ctx, name)
            total += size
            entry.update(sizeOnDisk=Int64(size), empty=size == 0)
        if matcher.matches(entry):
            databases.append(entry)
    if name_only:
        return {"databases": databases}
    return {"databases": databases, "totalSize": Int64(total), "totalSizeMb": Int64(total // (1024 * 1024))}


@command("dropDatabase")
def drop_database(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Drop the database and its collections; ok whether or not it existed."""
    check_fields("dropDatabase", body, ())
    database = ctx.server.storage.database(ctx.db)
    if database is not None:
        for collection in database.collections.values():
            _kill_cursors_of(ctx, collection.namespace)
    ctx.server.storage.drop_database(ctx.db)
    return {"dropped": ctx.db}


def _kill_cursors_of(ctx: Context, namespace: str) -> None:
    # Dropping a collection kills its cursors: their next getMore finds none.
    for cursor_id in [cid for cid, c in ctx.server.cursors.cursors.items() if c.namespace == namespace]:
        ctx.server.cursors.kill(cursor_id)


# ---------------------------------------------------------------- collections

_CREATE_OPTIONS = ("capped", "size", "max", "collation", "validator", "validationLevel", "validationAction",
                   "viewOn", "pipeline", "timeseries", "clusteredIndex", "expireAfterSeconds",
                   "changeStreamPreAndPostImages", "storageEngine", "indexOptionDefaults", "idIndex",
                   "encryptedFields", "autoIndexId")
# Options fakemongo does not implement; mongod would honour them, so we refuse
# rather than create something that silently behaves differently.
_UNSUPPORTED_CREATE = ("collation", "validator", "validationLevel", "validationAction", "viewOn", "pipeline",
                       "timeseries", "clusteredIndex", "expireAfterSeconds", "changeStreamPreAndPostImages",
                       "encryptedFields", "storageEngine", "indexOptionDefaults", "idIndex", "autoIndexId")


@command("create")
def create(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Create a collection, optionally capped (manual: create)."""
    name = _collection_name(ctx, body)
    check_fields("create", body, _CREATE_OPTIONS)
    for option in _UNSUPPORTED_CREATE:
        if option in body:
            raise CommandError(ErrorCode.BadValue, f"fakemongo does not support the create option '{option}'")
    options: dict[str, Any] = {}
    if get_bool("create", body, "capped"):
        size = get_int("create", body, "size")
        if size is None:
            raise CommandError(ErrorCode.InvalidOptions, "the 'size' field is required when 'capped' is true")
        if size <= 0:
            raise CommandError(ErrorCode.BadValue, "'size' field must be a positive number")
        options = {"capped": True, "size": size}
        maximum = get_int("create", body, "max")
        if maximum:
            options["max"] = maximum
    elif "size" in body or "max" in body:
        raise CommandError(ErrorCode.InvalidOptions, "the 'size' and 'max' fields are only valid for capped collections")
    existing = ctx.server.storage.collection(ctx.db, name)
    if existing is not None:
        if existing.options == options:
            return {}  # mongod: creating an identical collection again is a no-op
        raise CommandError(ErrorCode.NamespaceExists, f"Collection {ctx.db}.{name} already exists with different options")
    ctx.server.storage.create(ctx.db, name, options)
    return {}


@command("drop")
def drop(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Drop a collection; since 7.0 dropping a missing one is ok (manual: drop)."""
    name = _collection_name(ctx, body)
    check_fields("drop", body, ())
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        return {}
    _kill_cursors_of(ctx, collection.namespace)
    ctx.server.storage.drop(ctx.db, name)
    return {"nIndexesWas": len(collection.indexes), "ns": collection.namespace}


def _collection_info(collection: Collection) -> dict[str, Any]:
    return {
        "name": collection.name,
        "type": "collection",
        "options": dict(collection.options),
        "info": {"readOnly": False, "uuid": collection.uuid},
        "idIndex": dict(collection.indexes["_id_"].spec),
    }


@command("listCollections")
def list_collections(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Collections of the database, filtered, as a cursor (manual: listCollections)."""
    check_fields("listCollections", body, ("filter", "nameOnly", "authorizedCollections", "cursor"))
    name_only = get_bool("listCollections", body, "nameOnly")
    matcher = compile_filter(get_document("listCollections", body, "filter", {}) or {})
    database = ctx.server.storage.database(ctx.db)
    docs = []
    for collection in database.collections.values() if database is not None else ():
        info = _collection_info(collection)
        if matcher.matches(info):
            docs.append({"name": info["name"], "type": "collection"} if name_only else info)
    return _first_batch(ctx, f"{ctx.db}.$cmd.listCollections", docs, body)


def _split_namespace(value: Any, field: str) -> tuple[str, str]:
    if not isinstance(value, str) or "." not in value:
        raise CommandError(ErrorCode.InvalidNamespace, f"Invalid {field} namespace: {value}")
    db, _, name = value.partition(".")
    validate_namespace(db, name)
    return db, name


@command("renameCollection", admin_only=True)
def rename_collection(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Rename ``db.a`` to ``db.b`` (``dropTarget`` to replace an existing one)."""
    check_fields("renameCollection", body, ("to", "dropTarget", "stayTemp"))
    source_db, source_name = _split_namespace(body["renameCollection"], "source")
    target_db, target_name = _split_namespace(body.get("to"), "target")
    storage = ctx.server.storage
    source = storage.collection(source_db, source_name)
    if source is None:
        raise CommandError(ErrorCode.NamespaceNotFound, f"Source collection {source_db}.{source_name} does not exist")
    if (source_db, source_name) == (target_db, target_name):
        raise CommandError(ErrorCode.IllegalOperation, "Can't rename a collection to itself")
    if storage.collection(target_db, target_name) is not None:
        if not get_bool("renameCollection", body, "dropTarget"):
            raise CommandError(ErrorCode.NamespaceExists, "target namespace exists")
        _kill_cursors_of(ctx, f"{target_db}.{target_name}")
        storage.drop(target_db, target_name)
    _kill_cursors_of(ctx, source.namespace)
    storage.rename(source, target_db, target_name)
    return {}


def _sizes(collection: Collection, scale: int) -> dict[str, Any]:
    size = collection.data_size()
    count = len(collection)
    index_sizes = {name: len(index.entries) * 16 // scale for name, index in collection.indexes.items()}
    return {
        "size": size // scale,
        "count": count,
        "avgObjSize": size // count if count else 0,
        "storageSize": size // scale,
        "nindexes": len(collection.indexes),
        "totalIndexSize": sum(index_sizes.values()),
        "indexSizes": index_sizes,
    }


def _scale(command_name: str, body: dict[str, Any]) -> int:
    scale = get_int(command_name, body, "scale", 1) or 1
    if scale < 1:
        raise CommandError(ErrorCode.BadValue, "scale has to be >= 1")
    return scale


@command("collStats")
def coll_stats(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Counts and sizes of one collection (sizes are BSON sizes; manual: collStats)."""
    name = _collection_name(ctx, body)
    check_fields("collStats", body, ("scale",))
    scale = _scale("collStats", body)
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        raise CommandError(ErrorCode.NamespaceNotFound, f"Collection [{ctx.db}.{name}] not found.")
    stats = {"ns": collection.namespace, **_sizes(collection, scale), "scaleFactor": scale, "capped": collection.capped}
    if collection.capped:
        stats["maxSize"] = collection.options["size"] // scale
        stats["max"] = collection.options.get("max", 0)
    return stats


@command("dbStats")
def db_stats(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Counts and sizes of one database (manual: dbStats)."""
    check_fields("dbStats", body, ("scale", "freeStorage"))
    scale = _scale("dbStats", body)
    database = ctx.server.storage.database(ctx.db)
    collections = list(database.collections.values()) if database is not None else []
    sizes = [_sizes(c, 1) for c in collections]
    objects = sum(s["count"] for s in sizes)
    data = sum(s["size"] for s in sizes)
    index = sum(s["totalIndexSize"] for s in sizes)
    return {
        "db": ctx.db,
        "collections": len(collections),
        "views": 0,
        "objects": objects,
        "avgObjSize": data / objects if objects else 0,
        "dataSize": data / scale,
        "storageSize": data / scale,
        "indexes": sum(s["nindexes"] for s in sizes),
        "indexSize": index / scale,
        "totalSize": (data + index) / scale,
        "scaleFactor": scale,
    }


# ---------------------------------------------------------------- indexes

_INDEX_FIELDS = ("key", "name", "unique", "sparse", "partialFilterExpression", "expireAfterSeconds", "background",
                 "v", "hidden", "collation", "weights", "default_language", "language_override",
                 "textIndexVersion", "2dsphereIndexVersion", "bits", "min", "max", "wildcardProjection",
                 "storageEngine", "ns", "dropDups")
_UNSUPPORTED_INDEX_OPTIONS = ("hidden", "collation", "wildcardProjection", "storageEngine")
_MAX_TTL = 2**31 - 1


def _default_index_name(key: Mapping[str, Any]) -> str:
    return "_".join(f"{field}_{value}" for field, value in key.items())


def _parse_index(ctx: Context, spec: Any) -> Index:
    if not isinstance(spec, Mapping):
        raise CommandError(ErrorCode.TypeMismatch, "The 'indexes' field must be an array of index spec objects")
    for field in spec:
        if field not in _INDEX_FIELDS:
            raise CommandError(ErrorCode.InvalidIndexSpecificationOption,
                               f"The field '{field}' is not valid for an index specification. Specification: {bson_repr(spec)}")
    key = spec.get("key")
    if not isinstance(key, Mapping) or not key:
        raise CommandError(ErrorCode.CannotCreateIndex, "Index keys cannot be empty.")
    for field, direction in key.items():
        if isinstance(direction, str):
            raise CommandError(ErrorCode.CommandNotSupported,
                               f"fakemongo does not support '{direction}' indexes (index key {field!r})")
        if isinstance(direction, bool) or not isinstance(direction, int | float | Int64) or direction == 0:
            raise CommandError(ErrorCode.CannotCreateIndex,
                               f"Values in the index key pattern can only be of numerical or string type, "
                               f"and must be non-zero. Found {field}: {bson_repr(direction)}")
    for option in _UNSUPPORTED_INDEX_OPTIONS:
        if spec.get(option):
            raise CommandError(ErrorCode.BadValue, f"fakemongo does not support the index option '{option}'")
    name = spec.get("name", _default_index_name(key))
    if not isinstance(name, str) or not name:
        raise CommandError(ErrorCode.CannotCreateIndex, "The index name cannot be empty")
    out: dict[str, Any] = {"v": 2, "key": dict(key), "name": name}
    unique = bool(spec.get("unique"))
    sparse = bool(spec.get("sparse"))
    partial = spec.get("partialFilterExpression")
    ttl = spec.get("expireAfterSeconds")
    if unique:
        out["unique"] = True
    if sparse:
        out["sparse"] = True
    matcher = None
    if partial is not None:
        if not isinstance(partial, Mapping):
            raise CommandError(ErrorCode.TypeMismatch, "partialFilterExpression must be an object")
        matcher = compile_filter(partial)
        out["partialFilterExpression"] = dict(partial)
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, int | float | Int64) or not 0 <= ttl <= _MAX_TTL:
            raise CommandError(ErrorCode.CannotCreateIndex,
                               f"TTL index 'expireAfterSeconds' option must be within an acceptable range, "
                               f"try a lower number. Found: {ttl}")
        if len(key) > 1:
            raise CommandError(ErrorCode.CannotCreateIndex,
                               "TTL indexes are single-field indexes, compound indexes do not support TTL.")
        out["expireAfterSeconds"] = int(ttl)
    return Index(name, list(key.items()), out, unique=unique, sparse=sparse, partial=matcher,
                 expire_after_seconds=None if ttl is None else float(ttl))


def _same_options(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "name"} == {k: v for k, v in b.items() if k != "name"}


@command("createIndexes")
def create_indexes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Create indexes; existing identical ones are a no-op (manual: createIndexes)."""
    name = _collection_name(ctx, body)
    check_fields("createIndexes", body, ("indexes", "commitQuorum", "ignoreUnknownIndexOptions"))
    specs = body.get("indexes")
    if not isinstance(specs, list) or not specs:
        raise CommandError(ErrorCode.BadValue, "Must specify at least one index to create")
    indexes = [_parse_index(ctx, spec) for spec in specs]
    storage = ctx.server.storage
    created_collection = storage.collection(ctx.db, name) is None
    collection = storage.get_or_create(ctx.db, name)
    before = len(collection.indexes)
    to_build = []
    for index in indexes:
        existing = collection.indexes.get(index.name)
        same_key = next((i for i in collection.indexes.values() if i.key == index.key), None)
        if existing is not None:
            if existing.key != index.key:
                raise CommandError(ErrorCode.IndexKeySpecsConflict,
                                   f"An existing index has the same name as the requested index. "
                                   f"Requested index: {bson_repr(index.spec)}, existing index: {bson_repr(existing.spec)}")
            if not _same_options(existing.spec, index.spec):
                raise CommandError(ErrorCode.IndexOptionsConflict,
                                   f"An equivalent index already exists with the same name but different options. "
                                   f"Requested index: {bson_repr(index.spec)}, existing index: {bson_repr(existing.spec)}")
            continue
        if same_key is not None and _same_options(same_key.spec, index.spec):
            raise CommandError(ErrorCode.IndexOptionsConflict,
                               f"Index already exists with a different name: {same_key.name}")
        to_build.append(index)
    for index in to_build:
        collection.add_index(index)
    reply: dict[str, Any] = {
        "numIndexesBefore": before,
        "numIndexesAfter": len(collection.indexes),
        "createdCollectionAutomatically": created_collection,
    }
    if not to_build:
        reply["note"] = "all indexes already exist"
    return reply


@command("listIndexes")
def list_indexes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The index specifications of a collection, as a cursor."""
    name = _collection_name(ctx, body)
    check_fields("listIndexes", body, ("cursor",))
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        raise CommandError(ErrorCode.NamespaceNotFound, f"ns does not exist: {ctx.db}.{name}")
    docs = [dict(index.spec) for index in collection.indexes.values()]
    return _first_batch(ctx, collection.namespace, docs, body)


@command("dropIndexes", "deleteIndexes")
def drop_indexes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Drop indexes by name, key pattern, list of names, or "*" (all but _id)."""
    name = _collection_name(ctx, body)
    check_fields(next(iter(body)), body, ("index",))
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        raise CommandError(ErrorCode.NamespaceNotFound, f"ns not found {ctx.db}.{name}")
    before = len(collection.indexes)
    target = body.get("index")
    if target == "*":
        names = [n for n in collection.indexes if n != "_id_"]
    elif isinstance(target, str):
        names = [target]
    elif isinstance(target, list) and all(isinstance(t, str) for t in target):
        names = list(target)
    elif isinstance(target, Mapping):
        found = [i.name for i in collection.indexes.values() if i.key == list(target.items())]
        if not found:
            raise CommandError(ErrorCode.IndexNotFound, f"can't find index with key: {bson_repr(target)}")
        names = found
    else:
        raise CommandError(ErrorCode.TypeMismatch, "dropIndexes 'index' must be a string, an object or an array")
    for index_name in names:
        if index_name == "_id_":
            raise CommandError(ErrorCode.InvalidOptions, "cannot drop _id index")
        if index_name not in collection.indexes:
            raise CommandError(ErrorCode.IndexNotFound, f"index not found with name [{index_name}]")
    for index_name in names:
        del collection.indexes[index_name]
    return {"nIndexesWas": before}


__all__ += ["get_string"]
