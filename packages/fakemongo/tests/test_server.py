"""The server's life cycle, concurrency, TLS, background monitors and the
background-thread runner, driven by PyMongo (sync and async)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import logging
import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import trustme
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure

import fakemongo
from fakemongo import FakeMongo, FakeMongoThread, ServerOptions
from fakemongo import _threaded as threaded_module
from fakemongo._dispatch import COMMANDS, CommandSpec, command
from fakemongo._server import Monitor
from mongotor.wire import encode_op_msg

# ---------------------------------------------------------------- helpers


def _async_client(server: FakeMongo, **kwargs: Any) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(server.uri, serverSelectionTimeoutMS=5_000, **kwargs)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other socket is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# ---------------------------------------------------------------- package


def test_package_exports_load_lazily() -> None:
    assert fakemongo.FakeMongo is FakeMongo
    assert fakemongo.ServerOptions is ServerOptions
    assert fakemongo.ErrorCode.CommandNotFound == 59
    assert fakemongo.CommandError(2, "x").code_name == "BadValue"
    assert {"FakeMongo", "FakeMongoThread", "ServerOptions", "CommandError", "ErrorCode"} <= set(
        dir(fakemongo)
    )
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = fakemongo.nope


# ---------------------------------------------------------------- life cycle


@pytest.mark.asyncio
async def test_async_with_serves_and_stops() -> None:
    async with FakeMongo() as server:
        assert server.running
        assert server.port > 0  # port 0 picked a free port
        assert server.uri == f"mongodb://127.0.0.1:{server.port}"
        assert repr(server) == (
            f"<FakeMongo listening on 127.0.0.1:{server.port} connections=0 cursors=0 databases=0>"
        )
        async with _async_client(server) as client:
            await client.db.c.insert_one({"_id": 1})
            assert await client.db.c.find_one() == {"_id": 1}
            stats = server.statistics()
            assert stats["connections"] >= 1
            assert stats["databases"] == ["db"]
            assert stats["commands"]["insert"] == 1
            assert stats["commands"]["find"] == 1
    assert not server.running
    assert repr(server).startswith("<FakeMongo stopped connections=0 ")
    # Nothing listens any more.
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.port)


@pytest.mark.asyncio
async def test_two_servers_get_different_free_ports() -> None:
    async with FakeMongo() as one, FakeMongo(port=0) as two:
        assert one.port != two.port


@pytest.mark.asyncio
async def test_double_start_is_refused_and_stop_is_idempotent(server: FakeMongo) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        await server.start()
    await server.stop()
    await server.stop()
    assert not server.running


@pytest.mark.asyncio
async def test_restart_keeps_the_data() -> None:
    server = FakeMongo()
    await server.start()
    async with _async_client(server) as client:
        await client.db.c.insert_one({"_id": 1})
    await server.stop()
    await server.start()
    try:
        async with _async_client(server) as client:
            assert await client.db.c.find_one() == {"_id": 1}
    finally:
        await server.stop()


@pytest.mark.asyncio
async def test_stop_closes_open_connections(server: FakeMongo) -> None:
    # Raw connections, not a driver's: a driver's monitor reconnects at once,
    # racing the stop (PyMongo's async monitor leaks a socket it was connecting
    # when its client closes).
    connections = [await asyncio.open_connection(server.host, server.port) for _ in range(3)]
    for request_id, (reader, writer) in enumerate(connections):
        writer.write(encode_op_msg(request_id, {"ping": 1, "$db": "admin"}))
        length = int.from_bytes(await reader.readexactly(4), "little")
        await reader.readexactly(length - 4)
    assert server.statistics()["connections"] == 3
    await server.stop()
    assert server.statistics()["connections"] == 0
    for reader, writer in connections:
        assert await asyncio.wait_for(reader.read(1), 10) == b""  # closed by the server
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.asyncio
async def test_a_connection_accepted_while_stopping_is_closed() -> None:
    # The race stop() cannot see: asyncio accepted the connection just before
    # the listener closed. The connection must close its socket, not serve.
    server = FakeMongo()
    left, right = socket.socketpair()
    with left, right:
        loop = asyncio.get_running_loop()
        transport, connection = await loop.connect_accepted_socket(
            server._new_connection, sock=left
        )
        assert transport.is_closing()
        await asyncio.wait_for(connection.closed, 10)
        assert right.recv(1) == b""  # the other end sees the close
    assert server.statistics()["total_connections"] == 0


@pytest.mark.asyncio
async def test_stop_in_the_turn_a_connection_is_accepted_leaks_no_socket() -> None:
    # asyncio's selector loop accepts a connection in one loop turn and builds
    # its transport in a task's first step, the next turn. CPython 3.11's
    # Server._attach asserts the listener is still open: if close() ran in
    # between, the transport's construction fails half-way and its socket is
    # left open (a ResourceWarning when collected; found as a CI flake when a
    # replica-set member was killed under load). A task factory starts stop()
    # just before that task, so stop() runs first, deterministically.
    loop = asyncio.get_running_loop()
    if not isinstance(loop, asyncio.SelectorEventLoop):  # pragma: no cover - the tests' loop
        pytest.skip("the race is in asyncio's selector loop")
    server = await FakeMongo().start()
    stopping: list[asyncio.Future[None]] = []
    accepted = asyncio.Event()
    default_factory = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        if getattr(coro, "__name__", "") == "_accept_connection2" and not stopping:
            stopping.append(asyncio.ensure_future(server.stop()))
            accepted.set()
        return asyncio.Task(coro, loop=loop, **kwargs)

    gc.collect()  # what earlier tests left is not this test's
    unraisable: list[Any] = []
    hook = sys.unraisablehook
    loop.set_task_factory(factory)
    sys.unraisablehook = unraisable.append
    try:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        await asyncio.wait_for(accepted.wait(), 10)
        await asyncio.wait_for(stopping[0], 10)
        with contextlib.suppress(ConnectionError):
            assert await asyncio.wait_for(reader.read(1), 10) == b""  # closed by the server
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        gc.collect()
    finally:
        sys.unraisablehook = hook
        loop.set_task_factory(default_factory)
    assert unraisable == []
    assert server.statistics()["connections"] == 0


def test_a_command_is_registered_once() -> None:
    def handler(ctx: Any, body: Any) -> Any:
        return {}

    with pytest.raises(RuntimeError, match="command 'ping' registered twice"):
        command("brandNewCommand", "ping")(handler)
    assert "brandNewCommand" not in COMMANDS  # nothing of it was registered


def test_options_as_keywords_or_instance() -> None:
    server = FakeMongo(ServerOptions(port=1234), users=[["admin", "root", "pw"]])
    assert server.options.port == 1234
    assert server.options.users == (("admin", "root", "pw"),)
    with pytest.raises(TypeError):
        FakeMongo(no_such_option=1)


def test_ipv6_addresses_are_bracketed() -> None:
    server = FakeMongo(host="::1")
    assert server.address == "[::1]:0"
    assert server.uri == "mongodb://[::1]:0"


@pytest.mark.asyncio
async def test_port_in_use_raises(busy_port: int) -> None:
    server = FakeMongo(port=busy_port)
    with pytest.raises(OSError, match="address already in use"):
        await server.start()
    assert not server.running


# ---------------------------------------------------------------- concurrency


@pytest.mark.asyncio
async def test_200_concurrent_async_operations_are_all_served(server: FakeMongo) -> None:
    async with _async_client(server, maxPoolSize=200) as client:
        collection = client.db.c
        await asyncio.gather(*(collection.insert_one({"_id": i}) for i in range(200)))
        counts = await asyncio.gather(*(collection.count_documents({"_id": i}) for i in range(200)))
    assert counts == [1] * 200
    stats = server.statistics()
    assert stats["total_connections"] > 1  # the work really ran on many connections
    assert stats["commands"]["insert"] == 200


def test_50_sync_clients_at_once_are_all_served(fake_server: FakeMongoThread) -> None:
    barrier = threading.Barrier(50)

    def work(n: int) -> int:
        with MongoClient(fake_server.uri, serverSelectionTimeoutMS=10_000) as client:
            barrier.wait(timeout=30)  # every client is connected before any writes
            client.many.c.insert_one({"_id": n})
            return client.many.c.count_documents({"_id": n})

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            assert list(pool.map(work, range(50))) == [1] * 50
        with MongoClient(fake_server.uri) as client:
            assert sorted(d["_id"] for d in client.many.c.find()) == list(range(50))
    finally:
        with MongoClient(fake_server.uri) as client:
            client.drop_database("many")


@pytest.mark.asyncio
async def test_an_internal_error_fails_only_that_request(
    server: FakeMongo, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(ctx: Any, body: Any) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(COMMANDS, "explode", CommandSpec("explode", explode))
    async with _async_client(server) as client:
        with (
            caplog.at_level(logging.ERROR, logger="fakemongo.commands"),
            pytest.raises(OperationFailure) as info,
        ):
            await client.db.command("explode")
        assert info.value.code == 1
        assert info.value.details == {
            "ok": 0.0,
            "errmsg": "internal error in fakemongo while running explode",
            "code": 1,
            "codeName": "InternalError",
        }
        [record] = [r for r in caplog.records if r.name == "fakemongo.commands"]
        assert record.exc_info is not None
        assert record.exc_info[0] is ZeroDivisionError
        # The same connection, and the server, go on.
        assert (await client.db.command("ping"))["ok"] == 1.0


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("tls")
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("client@example.com")
    other_client = trustme.CA().issue_cert("intruder@example.com")
    paths = {
        "ca": directory / "ca.pem",
        "server": directory / "server.pem",
        "client": directory / "client.pem",
        "intruder": directory / "intruder.pem",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(paths["server"]))
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(paths["client"]))
    other_client.private_key_and_cert_chain_pem.write_to_path(str(paths["intruder"]))
    return {name: str(path) for name, path in paths.items()}


@pytest.mark.asyncio
async def test_tls_verified_client_connects(tls_files: dict[str, str]) -> None:
    async with FakeMongo(tls_certfile=tls_files["server"]) as server:
        assert server.uri == f"mongodb://127.0.0.1:{server.port}/?tls=true"
        async with _async_client(server, tlsCAFile=tls_files["ca"]) as client:
            await client.db.c.insert_one({"_id": 1})
            assert await client.db.c.find_one() == {"_id": 1}
            opts = await client.admin.command("getCmdLineOpts")
            assert opts["parsed"]["net"]["tls"] == {
                "mode": "requireTLS",
                "certificateKeyFile": tls_files["server"],
            }


def _handshake(
    server: FakeMongoThread, ca: str | None = None, cert: str | None = None
) -> ssl.SSLSocket:
    """A TLS handshake with the server, by the standard library's client."""
    context = ssl.create_default_context(cafile=ca)
    if cert is not None:
        context.load_cert_chain(cert)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        return context.wrap_socket(raw, server_hostname="127.0.0.1")
    except BaseException:
        raw.close()
        raise


def _refused_by_server(server: FakeMongoThread, ca: str, cert: str | None = None) -> None:
    # With TLS 1.3 a refused client certificate shows after the handshake: the
    # server's alert arrives with the first read.
    try:
        with _handshake(server, ca, cert) as tls:
            tls.sendall(encode_op_msg(1, {"ping": 1, "$db": "admin"}))
            assert tls.recv(1) == b""
    except (ssl.SSLError, ConnectionError):
        pass


def test_tls_client_that_does_not_trust_the_certificate_is_refused(
    tls_files: dict[str, str],
) -> None:
    with FakeMongoThread(tls_certfile=tls_files["server"]) as server:
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            _handshake(server)
        # A plain-text client is disconnected, unanswered; the server goes on.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain:
            plain.sendall(encode_op_msg(1, {"ping": 1, "$db": "admin"}))
            assert plain.recv(1) == b""
        with MongoClient(server.uri, tlsCAFile=tls_files["ca"]) as client:
            assert client.admin.command("ping")["ok"] == 1.0


def test_tls_with_a_ca_requires_client_certificates(tls_files: dict[str, str]) -> None:
    # manual, net.tls.CAFile / allowConnectionsWithoutCertificates: given a
    # CA, mongod requires every client to present a certificate it signed.
    with FakeMongoThread(tls_certfile=tls_files["server"], tls_ca_file=tls_files["ca"]) as server:
        with MongoClient(
            server.uri, tlsCAFile=tls_files["ca"], tlsCertificateKeyFile=tls_files["client"]
        ) as client:
            assert client.admin.command("ping")["ok"] == 1.0
            opts = client.admin.command("getCmdLineOpts")
            assert opts["parsed"]["net"]["tls"]["CAFile"] == tls_files["ca"]
            assert opts["argv"][-2:] == ["--tlsCAFile", tls_files["ca"]]
        _refused_by_server(server, tls_files["ca"])
        _refused_by_server(server, tls_files["ca"], tls_files["intruder"])
        assert server.call(lambda: server.server.statistics()["total_connections"]) >= 3
        with MongoClient(
            server.uri, tlsCAFile=tls_files["ca"], tlsCertificateKeyFile=tls_files["client"]
        ) as client:
            assert client.admin.command("ping")["ok"] == 1.0


@pytest.mark.asyncio
async def test_tls_with_a_bad_certificate_file_fails_to_start(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    server = FakeMongo(tls_certfile=str(bogus))
    with pytest.raises(ssl.SSLError):
        await server.start()
    assert not server.running


# ---------------------------------------------------------------- monitors


@pytest.mark.asyncio
async def test_ttl_monitor_removes_expired_documents() -> None:
    # manual, "TTL Indexes": a background task removes documents whose indexed
    # date is older than expireAfterSeconds; it runs every ttlMonitorSleepSecs.
    async with FakeMongo(ttl_monitor_seconds=0.01) as server, _async_client(server) as client:
        events = client.db.events
        await events.create_index("at", expireAfterSeconds=60)
        old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
        await events.insert_many(
            [
                {"_id": 1, "at": old},
                {"_id": 2, "at": datetime.datetime.now(datetime.UTC)},
                {"_id": 3, "at": "not a date"},
                {"_id": 4, "at": [old, "x"]},
                {"_id": 5},
            ]
        )
        while await events.count_documents({}) == 5:  # each pass is awaited: no sleeping
            await asyncio.wait_for(server.ttl_monitor.next_pass(), 10)
        assert sorted([d["_id"] async for d in events.find()]) == [2, 3, 5]
        assert server.statistics()["ttl_monitor_passes"] >= 1


@pytest.mark.asyncio
async def test_partial_ttl_index_expires_only_what_it_indexes(server: FakeMongo) -> None:
    # manual, "TTL Indexes": a partial TTL index removes only the documents its
    # partialFilterExpression selects.
    async with _async_client(server) as client:
        events = client.db.events
        await events.create_index(
            "at", expireAfterSeconds=0, partialFilterExpression={"kind": {"$eq": "temp"}}
        )
        old = datetime.datetime(2000, 1, 1)
        await events.insert_many(
            [{"_id": 1, "at": old, "kind": "temp"}, {"_id": 2, "at": old, "kind": "kept"}]
        )
        assert server.ttl_monitor.run_now() == 1
        assert [d["_id"] async for d in events.find()] == [2]


@pytest.mark.asyncio
async def test_ttl_monitor_runs_now_on_request(server: FakeMongo) -> None:
    async with _async_client(server) as client:
        await client.db.e.create_index("at", expireAfterSeconds=0)
        await client.db.e.insert_one({"at": datetime.datetime(2000, 1, 1)})
        assert server.ttl_monitor.run_now() == 1
        assert server.ttl_monitor.run_now() == 0
        assert await client.db.e.count_documents({}) == 0
    assert repr(server.ttl_monitor).startswith("<Monitor TTL monitor passes=")


@pytest.mark.asyncio
async def test_cursor_monitor_kills_idle_cursors() -> None:
    # manual, cursorTimeoutMillis: an idle cursor is killed after the timeout;
    # the server looks every clientCursorMonitorFrequencySecs.
    async with (
        FakeMongo(cursor_timeout_ms=1, cursor_monitor_seconds=0.01) as server,
        _async_client(server) as client,
    ):
        await client.db.c.insert_many([{"_id": i} for i in range(5)])
        reply = await client.db.command("find", "c", batchSize=2)
        cursor_id = reply["cursor"]["id"]
        assert cursor_id != 0
        assert server.statistics()["open_cursors"] == 1
        reaped = 0
        while not reaped:  # each pass is awaited: no sleeping
            reaped = await asyncio.wait_for(server.cursor_monitor.next_pass(), 10)
        assert server.statistics()["open_cursors"] == 0
        status = await client.admin.command("serverStatus")
        assert status["metrics"]["cursor"]["timedOut"] == 1
        with pytest.raises(OperationFailure) as info:
            await client.db.command("getMore", cursor_id, collection="c")
        assert info.value.code == 43


@pytest.mark.asyncio
async def test_monitor_waiters_are_released_even_if_one_gave_up(server: FakeMongo) -> None:
    gave_up = asyncio.ensure_future(server.cursor_monitor.next_pass())
    waiting = asyncio.ensure_future(server.cursor_monitor.next_pass())
    await asyncio.sleep(0)  # both are registered
    gave_up.cancel()
    assert server.cursor_monitor.run_now() == 0
    assert await waiting == 0
    assert gave_up.cancelled()


# ---------------------------------------------------------------- FakeMongoThread


def test_thread_runner_serves_sync_clients() -> None:
    runner = FakeMongoThread(port=0)
    assert not runner.running
    with runner:
        assert runner.running
        assert runner.port > 0
        assert runner.address == f"127.0.0.1:{runner.port}"
        assert runner.uri == f"mongodb://127.0.0.1:{runner.port}"
        assert repr(runner).startswith(f"<FakeMongoThread <FakeMongo listening on {runner.address}")
        with MongoClient(runner.uri) as client:
            client.db.c.insert_one({"_id": 1})
        assert runner.call(lambda: sorted(runner.server.state.storage.databases)) == ["db"]
    assert not runner.running
    runner.stop()  # idempotent


def test_thread_runner_call_awaits_coroutines_and_raises_errors(
    fake_server: FakeMongoThread,
) -> None:
    async def later(value: int) -> int:
        await asyncio.sleep(0)
        return value * 2

    assert fake_server.call(later, 21) == 42

    def fail() -> None:
        raise ValueError("from the server thread")

    with pytest.raises(ValueError, match="from the server thread"):
        fake_server.call(fail)


def test_thread_runner_call_needs_a_running_server() -> None:
    runner = FakeMongoThread()
    with pytest.raises(RuntimeError, match="not running"):
        runner.call(print)


def test_thread_runner_double_start_is_refused() -> None:
    with FakeMongoThread() as runner, pytest.raises(RuntimeError, match="already started"):
        runner.start()


def test_thread_runner_reraises_start_errors_in_the_caller(busy_port: int) -> None:
    runner = FakeMongoThread(port=busy_port)
    with pytest.raises(OSError, match="address already in use"):
        runner.start()
    assert not runner.running
    runner.stop()  # nothing to stop
    with pytest.raises(RuntimeError, match="not running"):
        runner.call(print)


def test_thread_runner_start_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threaded_module, "_START_TIMEOUT", 0.05)
    gate = threading.Event()
    runner = FakeMongoThread()
    real_start = runner.server.start

    async def slow_start() -> FakeMongo:
        await asyncio.get_running_loop().run_in_executor(None, gate.wait)
        return await real_start()

    monkeypatch.setattr(runner.server, "start", slow_start)
    with pytest.raises(TimeoutError, match=r"did not start within 0\.05 seconds"):
        runner.start()
    gate.set()
    runner.stop()  # the late start is shut down cleanly
    assert not runner.running


@pytest.mark.asyncio
async def test_wait_connections_closed(server: FakeMongo) -> None:
    await asyncio.wait_for(server.wait_connections_closed(), 1)  # none open: at once
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(encode_op_msg(1, {"ping": 1, "$db": "admin"}))
    length = int.from_bytes(await reader.readexactly(4), "little")
    await reader.readexactly(length - 4)  # answered: the server holds the connection
    # Giving up on the wait leaves the connection served.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(server.wait_connections_closed(), 0.01)
    assert server.statistics()["connections"] == 1
    writer.close()
    await writer.wait_closed()
    await asyncio.wait_for(server.wait_connections_closed(), 10)
    assert server.statistics()["connections"] == 0


@pytest.mark.asyncio
async def test_a_failing_monitor_pass_is_logged_and_the_monitor_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes: list[Any] = [ValueError("broken pass"), 7]

    def work() -> int:
        outcome = outcomes.pop(0) if outcomes else 0
        if isinstance(outcome, Exception):
            raise outcome
        return int(outcome)

    monitor = Monitor("test monitor", lambda: 0.0, work)
    task = asyncio.create_task(monitor.run_forever())
    try:
        with caplog.at_level(logging.ERROR, logger="fakemongo"):
            assert await asyncio.wait_for(monitor.next_pass(), 10) == 7
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    [record] = [r for r in caplog.records if r.name == "fakemongo"]
    assert record.getMessage() == "test monitor pass failed; the next one runs as scheduled"
    assert record.exc_info is not None
    assert monitor.passes >= 1
