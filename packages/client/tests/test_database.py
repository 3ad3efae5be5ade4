"""Database: connect / init / disconnect, the default, commands, collections."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from mongotor.client import (
    Client,
    Database,
    ReadConcern,
    ReadPreferenceMode,
    TopologyExecutor,
    WriteConcern,
)
from mongotor.errors import (
    ConfigurationError,
    InterfaceError,
    InvalidName,
    InvalidURI,
    OperationFailure,
    ProgrammingError,
)
from mongotor.pool import ConnectionStringWarning

from ._fakes import FakeExecutor, cursor_reply, fake_database


@pytest.fixture(autouse=True)
def _no_default() -> Iterator[None]:
    Database._default = None
    yield
    Database._default = None


def test_connect_with_addresses_is_lazy_and_sets_the_default() -> None:
    database = Database.connect(["localhost:27017", "other:27018"], "test_db", maxconnections=5)
    assert database.name == "test_db"
    assert Database() is database and Database.default() is database
    executor = database.executor
    assert isinstance(executor, TopologyExecutor)
    assert executor.topology.options.max_pool_size == 5  # type: ignore[attr-defined]
    assert "initial" in repr(database)
    assert database.statistics().commands == 0


def test_connect_with_a_uri_and_options() -> None:
    database = Database.connect(
        "mongodb://localhost/app?w=majority&readConcernLevel=local&retryWrites=false",
        read_preference="secondaryPreferred",
        replicaSet="rs0",
        mincached=1,
        tls=False,
    )
    assert database.name == "app"
    options = database.options
    assert options.read_preference.mode is ReadPreferenceMode.SECONDARY_PREFERRED
    assert options.write_concern == WriteConcern(w="majority")
    assert options.read_concern == ReadConcern("local")
    executor = database.executor
    assert isinstance(executor, TopologyExecutor)
    assert executor.retry_writes is False and executor.retry_reads is True
    topology_options = executor.topology.options  # type: ignore[attr-defined]
    assert topology_options.replica_set == "rs0" and topology_options.min_pool_size == 1
    init = Database.init(
        "mongodb://h1,h2",
        "named",
        read_preference=2,
        write_concern={"w": 1},
        read_concern=ReadConcern("majority"),
        maxPoolSize=3,
    )
    assert init.name == "named" and init.options.write_concern.w == 1
    assert Database() is init
    assert Database.connect("mongodb://h?appName=x", "d", maxPoolSize=1).name == "d"
    assert Database.connect("mongodb://h/", "d").name == "d"


def test_connect_errors() -> None:
    with pytest.raises(ConfigurationError, match="no database name"):
        Database.connect("mongodb://localhost")
    with pytest.raises(InvalidURI):
        Database.connect("mongodb://", "x")
    with pytest.raises(InvalidName):
        Database.connect("localhost", "bad.name")
    with pytest.warns(ConnectionStringWarning):
        Database.connect("localhost", "x", maxusage=3)
    Database._default = None
    with pytest.raises(InterfaceError, match="no default Database"):
        Database()
    with pytest.raises(TypeError):
        Database("only-a-name")


@pytest.mark.asyncio
async def test_disconnect() -> None:
    executor = FakeExecutor()
    database = Database("app", executor)
    Database._default = database
    await Database.disconnect()
    assert executor.closed and Database.default() is None
    await Database.disconnect()  # nothing to do
    other = Database("x", object())  # type: ignore[arg-type]
    Database._default = other
    await other.close()  # an executor without close()
    assert Database.default() is None
    database = Database("app", FakeExecutor())
    Database._default = database
    closing = Database.disconnect()
    await asyncio.sleep(0)
    await closing


@pytest.mark.asyncio
async def test_commands() -> None:
    executor = FakeExecutor()
    database = fake_database(executor)
    await database.command("buildinfo")
    await database.command("collstats", "users")
    await database.command("filemd5", 5, root="fs")
    await database.command({"count": "users", "query": {}}, limit=1)
    await database.command("ping", read_preference="secondary")
    assert executor.commands == [
        {"buildInfo": 1},
        {"collStats": "users"},
        {"filemd5": 5, "root": "fs"},
        {"count": "users", "query": {}, "limit": 1},
        {"ping": 1},
    ]
    assert executor.requests[4].read_preference.mode is ReadPreferenceMode.SECONDARY


@pytest.mark.asyncio
async def test_command_errors() -> None:
    failure = {"ok": 0, "code": 59, "errmsg": "no such command: 'nope'"}
    executor = FakeExecutor().answer(failure, failure, failure, failure, failure, ValueError("x"))
    database = fake_database(executor)
    with pytest.raises(ProgrammingError):
        await database.command("nope")
    assert (await database.command("nope", check=False))["code"] == 59
    assert (await database.command("nope", allowable_errors=[59]))["ok"] == 0
    assert (await database.command("nope", allowable_errors=[failure["errmsg"]]))["ok"] == 0
    with pytest.raises(OperationFailure):
        await database.command("nope", allowable_errors=[1])
    with pytest.raises(ValueError, match="x"):
        await database.command("nope", check=False)


@pytest.mark.asyncio
async def test_collections_and_databases() -> None:
    executor = FakeExecutor().answer(
        cursor_reply([{"name": "a"}, {"name": "b"}]),
        {"ok": 1},
        {"ok": 1},
        {"ok": 1},
        {"ok": 1, "databases": [{"name": "app"}, {"name": "admin"}]},
        {"ok": 1},
        cursor_reply([]),
    )
    database = fake_database(executor)
    assert await database.list_collection_names({"name": {"$ne": "x"}}) == ["a", "b"]
    created = await database.create_collection("logs", capped=True, size=1024)
    assert isinstance(created, Client) and created.name == "logs"
    await database.drop_collection("logs")
    await database.drop_collection(database.other)
    assert await database.list_database_names() == ["app", "admin"]
    await database.drop()
    assert await database.list_collections().to_list() == []
    commands = executor.commands
    assert commands[0] == {
        "listCollections": 1,
        "cursor": {},
        "filter": {"name": {"$ne": "x"}},
        "nameOnly": True,
    }
    assert commands[1] == {"create": "logs", "capped": True, "size": 1024}
    assert commands[2] == {"drop": "logs"} and commands[3] == {"drop": "other"}
    assert executor.requests[4].database == "admin"
    assert commands[5] == {"dropDatabase": 1}


def test_identity() -> None:
    executor = FakeExecutor()
    database = Database("app", executor)
    assert database == Database("app", executor) and hash(database) == hash(
        Database("app", executor)
    )
    assert database != Database("app", FakeExecutor()) and database.__eq__(1) is NotImplemented
    assert database.users == database["users"] == database.get_collection("users")
    with pytest.raises(AttributeError):
        _ = database._hidden
    custom = database.with_options(read_preference="nearest", write_concern=WriteConcern(w=0))
    assert custom.options.read_preference.mode is ReadPreferenceMode.NEAREST
    assert custom.executor is executor and custom.name == "app"
    secondary = database.get_collection("users", read_preference="secondary")
    assert secondary.read_preference.mode is ReadPreferenceMode.SECONDARY
    assert database.statistics() is None
    assert repr(database).startswith("Database('app', <")
    with pytest.raises(InvalidName):
        Database("", executor)


def test_the_default_database_is_shared() -> None:
    database: Database[Any] = Database("app", FakeExecutor())
    Database._default = database
    assert Database() is database
    assert Database().name == "app"
