"""Where the users live: the embedded fakemongo, or a MongoDB named by a URI,
described for the footer without credentials."""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.testing

from fakemongo import FakeMongo
from mongotor.database import Database
from mongotor.errors import AuthenticationError, ServerSelectionTimeoutError
from mongotor.pool import ConfigurationError
from userdb import User, make_app, open_storage
from userdb.storage import describe_uri

PASSWORD = "s3cret-Pa55"


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_the_embedded_server_is_started_indexed_described_and_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    storage = await open_storage(None)
    server = storage.server
    assert server is not None and storage.embedded
    assert storage.description == (
        f"embedded fakemongo {FakeMongo.version} (answers as MongoDB 8.0.4) "
        f"at {server.address}, database userdb"
    )
    indexes = await Database().users.index_information()
    assert indexes["email_1"]["unique"] is True  # the API's 409 relies on it
    await storage.close()
    assert Database.default() is None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=5).close()
    assert f"storage closed: {storage.description}" in caplog.text


def test_a_connection_string_is_described_by_its_hosts_and_database_only() -> None:
    assert describe_uri(
        f"mongodb://ana:{PASSWORD}@db1.example.net,db2.example.net:27018/people"
        f"?authSource=admin&tlsCertificateKeyFilePassword={PASSWORD}"
    ) == ("db1.example.net:27017,db2.example.net:27018", "people")
    assert describe_uri(f"mongodb+srv://ana:{PASSWORD}@cluster0.example.net/app") == (
        "cluster0.example.net",
        "app",
    )
    assert describe_uri("mongodb://[::1]") == ("[::1]:27017", "userdb")


@pytest.mark.asyncio
async def test_a_mongodb_uri_is_used_and_shown_in_the_footer_without_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeMongo(users=[("admin", "ana", PASSWORD)]) as mongo:
        uri = f"mongodb://ana:{PASSWORD}@{mongo.address}/people?authSource=admin"
        storage = await open_storage(uri)
        assert not storage.embedded
        assert storage.description == f"MongoDB 8.0.4 at {mongo.address}, database people"
        await User(name="Ana", email="ana@example.com").save()
        database = Database.default()
        assert database is not None and database.name == "people"
        stored = await database.users.find_one({})
        assert stored is not None and stored["name"] == "Ana"

        sockets = tornado.testing.bind_unused_port()
        server = tornado.httpserver.HTTPServer(make_app(storage))
        server.add_sockets([sockets[0]])
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        try:
            page = (await client.fetch(f"http://127.0.0.1:{sockets[1]}/users")).body.decode()
        finally:
            client.close()
            server.stop()
            await server.close_all_connections()
            await storage.close()
    assert f'Storage: <span id="storage">MongoDB 8.0.4 at {mongo.address}, database people' in page
    assert "Ana" in page
    assert PASSWORD not in page
    assert PASSWORD not in caplog.text


@pytest.mark.asyncio
async def test_wrong_credentials_fail_and_leave_nothing_connected() -> None:
    async with FakeMongo(users=[("admin", "ana", PASSWORD)]) as mongo:
        with pytest.raises(AuthenticationError) as caught:
            await open_storage(f"mongodb://ana:wrong-{PASSWORD}@{mongo.address}/people")
    assert PASSWORD not in str(caught.value)


@pytest.mark.asyncio
async def test_an_unreachable_server_fails_and_leaves_nothing_connected() -> None:
    with pytest.raises(ServerSelectionTimeoutError):
        await open_storage(f"mongodb://127.0.0.1:{unused_port()}/x?serverSelectionTimeoutMS=100")


@pytest.mark.asyncio
async def test_a_malformed_connection_string_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        await open_storage(f"mongodb://ana:{PASSWORD}@/people")


@pytest.mark.asyncio
async def test_the_embedded_server_is_stopped_when_it_cannot_be_set_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure after the embedded server started (injected: index creation
    raises) stops it again and disconnects."""
    caplog.set_level(logging.INFO)

    async def refuse(cls: Any) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(User, "ensure_indexes", classmethod(refuse))
    with pytest.raises(RuntimeError, match="injected"):
        await open_storage(None)
    started = re.search(r"listening on mongodb://127\.0\.0\.1:(\d+)", caplog.text)
    assert started is not None
    assert f"fakemongo on port {started.group(1)} stopped" in caplog.text
