"""The handshake and the server-wide commands, through PyMongo and raw OP_MSG.

Sources: the manual's "hello" page (response fields; client metadata only in
the first hello), the SDAM specification (the fields drivers read, awaitable
hello), the Wire Compression specification (negotiation in the client's
order), and the pages of buildInfo, serverStatus, getParameter,
getCmdLineOpts, hostInfo, listCommands and endSessions. Where the manual is
silent the expectation follows mongod's code: repl/hello.cpp and
replication_info.cpp (awaitable hello errors 51758-51764),
MessageCompressorManager::serverNegotiate (renegotiation), and
ClientMetadata::setFromMetadata (186).
"""

from __future__ import annotations

import asyncio
import datetime
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from bson import Int64, ObjectId
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import OperationFailure

from fakemongo import FakeMongo, FakeMongoThread
from mongotor.wire import NEED_DATA, Framer, OpMsg, encode_op_msg

# ---------------------------------------------------------------- helpers


class Conn:
    """One raw connection speaking OP_MSG."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.framer = Framer()

    async def command(self, body: dict[str, Any], db: str = "admin") -> dict[str, Any]:
        self.writer.write(encode_op_msg(1, {**body, "$db": db}))
        await self.writer.drain()
        while (message := self.framer.next_message()) is NEED_DATA:
            chunk = await self.reader.read(65536)
            assert chunk, "the server closed the connection"
            self.framer.feed(chunk)
        assert isinstance(message, OpMsg)
        return dict(message.body)  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def conn(server: FakeMongo) -> AsyncIterator[Conn]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    yield Conn(reader, writer)
    writer.close()
    await writer.wait_closed()


def _error(info: pytest.ExceptionInfo[OperationFailure]) -> tuple[int | None, str]:
    details = info.value.details or {}
    return info.value.code, str(details.get("errmsg"))


def _failure(reply: dict[str, Any]) -> tuple[int, str, str]:
    assert reply["ok"] == 0.0
    return reply["code"], reply["codeName"], reply["errmsg"]


# ---------------------------------------------------------------- hello


def test_hello_has_every_field_drivers_read(
    client: MongoClient[dict[str, Any]], fake_server: FakeMongoThread
) -> None:
    # manual, hello: "Output"; SDAM spec: the fields a server description reads.
    reply = client.admin.command("hello")
    assert list(reply) == [
        "isWritablePrimary",
        "topologyVersion",
        "maxBsonObjectSize",
        "maxMessageSizeBytes",
        "maxWriteBatchSize",
        "localTime",
        "logicalSessionTimeoutMinutes",
        "connectionId",
        "minWireVersion",
        "maxWireVersion",
        "readOnly",
        "ok",
    ]
    assert reply["isWritablePrimary"] is True
    assert reply["topologyVersion"] == {
        "processId": fake_server.call(lambda: fake_server.server.state.process_id),
        "counter": 0,
    }
    assert isinstance(reply["topologyVersion"]["processId"], ObjectId)
    assert isinstance(reply["topologyVersion"]["counter"], Int64)
    assert reply["maxBsonObjectSize"] == 16 * 1024 * 1024
    assert reply["maxMessageSizeBytes"] == 48_000_000
    assert reply["maxWriteBatchSize"] == 100_000
    assert isinstance(reply["localTime"], datetime.datetime)
    assert abs(reply["localTime"] - datetime.datetime.now()) < datetime.timedelta(minutes=1)
    assert reply["logicalSessionTimeoutMinutes"] == 30
    assert isinstance(reply["connectionId"], int)
    assert reply["minWireVersion"] == 0
    assert reply["maxWireVersion"] == 25  # the 8.0 series
    assert reply["readOnly"] is False
    assert reply["ok"] == 1.0


@pytest.mark.parametrize("name", ["isMaster", "ismaster"])
def test_is_master_uses_the_legacy_field_name(
    client: MongoClient[dict[str, Any]], name: str
) -> None:
    reply = client.admin.command(name)
    assert reply["ismaster"] is True
    assert "isWritablePrimary" not in reply


@pytest.mark.parametrize("sent", [True, False])
def test_hello_ok_is_answered_when_sent(client: MongoClient[dict[str, Any]], sent: bool) -> None:
    # manual, hello "helloOk": a server that knows hello answers helloOk: true.
    reply = client.admin.command("isMaster", helloOk=sent)
    assert reply["helloOk"] is True
    assert list(reply)[:3] == ["ismaster", "topologyVersion", "helloOk"]
    assert "helloOk" not in client.admin.command("isMaster")


def test_connection_ids_differ_per_connection(fake_server: FakeMongoThread) -> None:
    with MongoClient(fake_server.uri) as one, MongoClient(fake_server.uri) as two:
        first = one.admin.command("hello")
        second = two.admin.command("hello")
    assert first["connectionId"] != second["connectionId"]
    assert first["topologyVersion"] == second["topologyVersion"]


@pytest.mark.asyncio
async def test_hello_works_on_any_database(conn: Conn) -> None:
    assert (await conn.command({"hello": 1}, db="anything"))["isWritablePrimary"] is True


# ---------------------------------------------------------------- compression


@pytest.mark.asyncio
async def test_compression_is_negotiated_in_the_clients_order(conn: Conn) -> None:
    reply = await conn.command({"hello": 1, "compression": ["zlib", "lz4", "zstd", "snappy"]})
    assert reply["compression"] == ["zlib", "zstd", "snappy"]
    # A hello without the field is told the current choice...
    assert (await conn.command({"hello": 1}))["compression"] == ["zlib", "zstd", "snappy"]
    # ...and one with it renegotiates.
    assert (await conn.command({"hello": 1, "compression": ["snappy"]}))["compression"] == [
        "snappy"
    ]
    assert "compression" not in await conn.command({"hello": 1, "compression": ["lz4"]})
    assert "compression" not in await conn.command({"hello": 1})


@pytest.mark.asyncio
async def test_compression_offered_is_the_servers_choice() -> None:
    async with FakeMongo(compressors=("zlib",)) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        try:
            reply = await Conn(reader, writer).command(
                {"hello": 1, "compression": ["zstd", "snappy", "zlib"]}
            )
            assert reply["compression"] == ["zlib"]
        finally:
            writer.close()
            await writer.wait_closed()


@pytest.mark.asyncio
async def test_compression_must_be_an_array_of_strings(conn: Conn) -> None:
    assert _failure(await conn.command({"hello": 1, "compression": "zlib"})) == (
        14,
        "TypeMismatch",
        "BSON field 'hello.compression' is the wrong type 'string', expected type 'array'",
    )
    assert _failure(await conn.command({"hello": 1, "compression": ["zlib", 1]})) == (
        14,
        "TypeMismatch",
        "BSON field 'hello.compression' contains a value of the wrong type 'int', "
        "expected type 'string'",
    )


def test_pymongo_negotiates_compression(fake_server: FakeMongoThread) -> None:
    with MongoClient(fake_server.uri, compressors="snappy,zlib") as client:
        client.admin.command("ping")
        connections = fake_server.call(
            lambda: [
                c.compressors
                for c in _live_connections(fake_server.server)
                if c.client_metadata is not None
                and c.client_metadata.get("driver", {}).get("name", "").startswith("PyMongo")
            ]
        )
    assert ["snappy", "zlib"] in connections


def _live_connections(server: FakeMongo) -> list[Any]:
    return list(server.state.connections.values())


# ---------------------------------------------------------------- client metadata


def test_client_metadata_only_in_the_first_hello(client: MongoClient[dict[str, Any]]) -> None:
    # manual, hello "client": sent in the first hello only; PyMongo's
    # connection already sent it, so a second one is refused.
    with pytest.raises(OperationFailure) as info:
        client.admin.command("hello", client={"driver": {"name": "x", "version": "1"}})
    assert _error(info) == (186, "The client metadata document may only be sent in the first hello")
    assert info.value.details is not None
    assert info.value.details["codeName"] == "ClientMetadataCannotBeMutated"


@pytest.mark.asyncio
async def test_client_metadata_after_a_first_hello_without_it(conn: Conn) -> None:
    assert (await conn.command({"hello": 1}))["ok"] == 1.0
    reply = await conn.command({"hello": 1, "client": {"application": {"name": "late"}}})
    assert _failure(reply)[0] == 186


@pytest.mark.asyncio
async def test_client_metadata_must_be_a_document(conn: Conn) -> None:
    reply = await conn.command({"hello": 1, "client": "me"})
    assert _failure(reply) == (
        14,
        "TypeMismatch",
        "The client metadata document must be a document",
    )


@pytest.mark.asyncio
async def test_client_metadata_is_kept(server: FakeMongo, conn: Conn) -> None:
    metadata = {"driver": {"name": "raw", "version": "0"}, "os": {"type": "Linux"}}
    assert (await conn.command({"hello": 1, "client": metadata}))["ok"] == 1.0
    kept = [c.client_metadata for c in _live_connections(server) if c.client_metadata]
    assert metadata in kept


# ---------------------------------------------------------------- awaitable hello


@pytest.mark.asyncio
async def test_awaitable_hello_answers_after_max_await_time(server: FakeMongo, conn: Conn) -> None:
    # SDAM spec, "Awaitable hello": with the server's own topologyVersion the
    # reply waits for a change or maxAwaitTimeMS; a standalone never changes.
    version = (await conn.command({"hello": 1}))["topologyVersion"]
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await conn.command({"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 50})
    assert loop.time() - started >= 0.05
    assert reply["topologyVersion"] == version
    assert reply["isWritablePrimary"] is True


@pytest.mark.asyncio
async def test_awaitable_hello_for_another_process_answers_at_once(conn: Conn) -> None:
    stale = {"processId": ObjectId(), "counter": Int64(7)}
    reply = await asyncio.wait_for(
        conn.command({"hello": 1, "topologyVersion": stale, "maxAwaitTimeMS": 600_000}), 10
    )
    assert reply["ok"] == 1.0
    assert reply["topologyVersion"]["processId"] != stale["processId"]


@pytest.mark.asyncio
async def test_awaitable_hello_errors(server: FakeMongo, conn: Conn) -> None:
    mine = {"processId": server.state.process_id, "counter": Int64(0)}
    cases: list[tuple[dict[str, Any], tuple[int, str]]] = [
        (
            {"topologyVersion": mine},
            (51760, "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'"),
        ),
        (
            {"maxAwaitTimeMS": 10},
            (51760, "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'"),
        ),
        (
            {"topologyVersion": mine, "maxAwaitTimeMS": -1},
            (51759, "maxAwaitTimeMS must be a non-negative integer"),
        ),
        (
            {"topologyVersion": {**mine, "counter": Int64(-1)}, "maxAwaitTimeMS": 1},
            (51758, "topologyVersion must have a non-negative counter"),
        ),
        (
            {"topologyVersion": {**mine, "counter": Int64(3)}, "maxAwaitTimeMS": 1},
            (
                51764,
                "Received a topology version with counter: 3 which is greater than the server "
                "topology version counter: 0",
            ),
        ),
        (
            {"topologyVersion": 1, "maxAwaitTimeMS": 1},
            (
                14,
                "BSON field 'hello.topologyVersion' is the wrong type 'int', expected type 'object'",
            ),
        ),
        (
            {"topologyVersion": {"processId": mine["processId"]}, "maxAwaitTimeMS": 1},
            (40414, "BSON field 'hello.topologyVersion.counter' is missing but a required field"),
        ),
        (
            {"topologyVersion": {"counter": Int64(0)}, "maxAwaitTimeMS": 1},
            (40414, "BSON field 'hello.topologyVersion.processId' is missing but a required field"),
        ),
    ]
    for extra, (code, errmsg) in cases:
        reply = await conn.command({"hello": 1, **extra})
        assert (reply["code"], reply["errmsg"]) == (code, errmsg), extra


def test_pymongo_sees_a_standalone(fake_server: FakeMongoThread) -> None:
    # SDAM spec: the description PyMongo builds from hello.
    with MongoClient(fake_server.uri, heartbeatFrequencyMS=500) as client:
        client.admin.command("ping")
        description = client.topology_description.server_descriptions()
        [server] = description.values()
        assert server.server_type_name == "Standalone"
        assert server.max_wire_version == 25
        assert server.topology_version is not None


# ---------------------------------------------------------------- identity


def test_every_command_agrees_on_version_and_port(
    client: MongoClient[dict[str, Any]], fake_server: FakeMongoThread
) -> None:
    build = client.admin.command("buildInfo")
    assert build["version"] == "8.0.4"
    assert build["versionArray"] == [8, 0, 4, 0]
    assert build["maxBsonObjectSize"] == 16 * 1024 * 1024
    assert build["bits"] == 64
    assert build["ok"] == 1.0
    assert client.admin.command("buildinfo")["version"] == build["version"]
    assert client.server_info()["version"] == "8.0.4"
    status = client.admin.command("serverStatus")
    assert status["version"] == build["version"]
    assert status["host"] == f"127.0.0.1:{fake_server.port}"
    assert status["process"] == "mongod"
    parameter = client.admin.command("getParameter", 1, featureCompatibilityVersion=1)
    assert parameter == {"featureCompatibilityVersion": {"version": "8.0"}, "ok": 1.0}
    opts = client.admin.command("getCmdLineOpts")
    assert opts["parsed"]["net"]["port"] == fake_server.port
    assert opts["argv"] == ["fakemongo", "--bind_ip", "127.0.0.1", "--port", str(fake_server.port)]
    assert "security" not in opts["parsed"]
    assert client.admin.command("hello")["maxWireVersion"] == 25


def test_server_status_counts(
    client: MongoClient[dict[str, Any]], db: Database[dict[str, Any]]
) -> None:
    before = client.admin.command("serverStatus")
    db.c.insert_many([{"_id": 1}, {"_id": 2}])
    db.c.update_one({"_id": 1}, {"$set": {"a": 1}})
    db.c.delete_one({"_id": 2})
    list(db.c.find())
    list(db.c.aggregate([]))
    with pytest.raises(OperationFailure):
        db.command("drop", 5)
    after = client.admin.command("serverStatus")
    delta = {k: after["opcounters"][k] - before["opcounters"][k] for k in after["opcounters"]}
    # manual, serverStatus opcounters: write commands count their documents
    # and statements, not as commands; find and aggregate count as queries.
    assert delta == {"insert": 2, "query": 2, "update": 1, "delete": 1, "getmore": 0, "command": 2}
    assert all(isinstance(v, Int64) for v in after["opcounters"].values())
    commands = after["metrics"]["commands"]
    assert commands["drop"]["failed"] >= 1
    assert commands["insert"]["total"] >= 1
    assert after["connections"]["current"] >= 1
    assert after["connections"]["totalCreated"] >= after["connections"]["current"]
    assert after["uptimeMillis"] >= before["uptimeMillis"]
    assert isinstance(after["localTime"], datetime.datetime)
    assert after["metrics"]["cursor"]["open"] == {"total": 0, "noTimeout": 0}


def test_get_parameter(client: MongoClient[dict[str, Any]]) -> None:
    # manual, getParameter: by name, or "*" / {allParameters: true} for all.
    reply = client.admin.command("getParameter", 1, cursorTimeoutMillis=1, ttlMonitorSleepSecs=1)
    assert reply == {"cursorTimeoutMillis": 600_000, "ttlMonitorSleepSecs": 60, "ok": 1.0}
    every = client.admin.command("getParameter", "*")
    assert every["authenticationMechanisms"] == ["SCRAM-SHA-1", "SCRAM-SHA-256"]
    assert every["clientCursorMonitorFrequencySecs"] == 4
    assert every["featureCompatibilityVersion"] == {"version": "8.0"}
    assert client.admin.command("getParameter", {"allParameters": True}) == every
    with pytest.raises(OperationFailure) as info:
        client.admin.command("getParameter", 1, noSuchParameter=1)
    assert _error(info) == (72, "no option found to get")
    assert info.value.details is not None
    assert info.value.details["codeName"] == "InvalidOptions"


@pytest.mark.asyncio
async def test_get_parameter_reflects_the_options() -> None:
    async with FakeMongo(ttl_monitor_seconds=0.5, cursor_monitor_seconds=2.0) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        try:
            reply = await Conn(reader, writer).command(
                {"getParameter": 1, "ttlMonitorSleepSecs": 1, "clientCursorMonitorFrequencySecs": 1}
            )
        finally:
            writer.close()
            await writer.wait_closed()
    assert reply == {"clientCursorMonitorFrequencySecs": 2, "ttlMonitorSleepSecs": 0.5, "ok": 1.0}


def test_get_cmd_line_opts_with_authentication() -> None:
    with (
        FakeMongoThread(users=[("admin", "root", "pw")]) as server,
        MongoClient(server.uri, username="root", password="pw") as client,
    ):
        opts = client.admin.command("getCmdLineOpts")
    assert opts["argv"][-1] == "--auth"
    assert opts["parsed"]["security"] == {"authorization": "enabled"}


def test_host_info(client: MongoClient[dict[str, Any]]) -> None:
    info = client.admin.command("hostInfo")
    assert info["system"]["hostname"] == socket.gethostname()
    assert info["system"]["numCores"] >= 1
    assert info["system"]["cpuAddrSize"] == 64
    assert isinstance(info["system"]["currentTime"], datetime.datetime)
    assert info["os"]["type"]
    assert info["ok"] == 1.0


@pytest.mark.asyncio
async def test_whatsmyuri_is_the_clients_address(conn: Conn) -> None:
    host, port = conn.writer.get_extra_info("sockname")[:2]
    assert await conn.command({"whatsmyuri": 1}) == {"you": f"{host}:{port}", "ok": 1.0}


def test_ping(client: MongoClient[dict[str, Any]]) -> None:
    assert client.admin.command("ping") == {"ok": 1.0}
    assert client.some_db.command("ping") == {"ok": 1.0}


def test_unknown_command_is_59(db: Database[dict[str, Any]]) -> None:
    with pytest.raises(OperationFailure) as info:
        db.command("noSuchCommand")
    assert _error(info) == (59, "no such command: 'noSuchCommand'")
    assert info.value.details is not None
    assert info.value.details["codeName"] == "CommandNotFound"


def test_list_commands(client: MongoClient[dict[str, Any]]) -> None:
    commands = client.admin.command("listCommands")["commands"]
    assert commands["hello"]["requiresAuth"] is False
    assert commands["find"]["requiresAuth"] is True
    assert commands["listDatabases"]["adminOnly"] is True
    assert commands["find"]["adminOnly"] is False
    assert commands["ping"]["help"]
    assert {"isMaster", "ismaster", "createIndexes", "endSessions"} <= set(commands)


def test_end_sessions(client: MongoClient[dict[str, Any]]) -> None:
    # manual, endSessions: unknown sessions are not an error.
    with client.start_session() as session:
        lsid = session.session_id
    assert client.admin.command("endSessions", [lsid]) == {"ok": 1.0}
    assert client.admin.command("refreshSessions", [lsid]) == {"ok": 1.0}
    assert client.admin.command("killSessions", []) == {"ok": 1.0}
    with pytest.raises(OperationFailure) as info:
        client.admin.command("endSessions", lsid)
    assert info.value.code == 14
    with pytest.raises(OperationFailure) as info:
        client.admin.command("endSessions", [1])
    assert info.value.code == 14
    with pytest.raises(OperationFailure) as info:
        client.admin.command("endSessions", [], bogus=1)
    assert _error(info) == (40415, "BSON field 'endSessions.bogus' is an unknown field.")


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("listDatabases", {}),
        ("getParameter", {"logLevel": 1}),
        ("getCmdLineOpts", {}),
        ("renameCollection", {"to": "x.y"}),
    ],
)
def test_admin_only_commands_elsewhere_are_13(
    db: Database[dict[str, Any]], command: str, args: dict[str, Any]
) -> None:
    value: Any = f"{db.name}.c" if command == "renameCollection" else 1
    with pytest.raises(OperationFailure) as info:
        db.command(command, value, **args)
    assert _error(info) == (13, f"{command} may only be run against the admin database.")
    assert info.value.details is not None
    assert info.value.details["codeName"] == "Unauthorized"


# ---------------------------------------------------------------- authentication gate


@pytest.fixture(scope="module")
def secured() -> Iterator[FakeMongoThread]:
    with FakeMongoThread(users=[("admin", "root", "pw")]) as running:
        yield running


def test_unauthenticated_commands_are_13(secured: FakeMongoThread) -> None:
    # manual, "Enable Access Control": with authorization on, every command
    # but the handshake and authentication ones needs an authenticated user.
    with MongoClient(secured.uri) as client:
        assert client.admin.command("hello")["isWritablePrimary"] is True
        assert client.admin.command("ping") == {"ok": 1.0}
        assert client.admin.command("buildInfo")["version"] == "8.0.4"
        with pytest.raises(OperationFailure) as info:
            client.db.c.find_one()
        assert _error(info) == (13, "Command find requires authentication")
        with pytest.raises(OperationFailure) as info:
            client.admin.command("listDatabases")
        assert _error(info) == (13, "Command listDatabases requires authentication")
        # mongod checks admin-only commands before authentication.
        with pytest.raises(OperationFailure) as info:
            client.db.command("listDatabases")
        assert _error(info) == (13, "listDatabases may only be run against the admin database.")
    with MongoClient(secured.uri, username="root", password="pw") as client:
        assert client.db.c.find_one() is None


def test_hello_sasl_supported_mechs(secured: FakeMongoThread) -> None:
    # manual, hello "saslSupportedMechs": the mechanisms of the named user;
    # nothing at all for a user that does not exist.
    with MongoClient(secured.uri) as client:
        reply = client.admin.command("hello", saslSupportedMechs="admin.root")
        assert reply["saslSupportedMechs"] == ["SCRAM-SHA-1", "SCRAM-SHA-256"]
        assert "saslSupportedMechs" not in client.admin.command(
            "hello", saslSupportedMechs="admin.nobody"
        )


def test_string_arguments(secured: FakeMongoThread) -> None:
    with MongoClient(secured.uri) as client:
        with pytest.raises(OperationFailure) as info:
            client.admin.command("saslStart", 1, mechanism=5, payload=b"")
        assert _error(info) == (
            14,
            "BSON field 'saslStart.mechanism' is the wrong type 'int', expected type 'string'",
        )
        with pytest.raises(OperationFailure) as info:
            client.admin.command("saslStart", 1, payload=b"")
        assert _error(info) == (
            40414,
            "BSON field 'saslStart.mechanism' is missing but a required field",
        )


def test_optional_string_arguments_default() -> None:
    from fakemongo._args import get_string

    assert get_string("cmd", {}, "field") is None
    assert get_string("cmd", {"field": None}, "field", "default") == "default"
    assert get_string("cmd", {"field": "value"}, "field", "default") == "value"
