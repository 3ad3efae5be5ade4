"""Write models, runs and batches (pure), and merging batch replies into bulk results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import bson
import pytest
from bson import ObjectId

from mongotor.client import (
    DeleteMany,
    DeleteOne,
    InsertOne,
    ReplaceOne,
    ServerLimits,
    UpdateMany,
    UpdateOne,
    WriteConcern,
)
from mongotor.client._batching import COMMAND_OVERHEAD, encode, plan_batches, plan_runs
from mongotor.client._bulk import execute_runs
from mongotor.client._write_models import WriteKind, ensure_id
from mongotor.errors import BulkWriteError, DocumentTooLarge, EncodingError, InterfaceError

from ._fakes import FakeExecutor


def test_write_models_make_statements() -> None:
    assert InsertOne({"a": 1}).statement() == {"a": 1}
    update = UpdateOne(
        {"a": 1},
        {"$set": {"b": 2}},
        upsert=True,
        collation={"locale": "en"},
        array_filters=[{"x": 1}],
        hint="a_1",
        sort={"a": 1},
    )
    assert update.statement() == {
        "q": {"a": 1},
        "u": {"$set": {"b": 2}},
        "multi": False,
        "upsert": True,
        "arrayFilters": [{"x": 1}],
        "collation": {"locale": "en"},
        "hint": "a_1",
        "sort": {"a": 1},
    }
    assert UpdateMany({}, [{"$set": {"b": 1}}]).statement() == {
        "q": {},
        "u": [{"$set": {"b": 1}}],
        "multi": True,
    }
    assert ReplaceOne({"a": 1}, {"b": 1}, upsert=True, sort={"a": -1}).statement() == {
        "q": {"a": 1},
        "u": {"b": 1},
        "multi": False,
        "upsert": True,
        "sort": {"a": -1},
    }
    assert ReplaceOne({}, {}).statement()["u"] == {}
    assert DeleteOne({"a": 1}, hint={"a": 1}).statement() == {
        "q": {"a": 1},
        "limit": 1,
        "hint": {"a": 1},
    }
    assert DeleteMany({}).statement() == {"q": {}, "limit": 0}
    assert WriteKind.UPDATE.command == "update" and WriteKind.UPDATE.field == "updates"


@pytest.mark.parametrize("update", [{}, {"b": 1}, []])
def test_updates_need_operators(update: Any) -> None:
    with pytest.raises(InterfaceError):
        UpdateOne({}, update)


def test_replacements_refuse_operators() -> None:
    with pytest.raises(InterfaceError):
        ReplaceOne({}, {"$set": {"a": 1}})


def test_ensure_id() -> None:
    document: dict[str, Any] = {"a": 1}
    sent, new_id = ensure_id(document)
    assert sent is document and document["_id"] == new_id and isinstance(new_id, ObjectId)
    assert ensure_id({"_id": 5}) == ({"_id": 5}, 5)

    class Frozen(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            return {"a": 1}[key]

        def __iter__(self) -> Any:
            return iter(["a"])

        def __len__(self) -> int:
            return 1

    copy, frozen_id = ensure_id(Frozen())
    assert copy == {"_id": frozen_id, "a": 1}


def test_plan_runs_ordered_and_unordered() -> None:
    models = [
        InsertOne({"a": 1}),
        DeleteOne({"a": 1}),
        InsertOne({"a": 2}),
        UpdateMany({}, {"$set": {"b": 1}}),
        UpdateOne({}, {"$set": {"b": 2}}),
    ]
    ordered = plan_runs(models, ordered=True)
    assert [(run.kind, run.indexes, run.multi) for run in ordered] == [
        (WriteKind.INSERT, [0], False),
        (WriteKind.DELETE, [1], False),
        (WriteKind.INSERT, [2], False),
        (WriteKind.UPDATE, [3, 4], True),
    ]
    unordered = plan_runs(models, ordered=False)
    assert [(run.kind, run.indexes) for run in unordered] == [
        (WriteKind.INSERT, [0, 2]),
        (WriteKind.UPDATE, [3, 4]),
        (WriteKind.DELETE, [1]),
    ]


def test_encode() -> None:
    assert encode([{"a": 1}]) == bson.encode({"a": 1})
    assert encode([{"a": 1}, {"b": 2}]) == bson.encode({"a": 1}) + bson.encode({"b": 2})
    many = [{"i": i} for i in range(3000)]
    assert len(encode(many)) == sum(len(bson.encode(d)) for d in many)
    with pytest.raises(EncodingError, match="document 1"):
        encode([{"a": 1}, {"b": object()}])
    with pytest.raises(EncodingError, match="document 0"):
        encode([{"$a": 1}], check_keys=True)
    with pytest.raises(EncodingError, match=r"must not contain '\.'"):
        encode([{"ok": 1}, {"a": {"b.c": 1}}], check_keys=True)


def test_one_statement_is_sent_encoded() -> None:
    (batch,) = plan_batches(WriteKind.INSERT, [{"a": 1}], ServerLimits())
    assert (batch.start, batch.end) == (0, 1)
    assert list(batch.documents) == [bson.encode({"a": 1})]


def test_a_run_that_fits_is_one_batch_of_encoded_documents() -> None:
    documents = [{"i": i} for i in range(10)]
    (batch,) = plan_batches(WriteKind.INSERT, documents, ServerLimits())
    assert [bytes(d) for d in batch.documents] == [bson.encode(d) for d in documents]


def test_batches_split_by_count() -> None:
    documents = [{"i": i} for i in range(10)]
    limits = ServerLimits(max_write_batch_size=4)
    batches = plan_batches(WriteKind.INSERT, documents, limits)
    assert [(b.start, b.end) for b in batches] == [(0, 4), (4, 8), (8, 10)]
    assert [bson.decode(d) for d in batches[1].documents] == documents[4:8]


def test_batches_split_by_message_size() -> None:
    documents = [{"s": "x" * 100} for _ in range(10)]
    size = len(bson.encode(documents[0]))
    limits = ServerLimits(max_message_size=COMMAND_OVERHEAD + 3 * size)
    batches = plan_batches(WriteKind.INSERT, documents, limits)
    assert [(b.start, b.end) for b in batches] == [(0, 3), (3, 6), (6, 9), (9, 10)]


def test_a_document_over_the_limit_is_refused_before_sending() -> None:
    big = {"s": "x" * 200}
    size = len(bson.encode(big))
    limits = ServerLimits(max_bson_object_size=100)
    with pytest.raises(DocumentTooLarge) as caught:
        plan_batches(WriteKind.INSERT, [big], limits)
    assert (caught.value.size, caught.value.max_size) == (size, 100)
    assert "a document of" in str(caught.value)
    with pytest.raises(DocumentTooLarge, match="update statement"):
        plan_batches(
            WriteKind.UPDATE,
            [{"q": {}, "u": {"s": "x" * 20000}}, {"q": {}}],
            ServerLimits(max_bson_object_size=100),
        )
    # An update statement may exceed maxBsonObjectSize by the command allowance.
    statement = {"q": {}, "u": {"s": "x" * 150}}
    (batch,) = plan_batches(WriteKind.UPDATE, [statement], ServerLimits(max_bson_object_size=100))
    assert batch.end == 1


async def _run(executor: FakeExecutor, models: list[Any], ordered: bool) -> dict[str, Any]:
    return await execute_runs(
        executor,
        "app",
        "c",
        plan_runs(models, ordered=ordered),
        ordered=ordered,
        write_concern=WriteConcern(),
        options={},
    )


@pytest.mark.asyncio
async def test_results_are_merged_with_caller_indexes() -> None:
    executor = FakeExecutor().answer(
        {"ok": 1, "n": 2},
        {"ok": 1, "n": 2, "nModified": 1, "upserted": [{"index": 1, "_id": 7}]},
        {"ok": 1, "n": 3},
    )
    summary = await _run(
        executor,
        [
            InsertOne({"_id": 1}),
            UpdateOne({}, {"$set": {"a": 1}}),
            InsertOne({"_id": 2}),
            UpdateOne({}, {"$set": {"a": 1}}, upsert=True),
            DeleteMany({}),
        ],
        ordered=False,
    )
    assert summary["nInserted"] == 2
    assert (summary["nMatched"], summary["nModified"], summary["nUpserted"]) == (1, 1, 1)
    assert summary["upserted"] == [{"index": 3, "_id": 7}]
    assert summary["nRemoved"] == 3
    assert [r.command["ordered"] for r in executor.requests] == [False, False, False]
    assert [r.retryable for r in executor.requests] == [True, True, False]


@pytest.mark.asyncio
async def test_an_ordered_bulk_stops_at_the_first_write_error() -> None:
    executor = FakeExecutor(limits=ServerLimits(max_write_batch_size=2)).answer(
        {"ok": 1, "n": 1, "writeErrors": [{"index": 1, "code": 11000, "errmsg": "dup"}]},
    )
    with pytest.raises(BulkWriteError) as caught:
        await _run(executor, [InsertOne({"_id": i}) for i in range(5)], ordered=True)
    details = caught.value.details
    assert details["nInserted"] == 1
    assert details["writeErrors"][0]["index"] == 1
    assert details["writeErrors"][0]["op"] == {"_id": 1}
    assert len(executor.requests) == 1


@pytest.mark.asyncio
async def test_an_unordered_bulk_goes_on_and_reports_every_error_in_order() -> None:
    executor = FakeExecutor(limits=ServerLimits(max_write_batch_size=2)).answer(
        {"ok": 1, "n": 1, "writeErrors": [{"index": 1, "code": 11000, "errmsg": "dup"}]},
        {"ok": 1, "n": 1, "writeErrors": [{"index": 0, "code": 11000, "errmsg": "dup"}]},
        {"ok": 1, "n": 1, "writeConcernError": {"code": 64, "errmsg": "wc"}},
    )
    with pytest.raises(BulkWriteError) as caught:
        await _run(executor, [InsertOne({"_id": i}) for i in range(5)], ordered=False)
    details = caught.value.details
    assert [error["index"] for error in details["writeErrors"]] == [1, 2]
    assert details["writeConcernErrors"] == [{"code": 64, "errmsg": "wc"}]
    assert details["nInserted"] == 3


@pytest.mark.asyncio
async def test_unacknowledged_bulks_read_no_results() -> None:
    executor = FakeExecutor().answer({})
    summary = await execute_runs(
        executor,
        "app",
        "c",
        plan_runs([InsertOne({"_id": 1})], ordered=True),
        ordered=True,
        write_concern=WriteConcern(w=0),
        options={"comment": "x"},
    )
    assert summary["nInserted"] == 0
    (request,) = executor.requests
    assert not request.acknowledged
    assert request.command == {
        "insert": "c",
        "ordered": True,
        "comment": "x",
        "writeConcern": {"w": 0},
    }
