"""Cursors over a fake executor: batches, getMore, limits, options, killCursors."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from bson import Int64

from mongotor.client import (
    CommandCursor,
    Cursor,
    OperationKind,
    ReadConcern,
    ReadPreferenceMode,
    Request,
)
from mongotor.errors import CursorNotFound, InvalidOperationError, OperationFailure

from ._fakes import ADDRESS, FakeExecutor, cursor_reply, fake_database


def _docs(*ids: int) -> list[dict[str, Any]]:
    return [{"_id": i} for i in ids]


@pytest.mark.asyncio
async def test_iteration_streams_get_more_batches() -> None:
    executor = FakeExecutor().answer(
        cursor_reply(_docs(1, 2), 77, ns="app.users"),
        cursor_reply(_docs(3), 77, first=False),
        cursor_reply([], 77, first=False),
        cursor_reply(_docs(4), 0, first=False),
    )
    cursor = fake_database(executor).users.find({"a": 1}, batch_size=2, comment="c")
    assert repr(cursor) == "<Cursor app.users not started buffered=0 retrieved=0>"
    assert cursor.alive and not cursor.started and cursor.cursor_id is None
    assert [d["_id"] async for d in cursor] == [1, 2, 3, 4]
    assert not cursor.alive and cursor.cursor_id == 0 and cursor.address == ADDRESS
    assert cursor.retrieved == 4 and cursor.namespace == "app.users"
    find, *get_mores = executor.requests
    assert find.command == {"find": "users", "filter": {"a": 1}, "comment": "c", "batchSize": 2}
    assert find.kind is OperationKind.READ and find.retryable
    assert get_mores[0].command == {
        "getMore": Int64(77),
        "collection": "users",
        "batchSize": 2,
        "comment": "c",
    }
    assert all(r.address == ADDRESS and not r.retryable for r in get_mores)
    assert all(r.session is find.session for r in get_mores)
    with pytest.raises(StopAsyncIteration):
        await cursor.next()


@pytest.mark.asyncio
async def test_to_list_and_await() -> None:
    executor = FakeExecutor().answer(
        cursor_reply(_docs(1, 2, 3), 5), cursor_reply(_docs(4, 5), 0, first=False)
    )
    cursor = fake_database(executor).c.find()
    assert await cursor.to_list(2) == _docs(1, 2)
    assert await cursor.to_list(0) == []
    assert await cursor.next() == {"_id": 3}
    assert await cursor == _docs(4, 5)
    with pytest.raises(ValueError, match="non-negative"):
        await cursor.to_list(-1)
    empty = fake_database(FakeExecutor().answer(cursor_reply([]))).c.find()
    assert await empty.to_list(3) == []


@pytest.mark.asyncio
async def test_limits() -> None:
    executor = FakeExecutor().answer(
        cursor_reply(_docs(1, 2), 9),
        cursor_reply(_docs(3, 4), 9, first=False),
        {"ok": 1, "cursorsKilled": [9]},
    )
    cursor = fake_database(executor).c.find(limit=3, batch_size=2)
    assert await cursor.to_list() == _docs(1, 2, 3)
    await asyncio.sleep(0)  # let the background killCursors run
    find, get_more, kill = executor.requests
    assert find.command["limit"] == 3 and find.command["batchSize"] == 2
    assert get_more.command["batchSize"] == 1
    assert kill.command == {"killCursors": "c", "cursors": [Int64(9)]}
    # Without a batch size, getMore asks for what the limit leaves.
    executor = FakeExecutor().answer(
        cursor_reply(_docs(1), 4), cursor_reply(_docs(2), 0, first=False)
    )
    assert len(await fake_database(executor).c.find().limit(2).batch_size(0)) == 2
    assert executor.requests[1].command["batchSize"] == 1
    # A negative limit is one batch; a limit reached exactly needs no kill.
    executor = FakeExecutor().answer(cursor_reply(_docs(1, 2), 0))
    assert len(await fake_database(executor).c.find().limit(-2).batch_size(5)) == 2
    assert executor.requests[0].command == {
        "find": "c",
        "filter": {},
        "limit": 2,
        "singleBatch": True,
        "batchSize": 5,
    }


@pytest.mark.asyncio
async def test_every_option_reaches_the_find_command() -> None:
    executor = FakeExecutor().answer(cursor_reply([]))
    cursor = (
        fake_database(executor)
        .c.find({"a": 1}, ["a", "b"], 2, 10, timeout=False, snapshot=True)
        .sort([("a", 1), "b"])
        .hint([("a", 1)])
        .max_time_ms(100)
        .collation({"locale": "en"})
        .comment("why")
        .allow_disk_use(True)
        .min({"a": 0})
        .max({"a": 9})
        .let({"v": 1})
        .return_key()
        .show_record_id()
        .allow_partial_results()
        .where("this.a > 0")
    )
    assert cursor.to_command() == {
        "find": "c",
        "filter": {"a": 1, "$where": "this.a > 0"},
        "projection": {"a": 1, "b": 1},
        "hint": {"a": 1},
        "noCursorTimeout": True,
        "skip": 2,
        "sort": {"a": 1, "b": 1},
        "maxTimeMS": 100,
        "collation": {"locale": "en"},
        "comment": "why",
        "allowDiskUse": True,
        "min": {"a": 0},
        "max": {"a": 9},
        "let": {"v": 1},
        "returnKey": True,
        "showRecordId": True,
        "allowPartialResults": True,
        "limit": 10,
    }
    cursor.hint("a_1").hint(None).no_cursor_timeout(False).skip(0).sort("z", -1)
    command = cursor.to_command()
    assert "hint" not in command and "noCursorTimeout" not in command and "skip" not in command
    assert command["sort"] == {"z": -1}
    assert await cursor.to_list() == []


@pytest.mark.asyncio
async def test_options_after_iteration_started_raise() -> None:
    executor = FakeExecutor().answer(cursor_reply(_docs(1), 3))
    cursor = fake_database(executor).c.find()
    assert await cursor.next() == {"_id": 1}
    for change in (
        lambda: cursor.sort("a"),
        lambda: cursor.limit(1),
        lambda: cursor.batch_size(1),
        lambda: cursor.skip(1),
        lambda: cursor.max_await_time_ms(1),
        lambda: cursor.where("x"),
        lambda: cursor.comment("x"),
    ):
        with pytest.raises(InvalidOperationError):
            change()
    with pytest.raises(ValueError, match="skip"):
        fake_database().c.find().skip(-1)
    with pytest.raises(ValueError, match="batch_size"):
        fake_database().c.find().batch_size(-1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        fake_database().c.find(close=True)
    with pytest.raises(TypeError):
        fake_database().c.find(projection="a")
    with pytest.raises(TypeError):
        fake_database().c.find().sort([("a", 1, 2)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least one"):
        fake_database().c.find().sort([])


@pytest.mark.asyncio
async def test_find_vocabularies() -> None:
    database = fake_database()
    legacy = database.c.find(spec={"a": 1}, fields={"a": 1}, slave_okay=True)
    assert legacy.to_command()["filter"] == {"a": 1}
    assert legacy.to_command()["projection"] == {"a": 1}
    assert legacy.read_preference.mode is ReadPreferenceMode.SECONDARY_PREFERRED
    by_id = database.c.find(5, read_preference="nearest")
    assert by_id.to_command()["filter"] == {"_id": 5}
    assert by_id.read_preference.mode is ReadPreferenceMode.NEAREST
    with pytest.raises(Exception, match="max_scan was removed"):
        database.c.find(max_scan=10)


@pytest.mark.asyncio
async def test_find_one() -> None:
    executor = FakeExecutor().answer(cursor_reply(_docs(7)), cursor_reply([]))
    users = fake_database(executor).users
    assert await users.find_one(7, ["a"], limit=99) == {"_id": 7}
    assert await users.find_one({"x": 1}) is None
    assert executor.requests[0].command == {
        "find": "users",
        "filter": {"_id": 7},
        "projection": {"a": 1},
        "limit": 1,
        "singleBatch": True,
    }


@pytest.mark.asyncio
async def test_close_kills_the_server_cursor() -> None:
    executor = FakeExecutor().answer(cursor_reply(_docs(1, 2), 42), {"ok": 1})
    async with fake_database(executor).c.find() as cursor:
        assert await cursor.next() == {"_id": 1}
    assert not cursor.alive and "killed" in repr(cursor)
    kill = executor.requests[1]
    assert kill.command == {"killCursors": "c", "cursors": [Int64(42)]}
    assert kill.address == ADDRESS and kill.kind is OperationKind.COMMAND
    await cursor.close()  # idempotent
    assert len(executor.requests) == 2
    assert await cursor.to_list() == []


@pytest.mark.asyncio
async def test_closing_an_unstarted_or_exhausted_cursor_sends_nothing() -> None:
    executor = FakeExecutor().answer(cursor_reply(_docs(1)))
    cursor = fake_database(executor).c.find()
    await cursor.close()
    assert cursor.started and not cursor.alive and executor.requests == []
    exhausted = fake_database(executor).c.find()
    await exhausted.to_list()
    await exhausted.close()
    assert len(executor.requests) == 1


@pytest.mark.asyncio
async def test_a_failing_kill_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    executor = FakeExecutor().answer(cursor_reply(_docs(1), 8), OSError("down"))
    cursor = fake_database(executor).c.find()
    await cursor.next()
    with caplog.at_level("DEBUG", logger="mongotor.client._cursor"):
        await cursor.close()
    assert "killCursors failed" in caplog.text


@pytest.mark.asyncio
async def test_an_abandoned_cursor_is_killed() -> None:
    killed = asyncio.Event()

    def handler(request: Request) -> dict[str, Any]:
        if request.name == "killCursors":
            killed.set()
            return {"ok": 1}
        return cursor_reply(_docs(1, 2), 55)

    executor = FakeExecutor(handler)
    cursor = fake_database(executor).c.find()
    await cursor.next()
    del cursor
    gc.collect()
    async with asyncio.timeout(5):
        await killed.wait()
    assert executor.requests[-1].command["cursors"] == [Int64(55)]


@pytest.mark.asyncio
async def test_a_cancelled_get_more_kills_the_cursor() -> None:
    started, killed = asyncio.Event(), asyncio.Event()
    blocker: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class Slow(FakeExecutor):
        async def execute(self, request: Request) -> Any:
            if request.name == "getMore":
                started.set()
                await blocker
            if request.name == "killCursors":
                killed.set()
            return await super().execute(request)

    executor = Slow().answer(cursor_reply(_docs(1), 66), {"ok": 1})
    cursor = fake_database(executor).c.find()
    await cursor.next()
    task = asyncio.create_task(cursor.next())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(5):
        await killed.wait()
    assert not cursor.alive


@pytest.mark.asyncio
async def test_a_cancelled_first_batch_leaves_nothing_to_kill() -> None:
    started = asyncio.Event()

    class Never(FakeExecutor):
        async def execute(self, request: Request) -> Any:
            self.requests.append(request)
            started.set()
            await asyncio.get_running_loop().create_future()

    executor = Never()
    cursor = fake_database(executor).c.find()
    task = asyncio.create_task(cursor.to_list())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not cursor.alive and len(executor.requests) == 1


@pytest.mark.asyncio
async def test_get_more_errors() -> None:
    executor = FakeExecutor().answer(
        cursor_reply(_docs(1), 5), {"ok": 0, "code": 43, "errmsg": "cursor id 5 not found"}
    )
    cursor = fake_database(executor).c.find()
    await cursor.next()
    with pytest.raises(CursorNotFound):
        await cursor.next()
    assert not cursor.alive
    await cursor.close()
    assert len(executor.requests) == 2  # nothing to kill
    killed = asyncio.Event()

    def handler(request: Request) -> dict[str, Any]:
        killed.set()
        return {"ok": 1}

    other = FakeExecutor(handler).answer(
        cursor_reply(_docs(1), 6), {"ok": 0, "code": 8, "errmsg": "boom"}
    )
    cursor = fake_database(other).c.find()
    await cursor.next()
    with pytest.raises(OperationFailure):
        await cursor.next()
    async with asyncio.timeout(5):
        await killed.wait()
    assert other.requests[-1].name == "killCursors"


@pytest.mark.asyncio
async def test_a_failed_first_command_raises_and_can_be_retried() -> None:
    executor = FakeExecutor().answer({"ok": 0, "code": 2, "errmsg": "bad"}, cursor_reply(_docs(1)))
    cursor = fake_database(executor).c.find()
    with pytest.raises(OperationFailure):
        await cursor.to_list()
    assert await cursor.to_list() == _docs(1)


@pytest.mark.asyncio
async def test_tailable_cursors() -> None:
    executor = FakeExecutor().answer(
        cursor_reply(_docs(1), 12),
        cursor_reply([], 12, first=False),
        cursor_reply(_docs(2), 12, first=False),
    )
    cursor = fake_database(executor).capped.find(tailable=True)
    assert await cursor.to_list() == _docs(1)  # the end, for now
    assert cursor.alive
    assert await cursor.next() == {"_id": 2}
    assert executor.requests[0].command["tailable"] is True
    waiting = FakeExecutor().answer(
        cursor_reply([], 13),
        cursor_reply([], 13, first=False),
        cursor_reply(_docs(3), 0, first=False),
    )
    awaiting = fake_database(waiting).capped.find().tailable().await_data().max_await_time_ms(500)
    assert await awaiting.next() == {"_id": 3}
    find, first, _ = waiting.requests
    assert find.command["awaitData"] is True and "maxTimeMS" not in find.command
    assert first.command["maxTimeMS"] == 500
    majority = fake_database().c.with_options(read_concern=ReadConcern("majority")).find()
    assert majority.to_command()["readConcern"] == {"level": "majority"}
    plain = fake_database().c.find().tailable(False).await_data(False)
    assert "tailable" not in plain.to_command() and "awaitData" not in plain.to_command()


@pytest.mark.asyncio
async def test_explain_and_clone() -> None:
    executor = FakeExecutor().answer({"ok": 1, "queryPlanner": {}})
    cursor = (
        fake_database(executor)
        .c.find({"a": 1})
        .sort("a")
        .limit(3)
        .batch_size(2)
        .comment("x")
        .tailable()
        .max_await_time_ms(5)
    )
    assert (await cursor.explain("executionStats"))["queryPlanner"] == {}
    assert executor.requests[0].command == {
        "explain": cursor.to_command(),
        "verbosity": "executionStats",
    }
    twin = cursor.clone()
    assert twin.to_command() == cursor.to_command() and twin is not cursor


@pytest.mark.asyncio
async def test_command_cursors() -> None:
    executor = FakeExecutor().answer(
        cursor_reply(_docs(1), 3, ns="app.$cmd.listCollections"),
        cursor_reply(_docs(2), 0, first=False),
    )
    request = Request("app", {"listCollections": 1, "cursor": {}})
    cursor: CommandCursor[Any] = CommandCursor(executor, "app", "$cmd.listCollections", request)
    assert repr(cursor).startswith("<CommandCursor app.$cmd.listCollections not started")
    assert await cursor == _docs(1, 2)
    assert executor.requests[1].command == {
        "getMore": Int64(3),
        "collection": "$cmd.listCollections",
    }
    assert isinstance(fake_database().c.find(), Cursor)
