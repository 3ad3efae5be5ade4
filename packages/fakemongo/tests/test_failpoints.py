"""configureFailPoint and the failCommand fail point, over the wire with PyMongo
and on the pure decisions.

Expected behaviours are mongod's (db/commands.cpp ``evaluateFailCommandFailPoint``,
util/fail_point.cpp) as the drivers' specifications describe them (unified
test format, "Server Fail Points"; the transactions tests' README, "failCommand").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from bson import Int64
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import AutoReconnect, NotPrimaryError, OperationFailure, WriteConcernError

from fakemongo import FakeMongo, FakeMongoThread
from fakemongo._dispatch import Context, run_command
from fakemongo._errors import CommandError
from fakemongo._failpoints import (
    CommandTarget,
    FailPoint,
    FailPoints,
    Mode,
    command_names,
    parse_mode,
    should_activate,
)
from fakemongo._hooks import command_target, supports_write_concern

Client = MongoClient[dict[str, Any]]
MESSAGE = "Failing command via 'failCommand' failpoint"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeMongoThread]:
    with FakeMongoThread() as running:
        yield running


@pytest.fixture(scope="module")
def client(server: FakeMongoThread) -> Iterator[Client]:
    # No retries: each fail point hit must be seen as it happened.
    with MongoClient(server.uri, retryReads=False, retryWrites=False) as connected:
        yield connected


@pytest.fixture(autouse=True)
def _off(client: Client) -> Iterator[None]:
    yield
    client.admin.command("configureFailPoint", "failCommand", mode="off")


def _fail(client: Client, mode: Any, **data: Any) -> dict[str, Any]:
    return client.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)


def _error(client: Client, db: str, command: dict[str, Any]) -> dict[str, Any]:
    # PyMongo raises NotPrimaryError (an AutoReconnect) for the state-change codes.
    with pytest.raises((OperationFailure, NotPrimaryError)) as info:
        client[db].command(command)
    assert info.value.details is not None
    return dict(info.value.details)


# ---------------------------------------------------------------- over the wire


def test_error_code_fails_only_the_listed_commands(client: Client) -> None:
    _fail(client, "alwaysOn", failCommands=["count"], errorCode=2)
    details = _error(client, "fp", {"count": "c"})
    assert details == {"ok": 0.0, "errmsg": MESSAGE, "code": 2, "codeName": "BadValue"}
    assert client.fp.command("ping") == {"ok": 1.0}
    assert client.fp.c.find_one() is None


def test_count_is_how_many_times_it_fired_before(client: Client) -> None:
    before = _fail(client, "alwaysOn", failCommands=["count"], errorCode=2)["count"]
    for _ in range(3):
        _error(client, "fp", {"count": "c"})
    reply = client.admin.command("configureFailPoint", "failCommand", mode="off")
    assert reply == {"count": before + 3, "ok": 1.0}


def test_times_fires_n_times_then_turns_itself_off(client: Client) -> None:
    _fail(client, {"times": 2}, failCommands=["count"], errorCode=262)
    assert _error(client, "fp", {"count": "c"})["codeName"] == "ExceededTimeLimit"
    assert _error(client, "fp", {"count": "c"})["code"] == 262
    assert client.fp.command("count", "c")["n"] == 0


def test_times_zero_still_fires_once(client: Client) -> None:
    # util/fail_point.cpp decrements {times} before testing it, so mongod
    # fires a {times: 0} fail point once.
    _fail(client, {"times": 0}, failCommands=["count"], errorCode=2)
    _error(client, "fp", {"count": "c"})
    assert client.fp.command("count", "c")["n"] == 0


def test_skip_lets_n_matching_commands_through(client: Client) -> None:
    _fail(client, {"skip": 2}, failCommands=["count"], errorCode=2)
    client.fp.command("ping")  # not a matching command: does not count
    assert client.fp.command("count", "c")["n"] == 0
    assert client.fp.command("count", "c")["n"] == 0
    _error(client, "fp", {"count": "c"})
    _error(client, "fp", {"count": "c"})


def test_activation_probability(client: Client) -> None:
    _fail(client, {"activationProbability": 0}, failCommands=["count"], errorCode=2)
    assert client.fp.command("count", "c")["n"] == 0
    _fail(client, {"activationProbability": 1.0}, failCommands=["count"], errorCode=2)
    _error(client, "fp", {"count": "c"})


def test_unknown_codes_are_named_as_mongod_names_them(client: Client) -> None:
    _fail(client, "alwaysOn", failCommands=["count"], errorCode=12345)
    assert _error(client, "fp", {"count": "c"})["codeName"] == "Location12345"


def test_close_connection_closes_without_a_reply(client: Client) -> None:
    _fail(client, {"times": 1}, failCommands=["insert"], closeConnection=True)
    with pytest.raises(AutoReconnect):
        client.fp.c.insert_one({"_id": 1})
    # Nothing ran, and the client reconnects.
    assert client.fp.c.insert_one({"_id": 1}).inserted_id == 1
    assert client.fp.c.count_documents({}) == 1
    client.drop_database("fp")


def test_write_concern_error_is_added_to_a_write_that_ran(client: Client) -> None:
    wce = {"code": 100, "codeName": "UnsatisfiableWriteConcern", "errmsg": "Not enough data"}
    _fail(client, "alwaysOn", failCommands=["insert"], writeConcernError=wce)
    with pytest.raises(WriteConcernError) as info:
        client.fp.c.insert_one({"_id": 1})
    assert info.value.details == wce
    assert client.fp.c.count_documents({}) == 1
    client.drop_database("fp")


def test_write_concern_error_only_on_commands_that_take_a_write_concern(client: Client) -> None:
    _fail(client, "alwaysOn", failCommands=["find", "aggregate"], writeConcernError={"code": 64})
    reply = client.fp.command("find", "c")
    assert "writeConcernError" not in reply
    assert "writeConcernError" not in client.fp.command("aggregate", "c", pipeline=[], cursor={})
    with_out = client.fp.command("aggregate", "c", pipeline=[{"$out": "d"}], cursor={})
    assert with_out["writeConcernError"] == {"code": 64}
    client.drop_database("fp")


def test_write_concern_error_also_follows_a_failed_write(client: Client) -> None:
    # RunCommandAndWaitForWriteConcern::_handleError waits for the write
    # concern (and so meets the fail point) after an error too.
    _fail(
        client,
        "alwaysOn",
        failCommands=["findAndModify"],
        errorCode=2,
        writeConcernError={"code": 64, "errmsg": "waiting"},
    )
    details = _error(client, "fp", {"findAndModify": "c", "remove": True})
    assert details["code"] == 2
    assert details["writeConcernError"] == {"code": 64, "errmsg": "waiting"}


def test_write_concern_error_labels_replace_the_servers(client: Client) -> None:
    _fail(
        client,
        "alwaysOn",
        failCommands=["insert"],
        writeConcernError={"code": 91, "errmsg": "down"},
        errorLabels=["Mine"],
    )
    reply = client.fp.command("insert", "c", documents=[{}])
    assert reply["errorLabels"] == ["Mine"]
    client.drop_database("fp")


def test_numbers_read_as_booleans_and_fractions_as_no_code(client: Client) -> None:
    # bsonExtractBooleanField takes a number; bsonExtractIntegerField refuses
    # 2.5, so that errorCode is not set and the fail point does not fire.
    _fail(client, {"times": 1}, failCommands=["insert"], closeConnection=1)
    with pytest.raises(AutoReconnect):
        client.fp.c.insert_one({})
    _fail(client, "alwaysOn", failCommands=["count"], errorCode=2.5)
    assert client.fp.command("count", "c")["n"] == 0


def test_error_labels_replace_the_servers(client: Client) -> None:
    _fail(client, "alwaysOn", failCommands=["count"], errorCode=262, errorLabels=["Custom"])
    assert _error(client, "fp", {"count": "c"})["errorLabels"] == ["Custom"]
    _fail(client, "alwaysOn", failCommands=["count"], errorCode=280, errorLabels=[])
    assert "errorLabels" not in _error(client, "fp", {"count": "c"})


def test_change_stream_labels(client: Client) -> None:
    # db/error_labels.cpp: codes of the NonResumableChangeStreamError category
    # are labelled on any command; retryable ones on an aggregate that opens a
    # change stream are ResumableChangeStreamError.
    _fail(client, "alwaysOn", failCommands=["count", "aggregate"], errorCode=280)
    assert _error(client, "fp", {"count": "c"})["errorLabels"] == ["NonResumableChangeStreamError"]
    _fail(client, "alwaysOn", failCommands=["aggregate"], errorCode=262)
    opened = {"aggregate": "c", "pipeline": [{"$changeStream": {}}], "cursor": {}}
    assert _error(client, "fp", opened)["errorLabels"] == ["ResumableChangeStreamError"]
    plain = {"aggregate": "c", "pipeline": [{"$match": {}}], "cursor": {}}
    assert "errorLabels" not in _error(client, "fp", plain)


def test_app_name_selects_connections(server: FakeMongoThread, client: Client) -> None:
    _fail(client, "alwaysOn", failCommands=["count"], errorCode=2, appName="victim")
    assert client.fp.command("count", "c")["n"] == 0
    with MongoClient(server.uri, appname="victim", retryReads=False) as victim:
        _error(victim, "fp", {"count": "c"})


def test_configure_fail_point_itself_is_never_failed(client: Client) -> None:
    _fail(
        client, "alwaysOn", failAllCommands=True, failCommands=["configureFailPoint"], errorCode=2
    )
    _error(client, "fp", {"ping": 1})
    assert _fail(client, "off")["ok"] == 1.0


def test_hello_and_is_master_are_separate_commands(server: FakeMongoThread, client: Client) -> None:
    # mongod's hello and isMaster are two commands ("ismaster" is isMaster's
    # alias): failing one leaves the other alone.
    _fail(client, "alwaysOn", failCommands=["hello"], errorCode=2, appName="monitored")
    with MongoClient(server.uri, appname="monitored", connect=False) as other:
        assert other.admin.command("isMaster")["ismaster"] is True
        assert other.admin.command("ismaster")["ismaster"] is True
        _error(other, "admin", {"hello": 1})


def test_block_connection_delays_then_runs(server: FakeMongoThread, client: Client) -> None:
    _fail(client, {"times": 1}, failCommands=["count"], blockConnection=True, blockTimeMS=50)
    assert client.fp.command("count", "c")["n"] == 0
    assert _fail(client, "off")["count"] >= 1


def test_block_connection_needs_a_block_time(client: Client) -> None:
    _fail(client, "alwaysOn", failCommands=["count"], blockConnection=True)
    details = _error(client, "fp", {"count": "c"})
    assert (details["code"], details["errmsg"]) == (
        72,
        "must specify 'blockTimeMS' when 'blockConnection' is true",
    )
    _fail(client, "alwaysOn", failCommands=["count"], blockConnection=True, blockTimeMS=-1)
    assert _error(client, "fp", {"count": "c"})["errmsg"] == "'blockTimeMS' must be non-negative"


def test_data_without_an_action_does_nothing(client: Client) -> None:
    # evaluateFailCommandFailPoint fires only for data that closes, blocks or
    # fails; a fail point without any of those is not even entered.
    before = _fail(client, "alwaysOn", failCommands=["count"], errorCode="not a number")["count"]
    assert client.fp.command("count", "c")["n"] == 0
    assert _fail(client, "off")["count"] == before


def test_configure_fail_point_errors(client: Client) -> None:
    admin = "admin"
    details = _error(client, "fp", {"configureFailPoint": "failCommand", "mode": "off"})
    assert (details["code"], details["errmsg"]) == (
        13,
        "configureFailPoint may only be run against the admin database.",
    )
    details = _error(client, admin, {"configureFailPoint": "hangBeforeReturning", "mode": "off"})
    assert (details["code"], details["codeName"]) == (266, "FailPointSetFailed")
    assert details["errmsg"].startswith("hangBeforeReturning not found")
    details = _error(client, admin, {"configureFailPoint": "failCommand", "mode": "sometimes"})
    assert (details["code"], details["errmsg"]) == (2, "unknown mode: sometimes")
    details = _error(
        client,
        admin,
        {
            "configureFailPoint": "failCommand",
            "mode": "alwaysOn",
            "data": {"failCommands": ["find"], "errorCode": 2, "errorExtraInfo": {}},
        },
    )
    assert details["code"] == 2
    assert "errorExtraInfo" in details["errmsg"]


def test_without_test_commands_configure_fail_point_does_not_exist() -> None:
    # mongod registers test commands only with enableTestCommands=1.
    with (
        FakeMongoThread(enable_test_commands=False) as plain,
        MongoClient(plain.uri) as client,
    ):
        details = _error(client, "admin", {"configureFailPoint": "failCommand", "mode": "alwaysOn"})
        assert (details["code"], details["errmsg"]) == (
            59,
            "no such command: 'configureFailPoint'",
        )
        assert "configureFailPoint" not in client.admin.command("listCommands")["commands"]


def test_list_commands_shows_it_with_test_commands(client: Client) -> None:
    listed = client.admin.command("listCommands")["commands"]["configureFailPoint"]
    assert (listed["adminOnly"], listed["requiresAuth"]) == (True, False)


def test_needs_no_authentication() -> None:
    # fail_point_cmd.cpp: requiresAuth() is false.
    with (
        FakeMongoThread(users=[("admin", "root", "pw")]) as secured,
        MongoClient(secured.uri) as anonymous,
    ):
        reply = anonymous.admin.command("configureFailPoint", "failCommand", mode="off")
        assert reply == {"count": 0, "ok": 1.0}


# ---------------------------------------------------------------- awaiting, not blocking


@pytest.mark.asyncio
async def test_a_blocked_command_waits_without_blocking_the_loop() -> None:
    async with FakeMongo() as server:
        state = server.state
        conn = state.new_connection("test")
        ctx = Context(state, conn, "db")
        configured = await run_command(
            Context(state, conn, "admin"),
            {
                "configureFailPoint": "failCommand",
                "mode": "alwaysOn",
                "data": {"failCommands": ["ping"], "blockConnection": True, "blockTimeMS": 60_000},
                "$db": "admin",
            },
        )
        assert configured == {"count": 0, "ok": 1.0}
        blocked = asyncio.create_task(run_command(ctx, {"ping": 1, "$db": "db"}))
        await asyncio.sleep(0)  # one turn of the loop: the task runs up to its wait
        assert state.failpoints.fail_command.times_entered == 1
        other = await run_command(ctx, {"count": "c", "$db": "db"})
        assert other == {"n": 0, "ok": 1.0}
        assert not blocked.done()
        blocked.cancel()
        with pytest.raises(asyncio.CancelledError):
            await blocked


@pytest.mark.asyncio
async def test_other_connections_go_on_while_one_is_blocked() -> None:
    async with (
        FakeMongo() as server,
        AsyncMongoClient(server.uri, appname="slow") as slow,
        AsyncMongoClient(server.uri) as fast,
    ):
        await slow.admin.command("ping")  # connected before the fail point is set
        configured = await fast.admin.command(
            "configureFailPoint",
            "failCommand",
            mode="alwaysOn",
            data={
                "failCommands": ["count"],
                "blockConnection": True,
                "blockTimeMS": 2000,
                "appName": "slow",
            },
        )
        done: list[str] = []

        async def count(client: AsyncMongoClient[dict[str, Any]], name: str) -> None:
            await client.db.command("count", "c")
            done.append(name)

        blocked = asyncio.create_task(count(slow, "slow"))
        # waitForFailPoint returns once the slow count is waiting in the server;
        # the fast one is answered meanwhile, and the slow one after its wait.
        await fast.admin.command(
            "waitForFailPoint",
            "failCommand",
            timesEntered=configured["count"] + 1,
            maxTimeMS=10_000,
        )
        await count(fast, "fast")
        await blocked
        assert done == ["fast", "slow"]


@pytest.mark.asyncio
async def test_wait_for_fail_point() -> None:
    async with FakeMongo() as server, AsyncMongoClient(server.uri) as client:
        admin = client.admin
        await admin.command(
            "configureFailPoint",
            "failCommand",
            mode={"times": 1},
            data={"failCommands": ["count"], "errorCode": 2},
        )
        waiting = asyncio.create_task(
            admin.command("waitForFailPoint", "failCommand", timesEntered=1, maxTimeMS=10_000)
        )
        with pytest.raises(OperationFailure):
            await client.db.command("count", "c")
        assert await waiting == {"ok": 1.0}
        # Already entered that often: at once.
        reached = await admin.command(
            "waitForFailPoint", "failCommand", timesEntered=1, maxTimeMS=1
        )
        assert reached == {"ok": 1.0}
        with pytest.raises(OperationFailure) as info:
            await admin.command("waitForFailPoint", "failCommand", timesEntered=2, maxTimeMS=1)
        assert (info.value.code, info.value.details["errmsg"]) == (  # type: ignore[index]
            50,
            "operation exceeded time limit",
        )
        for missing, fields in (
            ("timesEntered", {"maxTimeMS": 1}),
            ("maxTimeMS", {"timesEntered": 1}),
        ):
            with pytest.raises(OperationFailure) as info:
                await admin.command("waitForFailPoint", "failCommand", **fields)
            assert info.value.details["errmsg"] == (  # type: ignore[index]
                f"BSON field 'waitForFailPoint.{missing}' is missing but a required field"
            )
        with pytest.raises(OperationFailure) as info:
            await admin.command("waitForFailPoint", "other", timesEntered=1, maxTimeMS=1)
        assert info.value.code == 266


@pytest.mark.asyncio
async def test_wait_for_fail_point_wakes_when_entered() -> None:
    async with FakeMongo() as server:
        state = server.state
        admin = Context(state, state.new_connection("test"), "admin")
        state.failpoints.configure(
            "failCommand",
            {"mode": "alwaysOn", "data": {"failCommands": ["ping"], "errorCode": 2}},
        )
        body = {"waitForFailPoint": "failCommand", "timesEntered": 1, "maxTimeMS": 10_000}
        waiting = asyncio.create_task(run_command(admin, {**body, "$db": "admin"}))
        await asyncio.sleep(0)  # one turn of the loop: the task starts waiting
        assert len(state.failpoints.fail_command.waiters) == 1
        assert (await run_command(admin, {"ping": 1, "$db": "admin"}))["code"] == 2
        assert await waiting == {"ok": 1.0}
        assert state.failpoints.fail_command.waiters == []


def test_waiters_that_gave_up_are_dropped() -> None:
    point = FailPoint("failCommand", Mode.ALWAYS_ON)
    loop = asyncio.new_event_loop()
    try:
        gave_up: asyncio.Future[None] = loop.create_future()
        gave_up.cancel()
        later: asyncio.Future[None] = loop.create_future()
        point.waiters = [(1, gave_up), (5, later)]
        point.hit(lambda _: True)
        assert point.waiters == [(5, later)]
    finally:
        loop.close()


@pytest.mark.asyncio
async def test_close_connection_in_process_raises_the_close_signal() -> None:
    from fakemongo._connection import _CloseConnection

    async with FakeMongo() as server:
        state = server.state
        ctx = Context(state, state.new_connection("test"), "db")
        state.failpoints.configure(
            "failCommand",
            {"mode": "alwaysOn", "data": {"failCommands": ["ping"], "closeConnection": True}},
        )
        with pytest.raises(_CloseConnection):
            await run_command(ctx, {"ping": 1, "$db": "db"})
        assert state.command_failures["ping"] == 0


# ---------------------------------------------------------------- pure decisions


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"mode": "off"}, (Mode.OFF, 0, {})),
        ({"mode": "alwaysOn", "data": {"a": 1}}, (Mode.ALWAYS_ON, 0, {"a": 1})),
        ({"mode": {"times": Int64(3)}}, (Mode.TIMES, 3, {})),
        ({"mode": {"skip": 2.0}}, (Mode.SKIP, 2, {})),
        ({"mode": {"activationProbability": 1}}, (Mode.RANDOM, 2**31 - 1, {})),
    ],
)
def test_parse_mode(body: dict[str, Any], expected: tuple[Mode, int, dict[str, Any]]) -> None:
    assert parse_mode(body) == expected


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, 20, "When setting a failpoint, you must supply a 'mode'"),
        ({"mode": 1}, 14, "'mode' must be a string or JSON object"),
        ({"mode": {"sometimes": 1}}, 2, "'mode' must be one of 'off', 'alwaysOn', "),
        ({"mode": {"times": -1}}, 2, "'times' option to 'mode' must be positive"),
        ({"mode": {"skip": 2**31}}, 2, "'skip' option to 'mode' is too large"),
        ({"mode": {"times": "x"}}, 14, 'Expected field "times" to have numeric type'),
        ({"mode": {"times": True}}, 14, 'Expected field "times" to have numeric type'),
        ({"mode": {"times": 1.5}}, 2, 'Expected field "times" to have a value exactly'),
        ({"mode": {"activationProbability": "x"}}, 14, "the 'activationProbability' option"),
        ({"mode": {"activationProbability": 2}}, 2, "activationProbability must be between"),
        ({"mode": "off", "data": 1}, 14, "the 'data' option must be a JSON object"),
    ],
)
def test_parse_mode_errors(body: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_mode(body)
    assert info.value.code == code
    assert info.value.errmsg.startswith(message)


def test_fail_point_modes() -> None:
    point = FailPoint("failCommand")
    assert point.hit(lambda _: True) is None  # off
    point.set_mode(Mode.TIMES, 1, {"x": 1})
    assert point.hit(lambda _: False) is None  # a caller it does not select: not counted
    assert point.hit(lambda _: True) == {"x": 1}
    assert not point.active
    point.set_mode(Mode.RANDOM, 0, {})
    assert point.hit(lambda _: True) is None
    assert point.describe() == {"mode": "activationProbability", "data": {}, "timesEntered": 1}


def _target(
    *names: str, namespace: str = "db.c", app: str = "", thread: str = "conn1"
) -> CommandTarget:
    return CommandTarget(frozenset(names), namespace, app, thread)


def test_should_activate() -> None:
    assert should_activate({"failCommands": ["find"]}, _target("find"))
    assert not should_activate({"failCommands": "find"}, _target("find"))
    assert not should_activate({"failCommands": [1, "insert"]}, _target("find"))
    assert not should_activate({}, _target("find"))
    assert should_activate({"failAllCommands": True}, _target("find"))
    assert not should_activate({"failAllCommands": True}, _target("configureFailPoint"))
    assert should_activate({"failCommands": ["find"], "namespace": "db.c"}, _target("find"))
    assert not should_activate({"failCommands": ["find"], "namespace": "db.d"}, _target("find"))
    assert should_activate({"failCommands": ["find"], "threadName": "conn1"}, _target("find"))
    assert not should_activate({"failCommands": ["find"], "threadName": "conn2"}, _target("find"))
    assert not should_activate({"failCommands": ["find"], "appName": "a"}, _target("find"))


def test_command_names_are_mongods_aliases() -> None:
    assert command_names("findandmodify") == {"findAndModify", "findandmodify"}
    assert command_names("hello") == {"hello"}
    assert command_names("ping") == {"ping"}


@pytest.mark.asyncio
async def test_command_target() -> None:
    async with FakeMongo() as server:
        state = server.state
        conn = state.new_connection("test")
        ctx = Context(state, conn, "db")
        first_hello = {"hello": 1, "client": {"application": {"name": "app"}}}
        assert command_target(ctx, first_hello).app_name == "app"
        assert command_target(ctx, {"hello": 1, "client": "junk"}).app_name == ""
        target = command_target(ctx, {"find": "c"})
        assert (target.namespace, target.app_name) == ("db.c", "")
        assert target.thread_name == f"conn{conn.connection_id}"
        conn.client_metadata = {"application": {"name": 7}}
        assert command_target(ctx, {"ping": 1}).namespace == "db"
        assert command_target(ctx, {"ping": 1}).app_name == ""


def test_supports_write_concern() -> None:
    assert supports_write_concern("insert", {})
    assert not supports_write_concern("find", {})
    assert not supports_write_concern("aggregate", {"pipeline": "x"})
    assert not supports_write_concern("aggregate", {"pipeline": [1]})
    assert supports_write_concern("aggregate", {"pipeline": [{"$merge": "x"}]})


def test_fail_points_refuse_data_they_cannot_honour() -> None:
    points = FailPoints()
    with pytest.raises(CommandError) as info:
        points.configure("failCommand", {"mode": "alwaysOn", "data": {"tassert": True}})
    assert info.value.code == 2
    with pytest.raises(CommandError) as info:
        points.configure(7, {"mode": "off"})
    assert info.value.errmsg.startswith(" not found")
    assert not points.armed
