"""The 2012 API over a fake executor, and the group() translation."""

from __future__ import annotations

from typing import Any

import bson
import pytest

from mongotor.client import Client, OperationKind
from mongotor.client._group import group_pipeline
from mongotor.errors import (
    BulkWriteError,
    DuplicateKeyError,
    EncodingError,
    IntegrityError,
    InterfaceError,
)

from ._fakes import FakeExecutor, cursor_reply, fake_database


@pytest.mark.asyncio
async def test_insert() -> None:
    executor = FakeExecutor().answer({"ok": 1, "n": 1}, {"ok": 1, "n": 2}, {}, {"ok": 1, "n": 2})
    users = fake_database(executor).users
    new_id = await users.insert({"name": "ana"})
    assert new_id is not None
    ids = await users.insert([{"_id": 1}, {"_id": 2}])
    assert ids == [1, 2]
    assert await users.insert({"_id": 3}, safe=False) == 3
    await users.insert([{"_id": 4}, {"_id": 5}], continue_on_error=True)
    assert [r.command.get("writeConcern") for r in executor.requests] == [
        {"w": 1},
        {"w": 1},
        {"w": 0},
        {"w": 1},
    ]
    assert executor.requests[3].command["ordered"] is False
    assert not executor.requests[2].acknowledged
    with pytest.raises(EncodingError):
        await users.insert({"$bad": 1})
    with pytest.raises(EncodingError):
        await users.insert([{"a.b": 1}, {"c": 1}])
    await users.insert({"$fine": 1}, check_keys=False)


@pytest.mark.asyncio
async def test_insert_errors_are_integrity_errors() -> None:
    duplicate = {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key"}
    executor = FakeExecutor().answer(
        {"ok": 1, "n": 0, "writeErrors": [{"index": 0, "code": 11000, "errmsg": "dup"}]},
        {"ok": 1, "n": 1, "writeErrors": [duplicate]},
        {"ok": 1, "n": 2, "writeConcernError": {"code": 64, "errmsg": "wc"}},
    )
    users = fake_database(executor).users
    with pytest.raises(IntegrityError) as single:
        await users.insert({"_id": 1})
    assert single.value.code == 11000
    with pytest.raises(DuplicateKeyError) as many:
        await users.insert([{"_id": 1}, {"_id": 1}])
    assert many.value.index == 1 and isinstance(many.value.__cause__, BulkWriteError)
    with pytest.raises(BulkWriteError):
        await users.insert([{"_id": 1}, {"_id": 2}])


@pytest.mark.asyncio
async def test_remove() -> None:
    executor = FakeExecutor().answer({"ok": 1, "n": 3}, {"ok": 1, "n": 1}, {}, {"ok": 1, "n": 0})
    users = fake_database(executor).users
    assert await users.remove() == {"n": 3, "ok": 1.0}
    assert await users.remove(7, multi=False) == {"n": 1, "ok": 1.0}
    assert await users.remove({"a": 1}, safe=False) is None
    await users.remove({"a": 1}, comment="x")
    statements = [r.sequences[0].documents for r in executor.requests]
    assert executor.requests[0].command["delete"] == "users"
    assert executor.requests[3].command["comment"] == "x"
    assert len(statements) == 4


@pytest.mark.asyncio
async def test_update() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1, "n": 1, "nModified": 1},
        {"ok": 1, "n": 1, "nModified": 0, "upserted": [{"index": 0, "_id": 5}]},
        {"ok": 1, "n": 3, "nModified": 3},
        {},
    )
    users = fake_database(executor).users
    assert await users.update({"a": 1}, {"$set": {"b": 1}}) == {
        "n": 1,
        "nModified": 1,
        "updatedExisting": True,
        "ok": 1.0,
    }
    assert await users.update({"a": 2}, {"b": 2}, upsert=True) == {
        "n": 1,
        "nModified": 0,
        "updatedExisting": False,
        "ok": 1.0,
        "upserted": 5,
    }
    assert (await users.update({}, {"$inc": {"n": 1}}, multi=True))["n"] == 3  # type: ignore[index]
    assert await users.update({}, {"$inc": {"n": 1}}, safe=False) is None
    assert [r.retryable for r in executor.requests] == [True, True, False, True]


@pytest.mark.asyncio
async def test_count() -> None:
    executor = FakeExecutor().answer({"ok": 1, "n": 5}, {"ok": 1, "n": 2})
    users = fake_database(executor).users
    assert await users.count() == 5
    assert await users.count({"a": 1}, skip=1, limit=2, hint="a_1", max_time_ms=3) == 2
    assert executor.commands == [
        {"count": "users"},
        {"count": "users", "query": {"a": 1}, "skip": 1, "limit": 2, "hint": "a_1", "maxTimeMS": 3},
    ]
    with pytest.raises(TypeError, match="unexpected"):
        await users.count(fields=["a"])


@pytest.mark.asyncio
async def test_group_runs_as_an_aggregation() -> None:
    executor = FakeExecutor().answer(cursor_reply([{"a": 1, "count": 2}]))
    users = fake_database(executor).users
    result = await users.group(
        {"a": 1},
        {"b": {"$gt": 0}},
        {"count": 0},
        "function (o, p) { p.count++; }",
        None,
        "secondary",
    )
    assert result == [{"a": 1, "count": 2}]
    (request,) = executor.requests
    assert request.kind is OperationKind.READ
    assert request.command["pipeline"] == [
        {"$match": {"b": {"$gt": 0}}},
        {"$group": {"_id": {"a": "$a"}, "count": {"$sum": 1}}},
        {"$project": {"_id": 0, "a": "$_id.a", "count": "$count"}},
    ]


def test_group_translations() -> None:
    reduce = """function(doc, out) {
        out.n += 1; ++out.c; out.total += doc.amount;
        out.total = out.total + doc.extra.value;
        out.half += 0.5
    }"""
    assert group_pipeline(
        ["k"], None, {"n": 10, "c": 0, "total": 0, "half": 0, "tag": "x"}, reduce
    ) == [
        {
            "$group": {
                "_id": {"k": "$k"},
                "n": {"$sum": 1},
                "c": {"$sum": 1},
                "total": {"$sum": {"$add": ["$amount", "$extra.value"]}},
                "half": {"$sum": 0.5},
            }
        },
        {
            "$project": {
                "_id": 0,
                "k": "$_id.k",
                "tag": {"$literal": "x"},
                "n": {"$add": [10, "$n"]},
                "c": "$c",
                "total": "$total",
                "half": "$half",
            }
        },
    ]
    accumulators = {"top": {"$max": "$score"}}
    assert group_pipeline(None, {}, {}, accumulators) == [
        {"$group": {"_id": None, "top": {"$max": "$score"}}},
        {"$project": {"_id": 0, "top": "$top"}},
    ]


@pytest.mark.parametrize(
    ("key", "initial", "reduce", "finalize", "message"),
    [
        ({"a": 1}, {}, "function(o, p) { p.n++ }", "function(p) {}", "finalize"),
        ("function(doc) { return {a: 1} }", {}, "function(o, p) {}", None, "keyf"),
        (["a.b"], {}, "function(o, p) { p.n++ }", None, "cannot group by"),
        (["a"], {}, "p.n++", None, "not a function"),
        (["a"], {}, "function(o, p) { p.items.push(o) }", None, "cannot translate the statement"),
        (["a"], {}, "function(o, p) { p.n += other.x }", None, "cannot translate 'other.x'"),
        (["a"], {"n": []}, "function(o, p) { p.n++ }", None, "must be a number"),
        (["a"], {"n": True}, "function(o, p) { p.n++ }", None, "must be a number"),
    ],
)
def test_what_group_cannot_translate(
    key: Any, initial: dict[str, Any], reduce: str, finalize: str | None, message: str
) -> None:
    with pytest.raises(InterfaceError, match=message) as caught:
        group_pipeline(key, None, initial, reduce, finalize)
    assert "aggregate" in str(caught.value)


@pytest.mark.asyncio
async def test_map_reduce() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1, "results": [{"_id": 1, "value": 2}]},
        {"ok": 1, "result": "totals"},
        {"ok": 1, "result": {"db": "app", "collection": "merged"}},
        {"ok": 1, "result": "totals", "counts": {}},
    )
    users = fake_database(executor).users
    assert await users.inline_map_reduce("function(){}", "function(){}", query={"a": 1}) == [
        {"_id": 1, "value": 2}
    ]
    out = await users.map_reduce("m", "r", "totals")
    assert isinstance(out, Client) and out.name == "totals"
    merged = await users.map_reduce("m", "r", {"merge": "merged", "db": "app"})
    assert merged.name == "merged"
    assert (await users.map_reduce("m", "r", "totals", full_response=True))["counts"] == {}
    inline, replace, merge, _ = executor.requests
    assert inline.kind is OperationKind.READ and inline.command == {
        "mapReduce": "users",
        "map": "function(){}",
        "reduce": "function(){}",
        "out": {"inline": 1},
        "query": {"a": 1},
    }
    assert replace.kind is OperationKind.WRITE and replace.command["out"] == {"replace": "totals"}
    assert merge.command["out"] == {"merge": "merged", "db": "app"}


@pytest.mark.asyncio
async def test_update_takes_an_id_like_remove_and_find_one() -> None:
    # The 2012 README updated by ``user["_id"]``; a spec that is not a mapping
    # is an _id, as remove() and find_one() already read it.
    executor = FakeExecutor().answer({"ok": 1, "n": 1, "nModified": 1})
    users = fake_database(executor).users
    await users.update(7, {"$set": {"b": 1}})
    (statement,) = executor.requests[0].sequences[0].documents
    assert bson.decode(statement)["q"] == {"_id": 7}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda users: users.update({"a": 1}, ["not", "a", "mapping"]), "document must be"),
        (lambda users: users.update_one({"a": 1}, 5), "update must be a mapping or a list"),
        (lambda users: users.update_many("a", {"$set": {"a": 1}}), "filter must be"),
        (lambda users: users.replace_one(1, {"a": 1}), "filter must be"),
        (lambda users: users.replace_one({}, "doc"), "replacement must be"),
        (lambda users: users.delete_one(5), "filter must be"),
        (lambda users: users.delete_many(None), "filter must be"),
        (lambda users: users.insert_one("doc"), "document must be"),
    ],
)
async def test_documents_that_are_not_mappings_fail_before_sending(call: Any, message: str) -> None:
    executor = FakeExecutor()
    users = fake_database(executor).users
    with pytest.raises(TypeError, match=message):
        await call(users)
    assert executor.requests == []
