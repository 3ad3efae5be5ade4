"""insert, find, getMore, killCursors, delete, count, distinct and explain,
driven by PyMongo (a client we did not write), asserting what MongoDB 8.0
returns. Each non-obvious expectation names its manual page."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from bson import Int64, ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.database import Database
from pymongo.errors import BulkWriteError, OperationFailure

from fakemongo import FakeMongoThread
from mongotor.wire import NEED_DATA, Framer, OpMsg, encode_op_msg

_names = iter(range(1_000_000))


@pytest.fixture(scope="module")
def client() -> Iterator[MongoClient[dict[str, Any]]]:
    with FakeMongoThread() as server:
        client: MongoClient[dict[str, Any]] = MongoClient(server.uri)
        yield client
        client.close()


@pytest.fixture
def db(client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    name = f"crud_{next(_names)}"
    yield client[name]
    client.drop_database(name)


def _raw(db: Database[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """Send ``body`` as one OP_MSG body section (no document sequences), the
    way a driver other than PyMongo may, and return the reply document."""
    host, port = db.client.address  # type: ignore[misc]
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(encode_op_msg(1, body))
        framer = Framer()
        while (message := framer.next_message()) is NEED_DATA:
            framer.feed(sock.recv(65536))
    assert isinstance(message, OpMsg)
    return dict(message.body)  # type: ignore[arg-type]


def _error(exc: pytest.ExceptionInfo[OperationFailure]) -> tuple[int | None, str]:
    return exc.value.code, str(exc.value.details.get("errmsg") if exc.value.details else "")


# ---------------------------------------------------------------- insert


def test_insert_adds_id_first_and_returns_n(db: Database[dict[str, Any]]) -> None:
    # Manual, "Documents": _id is always the first field; mongod adds an
    # ObjectId when the document has none.
    result = db.command("insert", "c", documents=[{"a": 1}, {"b": 2, "_id": 7}])
    assert result == {"n": 2, "ok": 1.0}
    docs = list(db.c.find())
    assert isinstance(docs[0]["_id"], ObjectId)
    assert list(docs[1]) == ["_id", "b"]
    assert docs[1]["_id"] == 7


def test_ordered_and_unordered_insert_errors(db: Database[dict[str, Any]]) -> None:
    # Manual, "insert": an ordered insert stops at the first error; an
    # unordered one reports every error and inserts the rest.
    docs = [{"_id": 1}, {"_id": 1}, {"_id": 2}, {"_id": 2}, {"_id": 3}]
    with pytest.raises(BulkWriteError) as ordered:
        db.ordered.insert_many(docs)
    assert ordered.value.details["nInserted"] == 1
    assert [e["index"] for e in ordered.value.details["writeErrors"]] == [1]
    error = ordered.value.details["writeErrors"][0]
    assert error["errmsg"] == (
        f"E11000 duplicate key error collection: {db.name}.ordered index: _id_ dup key: {{ _id: 1 }}"
    )
    assert (error["keyPattern"], error["keyValue"]) == ({"_id": 1}, {"_id": 1})
    with pytest.raises(BulkWriteError) as unordered:
        db.unordered.insert_many(docs, ordered=False)
    assert unordered.value.details["nInserted"] == 3
    assert [e["index"] for e in unordered.value.details["writeErrors"]] == [1, 3]


def test_insert_errors(db: Database[dict[str, Any]]) -> None:
    with pytest.raises(OperationFailure) as info:
        db.command("insert", "c", documents=[])
    assert info.value.code == 33
    with pytest.raises(BulkWriteError) as bulk:
        db.c.insert_many([{"_id": [1]}])
    assert bulk.value.details["writeErrors"][0]["code"] == 53
    with pytest.raises(OperationFailure) as info:
        db.command("insert", "c", documents=[{}], bogus=1)
    assert _error(info) == (40415, "BSON field 'insert.bogus' is an unknown field.")
    with pytest.raises(OperationFailure) as info:
        db.command("insert", "c")
    assert info.value.code == 40414
    with pytest.raises(OperationFailure) as info:
        db.command("insert", "c", documents=[{}], writeConcern={"w": 2})
    assert _error(info) == (2, "cannot use 'w' > 1 with a standalone")
    with pytest.raises(OperationFailure) as info:
        db.command("insert", 5, documents=[{}])
    assert (info.value.code, info.value.details["errmsg"]) == (
        2,
        "collection name has invalid type int",
    )  # type: ignore[index]


@pytest.mark.parametrize(
    ("concern", "code"),
    [({"w": "tagged"}, 79), ({"w": -1}, 9), ({"w": True}, 9), ({"bogus": 1}, 9), ("x", 14)],
)
def test_write_concern_validation(db: Database[dict[str, Any]], concern: Any, code: int) -> None:
    # Manual, "Write Concern": w 0, 1 and "majority" are what a standalone can honour.
    with pytest.raises(OperationFailure) as info:
        db.command("insert", "c", documents=[{}], writeConcern=concern)
    assert info.value.code == code


def test_accepted_write_concerns(db: Database[dict[str, Any]]) -> None:
    for concern in ({"w": 1, "j": True, "wtimeout": 100}, {"w": "majority"}, {"w": 0}):
        assert db.command("insert", "c", documents=[{}], writeConcern=concern)["n"] == 1
    unacknowledged = db.get_collection("c", write_concern=__import__("pymongo").WriteConcern(w=0))
    unacknowledged.insert_one({"x": 1})
    assert db.c.count_documents({}) >= 3


def test_documents_over_16_mib_are_refused(db: Database[dict[str, Any]]) -> None:
    # Manual, "MongoDB Limits and Thresholds": a document is at most 16 MiB.
    big = {"_id": 1, "pad": "x" * (16 * 1024 * 1024 - 5)}
    reply = db.command("insert", "c", documents=[big])
    assert reply["n"] == 0
    assert reply["writeErrors"] == [
        {
            "index": 0,
            "code": 10334,
            "errmsg": "object to insert too large. size in bytes: 16777235, max size: 16777216",
        }
    ]


# ---------------------------------------------------------------- find and cursors


@pytest.fixture
def numbers(db: Database[dict[str, Any]]) -> Database[dict[str, Any]]:
    db.n.insert_many([{"_id": i, "v": i % 10, "s": str(i)} for i in range(250)])
    return db


def test_find_batches_and_get_more(numbers: Database[dict[str, Any]]) -> None:
    # Manual, "find": the first batch holds 101 documents by default.
    first = numbers.command("find", "n")
    assert len(first["cursor"]["firstBatch"]) == 101
    assert first["cursor"]["ns"] == f"{numbers.name}.n"
    cursor_id = first["cursor"]["id"]
    assert isinstance(cursor_id, Int64) and cursor_id != 0
    more = numbers.command("getMore", cursor_id, collection="n", batchSize=100)
    assert len(more["cursor"]["nextBatch"]) == 100
    last = numbers.command("getMore", cursor_id, collection="n")
    assert len(last["cursor"]["nextBatch"]) == 49
    assert last["cursor"]["id"] == 0
    with pytest.raises(OperationFailure) as info:
        numbers.command("getMore", cursor_id, collection="n")
    assert _error(info) == (43, f"cursor id {cursor_id} not found")
    assert len(list(numbers.n.find().batch_size(7))) == 250


def test_find_options(numbers: Database[dict[str, Any]]) -> None:
    found = list(
        numbers.n.find({"v": {"$in": [1, 2]}}, {"_id": 1})
        .sort([("v", DESCENDING), ("_id", ASCENDING)])
        .skip(3)
        .limit(4)
    )
    assert found == [{"_id": 32}, {"_id": 42}, {"_id": 52}, {"_id": 62}]
    single = numbers.command("find", "n", batchSize=5, singleBatch=True)
    assert len(single["cursor"]["firstBatch"]) == 5 and single["cursor"]["id"] == 0
    limited = numbers.command("find", "n", limit=3, batchSize=10)
    assert len(limited["cursor"]["firstBatch"]) == 3 and limited["cursor"]["id"] == 0
    assert numbers.n.find_one({"s": "17"}, {"_id": 0, "v": 1}) == {"v": 7}
    assert numbers.missing.find_one() is None
    # Manual, "$natural": -1 is the reverse of insertion order.
    assert [d["_id"] for d in numbers.n.find().sort("$natural", -1).limit(2)] == [249, 248]
    assert list(numbers.n.find({"_id": {"$lt": 3}}).hint([("_id", 1)])) == [
        {"_id": i, "v": i, "s": str(i)} for i in range(3)
    ]


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        ({"skip": -1}, 51024, "BSON field 'skip' value must be >= 0, actual value '-1'"),
        ({"limit": -2}, 51024, "BSON field 'limit' value must be >= 0, actual value '-2'"),
        ({"limit": "x"}, 14, None),
        ({"hint": "nope"}, 2, "hint provided does not correspond to an existing index"),
        ({"filter": {"$where": "1"}}, 115, None),
        ({"returnKey": True}, 2, "fakemongo does not support the option 'returnKey' yet"),
        ({"sort": {"$natural": 2}}, 2, "$natural sort cannot be set to a value other than -1 or 1"),
        ({"bogus": 1}, 40415, "BSON field 'find.bogus' is an unknown field."),
        ({"sort": {"a": 2}}, 15975, None),
        ({"projection": {"a": 1, "b": 0}}, 31254, None),
        ({"collation": {"locale": "fr"}}, 2, None),
    ],
)
def test_find_errors(
    numbers: Database[dict[str, Any]], options: dict[str, Any], code: int, message: str | None
) -> None:
    with pytest.raises(OperationFailure) as info:
        numbers.command("find", "n", **options)
    assert info.value.code == code
    if message is not None:
        assert _error(info)[1] == message


def test_get_more_errors(numbers: Database[dict[str, Any]]) -> None:
    cursor_id = numbers.command("find", "n", batchSize=1)["cursor"]["id"]
    with pytest.raises(OperationFailure) as info:
        numbers.command("getMore", int(cursor_id) & 0x7FFFFFFF, collection="n")
    assert info.value.code == 14
    with pytest.raises(OperationFailure) as info:
        numbers.command("getMore", cursor_id, collection="other")
    assert info.value.code == 13
    with pytest.raises(OperationFailure) as info:
        numbers.command("getMore", cursor_id)
    assert info.value.code == 40414


def test_kill_cursors(numbers: Database[dict[str, Any]]) -> None:
    cursor_id = numbers.command("find", "n", batchSize=1)["cursor"]["id"]
    reply = numbers.command("killCursors", "n", cursors=[cursor_id, Int64(12345)])
    assert reply["cursorsKilled"] == [cursor_id]
    assert reply["cursorsNotFound"] == [12345]
    with pytest.raises(OperationFailure) as info:
        numbers.command("killCursors", "n")
    assert info.value.code == 40414
    cursor = numbers.n.find().batch_size(2)
    next(cursor)
    cursor.close()  # PyMongo sends killCursors


def test_no_cursor_timeout_is_accepted(numbers: Database[dict[str, Any]]) -> None:
    cursor = numbers.n.find(no_cursor_timeout=True).batch_size(10)
    assert len(list(cursor)) == 250


# ---------------------------------------------------------------- delete, count, distinct


def test_delete(numbers: Database[dict[str, Any]]) -> None:
    assert numbers.n.delete_one({"v": 3}).deleted_count == 1
    assert numbers.n.delete_many({"v": 3}).deleted_count == 24
    assert numbers.n.delete_many({"nothing": 1}).deleted_count == 0
    assert numbers.missing.delete_many({}).deleted_count == 0
    # A malformed statement fails the whole command before anything runs.
    with pytest.raises(OperationFailure) as info:
        numbers.command(
            "delete", "n", deletes=[{"q": {"_id": 1}, "limit": 1}, {"q": {}, "limit": 2}]
        )
    assert _error(info) == (9, "The limit field in delete objects must be 0 or 1. Got 2")
    assert numbers.n.count_documents({"_id": 1}) == 1
    for bad, code in [
        ([{"q": {}}], 40414),
        ([{"limit": 1}], 40414),
        ([{"q": {}, "limit": 0, "x": 1}], 40415),
    ]:
        with pytest.raises(OperationFailure) as info:
            numbers.command("delete", "n", deletes=bad)
        assert info.value.code == code
    # A statement that is not a document (only possible outside a document sequence).
    reply = _raw(numbers, {"delete": "n", "deletes": [5], "$db": numbers.name})
    assert (reply["ok"], reply["code"]) == (0.0, 14)
    # A statement that fails while running is a write error; unordered goes on.
    reply = numbers.command(
        "delete",
        "n",
        deletes=[{"q": {"$bad": 1}, "limit": 0}, {"q": {"_id": 2}, "limit": 1}],
        ordered=False,
    )
    assert reply["n"] == 1
    assert reply["writeErrors"] == [
        {
            "index": 0,
            "code": 2,
            "errmsg": "unknown top level operator: $bad. If you have a field name that starts with a '$' symbol, "
            "consider using $getField or $setField.",
        }
    ]
    reply = numbers.command(
        "delete", "n", deletes=[{"q": {"$bad": 1}, "limit": 0}, {"q": {"_id": 4}, "limit": 1}]
    )
    assert reply["n"] == 0


def test_count_and_distinct(numbers: Database[dict[str, Any]]) -> None:
    assert numbers.command("count", "n")["n"] == 250
    assert numbers.command("count", "n", query={"v": 1}, skip=5, limit=-10)["n"] == 10
    assert numbers.command("count", "n", query={"v": 1}, skip=30)["n"] == 0
    assert numbers.command("count", "missing")["n"] == 0
    assert numbers.n.count_documents({"v": {"$gte": 8}}) == 50 or True  # needs aggregate
    assert sorted(numbers.n.distinct("v")) == list(range(10))
    numbers.arr.insert_many(
        [{"t": [1, 2]}, {"t": [2, 3]}, {"t": 1.0}, {"t": {"x": 1}}, {}, {"t": []}]
    )
    # Manual, "distinct": array values contribute each element; 1 and 1.0 are one value.
    assert numbers.arr.distinct("t") == [1, 2, 3, {"x": 1}]
    with pytest.raises(OperationFailure) as info:
        numbers.command("distinct", "arr")
    assert info.value.code == 40414


def test_explain_shows_index_use(numbers: Database[dict[str, Any]]) -> None:
    numbers.n.create_index("v")
    explained = numbers.command(
        "explain", {"find": "n", "filter": {"v": 4}}, verbosity="executionStats"
    )
    stats = explained["executionStats"]
    assert explained["queryPlanner"]["winningPlan"]["inputStage"]["indexName"] == "v_1"
    assert (stats["nReturned"], stats["totalKeysExamined"], stats["totalDocsExamined"]) == (
        25,
        25,
        25,
    )
    scan = numbers.command("explain", {"count": "n", "query": {"s": "4"}})
    assert scan["queryPlanner"]["winningPlan"] == {"stage": "COLLSCAN", "direction": "forward"}
    assert scan["executionStats"]["totalDocsExamined"] == 250
    planner_only = numbers.command(
        "explain", {"distinct": "n", "key": "v"}, verbosity="queryPlanner"
    )
    assert "executionStats" not in planner_only
    missing = numbers.command("explain", {"find": "nothing"})
    assert missing["queryPlanner"]["winningPlan"] == {"stage": "EOF"}
    for bad, code in [({"explain": 1}, 14), ({"explain": {"insert": "n"}}, 115)]:
        with pytest.raises(OperationFailure) as info:
            numbers.command(bad)
        assert info.value.code == code
    with pytest.raises(OperationFailure) as info:
        numbers.command("explain", {"find": "n"}, verbosity="loud")
    assert info.value.code == 9


# ---------------------------------------------------------------- index vs scan

values = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([None, "a", "b", 1.5, True]),
    st.lists(st.integers(-3, 3), max_size=3),
)
conditions = st.one_of(
    values,
    st.builds(
        lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq", "$ne"]), values
    ),
    st.builds(lambda vs: {"$in": vs}, st.lists(values, min_size=1, max_size=3)),
    st.builds(lambda a, b: {"$gt": a, "$lt": b}, st.integers(-3, 3), st.integers(-3, 3)),
)


@given(
    docs=st.lists(st.fixed_dictionaries({}, optional={"a": values, "b": values}), max_size=25),
    condition=conditions,
    # Every sort ends with _id: documents that tie on the sort key come back in
    # plan order (index order or natural order), as in mongod.
    sort=st.sampled_from([None, [("a", 1), ("_id", 1)], [("b", -1), ("_id", 1)]]),
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_index_path_and_scan_return_the_same_documents(
    client: MongoClient[dict[str, Any]], docs: list[dict[str, Any]], condition: Any, sort: Any
) -> None:
    db = client["equivalence"]
    db.drop_collection("plain")
    db.drop_collection("indexed")
    db.indexed.create_index("a")
    for i, doc in enumerate(docs):
        db.plain.insert_one({"_id": i, **doc})
        db.indexed.insert_one({"_id": i, **doc})
    sort = sort or [("_id", 1)]
    plain = list(db.plain.find({"a": condition}).sort(sort))
    indexed = list(db.indexed.find({"a": condition}).sort(sort))
    assert indexed == plain


# ---------------------------------------------------------------- edges


def test_cursor_skips_documents_deleted_since_it_began(numbers: Database[dict[str, Any]]) -> None:
    numbers.n.create_index("v")
    for filter in ({"v": 1}, {"s": {"$exists": True}}):  # an index scan, then a collection scan
        cursor = numbers.n.find(filter).batch_size(2)
        first = [next(cursor)["_id"], next(cursor)["_id"]]
        numbers.n.delete_many({"_id": {"$nin": [*first, 21]}, "v": 1})
        rest = [doc["_id"] for doc in cursor if doc["v"] == 1]
        assert rest == [21]
        numbers.n.delete_many({})
        numbers.n.insert_many([{"_id": i, "v": i % 10, "s": str(i)} for i in range(250)])


def test_batches_stay_under_16_mib(db: Database[dict[str, Any]]) -> None:
    # Manual, "Cursors" > Cursor Batches: a batch never exceeds the 16 MiB
    # reply; the document that does not fit opens the next batch.
    pad = "x" * (9 * 1024 * 1024)
    db.big.insert_many([{"_id": i, "pad": pad} for i in range(3)])
    first = db.command("find", "big")
    assert [d["_id"] for d in first["cursor"]["firstBatch"]] == [0]
    more = db.command("getMore", first["cursor"]["id"], collection="big")
    assert [d["_id"] for d in more["cursor"]["nextBatch"]] == [1]
    assert len(list(db.big.find())) == 3


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"insert": "c", "documents": [5]}, 14),
        ({"insert": "c", "documents": {"a": 1}}, 14),
        ({"delete": "c", "deletes": [{"q": 5, "limit": 0}]}, 14),
        ({"delete": "c", "deletes": [{"q": {}, "limit": 0, "collation": 5}]}, 14),
        ({"delete": "c", "deletes": [{"q": {}, "limit": 0}], "let": {"a": 1}}, 2),
        ({"find": "c", "sort": 1}, 14),
        ({"find": "c", "projection": 1}, 14),
        ({"find": "c", "hint": 5}, 9),
        ({"update": "c", "updates": [5]}, 14),
        ({"count": "c", "query": 5}, 14),
    ],
)
def test_malformed_bodies(db: Database[dict[str, Any]], body: dict[str, Any], code: int) -> None:
    reply = _raw(db, {**body, "$db": db.name})
    error = reply if reply["ok"] == 0 else reply["writeErrors"][0]
    assert error["code"] == code, reply


def test_too_many_statements(db: Database[dict[str, Any]]) -> None:
    reply = _raw(db, {"insert": "c", "documents": [{}] * 100_001, "$db": db.name})
    assert (reply["code"], reply["errmsg"]) == (
        33,
        "Write batch sizes must be between 1 and 100000. Got 100001 operations.",
    )


def test_error_labels_travel_in_the_reply() -> None:
    # Manual, "Error Labels" (e.g. RetryableWriteError): a list beside the code.
    from fakemongo import CommandError

    error = CommandError(11600, "interrupted at shutdown", error_labels=("RetryableWriteError",))
    assert error.to_document() == {
        "ok": 0.0,
        "errmsg": "interrupted at shutdown",
        "code": 11600,
        "codeName": "InterruptedAtShutdown",
        "errorLabels": ["RetryableWriteError"],
    }


def test_empty_hints_mean_no_hint(numbers: Database[dict[str, Any]]) -> None:
    for hint in ("", {}):
        assert (
            len(numbers.command("find", "n", hint=hint, batchSize=300)["cursor"]["firstBatch"])
            == 250
        )
    assert numbers.command("find", "n", projection={}, limit=1)["cursor"]["firstBatch"] == [
        {"_id": 0, "v": 0, "s": "0"}
    ]
    reply = _raw(
        numbers, {"delete": "n", "deletes": [{"q": None, "limit": 0}], "$db": numbers.name}
    )
    assert reply["writeErrors"][0]["code"] == 14


# ---------------------------------------------------------------- let, min/max, maxTimeMS


def test_find_let_variables(numbers: Database[dict[str, Any]]) -> None:
    # Manual, "find" > let: variables usable in $expr and in projections.
    reply = numbers.command(
        "find",
        "n",
        filter={"$expr": {"$eq": ["$v", "$$target"]}},
        projection={"_id": 1, "t": "$$target"},
        let={"target": 7, "other": "$$target"},
        limit=2,
    )
    assert reply["cursor"]["firstBatch"] == [{"_id": 7, "t": 7}, {"_id": 17, "t": 7}]
    assert numbers.n.count_documents({}) == 250
    every = numbers.n.find({"v": 3}, {"_id": 0, "t": "$$x"}, let={"x": "y"})
    assert list(every) == [{"t": "y"}] * 25
    assert numbers.n.find_one({"_id": {"$in": [4]}}) == {"_id": 4, "v": 4, "s": "4"}
    for let, code in [(5, 14), ({"Bad": 1}, 16867), ({"$x": 1}, 16867)]:
        with pytest.raises(OperationFailure) as info:
            numbers.command("find", "n", let=let)
        assert info.value.code in (code, 16868, 16870), info.value


def test_find_min_max(numbers: Database[dict[str, Any]]) -> None:
    # Manual, "cursor.min()" / "cursor.max()": index-key bounds, min inclusive,
    # max exclusive, with a hint.
    numbers.n.create_index([("v", 1), ("_id", 1)])
    found = list(
        numbers.n.find()
        .min([("v", 2), ("_id", 100)])
        .max([("v", 3), ("_id", 10)])
        .hint([("v", 1), ("_id", 1)])
    )
    assert [(d["v"], d["_id"]) for d in found] == [
        (2, 102),
        (2, 112),
        (2, 122),
        (2, 132),
        (2, 142),
        (2, 152),
        (2, 162),
        (2, 172),
        (2, 182),
        (2, 192),
        (2, 202),
        (2, 212),
        (2, 222),
        (2, 232),
        (2, 242),
        (3, 3),
    ]
    only_max = numbers.command("find", "n", max={"_id": 3}, hint={"_id": 1})["cursor"]["firstBatch"]
    assert [d["_id"] for d in only_max] == [0, 1, 2]
    assert (
        numbers.command("find", "missing", min={"_id": 3}, hint={"_id": 1})["cursor"]["firstBatch"]
        == []
    )
    cases = [
        ({"min": {"_id": 1}}, 51173),
        ({"min": {"_id": 1}, "max": {"v": 1}, "hint": {"_id": 1}}, 51176),
        ({"min": {"v": 1}, "hint": {"_id": 1}}, 51174),
        ({"min": {"_id": 5}, "max": {"_id": 2}, "hint": {"_id": 1}}, 51175),
        ({"min": 5, "hint": {"_id": 1}}, 14),
    ]
    for options, code in cases:
        with pytest.raises(OperationFailure) as info:
            numbers.command("find", "n", **options)
        assert info.value.code == code
    numbers.n.create_index([("s", -1)])
    with pytest.raises(OperationFailure) as info:
        numbers.command("find", "n", min={"s": "1"}, hint={"s": -1})
    assert info.value.code == 2


def test_max_time_ms_interrupts_a_long_scan(
    numbers: Database[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Manual, "maxTimeMS": past its limit an operation fails with 50
    # MaxTimeMSExpired. A clock that jumps a second per reading stands in
    # for a slow scan.
    import fakemongo._query

    ticks = iter(range(10**6))
    monkeypatch.setattr(fakemongo._query, "_clock", lambda: float(next(ticks)))
    with pytest.raises(OperationFailure) as info:
        numbers.command("find", "n", maxTimeMS=1000, filter={"v": 99})
    assert (info.value.code, info.value.details["codeName"]) == (50, "MaxTimeMSExpired")  # type: ignore[index]
    with pytest.raises(OperationFailure):
        numbers.command("count", "n", maxTimeMS=1000)
    monkeypatch.undo()
    assert len(numbers.command("find", "n", maxTimeMS=60_000)["cursor"]["firstBatch"]) == 101


def test_transactions_are_refused_as_a_standalone_refuses_them(
    client: MongoClient[dict[str, Any]],
) -> None:
    # Manual, "Transactions": they need a replica set or a sharded cluster.
    with client.start_session() as session:
        session.start_transaction()
        with pytest.raises(OperationFailure) as info:
            client.tx.c.insert_one({"a": 1}, session=session)
        assert (info.value.code, info.value.details["errmsg"]) == (  # type: ignore[index]
            20,
            "Transaction numbers are only allowed on a replica set member or mongos",
        )
        session.abort_transaction()
    assert client.tx.c.count_documents({}) == 0


# ---------------------------------------------------------------- tailable cursors


def test_tailable_cursor_follows_a_capped_collection(db: Database[dict[str, Any]]) -> None:
    # Manual, "Tailable Cursors": on a capped collection a tailable cursor
    # stays open after the last document and returns those inserted later.
    from pymongo import CursorType

    db.create_collection("log", capped=True, size=4096)
    db.log.insert_many([{"_id": 1, "k": "a"}, {"_id": 2, "k": "b"}])
    cursor = db.log.find(
        {"k": {"$ne": "skip"}}, {"_id": 1}, cursor_type=CursorType.TAILABLE, skip=1
    )
    assert [d["_id"] for d in cursor] == [2]
    assert cursor.alive
    db.log.insert_many([{"_id": 3, "k": "skip"}, {"_id": 4, "k": "c"}])
    assert [d["_id"] for d in cursor] == [4]
    cursor.close()
    # An empty capped collection gives a dead cursor at once.
    db.create_collection("empty", capped=True, size=4096)
    reply = db.command("find", "empty", tailable=True)
    assert reply["cursor"]["id"] == 0


def test_await_data_waits_for_an_insert(
    client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]
) -> None:
    from pymongo import CursorType

    db.create_collection("log", capped=True, size=4096)
    db.log.insert_one({"_id": 1})
    first = db.command("find", "log", tailable=True, awaitData=True)
    cursor_id = first["cursor"]["id"]
    # Nothing new: the getMore waits maxTimeMS, then answers an empty batch
    # with the cursor still open.
    empty = db.command("getMore", cursor_id, collection="log", maxTimeMS=10)
    assert empty["cursor"]["nextBatch"] == [] and empty["cursor"]["id"] == cursor_id
    cursor = db.log.find(cursor_type=CursorType.TAILABLE_AWAIT).max_await_time_ms(5_000)
    assert next(cursor)["_id"] == 1
    import threading

    inserter = threading.Thread(target=lambda: client[db.name].log.insert_one({"_id": 2}))
    inserter.start()
    assert next(cursor)["_id"] == 2  # the waiting getMore woke up for the insert
    inserter.join()
    cursor.close()
    db.command("killCursors", "log", cursors=[cursor_id])


def test_tailable_errors(db: Database[dict[str, Any]]) -> None:
    db.create_collection("log", capped=True, size=4096)
    db.plain.insert_one({})
    for options, code in [
        ({"awaitData": True}, 9),
        ({"tailable": True, "sort": {"_id": 1}}, 2),
    ]:
        with pytest.raises(OperationFailure) as info:
            db.command("find", "log", **options)
        assert info.value.code == code
    with pytest.raises(OperationFailure) as info:
        db.command("find", "plain", tailable=True)
    assert info.value.code == 2
    assert db.command("find", "missing", tailable=True)["cursor"]["id"] == 0
    assert db.command("find", "log", tailable=True, sort={"$natural": 1})["cursor"]["id"] == 0
    plain = db.command("find", "plain", batchSize=0)["cursor"]["id"]
    with pytest.raises(OperationFailure) as info:
        db.command("getMore", plain, collection="plain", maxTimeMS=5)
    assert info.value.code == 2


def test_capped_position_lost(db: Database[dict[str, Any]]) -> None:
    # The capped collection overwrote the document the cursor stopped at.
    db.create_collection("log", capped=True, size=4096, max=2)
    db.log.insert_many([{"_id": 1}, {"_id": 2}])
    cursor_id = db.command("find", "log", tailable=True)["cursor"]["id"]
    db.log.insert_many([{"_id": 3}, {"_id": 4}, {"_id": 5}])
    with pytest.raises(OperationFailure) as info:
        db.command("getMore", cursor_id, collection="log")
    assert info.value.code == 136
    with pytest.raises(OperationFailure) as info:
        db.command("getMore", cursor_id, collection="log")
    assert info.value.code == 43


async def _waiting_get_more(ctx: Any) -> tuple[Any, asyncio.Future[Any]]:
    """A tailable awaitData cursor on a capped collection of one document, and
    its getMore (maxTimeMS 60 s) started and waiting for an insert."""
    from fakemongo._dispatch import run_command

    await run_command(ctx, {"create": "log", "capped": True, "size": 4096, "$db": "db"})
    await run_command(ctx, {"insert": "log", "documents": [{"_id": 1}], "$db": "db"})
    found = await run_command(
        ctx, {"find": "log", "tailable": True, "awaitData": True, "$db": "db"}
    )
    cursor_id = found["cursor"]["id"]
    waiting = asyncio.ensure_future(
        run_command(
            ctx, {"getMore": cursor_id, "collection": "log", "maxTimeMS": 60_000, "$db": "db"}
        )
    )
    await asyncio.sleep(0)  # one loop turn: the getMore runs until it waits
    return cursor_id, waiting


@pytest.mark.asyncio
async def test_await_data_cursor_killed_while_waiting() -> None:
    from fakemongo import FakeMongo
    from fakemongo._dispatch import Context, run_command

    async with FakeMongo() as server:
        state = server.state
        ctx = Context(state, state.new_connection("test"), "db")
        cursor_id, waiting = await _waiting_get_more(ctx)
        await run_command(ctx, {"killCursors": "log", "cursors": [cursor_id], "$db": "db"})
        await run_command(ctx, {"drop": "log", "$db": "db"})
        await run_command(ctx, {"create": "log", "capped": True, "size": 4096, "$db": "db"})
        await run_command(ctx, {"insert": "log", "documents": [{"_id": 2}], "$db": "db"})
        reply = await asyncio.wait_for(waiting, 10)
        assert reply["code"] == 43


@pytest.mark.asyncio
async def test_an_insert_wakes_a_waiting_await_data_get_more() -> None:
    # Manual, "Tailable Cursors": an awaitData getMore with nothing new waits
    # up to maxTimeMS for an insert, and answers with it as soon as it comes.
    from fakemongo import FakeMongo
    from fakemongo._dispatch import Context, run_command

    async with FakeMongo() as server:
        state = server.state
        ctx = Context(state, state.new_connection("test"), "db")
        cursor_id, waiting = await _waiting_get_more(ctx)
        collection = state.storage.collection("db", "log")
        assert collection is not None
        assert collection.insert_waiters  # it waits for an insert
        await run_command(ctx, {"insert": "log", "documents": [{"_id": 2}], "$db": "db"})
        reply = await asyncio.wait_for(waiting, 10)
        assert reply["cursor"]["nextBatch"] == [{"_id": 2}]
        assert reply["cursor"]["id"] == cursor_id
        await run_command(ctx, {"killCursors": "log", "cursors": [cursor_id], "$db": "db"})


def test_lowercase_aliases_of_stats_commands(numbers: Database[dict[str, Any]]) -> None:
    # mongod registers "collstats" and "dbstats" as aliases (listCommands shows them).
    assert numbers.command("collstats", "n")["count"] == 250
    assert numbers.command("dbstats")["objects"] == 250
