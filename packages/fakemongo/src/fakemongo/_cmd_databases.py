"""Databases, collections and indexes: the administrative commands.

listDatabases, dropDatabase, create, drop, listCollections,
renameCollection, collStats, dbStats, createIndexes, listIndexes,
dropIndexes; each as the manual's page for it describes. Error codes and
wording follow mongod where the manual does not give them: the IDL parsers
(40414, 40415, 14, 51024), ``CommandHelpers::parseNsCollectionRequired``,
``index_key_validate.cpp`` and ``IndexCatalogImpl`` (createIndexes),
``create_command.cpp`` (create), ``rename_collection_cmd.cpp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import Binary, Int64

from ._args import (
    check_fields,
    check_minimum,
    collection_name,
    get_bool,
    get_document,
    get_int,
    missing_field,
    wrong_type,
)
from ._bsonorder import bson_repr
from ._cursors import Cursor, first_reply
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode
from ._index_specs import (
    INDEX_FIELDS,
    IndexBuildFailed,
    check_conflict,
    options_of,
    parse_index,
    signature,
)
from ._indexes import DuplicateKeyError, Index
from ._match import compile_filter
from ._storage import Collection, validate_namespace

__all__: list[str] = []


def _first_batch(
    ctx: Context, namespace: str, docs: list[dict[str, Any]], body: Mapping[str, Any]
) -> dict[str, Any]:
    options = get_document(next(iter(body)), body, "cursor", {}) or {}
    batch_size = get_int("cursor", options, "batchSize")
    if batch_size is not None:
        check_minimum("batchSize", batch_size, 0)
    cursor = Cursor(namespace, iter(docs))
    batch = cursor.next_batch(batch_size)
    return first_reply(ctx.server.cursors, cursor, batch)


def _kill_cursors_of(ctx: Context, namespace: str) -> None:
    # Dropping a collection kills its cursors: their next getMore finds none.
    cursors = ctx.server.cursors
    for cursor_id in [cid for cid, c in cursors.cursors.items() if c.namespace == namespace]:
        cursors.kill(cursor_id)


# ---------------------------------------------------------------- databases


@command("listDatabases", admin_only=True)
def list_databases(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Databases with at least one collection (manual: listDatabases)."""
    check_fields("listDatabases", body, ("nameOnly", "filter", "authorizedDatabases"))
    name_only = get_bool("listDatabases", body, "nameOnly")
    matcher = compile_filter(get_document("listDatabases", body, "filter", {}) or {})
    databases = []
    total = 0
    for name, database in sorted(ctx.server.storage.databases.items()):
        entry: dict[str, Any] = {"name": name}
        if not name_only:
            size = sum(c.data_size() for c in database.collections.values())
            entry.update(sizeOnDisk=Int64(size), empty=size == 0)
        if matcher.matches(entry):
            databases.append(entry)
            total += entry.get("sizeOnDisk", 0)
    if name_only:
        return {"databases": databases}
    return {"databases": databases, "totalSize": Int64(total), "totalSizeMb": Int64(total >> 20)}


@command("dropDatabase")
def drop_database(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Drop the database and its collections; ok whether or not it existed
    (since 5.0 the reply is just ``{ok: 1}``: SERVER-58864)."""
    check_fields("dropDatabase", body, ())
    if get_int("dropDatabase", body, "dropDatabase") != 1:
        raise CommandError(ErrorCode.Location5255100, "Have to pass 1 as 'drop' parameter")
    database = ctx.server.storage.database(ctx.db)
    if database is not None:
        for collection in database.collections.values():
            _kill_cursors_of(ctx, collection.namespace)
    ctx.server.storage.drop_database(ctx.db)
    return {}


# ---------------------------------------------------------------- collections

_CREATE_OPTIONS = (
    "capped", "size", "max", "collation", "validator", "validationLevel", "validationAction",
    "viewOn", "pipeline", "timeseries", "clusteredIndex", "expireAfterSeconds",
    "changeStreamPreAndPostImages", "storageEngine", "indexOptionDefaults", "idIndex",
    "encryptedFields", "autoIndexId", "temp", "flags", "recordIdsReplicated",
)  # fmt: skip
# Options fakemongo does not implement; mongod would honour them, so we refuse
# rather than create something that silently behaves differently.
_UNSUPPORTED_CREATE = tuple(o for o in _CREATE_OPTIONS if o not in ("capped", "size", "max"))


def _createoptions_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The stored options of ``create``, validated as create_command.cpp does."""
    capped = get_bool("create", body, "capped")
    size = get_int("create", body, "size")
    maximum = get_int("create", body, "max")
    if size is not None:
        check_minimum("size", size, 1)
    for option in _UNSUPPORTED_CREATE:
        if option in body:
            raise CommandError(
                ErrorCode.BadValue, f"fakemongo does not support the create option '{option}'"
            )
    if capped and size is None:
        raise CommandError(
            ErrorCode.InvalidOptions, "the 'size' field is required when 'capped' is true"
        )
    if not capped and (size or maximum):
        raise CommandError(
            ErrorCode.InvalidOptions,
            "the 'capped' field needs to be true when either the 'size' or 'max' fields "
            "are present",
        )
    if not capped:
        return {}
    options: dict[str, Any] = {"capped": True, "size": size}
    if maximum is not None and maximum > 0:  # max <= 0 means no limit (CollectionOptions)
        options["max"] = maximum
    return options


@command("create")
def create(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Create a collection, optionally capped (manual: create). Creating one
    that exists with the same options succeeds; with others it is 48."""
    name = collection_name(ctx.db, body)
    check_fields("create", body, _CREATE_OPTIONS)
    options = _createoptions_of(body)
    existing = ctx.server.storage.collection(ctx.db, name)
    if existing is not None:
        if existing.options != options:
            raise CommandError(
                ErrorCode.NamespaceExists,
                f"namespace {existing.namespace} already exists, but with different options: "
                f"{bson_repr(existing.options)}",
            )
        return {}
    ctx.server.storage.create(ctx.db, name, options)
    return {}


@command("drop")
def drop(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Drop a collection; since 7.0 dropping a missing one is ok (manual: drop)."""
    name = collection_name(ctx.db, body)
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
        "info": {"readOnly": False, "uuid": Binary.from_uuid(collection.uuid)},
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


def _namespace(body: Mapping[str, Any], field: str, which: str) -> tuple[str, str]:
    value = body.get(field)
    if value is None:
        raise missing_field("renameCollection", field)
    if not isinstance(value, str):
        raise wrong_type("renameCollection", field, value, "type 'string'")
    db, dot, name = value.partition(".")
    try:
        if not dot:
            raise CommandError(ErrorCode.InvalidNamespace, value)
        validate_namespace(db, name)
    except CommandError:
        raise CommandError(
            ErrorCode.InvalidNamespace, f"Invalid {which} namespace: {value}"
        ) from None
    return db, name


@command("renameCollection", admin_only=True)
def rename_collection(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Rename ``db.a`` to ``db.b`` or across databases (``dropTarget`` replaces
    an existing target; manual: renameCollection)."""
    check_fields("renameCollection", body, ("to", "dropTarget", "stayTemp"))
    source_db, source_name = _namespace(body, "renameCollection", "source")
    target_db, target_name = _namespace(body, "to", "target")
    if (source_db, source_name) == (target_db, target_name):
        raise CommandError(ErrorCode.IllegalOperation, "Can't rename a collection to itself")
    drop_target = get_bool("renameCollection", body, "dropTarget")
    storage = ctx.server.storage
    source = storage.collection(source_db, source_name)
    if source is None:
        raise CommandError(
            ErrorCode.NamespaceNotFound,
            f"Source collection {source_db}.{source_name} does not exist",
        )
    if storage.collection(target_db, target_name) is not None:
        if not drop_target:
            raise CommandError(ErrorCode.NamespaceExists, "target namespace exists")
        _kill_cursors_of(ctx, f"{target_db}.{target_name}")
        storage.drop(target_db, target_name)
    _kill_cursors_of(ctx, source.namespace)
    storage.rename(source, target_db, target_name)
    return {}


# ---------------------------------------------------------------- statistics

# fakemongo's sizes are BSON sizes; an index entry is counted as 16 bytes.
_INDEX_ENTRY_BYTES = 16


def _index_sizes(collection: Collection, scale: int) -> dict[str, int]:
    return {
        name: sum(len(ids) for ids in index.entries.values()) * _INDEX_ENTRY_BYTES // scale
        for name, index in collection.indexes.items()
    }


@command("collStats", "collstats")
def coll_stats(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Counts and sizes of one collection (manual: collStats). A missing
    collection reports zeros, as mongod does since it ignores NamespaceNotFound."""
    name = collection_name(ctx.db, body)
    check_fields("collStats", body, ("scale", "verbose", "waitForLock", "numericOnly"))
    scale = check_minimum("scale", get_int("collStats", body, "scale", 1) or 0, 1)
    namespace = f"{ctx.db}.{name}"
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        return {
            "ns": namespace, "size": 0, "count": 0, "numOrphanDocs": 0, "storageSize": 0,
            "totalSize": 0, "nindexes": 0, "totalIndexSize": 0, "indexDetails": {},
            "indexSizes": {}, "scaleFactor": scale,
        }  # fmt: skip
    size = collection.data_size()
    count = len(collection)
    index_sizes = _index_sizes(collection, scale)
    stats: dict[str, Any] = {
        "ns": namespace,
        "size": size // scale,
        "count": count,
        "avgObjSize": size // count if count else 0,
        "numOrphanDocs": 0,
        "storageSize": size // scale,
        "freeStorageSize": 0,
        "capped": collection.capped,
    }
    if collection.capped:
        stats["max"] = collection.options.get("max", 0)
        stats["maxSize"] = collection.capped_size // scale
    stats.update(
        nindexes=len(collection.indexes),
        indexBuilds=[],
        totalIndexSize=sum(index_sizes.values()),
        totalSize=size // scale + sum(index_sizes.values()),
        indexSizes=index_sizes,
        scaleFactor=scale,
    )
    return stats


@command("dbStats", "dbstats")
def db_stats(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Counts and sizes of one database (manual: dbStats)."""
    check_fields("dbStats", body, ("scale", "freeStorage"))
    scale = get_int("dbStats", body, "scale", 1)
    assert scale is not None
    if scale <= 0:
        raise CommandError(ErrorCode.BadValue, "Scale factor must be greater than zero")
    database = ctx.server.storage.database(ctx.db)
    collections = list(database.collections.values()) if database is not None else []
    objects = sum(len(c) for c in collections)
    data = sum(c.data_size() for c in collections)
    index = sum(sum(_index_sizes(c, 1).values()) for c in collections)
    return {
        "db": ctx.db,
        "collections": Int64(len(collections)),
        "views": Int64(0),
        "objects": Int64(objects),
        "avgObjSize": data / objects if objects else 0.0,
        "dataSize": data / scale,
        "storageSize": data / scale,
        "indexes": Int64(sum(len(c.indexes) for c in collections)),
        "indexSize": index / scale,
        "totalSize": (data + index) / scale,
        "scaleFactor": Int64(scale),
    }


# ---------------------------------------------------------------- indexes


def _index_specs(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "indexes" not in body:
        raise missing_field("createIndexes", "indexes")
    specs = body["indexes"]
    if specs is None:
        raise CommandError(
            ErrorCode.Location10065, "invalid parameter: expected an object (indexes)"
        )
    if not isinstance(specs, list):
        raise wrong_type("createIndexes", "indexes", specs, "type 'array'")
    if not specs:
        raise CommandError(ErrorCode.BadValue, "Must specify at least one index to create")
    for number, spec in enumerate(specs):
        if not isinstance(spec, Mapping):
            raise wrong_type("createIndexes", f"indexes.{number}", spec, "type 'object'")
    if get_bool("createIndexes", body, "ignoreUnknownIndexOptions"):
        specs = [{k: v for k, v in spec.items() if k in INDEX_FIELDS} for spec in specs]
    return specs


@command("createIndexes")
def create_indexes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Create indexes, all or none; existing identical ones are a no-op (manual:
    createIndexes). The collection is created if it does not exist."""
    name = collection_name(ctx.db, body)
    check_fields("createIndexes", body, ("indexes", "commitQuorum", "ignoreUnknownIndexOptions"))
    specs = _index_specs(body)
    if "commitQuorum" in body:
        raise CommandError(ErrorCode.BadValue, "Standalones can't specify commitQuorum")
    indexes = [parse_index(spec) for spec in specs]
    storage = ctx.server.storage
    collection = storage.collection(ctx.db, name)
    created = collection is None
    catalog = dict(collection.indexes) if collection is not None else {}
    before = len(catalog) or 1
    to_build: list[Index] = []
    for index in indexes:
        pending = next((i for i in to_build if i.name == index.name), None)
        if (
            pending is not None
            and signature(pending) == signature(index)
            and options_of(pending) == options_of(index)
        ):
            # Both specs pass the catalog check; the second build meets the first.
            raise CommandError(
                ErrorCode.IndexAlreadyExists, f"Identical index already exists: {index.name}"
            )
        existing = catalog.get(index.name) or pending
        same = next(
            (i for i in [*catalog.values(), *to_build] if signature(i) == signature(index)), None
        )
        if not check_conflict(index, existing, same):
            to_build.append(index)
    if not to_build:
        return {
            "numIndexesBefore": before,
            "numIndexesAfter": before,
            "note": "all indexes already exist",
        }
    collection = storage.get_or_create(ctx.db, name)
    built: list[str] = []
    try:
        for index in to_build:
            collection.add_index(index)
            built.append(index.name)
    except DuplicateKeyError as exc:
        for index_name in built:
            collection.drop_index(index_name)
        raise IndexBuildFailed(collection, exc) from exc
    return {
        "numIndexesBefore": before,
        "numIndexesAfter": len(collection.indexes),
        "createdCollectionAutomatically": created,
    }


@command("listIndexes")
def list_indexes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The index specifications of a collection, as a cursor (manual: listIndexes)."""
    name = collection_name(ctx.db, body)
    check_fields("listIndexes", body, ("cursor", "includeBuildUUIDs", "includeIndexBuildInfo"))
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        raise CommandError(ErrorCode.NamespaceNotFound, f"ns does not exist: {ctx.db}.{name}")
    docs = [dict(index.spec) for index in collection.indexes.values()]
    return _first_batch(ctx, f"{ctx.db}.$cmd.listIndexes.{name}", docs, body)


def _indexes_to_drop(collection: Collection, target: Any) -> list[str]:
    if target == "*":
        return [n for n in collection.indexes if n != "_id_"]
    if isinstance(target, str):
        names = [target]
    elif isinstance(target, list):
        if not all(isinstance(t, str) for t in target):
            raise wrong_type("dropIndexes", "index", target, "types '[string']")
        names = list(target)
    elif isinstance(target, Mapping):
        key = list(target.items())
        found = [i.name for i in collection.indexes.values() if i.key == key]
        if not found:
            raise CommandError(
                ErrorCode.IndexNotFound, f"can't find index with key: {bson_repr(target)}"
            )
        names = found[:1]
    else:
        raise wrong_type("dropIndexes", "index", target, "types '[string, object']")
    for index_name in names:
        if index_name == "_id_":
            raise CommandError(ErrorCode.InvalidOptions, "cannot drop _id index")
        if index_name not in collection.indexes:
            raise CommandError(ErrorCode.IndexNotFound, f"index not found with name [{index_name}]")
    return names


@command("dropIndexes", "deleteIndexes")
def drop_indexes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Drop indexes by name, key pattern, list of names, or "*" (all but _id;
    manual: dropIndexes)."""
    name = collection_name(ctx.db, body)
    command_name = next(iter(body))
    check_fields(command_name, body, ("index",))
    if "index" not in body:
        raise missing_field("dropIndexes", "index")
    collection = ctx.server.storage.collection(ctx.db, name)
    if collection is None:
        raise CommandError(ErrorCode.NamespaceNotFound, f"ns not found {ctx.db}.{name}")
    before = len(collection.indexes)
    for index_name in _indexes_to_drop(collection, body["index"]):
        collection.drop_index(index_name)
    return {"nIndexesWas": before}
