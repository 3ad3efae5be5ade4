"""Databases, collections and indexes, driven through PyMongo's API where it has
one, asserting the codes and messages MongoDB 8.0 answers with.

Sources: the manual's pages for listDatabases, dropDatabase, create, drop,
listCollections, renameCollection, collStats, dbStats, createIndexes,
listIndexes and dropIndexes; "Capped Collections", "Partial Indexes", "TTL
Indexes", "Unique Indexes". Where the manual gives no wording, the wording is
mongod's (create_command.cpp, rename_collection_cmd.cpp, index_key_validate.cpp,
IndexCatalogImpl, the IDL parsers), as drivers' and FerretDB's compatibility
tests record it against real servers.
"""

from __future__ import annotations

import datetime
from typing import Any

import bson
import pytest
from bson import Decimal128, Int64, ObjectId
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure

NUMBER_TYPES = "types '[long, int, decimal, double']"


def _error(info: pytest.ExceptionInfo[OperationFailure]) -> tuple[int | None, str]:
    details = info.value.details or {}
    return info.value.code, str(details.get("errmsg"))


def _fails(db: Database[dict[str, Any]], *args: Any, **kwargs: Any) -> tuple[int | None, str]:
    with pytest.raises(OperationFailure) as info:
        db.command(*args, **kwargs)
    return _error(info)


# ---------------------------------------------------------------- listDatabases


def test_list_databases(client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]) -> None:
    db.c.insert_one({"_id": 1, "x": "y"})
    db.create_collection("empty")
    assert db.name in client.list_database_names()
    reply = client.admin.command("listDatabases", filter={"name": db.name})
    size = len(bson.encode({"_id": 1, "x": "y"}))
    assert reply["databases"] == [{"name": db.name, "sizeOnDisk": size, "empty": False}]
    assert isinstance(reply["databases"][0]["sizeOnDisk"], Int64)
    assert reply["totalSize"] == size
    assert reply["totalSizeMb"] == 0
    assert reply["ok"] == 1.0


def test_list_databases_name_only_and_filters(
    client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]
) -> None:
    db.create_collection("empty")
    # A database holding only empty collections is listed, and empty.
    reply = client.admin.command("listDatabases", filter={"name": db.name, "empty": True})
    assert reply["databases"] == [{"name": db.name, "sizeOnDisk": 0, "empty": True}]
    reply = client.admin.command("listDatabases", nameOnly=True, filter={"name": db.name})
    assert reply == {"databases": [{"name": db.name}], "ok": 1.0}
    # With nameOnly the entries have no size to filter on.
    reply = client.admin.command(
        "listDatabases", nameOnly=True, filter={"name": db.name, "empty": True}
    )
    assert reply["databases"] == []
    assert client.admin.command("listDatabases", filter={"name": "nope"})["totalSize"] == 0


def test_list_databases_errors(client: MongoClient[dict[str, Any]]) -> None:
    admin = client.admin
    assert _fails(admin, "listDatabases", bogus=1) == (
        40415,
        "BSON field 'listDatabases.bogus' is an unknown field.",
    )
    assert _fails(admin, "listDatabases", nameOnly="yes") == (
        14,
        "BSON field 'listDatabases.nameOnly' is the wrong type 'string', expected types "
        "'[bool, long, int, decimal, double']",
    )
    assert _fails(admin, "listDatabases", filter=1) == (
        14,
        "BSON field 'listDatabases.filter' is the wrong type 'int', expected type 'object'",
    )


# ---------------------------------------------------------------- dropDatabase


def test_drop_database(client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]) -> None:
    db.c.insert_many([{"_id": i} for i in range(5)])
    reply = db.command("find", "c", batchSize=2)
    # manual, dropDatabase (since 5.0, SERVER-58864): the reply is just ok.
    assert db.command("dropDatabase") == {"ok": 1.0}
    assert db.name not in client.list_database_names()
    with pytest.raises(OperationFailure) as info:
        db.command("getMore", reply["cursor"]["id"], collection="c")
    assert info.value.code == 43  # its cursors went with it
    assert db.command("dropDatabase") == {"ok": 1.0}  # a missing database is no error
    client.drop_database(db.name)


def test_drop_database_needs_1(db: Database[dict[str, Any]]) -> None:
    assert _fails(db, "dropDatabase", 0) == (5255100, "Have to pass 1 as 'drop' parameter")
    assert _fails(db, "dropDatabase", 1, bogus=1)[0] == 40415


# ---------------------------------------------------------------- create


def test_create_and_list(db: Database[dict[str, Any]]) -> None:
    assert db.command("create", "c") == {"ok": 1.0}
    # manual, create: since 7.0 an existing collection with the same options is ok.
    assert db.command("create", "c") == {"ok": 1.0}
    [info] = db.list_collections()
    assert info == {
        "name": "c",
        "type": "collection",
        "options": {},
        "info": {"readOnly": False, "uuid": info["info"]["uuid"]},
        "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
    }
    assert info["info"]["uuid"].subtype == 4  # a UUID, as BSON binary subtype 4


def test_capped_collection(db: Database[dict[str, Any]]) -> None:
    # manual, "Capped Collections": once max documents are there, the oldest go.
    capped = db.create_collection("capped", capped=True, size=100_000, max=3)
    assert capped.options() == {"capped": True, "size": 100_000, "max": 3}
    capped.insert_many([{"_id": i} for i in range(5)])
    assert [d["_id"] for d in capped.find()] == [2, 3, 4]
    stats = db.command("collStats", "capped")
    # Manual, "create": the cap is raised to a multiple of 256 bytes.
    assert (stats["capped"], stats["max"], stats["maxSize"]) == (True, 3, 100_096)
    # max <= 0 means no limit, so it is not stored.
    assert db.create_collection("unbounded", capped=True, size=4096, max=0).options() == {
        "capped": True,
        "size": 4096,
    }
    assert db.command("create", "negative", capped=True, size=4096, max=-5) == {"ok": 1.0}
    assert db.negative.options() == {"capped": True, "size": 4096}


def test_create_errors(db: Database[dict[str, Any]]) -> None:
    assert _fails(db, "create", "c", capped=True) == (
        72,
        "the 'size' field is required when 'capped' is true",
    )
    assert _fails(db, "create", "c", size=4096) == (
        72,
        "the 'capped' field needs to be true when either the 'size' or 'max' fields are present",
    )
    assert _fails(db, "create", "c", capped=False, max=5) == (
        72,
        "the 'capped' field needs to be true when either the 'size' or 'max' fields are present",
    )
    assert _fails(db, "create", "c", capped=True, size=0) == (
        51024,
        "BSON field 'size' value must be >= 1, actual value '0'",
    )
    assert _fails(db, "create", "c", capped=True, size=-500) == (
        51024,
        "BSON field 'size' value must be >= 1, actual value '-500'",
    )
    assert _fails(db, "create", "c", capped=True, size="foo") == (
        14,
        f"BSON field 'create.size' is the wrong type 'string', expected {NUMBER_TYPES}",
    )
    assert _fails(db, "create", "c", capped="foo") == (
        14,
        "BSON field 'create.capped' is the wrong type 'string', expected types "
        "'[bool, long, int, decimal, double']",
    )
    assert _fails(db, "create", "c", bogus=1) == (
        40415,
        "BSON field 'create.bogus' is an unknown field.",
    )
    assert _fails(db, "create", 42) == (2, "collection name has invalid type int")
    assert _fails(db, "create", None) == (2, "collection name has invalid type null")
    assert _fails(db, "create", "") == (73, f"Invalid namespace specified '{db.name}.'")
    assert db.list_collection_names() == []


def test_create_with_other_options_is_48(db: Database[dict[str, Any]]) -> None:
    db.command("create", "c")
    assert _fails(db, "create", "c", capped=True, size=4096) == (
        48,
        f"namespace {db.name}.c already exists, but with different options: {{}}",
    )
    db.command("create", "k", capped=True, size=4096)
    assert _fails(db, "create", "k") == (
        48,
        f"namespace {db.name}.k already exists, but with different options: "
        "{ capped: true, size: 4096 }",
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("validator", {"a": {"$exists": True}}),
        ("collation", {"locale": "en"}),
        ("timeseries", {"timeField": "t"}),
        ("viewOn", "c"),
        ("clusteredIndex", {"key": {"_id": 1}, "unique": True}),
        ("changeStreamPreAndPostImages", {"enabled": True}),
        ("expireAfterSeconds", 10),
    ],
)
def test_unsupported_create_options_are_refused_by_name(
    db: Database[dict[str, Any]], option: str, value: Any
) -> None:
    # fakemongo never fakes success: an option it does not implement is 2 BadValue.
    assert _fails(db, "create", "c", **{option: value}) == (
        2,
        f"fakemongo does not support the create option '{option}'",
    )


# ---------------------------------------------------------------- drop


def test_drop(db: Database[dict[str, Any]]) -> None:
    db.c.insert_many([{"_id": i} for i in range(5)])
    db.c.create_index("a")
    reply = db.command("find", "c", batchSize=2)
    assert db.command("drop", "c") == {"nIndexesWas": 2, "ns": f"{db.name}.c", "ok": 1.0}
    assert "c" not in db.list_collection_names()
    with pytest.raises(OperationFailure) as info:
        db.command("getMore", reply["cursor"]["id"], collection="c")
    assert info.value.code == 43
    # manual, drop: since 7.0 dropping a missing collection is ok.
    assert db.command("drop", "c") == {"ok": 1.0}
    assert _fails(db, "drop", "c", bogus=1)[0] == 40415


# ---------------------------------------------------------------- listCollections


def test_list_collections_filter_and_name_only(db: Database[dict[str, Any]]) -> None:
    for name in ("a", "b"):
        db.create_collection(name)
    db.create_collection("k", capped=True, size=4096)
    assert sorted(db.list_collection_names()) == ["a", "b", "k"]
    assert [c["name"] for c in db.list_collections(filter={"name": "b"})] == ["b"]
    assert [c["name"] for c in db.list_collections(filter={"options.capped": True})] == ["k"]
    reply = db.command("listCollections", nameOnly=True, filter={"name": {"$in": ["a", "k"]}})
    assert reply["cursor"]["firstBatch"] == [
        {"name": "a", "type": "collection"},
        {"name": "k", "type": "collection"},
    ]
    assert reply["cursor"]["ns"] == f"{db.name}.$cmd.listCollections"
    assert reply["cursor"]["id"] == 0


def test_list_collections_in_batches(db: Database[dict[str, Any]]) -> None:
    for name in ("a", "b", "c"):
        db.create_collection(name)
    reply = db.command("listCollections", cursor={"batchSize": 1})
    assert len(reply["cursor"]["firstBatch"]) == 1
    assert reply["cursor"]["id"] != 0
    # PyMongo follows the cursor with getMore on "$cmd.listCollections".
    assert sorted(c["name"] for c in db.list_collections(cursor={"batchSize": 1})) == [
        "a",
        "b",
        "c",
    ]
    empty = db.command("listCollections", cursor={"batchSize": 0})
    assert empty["cursor"]["firstBatch"] == []
    more = db.command("getMore", empty["cursor"]["id"], collection="$cmd.listCollections")
    assert len(more["cursor"]["nextBatch"]) == 3


def test_kill_list_cursors(db: Database[dict[str, Any]]) -> None:
    for name in ("a", "b", "c"):
        db.create_collection(name)
    collections = db.command("listCollections", cursor={"batchSize": 1})["cursor"]["id"]
    indexes = db.command("listIndexes", "a", cursor={"batchSize": 0})["cursor"]["id"]
    reply = db.command("killCursors", "$cmd.listCollections", cursors=[collections])
    assert reply["cursorsKilled"] == [collections]
    reply = db.command("killCursors", "$cmd.listIndexes.a", cursors=[indexes])
    assert reply["cursorsKilled"] == [indexes]


def test_list_collections_errors(db: Database[dict[str, Any]]) -> None:
    assert _fails(db, "listCollections", cursor={"batchSize": -1}) == (
        51024,
        "BSON field 'batchSize' value must be >= 0, actual value '-1'",
    )
    assert _fails(db, "listCollections", filter={"$bogus": 1})[0] == 2
    assert _fails(db, "listCollections", bogus=1)[0] == 40415
    assert _fails(db, "listCollections", cursor=1)[0] == 14


def test_list_collections_of_a_missing_database(client: MongoClient[dict[str, Any]]) -> None:
    assert client["no_such_db"].list_collection_names() == []


# ---------------------------------------------------------------- renameCollection


def test_rename_collection(
    client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]
) -> None:
    db.a.insert_one({"_id": 1})
    db.a.create_index("x")
    db.a.rename("b")
    assert db.list_collection_names() == ["b"]
    assert db.b.find_one() == {"_id": 1}
    assert [i["name"] for i in db.b.list_indexes()] == ["_id_", "x_1"]
    # Across databases too (manual, renameCollection).
    other = client[f"{db.name}_other"]
    try:
        client.admin.command("renameCollection", f"{db.name}.b", to=f"{other.name}.moved")
        assert other.moved.find_one() == {"_id": 1}
        assert db.name not in client.list_database_names()
    finally:
        client.drop_database(other.name)


def test_rename_collection_drop_target(db: Database[dict[str, Any]]) -> None:
    db.a.insert_one({"_id": "a"})
    db.b.insert_one({"_id": "b"})
    with pytest.raises(OperationFailure) as info:
        db.a.rename("b")
    assert _error(info) == (48, "target namespace exists")
    db.a.rename("b", dropTarget=True)
    assert db.list_collection_names() == ["b"]
    assert db.b.find_one() == {"_id": "a"}


def test_rename_collection_errors(
    client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]
) -> None:
    admin = client.admin
    source = f"{db.name}.missing"
    # The self-rename check comes before the source is looked up.
    assert _fails(admin, "renameCollection", source, to=source) == (
        20,
        "Can't rename a collection to itself",
    )
    assert _fails(admin, "renameCollection", source, to=f"{db.name}.x") == (
        26,
        f"Source collection {source} does not exist",
    )
    assert _fails(admin, "renameCollection", source, to="nodot") == (
        73,
        "Invalid target namespace: nodot",
    )
    assert _fails(admin, "renameCollection", "nodot", to=source) == (
        73,
        "Invalid source namespace: nodot",
    )
    assert _fails(admin, "renameCollection", f"{db.name}.$bad", to=source) == (
        73,
        f"Invalid source namespace: {db.name}.$bad",
    )
    assert _fails(admin, "renameCollection", source) == (
        40414,
        "BSON field 'renameCollection.to' is missing but a required field",
    )
    assert _fails(admin, "renameCollection", 5, to=source) == (
        14,
        "BSON field 'renameCollection.renameCollection' is the wrong type 'int', "
        "expected type 'string'",
    )
    assert _fails(admin, "renameCollection", source, to=source, bogus=1)[0] == 40415


# ---------------------------------------------------------------- collStats / dbStats


def test_coll_stats_counts_and_sizes(db: Database[dict[str, Any]]) -> None:
    docs = [{"_id": i, "pad": "x" * (100 * i)} for i in range(3)]
    db.c.insert_many(docs)
    db.c.create_index("pad")
    size = sum(len(bson.encode(d)) for d in docs)
    stats = db.command("collStats", "c")
    assert stats["ns"] == f"{db.name}.c"
    assert (stats["count"], stats["size"], stats["storageSize"]) == (3, size, size)
    assert stats["avgObjSize"] == size // 3
    assert stats["nindexes"] == 2
    assert set(stats["indexSizes"]) == {"_id_", "pad_1"}
    assert stats["totalIndexSize"] == sum(stats["indexSizes"].values()) > 0
    assert stats["totalSize"] == size + stats["totalIndexSize"]
    assert stats["capped"] is False
    assert stats["scaleFactor"] == 1
    scaled = db.command("collStats", "c", scale=1024)
    assert scaled["size"] == size // 1024
    assert scaled["scaleFactor"] == 1024
    assert scaled["avgObjSize"] == size // 3  # never scaled


def test_coll_stats_of_a_missing_collection_is_zeros(db: Database[dict[str, Any]]) -> None:
    # mongod's collStats ignores NamespaceNotFound and reports zeros.
    stats = db.command("collStats", "missing")
    assert stats == {
        "ns": f"{db.name}.missing",
        "size": 0,
        "count": 0,
        "numOrphanDocs": 0,
        "storageSize": 0,
        "totalSize": 0,
        "nindexes": 0,
        "totalIndexSize": 0,
        "indexDetails": {},
        "indexSizes": {},
        "scaleFactor": 1,
        "ok": 1.0,
    }


def test_numbers_convert_as_mongod_converts_them(
    client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]
) -> None:
    # BSONElement::safeNumberLong: truncation toward zero, NaN is 0, and
    # out-of-range values clamp to the int64 bounds.
    db.c.insert_one({"_id": 1})
    assert db.command("collStats", "c", scale=1024.9)["scaleFactor"] == 1024
    assert db.command("collStats", "c", scale=Decimal128("2.5"))["scaleFactor"] == 2
    assert db.command("collStats", "c", scale=float("inf"))["scaleFactor"] == 2**63 - 1
    assert _fails(db, "collStats", "c", scale=Decimal128("NaN")) == (
        51024,
        "BSON field 'scale' value must be >= 1, actual value '0'",
    )
    assert _fails(db, "collStats", "c", scale=float("-inf")) == (
        51024,
        "BSON field 'scale' value must be >= 1, actual value '-9223372036854775808'",
    )
    # Booleans accept every numeric type.
    reply = client.admin.command(
        "listDatabases", nameOnly=Decimal128("1"), filter={"name": db.name}
    )
    assert reply["databases"] == [{"name": db.name}]


def test_coll_stats_errors(db: Database[dict[str, Any]]) -> None:
    assert _fails(db, "collStats", "c", scale=0) == (
        51024,
        "BSON field 'scale' value must be >= 1, actual value '0'",
    )
    assert _fails(db, "collStats", "c", scale="x") == (
        14,
        f"BSON field 'collStats.scale' is the wrong type 'string', expected {NUMBER_TYPES}",
    )
    assert _fails(db, "collStats", "c", bogus=1)[0] == 40415


def test_db_stats(db: Database[dict[str, Any]]) -> None:
    db.a.insert_many([{"_id": 1}, {"_id": 2}])
    db.b.insert_one({"_id": 3, "s": "xyz"})
    db.b.create_index("s")
    data = 2 * len(bson.encode({"_id": 1})) + len(bson.encode({"_id": 3, "s": "xyz"}))
    stats = db.command("dbStats")
    assert stats["db"] == db.name
    assert (stats["collections"], stats["views"], stats["objects"]) == (2, 0, 3)
    assert isinstance(stats["collections"], Int64)
    assert stats["dataSize"] == data
    assert stats["avgObjSize"] == data / 3
    assert stats["indexes"] == 3
    assert stats["totalSize"] == data + stats["indexSize"]
    scaled = db.command("dbStats", scale=2)
    assert scaled["dataSize"] == data / 2
    assert scaled["scaleFactor"] == 2


def test_db_stats_of_a_missing_database(client: MongoClient[dict[str, Any]]) -> None:
    stats = client["no_such_db"].command("dbStats")
    assert (stats["collections"], stats["objects"], stats["dataSize"]) == (0, 0, 0)
    assert stats["avgObjSize"] == 0


def test_db_stats_errors(db: Database[dict[str, Any]]) -> None:
    for scale in (0, -100):
        assert _fails(db, "dbStats", scale=scale) == (2, "Scale factor must be greater than zero")
    assert _fails(db, "dbStats", scale="1") == (
        14,
        f"BSON field 'dbStats.scale' is the wrong type 'string', expected {NUMBER_TYPES}",
    )


# ---------------------------------------------------------------- createIndexes


def _specs(db: Database[dict[str, Any]], name: str = "c") -> list[dict[str, Any]]:
    return [dict(spec) for spec in db[name].list_indexes()]


def test_create_single_and_compound_indexes(db: Database[dict[str, Any]]) -> None:
    assert db.c.create_index("a") == "a_1"
    assert db.c.create_index([("a", ASCENDING), ("b", DESCENDING)]) == "a_1_b_-1"
    assert _specs(db) == [
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"a": 1}, "name": "a_1"},
        {"v": 2, "key": {"a": 1, "b": -1}, "name": "a_1_b_-1"},
    ]


def test_create_indexes_reply(db: Database[dict[str, Any]]) -> None:
    reply = db.command("createIndexes", "c", indexes=[{"key": {"a": 1}, "name": "a_1"}])
    assert reply == {
        "numIndexesBefore": 1,
        "numIndexesAfter": 2,
        "createdCollectionAutomatically": True,
        "ok": 1.0,
    }
    reply = db.command(
        "createIndexes",
        "c",
        indexes=[{"key": {"b": 1}, "name": "b_1"}, {"key": {"c": 1}, "name": "c_1"}],
    )
    assert reply["createdCollectionAutomatically"] is False
    assert (reply["numIndexesBefore"], reply["numIndexesAfter"]) == (2, 4)


def test_existing_identical_index_is_a_no_op_with_a_note(db: Database[dict[str, Any]]) -> None:
    db.c.create_index("a", unique=True)
    reply = db.command(
        "createIndexes", "c", indexes=[{"key": {"a": 1}, "name": "a_1", "unique": True}]
    )
    assert reply == {
        "numIndexesBefore": 2,
        "numIndexesAfter": 2,
        "note": "all indexes already exist",
        "ok": 1.0,
    }
    # The _id index always exists, whatever name the request gives it.
    reply = db.command("createIndexes", "c", indexes=[{"key": {"_id": 1}, "name": "id"}])
    assert reply["note"] == "all indexes already exist"


def test_unique_index(db: Database[dict[str, Any]]) -> None:
    db.c.create_index("u", unique=True)
    # listIndexes writes unique: true before the key (IndexCatalogImpl's spec order).
    assert _specs(db)[1] == {"v": 2, "unique": True, "key": {"u": 1}, "name": "u_1"}
    db.c.insert_one({"_id": 1, "u": 1})
    with pytest.raises(DuplicateKeyError) as info:
        db.c.insert_one({"_id": 2, "u": 1})
    assert info.value.code == 11000


def test_unique_index_over_duplicates_fails_and_builds_nothing(
    db: Database[dict[str, Any]],
) -> None:
    db.c.insert_many([{"_id": 1, "u": 5}, {"_id": 2, "u": 5}])
    with pytest.raises(OperationFailure) as info:
        db.command(
            "createIndexes",
            "c",
            indexes=[
                {"key": {"v": 1}, "name": "v_1"},
                {"key": {"u": 1}, "name": "u_1", "unique": True},
            ],
        )
    code, errmsg = _error(info)
    assert code == 11000
    assert errmsg.startswith("Index build failed: ")
    assert errmsg.endswith(
        f":: caused by :: E11000 duplicate key error collection: {db.name}.c index: u_1 "
        "dup key: { u: 5 }"
    )
    assert info.value.details is not None
    assert info.value.details["keyPattern"] == {"u": 1}
    assert info.value.details["keyValue"] == {"u": 5}
    assert [s["name"] for s in _specs(db)] == ["_id_"]  # all or nothing


def test_sparse_unique_index_allows_many_missing(db: Database[dict[str, Any]]) -> None:
    # manual, "Sparse Indexes": documents without the field are not indexed.
    db.c.create_index("s", unique=True, sparse=True)
    assert _specs(db)[1] == {"v": 2, "unique": True, "key": {"s": 1}, "name": "s_1", "sparse": True}
    db.c.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3, "s": 1}])
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": 4, "s": 1})


def test_partial_unique_index(db: Database[dict[str, Any]]) -> None:
    # manual, "Partial Indexes": uniqueness only among documents the filter matches.
    db.c.create_index("e", unique=True, partialFilterExpression={"active": {"$eq": True}})
    db.c.insert_many([{"_id": 1, "e": "x"}, {"_id": 2, "e": "x", "active": False}])
    db.c.insert_one({"_id": 3, "e": "x", "active": True})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": 4, "e": "x", "active": True})
    assert _specs(db)[1]["partialFilterExpression"] == {"active": {"$eq": True}}


def test_partial_filter_expression_operators(db: Database[dict[str, Any]]) -> None:
    allowed = {
        "$and": [{"a": {"$gt": 1, "$lte": 9}}, {"b": {"$exists": True}}],
        "$or": [{"c": {"$in": [1, 2]}}, {"d": {"$type": "string"}}],
        "e": 5,
    }
    db.c.create_index("a", partialFilterExpression=allowed)
    for bad, operator in (
        ({"a": {"$ne": 1}}, "$ne"),
        ({"a": {"$exists": False}}, "$exists: false"),
        ({"a": bson.Regex("^x")}, "$regex"),
        ({"$nor": [{"a": 1}]}, "$nor"),
        ({"$and": [{"a": {"$not": {"$eq": 1}}}]}, "$not"),
    ):
        errmsg = _fails(
            db,
            "createIndexes",
            "p",
            indexes=[{"key": {"a": 1}, "name": "a_1", "partialFilterExpression": bad}],
        )
        assert errmsg[0] == 67
        assert errmsg[1].endswith(
            f":: caused by :: Expression not supported in partial index: {operator}"
        )
    assert (
        _fails(
            db,
            "createIndexes",
            "p",
            indexes=[
                {"key": {"a": 1}, "name": "a_1", "partialFilterExpression": {"a": {"$bogus": 1}}}
            ],
        )[0]
        == 2
    )
    assert _fails(
        db,
        "createIndexes",
        "p",
        indexes=[{"key": {"a": 1}, "name": "a_1", "partialFilterExpression": 1}],
    ) == (
        14,
        'Error in specification { key: { a: 1 }, name: "a_1", partialFilterExpression: 1 } '
        ":: caused by :: The field 'partialFilterExpression' must be an object, but got int",
    )


def test_ttl_index(db: Database[dict[str, Any]]) -> None:
    db.c.create_index("at", expireAfterSeconds=3600)
    assert _specs(db)[1] == {"v": 2, "key": {"at": 1}, "name": "at_1", "expireAfterSeconds": 3600}
    old = datetime.datetime(2000, 1, 1)
    db.c.insert_many([{"_id": 1, "at": old}, {"_id": 2, "at": datetime.datetime.now(datetime.UTC)}])
    assert db.c.count_documents({}) == 2  # removal is the TTL monitor's job (test_server)


def test_ttl_index_errors(db: Database[dict[str, Any]]) -> None:
    def ttl(value: Any, key: dict[str, Any] | None = None) -> tuple[int | None, str]:
        spec = {"key": key or {"at": 1}, "name": "t", "expireAfterSeconds": value}
        return _fails(db, "createIndexes", "c", indexes=[spec])

    spec = 'key: { at: 1 }, name: "t", expireAfterSeconds'
    assert ttl(-1) == (
        67,
        f". Index spec: {{ {spec}: -1 }} :: caused by :: "
        "TTL index 'expireAfterSeconds' option cannot be less than 0",
    )
    assert ttl("x") == (
        67,
        f'. Index spec: {{ {spec}: "x" }} :: caused by :: '
        "TTL index 'expireAfterSeconds' option must be numeric, but received a type of 'string",
    )
    assert ttl(float("nan"))[1].endswith("TTL index 'expireAfterSeconds' option must not be NaN")
    assert ttl(2**31)[1].endswith(
        "TTL index 'expireAfterSeconds' must be within the range of a 32-bit integer"
    )
    assert ttl(float("inf"))[0] == 67
    assert ttl(10, {"a": 1, "b": 1}) == (
        67,
        "TTL indexes are single-field indexes, compound indexes do not support TTL. "
        'Index spec: { key: { a: 1, b: 1 }, name: "t", expireAfterSeconds: 10 }',
    )


def test_same_name_different_key_is_86(db: Database[dict[str, Any]]) -> None:
    db.c.create_index([("foo", -1)], name="index-name")
    with pytest.raises(OperationFailure) as info:
        db.c.create_index([("bar", -1)], name="index-name")
    assert _error(info) == (
        86,
        "An existing index has the same name as the requested index. When index names are "
        "not specified, they are auto generated and can cause conflicts. Please refer to our "
        'documentation. Requested index: { v: 2, key: { bar: -1 }, name: "index-name" }, '
        'existing index: { v: 2, key: { foo: -1 }, name: "index-name" }',
    )


def test_same_key_different_name_is_85(db: Database[dict[str, Any]]) -> None:
    db.c.create_index([("v", -1)], name="foo")
    with pytest.raises(OperationFailure) as info:
        db.c.create_index([("v", -1)], name="bar")
    assert _error(info) == (85, "Index already exists with a different name: foo")
    with pytest.raises(OperationFailure) as info:
        db.c.create_index([("v", -1)], name="bar", unique=True)
    assert _error(info) == (
        85,
        "An equivalent index already exists with a different name and options. Requested "
        'index: { v: 2, unique: true, key: { v: -1 }, name: "bar" }, existing index: '
        '{ v: 2, key: { v: -1 }, name: "foo" }',
    )
    with pytest.raises(OperationFailure) as info:
        db.c.create_index([("v", -1)], name="foo", sparse=True)
    assert _error(info) == (
        85,
        "An equivalent index already exists with the same name but different options. "
        'Requested index: { v: 2, key: { v: -1 }, name: "foo", sparse: true }, '
        'existing index: { v: 2, key: { v: -1 }, name: "foo" }',
    )
    # A different partial filter makes a different index: both may exist.
    db.c.create_index([("v", -1)], name="partial", partialFilterExpression={"v": {"$gt": 0}})
    assert [s["name"] for s in _specs(db)] == ["_id_", "foo", "partial"]


def test_conflicts_within_one_command(db: Database[dict[str, Any]]) -> None:
    same = {"key": {"v": 1}, "name": "v_1"}
    assert _fails(db, "createIndexes", "c", indexes=[same, same]) == (
        68,
        "Identical index already exists: v_1",
    )
    assert (
        _fails(
            db,
            "createIndexes",
            "c",
            indexes=[{"key": {"foo": -1}, "name": "n"}, {"key": {"bar": -1}, "name": "n"}],
        )[0]
        == 86
    )
    assert _fails(
        db,
        "createIndexes",
        "c",
        indexes=[{"key": {"v": -1}, "name": "foo"}, {"key": {"v": -1}, "name": "bar"}],
    ) == (85, "Index already exists with a different name: foo")
    assert db.list_collection_names() == []


@pytest.mark.parametrize(
    ("indexes", "code", "errmsg"),
    [
        ([], 2, "Must specify at least one index to create"),
        (
            42,
            14,
            "BSON field 'createIndexes.indexes' is the wrong type 'int', expected type 'array'",
        ),
        (
            {},
            14,
            "BSON field 'createIndexes.indexes' is the wrong type 'object', expected type 'array'",
        ),
        (
            ["invalid"],
            14,
            "BSON field 'createIndexes.indexes.0' is the wrong type 'string', expected type 'object'",
        ),
        (None, 10065, "invalid parameter: expected an object (indexes)"),
        (
            [{}],
            9,
            "Error in specification {} :: caused by :: "
            "The 'key' field is a required property of an index specification",
        ),
        (
            [{"key": {"v": 1}}],
            9,
            "Error in specification { key: { v: 1 } } :: caused by :: "
            "The 'name' field is a required property of an index specification",
        ),
        (
            [{"key": {"v": -1}, "name": ""}],
            67,
            'Error in specification { key: { v: -1 }, name: "", v: 2 } :: caused by :: '
            "index name cannot be empty",
        ),
        (
            [{"key": {"v": 1}, "name": "unique_index", "unique": {}}],
            14,
            'Error in specification { key: { v: 1 }, name: "unique_index", unique: {} } '
            ":: caused by :: The field 'unique has value unique: {}, which is not convertible to bool",
        ),
        (
            [{"key": {"_id": 1}, "name": "_id_", "unique": True}],
            197,
            "The field 'unique' is not valid for an _id index specification. "
            'Specification: { key: { _id: 1 }, name: "_id_", unique: true, v: 2 }',
        ),
        (
            [{"key": {"a": 1}, "name": "a", "bogus": 1}],
            197,
            'Error in specification { key: { a: 1 }, name: "a", bogus: 1 } :: caused by :: '
            "The field 'bogus' is not valid for an index specification. "
            'Specification: { key: { a: 1 }, name: "a", bogus: 1 }',
        ),
        (
            [{"key": {}, "name": "e"}],
            67,
            'Error in specification { key: {}, name: "e" } :: caused by :: Index keys cannot be empty.',
        ),
        (
            [{"key": {"a": 0}, "name": "z"}],
            67,
            'Error in specification { key: { a: 0 }, name: "z" } :: caused by :: '
            "Values in the index key pattern cannot be 0.",
        ),
        (
            [{"key": {"a": float("nan")}, "name": "z"}],
            67,
            'Error in specification { key: { a: nan }, name: "z" } :: caused by :: '
            "Values in the index key pattern cannot be NaN.",
        ),
        (
            [{"key": {"a": True}, "name": "z"}],
            67,
            'Error in specification { key: { a: true }, name: "z" } :: caused by :: Values in '
            "v:2 index key pattern cannot be of type bool. Only numbers > 0, numbers < 0, and "
            "strings are allowed.",
        ),
        (
            [{"key": {"a": "foo"}, "name": "z"}],
            67,
            'Error in specification { key: { a: "foo" }, name: "z" } :: caused by :: '
            "Unknown index plugin 'foo'",
        ),
        (
            [{"key": {"$a": 1}, "name": "z"}],
            67,
            'Error in specification { key: { $a: 1 }, name: "z" } :: caused by :: '
            "Index key contains an illegal field name: field name starts with '$'.",
        ),
        (
            [{"key": {"a..b": 1}, "name": "z"}],
            67,
            'Error in specification { key: { a..b: 1 }, name: "z" } :: caused by :: '
            "Index keys cannot contain an empty field.",
        ),
        (
            [{"key": 1, "name": "z"}],
            14,
            'Error in specification { key: 1, name: "z" } :: caused by :: '
            "The field 'key' must be an object, but got int",
        ),
        (
            [{"key": {"a": 1}, "name": 5}],
            14,
            "Error in specification { key: { a: 1 }, name: 5 } :: caused by :: "
            "The field 'name' must be a string, but got int",
        ),
        (
            [{"key": {"a": 1}, "name": "_id_"}],
            2,
            "The index name '_id_' is reserved for the _id index, which must have key pattern "
            "{_id: 1}, found key: { a: 1 }",
        ),
        ([{"key": {"a": 1}, "name": "*"}], 2, "The index name '*' is not valid."),
        (
            [{"key": {"a": 1}, "name": "a", "v": 3}],
            67,
            'Invalid index specification { key: { a: 1 }, name: "a", v: 3 }; '
            "cannot create an index with v=3",
        ),
    ],
)
def test_invalid_index_specifications(
    db: Database[dict[str, Any]], indexes: Any, code: int, errmsg: str
) -> None:
    assert _fails(db, "createIndexes", "c", indexes=indexes) == (code, errmsg)


def test_create_indexes_argument_errors(db: Database[dict[str, Any]]) -> None:
    assert _fails(db, "createIndexes", "c") == (
        40414,
        "BSON field 'createIndexes.indexes' is missing but a required field",
    )
    spec = [{"key": {"a": 1}, "name": "a_1"}]
    assert _fails(db, "createIndexes", 42, indexes=spec) == (
        2,
        "collection name has invalid type int",
    )
    assert _fails(db, "createIndexes", "", indexes=spec) == (
        73,
        f"Invalid namespace specified '{db.name}.'",
    )
    # A standalone has no replica set members to wait for.
    assert _fails(db, "createIndexes", "c", indexes=spec, commitQuorum="majority") == (
        2,
        "Standalones can't specify commitQuorum",
    )
    assert _fails(db, "createIndexes", "c", indexes=spec, bogus=1)[0] == 40415


@pytest.mark.parametrize("kind", ["text", "2dsphere", "2d", "hashed"])
def test_special_index_types_are_not_supported(db: Database[dict[str, Any]], kind: str) -> None:
    with pytest.raises(OperationFailure) as info:
        db.c.create_index([("a", kind)])
    assert _error(info) == (115, f"fakemongo does not support '{kind}' indexes (index key 'a')")
    assert info.value.details is not None
    assert info.value.details["codeName"] == "CommandNotSupported"


def test_wildcard_indexes_are_not_supported(db: Database[dict[str, Any]]) -> None:
    with pytest.raises(OperationFailure) as info:
        db.c.create_index([("$**", 1)])
    assert _error(info) == (115, "fakemongo does not support 'wildcard' indexes")


@pytest.mark.parametrize(
    ("option", "value"),
    [("hidden", True), ("collation", {"locale": "en"}), ("storageEngine", {"wiredTiger": {}})],
)
def test_unsupported_index_options_are_refused_by_name(
    db: Database[dict[str, Any]], option: str, value: Any
) -> None:
    with pytest.raises(OperationFailure) as info:
        db.c.create_index("a", **{option: value})
    assert _error(info) == (2, f"fakemongo does not support the index option '{option}'")


def test_index_options_kept_in_the_spec(db: Database[dict[str, Any]]) -> None:
    db.command(
        "createIndexes",
        "c",
        indexes=[
            {"key": {"a": 1}, "name": "a", "background": True, "v": 1, "unique": 1},
            {"key": {"b": 1}, "name": "b", "unique": False, "ns": "x.y", "dropDups": True},
        ],
    )
    assert _specs(db)[1:] == [
        {"v": 1, "unique": True, "key": {"a": 1}, "name": "a", "background": True},
        {"v": 2, "key": {"b": 1}, "name": "b"},
    ]


def test_ignore_unknown_index_options(db: Database[dict[str, Any]]) -> None:
    db.command(
        "createIndexes",
        "c",
        indexes=[{"key": {"a": 1}, "name": "a_1", "bogus": 1}],
        ignoreUnknownIndexOptions=True,
    )
    assert _specs(db)[1] == {"v": 2, "key": {"a": 1}, "name": "a_1"}


# ---------------------------------------------------------------- listIndexes


def test_list_indexes_in_batches(db: Database[dict[str, Any]]) -> None:
    for field in "abcd":
        db.c.create_index(field)
    reply = db.command("listIndexes", "c", cursor={"batchSize": 2})
    assert len(reply["cursor"]["firstBatch"]) == 2
    assert reply["cursor"]["ns"] == f"{db.name}.$cmd.listIndexes.c"
    cursor = db.c.list_indexes()
    cursor.batch_size(2)
    names = [spec["name"] for spec in cursor]
    assert names == ["_id_", "a_1", "b_1", "c_1", "d_1"]
    assert db.c.index_information()["a_1"] == {"v": 2, "key": [("a", 1)]}


def test_list_indexes_errors(db: Database[dict[str, Any]]) -> None:
    assert _fails(db, "listIndexes", "missing") == (
        26,
        f"ns does not exist: {db.name}.missing",
    )
    assert _fails(db, "listIndexes", 1) == (2, "collection name has invalid type int")
    assert _fails(db, "listIndexes", "c", bogus=1)[0] == 40415


# ---------------------------------------------------------------- dropIndexes


def _indexed(db: Database[dict[str, Any]]) -> None:
    for field in "abc":
        db.c.create_index(field)


def test_drop_index_by_name_key_and_list(db: Database[dict[str, Any]]) -> None:
    _indexed(db)
    db.c.drop_index("a_1")
    db.c.drop_index([("b", 1)])
    assert [s["name"] for s in _specs(db)] == ["_id_", "c_1"]
    _indexed(db)
    assert db.command("dropIndexes", "c", index=["a_1", "b_1"]) == {"nIndexesWas": 4, "ok": 1.0}
    assert [s["name"] for s in _specs(db)] == ["_id_", "c_1"]
    assert db.command("deleteIndexes", "c", index="c_1") == {"nIndexesWas": 2, "ok": 1.0}


def test_drop_all_indexes_keeps_id(db: Database[dict[str, Any]]) -> None:
    _indexed(db)
    db.c.drop_indexes()
    assert [s["name"] for s in _specs(db)] == ["_id_"]
    assert db.command("dropIndexes", "c", index="*") == {"nIndexesWas": 1, "ok": 1.0}


def test_drop_indexes_errors(db: Database[dict[str, Any]]) -> None:
    _indexed(db)
    assert _fails(db, "dropIndexes", "c", index="_id_") == (72, "cannot drop _id index")
    assert _fails(db, "dropIndexes", "c", index={"_id": 1}) == (72, "cannot drop _id index")
    assert _fails(db, "dropIndexes", "c", index={"_id": -1}) == (
        27,
        "can't find index with key: { _id: -1 }",
    )
    assert _fails(db, "dropIndexes", "c", index="nope") == (27, "index not found with name [nope]")
    assert _fails(db, "dropIndexes", "c", index={"non-existent1": -1, "non-existent2": -1}) == (
        27,
        "can't find index with key: { non-existent1: -1, non-existent2: -1 }",
    )
    assert _fails(db, "dropIndexes", "c", index=["a_1", "nope"]) == (
        27,
        "index not found with name [nope]",
    )
    assert _fails(db, "dropIndexes", "c", index=True) == (
        14,
        "BSON field 'dropIndexes.index' is the wrong type 'bool', expected types "
        "'[string, object']",
    )
    assert _fails(db, "dropIndexes", "c", index=[1]) == (
        14,
        "BSON field 'dropIndexes.index' is the wrong type 'array', expected types '[string']",
    )
    assert _fails(db, "dropIndexes", "c") == (
        40414,
        "BSON field 'dropIndexes.index' is missing but a required field",
    )
    assert _fails(db, "dropIndexes", "missing", index="a_1") == (
        26,
        f"ns not found {db.name}.missing",
    )
    assert _fails(db, "dropIndexes", "c", index="a_1", bogus=1)[0] == 40415
    # Nothing was dropped by the failed attempts.
    assert [s["name"] for s in _specs(db)] == ["_id_", "a_1", "b_1", "c_1"]


def test_indexes_serve_after_drops_and_renames(db: Database[dict[str, Any]]) -> None:
    # A small end-to-end check that an index serves queries after drops and renames.
    _indexed(db)
    oid = ObjectId()
    db.c.insert_one({"_id": oid, "a": 1})
    db.c.drop_index("b_1")
    db.c.rename("d")
    assert db.d.find_one({"a": 1}) == {"_id": oid, "a": 1}
