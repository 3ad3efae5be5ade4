"""End to end against fakemongo: real sockets, the real handshake, SCRAM, TLS,
compression, and a pool under cancellation."""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme

from fakemongo import FakeMongo
from mongotor.pool import (
    AuthenticationError,
    Connection,
    ConnectionClosed,
    ConnectionClosedReason,
    ConnectionReady,
    ConnectionSettings,
    NetworkError,
    NetworkTimeout,
    PoolEvent,
    PoolOptions,
    ServerType,
    TooManyConnections,
    create_pool,
    open_connection,
    parse_uri,
)

USERS = [("admin", "root", "r00t-SENTINEL"), ("app", "ana", "pw-ana")]


def settings_for(uri: str) -> ConnectionSettings:
    return ConnectionSettings.from_options(parse_uri(uri))


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeMongo]:
    async with FakeMongo(users=USERS) as running:
        yield running


@pytest_asyncio.fixture
async def open_server() -> AsyncIterator[FakeMongo]:
    async with FakeMongo() as running:
        yield running


class Recording:
    """Records the first key of every command a connection sends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        original = Connection.command

        async def command(self_: Connection, db: str, body: Any, **options: Any) -> Any:
            self.names.append(next(iter(body)))
            self.bodies.append(dict(body))
            return await original(self_, db, body, **options)

        monkeypatch.setattr(Connection, "command", command)


def slow_hello(connection: Connection, wait_ms: int) -> dict[str, Any]:
    """An awaitable hello: fakemongo holds the reply for ``wait_ms``."""
    assert connection.handshake is not None
    return {
        "hello": 1,
        "topologyVersion": connection.handshake.reply["topologyVersion"],
        "maxAwaitTimeMS": wait_ms,
    }


@pytest.mark.asyncio
async def test_connect_and_run_commands(open_server: FakeMongo) -> None:
    connection = await open_connection(open_server.address)
    try:
        handshake = connection.handshake
        assert handshake is not None
        assert handshake.description.type is ServerType.STANDALONE
        assert handshake.max_wire_version == 25
        assert handshake.hello_ok
        assert handshake.server_connection_id is not None
        assert await connection.command("admin", {"ping": 1}) == {"ok": 1.0}
        reply = await connection.command("shop", {"insert": "items", "documents": [{"n": 1}]})
        assert reply["n"] == 1
        found = await connection.command("shop", {"find": "items", "filter": {}}, check=True)
        assert [doc["n"] for doc in found["cursor"]["firstBatch"]] == [1]
    finally:
        connection.close()
        await connection.wait_closed()


@pytest.mark.asyncio
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
async def test_scram(server: FakeMongo, mechanism: str, monkeypatch: pytest.MonkeyPatch) -> None:
    recording = Recording(monkeypatch)
    uri = f"mongodb://ana:pw-ana@{server.address}/app?authMechanism={mechanism}"
    connection = await open_connection(server.address, settings=settings_for(uri))
    try:
        assert recording.names[0] == "isMaster"
        speculative = recording.bodies[0]["speculativeAuthenticate"]
        assert speculative["mechanism"] == mechanism
        # The speculative first step was taken up: one saslContinue completes it.
        assert recording.names[1:] == ["saslContinue"]
        reply = await connection.command("app", {"insert": "c", "documents": [{}]}, check=True)
        assert reply["n"] == 1
    finally:
        connection.close()


@pytest.mark.asyncio
async def test_negotiation_picks_sha256_then_sha1(
    server: FakeMongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = await open_connection(
        server.address, settings=settings_for(f"mongodb://root:r00t-SENTINEL@{server.address}/")
    )
    await root.command(
        "app",
        {
            "createUser": "old",
            "pwd": "pw-old",
            "roles": ["readWrite"],
            "mechanisms": ["SCRAM-SHA-1"],
        },
        check=True,
    )
    root.close()
    recording = Recording(monkeypatch)
    both = await open_connection(
        server.address, settings=settings_for(f"mongodb://ana:pw-ana@{server.address}/app")
    )
    assert recording.bodies[0]["saslSupportedMechs"] == "app.ana"
    assert recording.names[1:] == ["saslContinue"]  # SCRAM-SHA-256, speculatively
    both.close()
    recording.names.clear()
    recording.bodies.clear()
    sha1_only = await open_connection(
        server.address, settings=settings_for(f"mongodb://old:pw-old@{server.address}/app")
    )
    assert recording.names[1:] == ["saslStart", "saslContinue"]
    assert recording.bodies[1]["mechanism"] == "SCRAM-SHA-1"
    sha1_only.close()
    # Auth spec, "Step 3": asking for the mechanism the user lacks fails.
    with pytest.raises(AuthenticationError):
        await open_connection(
            server.address,
            settings=settings_for(
                f"mongodb://old:pw-old@{server.address}/app?authMechanism=SCRAM-SHA-256"
            ),
        )


@pytest.mark.asyncio
async def test_wrong_password_is_typed_and_secret(
    server: FakeMongo, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = [
        f"mongodb://root:WRONG-SENTINEL@{server.address}/",
        f"mongodb://nobody:WRONG-SENTINEL@{server.address}/",
        f"mongodb://root:WRONG-SENTINEL@{server.address}/?authMechanism=SCRAM-SHA-1",
    ]
    with caplog.at_level(logging.DEBUG):
        for uri in attempts:
            settings = settings_for(uri)
            with pytest.raises(AuthenticationError) as caught:
                await open_connection(server.address, settings=settings)
            error = caught.value
            assert error.code == 18
            assert not error.retryable
            shown = [str(error), repr(error), "".join(traceback.format_exception(error))]
            shown += [repr(settings), repr(settings.credential)]
            for text in shown:
                assert "SENTINEL" not in text
                assert "nobody" not in text
    assert "SENTINEL" not in caplog.text


@pytest.mark.asyncio
async def test_saslprep_users() -> None:
    # The Auth spec's "Step 4": both forms of each password work.
    users = [("admin", "IX", "IX"), ("admin", "\u2168", "\u2163")]
    async with FakeMongo(users=users) as server:
        for user, password in [
            ("IX", "IX"),
            ("IX", "I%C2%ADX"),
            ("%E2%85%A8", "IV"),
            ("%E2%85%A8", "I%C2%ADV"),
        ]:
            uri = f"mongodb://{user}:{password}@{server.address}/?authMechanism=SCRAM-SHA-256"
            connection = await open_connection(server.address, settings=settings_for(uri))
            connection.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("compressor", ["zlib", "zstd", "snappy"])
async def test_compression_round_trips(open_server: FakeMongo, compressor: str) -> None:
    uri = f"mongodb://{open_server.address}/?compressors={compressor}&zlibCompressionLevel=9"
    connection = await open_connection(open_server.address, settings=settings_for(uri))
    try:
        assert connection.compressor == compressor
        documents = [{"i": i, "text": "mongotor " * 50} for i in range(50)]
        reply = await connection.command("z", {"insert": "c", "documents": documents}, check=True)
        assert reply["n"] == 50
        found = await connection.command(
            "z", {"find": "c", "filter": {}, "sort": {"i": 1}, "batchSize": 100}, check=True
        )
        assert [doc["text"] for doc in found["cursor"]["firstBatch"]] == [
            doc["text"] for doc in documents
        ]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_files(ca: trustme.CA, tmp_path: Path, *names: str) -> tuple[str, str]:
    cert = ca.issue_cert(*names)
    certfile, keyfile = tmp_path / "server.pem", tmp_path / "server.key"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    return str(certfile), str(keyfile)


@pytest.mark.asyncio
async def test_tls_verified_and_refused(ca: trustme.CA, tmp_path: Path) -> None:
    certfile, keyfile = _server_files(ca, tmp_path, "127.0.0.1", "localhost")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with FakeMongo(tls_certfile=certfile, tls_keyfile=keyfile) as server:
        base = f"mongodb://{server.address}/?tls=true"
        verified = await open_connection(
            server.address, settings=settings_for(f"{base}&tlsCAFile={ca_file}")
        )
        assert await verified.command("admin", {"ping": 1}) == {"ok": 1.0}
        verified.close()
        # Not signed by a CA we trust: refused, and not an overload.
        with pytest.raises(NetworkError, match="did not verify") as caught:
            await open_connection(server.address, settings=settings_for(base))
        assert caught.value.labels == frozenset()
        insecure = await open_connection(
            server.address, settings=settings_for(f"{base}&tlsAllowInvalidCertificates=true")
        )
        insecure.close()


@pytest.mark.asyncio
async def test_tls_hostname_checking(ca: trustme.CA, tmp_path: Path) -> None:
    certfile, keyfile = _server_files(ca, tmp_path, "db.example.org")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with FakeMongo(tls_certfile=certfile, tls_keyfile=keyfile) as server:
        base = f"mongodb://{server.address}/?tls=true&tlsCAFile={ca_file}"
        with pytest.raises(NetworkError, match="did not verify"):
            await open_connection(server.address, settings=settings_for(base))
        relaxed = await open_connection(
            server.address, settings=settings_for(f"{base}&tlsAllowInvalidHostnames=true")
        )
        relaxed.close()


@pytest.mark.asyncio
async def test_pool_exhaustion(open_server: FakeMongo) -> None:
    pool = create_pool(
        open_server.address, options=PoolOptions(max_pool_size=1, wait_queue_timeout_ms=50)
    )
    pool.ready()
    try:
        async with pool.connection() as connection:
            with pytest.raises(TooManyConnections) as caught:
                await pool.checkout()
            assert (caught.value.in_use, caught.value.max_pool_size) == (1, 1)
            assert await connection.command("admin", {"ping": 1}) == {"ok": 1.0}
        async with pool.connection() as again:
            assert again is connection
    finally:
        await pool.close()


@pytest.mark.asyncio
async def test_cancelling_an_in_flight_command(open_server: FakeMongo) -> None:
    events: list[PoolEvent] = []
    pool = create_pool(open_server.address, listeners=[events.append])
    pool.ready()
    try:
        connection = await pool.checkout()
        task = asyncio.ensure_future(connection.command("admin", slow_hello(connection, 10_000)))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert connection.closed
        pool.checkin(connection)
        closed = [e for e in events if isinstance(e, ConnectionClosed)]
        assert [(e.connection_id, e.reason) for e in closed] == [(1, ConnectionClosedReason.ERROR)]
        stats = pool.statistics()
        assert (stats.active, stats.idle, stats.pending) == (0, 0, 0)
        async with pool.connection() as fresh:
            assert fresh.id == 2
            assert await fresh.command("admin", {"ping": 1}) == {"ok": 1.0}
    finally:
        await pool.close()


@pytest.mark.asyncio
async def test_many_cancelled_operations_leave_nothing_behind(open_server: FakeMongo) -> None:
    pool = create_pool(open_server.address, options=PoolOptions(max_pool_size=8))
    pool.ready()
    rng = random.Random(20120101)

    async def operation() -> None:
        async with pool.connection() as connection:
            await connection.command("admin", slow_hello(connection, 5))

    try:
        tasks = [asyncio.ensure_future(operation()) for _ in range(300)]
        for task in tasks:
            if rng.random() < 0.5:
                for _ in range(rng.randrange(4)):
                    await asyncio.sleep(0)
                task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(r is None or isinstance(r, asyncio.CancelledError) for r in results), results
        assert any(isinstance(r, asyncio.CancelledError) for r in results)
        stats = pool.statistics()
        assert (stats.active, stats.pending, stats.waiting) == (0, 0, 0)
        assert stats.total == stats.idle <= 8
        # No idle connection is half-read: each answers the next command.
        held = [await pool.checkout() for _ in range(stats.idle)]
        for connection in held:
            assert await connection.command("admin", {"ping": 1}) == {"ok": 1.0}
            pool.checkin(connection)
    finally:
        await pool.close()


@pytest.mark.asyncio
async def test_socket_timeout(open_server: FakeMongo) -> None:
    uri = f"mongodb://{open_server.address}/?socketTimeoutMS=50"
    connection = await open_connection(open_server.address, settings=settings_for(uri))
    with pytest.raises(NetworkTimeout) as caught:
        await connection.command("admin", slow_hello(connection, 10_000))
    assert caught.value.established
    assert connection.closed


@pytest.mark.asyncio
async def test_server_going_away_fails_in_flight_operations() -> None:
    server = await FakeMongo().start()
    connection = await open_connection(server.address)
    task = asyncio.ensure_future(connection.command("admin", slow_hello(connection, 10_000)))
    await asyncio.sleep(0)
    await server.stop()
    with pytest.raises(NetworkError) as caught:
        await task
    assert caught.value.established
    assert caught.value.retryable
    assert connection.closed


@pytest.mark.asyncio
async def test_min_pool_size_populates_in_the_background(open_server: FakeMongo) -> None:
    ready = asyncio.Event()
    count = 0

    def listener(event: PoolEvent) -> None:
        nonlocal count
        if isinstance(event, ConnectionReady):
            count += 1
            if count == 3:
                ready.set()

    pool = create_pool(
        open_server.address, options=PoolOptions(min_pool_size=3), listeners=[listener]
    )
    pool.ready()
    try:
        await asyncio.wait_for(ready.wait(), 5)
        assert pool.statistics().idle == 3
    finally:
        await pool.close()
