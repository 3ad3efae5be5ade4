"""PyMongo authenticates against fakemongo over the wire exactly as against mongod.

PyMongo is the independent client here: its SCRAM implementation, its use of
hello's ``saslSupportedMechs`` and ``speculativeAuthenticate`` (driver Auth
spec), and its error handling all meet the server written in this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from fakemongo import FakeMongoThread

ROOT = ("admin", "root", "rootpw")
SERVICE = ("app", "svc", "svcpw")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeMongoThread]:
    with FakeMongoThread(users=[ROOT, SERVICE]) as running:
        yield running


def connect(server: FakeMongoThread, **kwargs: Any) -> MongoClient[dict[str, Any]]:
    return MongoClient(server.uri, serverSelectionTimeoutMS=10_000, connect=False, **kwargs)


def counts(server: FakeMongoThread) -> dict[str, int]:
    return dict(server.call(lambda: dict(server.server.state.command_counts)))


@pytest.fixture
def root(server: FakeMongoThread) -> Iterator[MongoClient[dict[str, Any]]]:
    with connect(server, username="root", password="rootpw") as client:
        yield client


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_pymongo_authenticates(server: FakeMongoThread, mechanism: str) -> None:
    with connect(server, username="root", password="rootpw", authMechanism=mechanism) as client:
        status = client.admin.command("connectionStatus")
        assert status["authInfo"]["authenticatedUsers"] == [{"user": "root", "db": "admin"}]
        assert {"role": "root", "db": "admin"} in status["authInfo"]["authenticatedUserRoles"]
        assert client.admin.command("ping")["ok"] == 1.0


def test_default_mechanism_uses_speculative_authentication(server: FakeMongoThread) -> None:
    before = counts(server)
    with connect(server, username="svc", password="svcpw", authSource="app") as client:
        assert client.app.command("connectionStatus")["authInfo"]["authenticatedUsers"] == [
            {"user": "svc", "db": "app"}
        ]
    after = counts(server)
    # The conversation began inside hello: no saslStart, only saslContinue.
    assert after.get("saslStart", 0) == before.get("saslStart", 0)
    assert after.get("saslContinue", 0) > before.get("saslContinue", 0)


def test_wrong_password_is_code_18(server: FakeMongoThread) -> None:
    for mechanism in ("SCRAM-SHA-1", "SCRAM-SHA-256", "DEFAULT"):
        with connect(server, username="root", password="nope", authMechanism=mechanism) as client:
            with pytest.raises(OperationFailure) as info:
                client.admin.command("ping")
            assert info.value.code == 18
            assert info.value.details is not None
            assert info.value.details["errmsg"] == "Authentication failed."
            assert info.value.details["codeName"] == "AuthenticationFailed"


def test_unknown_user_is_code_18(server: FakeMongoThread) -> None:
    with connect(server, username="nobody", password="x", authMechanism="SCRAM-SHA-256") as client:
        with pytest.raises(OperationFailure) as info:
            client.admin.command("ping")
        assert info.value.code == 18


def test_unauthenticated_commands_are_code_13(server: FakeMongoThread) -> None:
    with connect(server) as client:
        assert client.admin.command("ping")["ok"] == 1.0  # needs no authentication
        with pytest.raises(OperationFailure) as info:
            client.test.things.find_one()
        assert info.value.code == 13
        assert info.value.details is not None
        assert info.value.details["errmsg"] == "Command find requires authentication"
        assert client.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == []


def test_user_management_round_trip(
    server: FakeMongoThread, root: MongoClient[dict[str, Any]]
) -> None:
    root.test.command(
        "createUser", "alice", pwd="alicepw", roles=["readWrite"], customData={"team": "a"}
    )
    try:
        (alice,) = root.test.command("usersInfo", "alice")["users"]
        assert alice["_id"] == "test.alice"
        assert alice["roles"] == [{"role": "readWrite", "db": "test"}]
        assert alice["mechanisms"] == ["SCRAM-SHA-1", "SCRAM-SHA-256"]
        assert alice["customData"] == {"team": "a"}
        assert "credentials" not in alice
        with pytest.raises(OperationFailure) as info:
            root.test.command("createUser", "alice", pwd="x", roles=[])
        assert (info.value.code, info.value.details and info.value.details["errmsg"]) == (
            51003,
            'User "alice@test" already exists',
        )
        with connect(
            server, username="alice", password="alicepw", authSource="test"
        ) as alice_client:
            status = alice_client.test.command("connectionStatus")
            assert status["authInfo"]["authenticatedUsers"] == [{"user": "alice", "db": "test"}]
    finally:
        root.test.command("dropUser", "alice")
    assert root.test.command("usersInfo", "alice")["users"] == []
    with pytest.raises(OperationFailure) as info:
        root.test.command("dropUser", "alice")
    assert info.value.code == 11
    with connect(server, username="alice", password="alicepw", authSource="test") as alice_client:
        with pytest.raises(OperationFailure) as info:
            alice_client.test.command("ping")
        assert info.value.code == 18


def test_sha1_only_user_is_found_through_sasl_supported_mechs(
    server: FakeMongoThread, root: MongoClient[dict[str, Any]]
) -> None:
    root.test.command("createUser", "legacy", pwd="legacypw", roles=[], mechanisms=["SCRAM-SHA-1"])
    try:
        reply = root.admin.command("hello", saslSupportedMechs="test.legacy")
        assert reply["saslSupportedMechs"] == ["SCRAM-SHA-1"]
        assert "saslSupportedMechs" not in root.admin.command(
            "hello", saslSupportedMechs="test.nobody"
        )
        # No mechanism given: the speculative SCRAM-SHA-256 attempt fails
        # silently and PyMongo falls back to what saslSupportedMechs offers.
        with connect(server, username="legacy", password="legacypw", authSource="test") as client:
            assert client.test.command("connectionStatus")["authInfo"]["authenticatedUsers"] == [
                {"user": "legacy", "db": "test"}
            ]
    finally:
        root.test.command("dropUser", "legacy")


def test_sha256_passwords_are_saslprepped(
    server: FakeMongoThread, root: MongoClient[dict[str, Any]]
) -> None:
    # Driver Auth spec, SCRAM-SHA-256 SASLprep cases: the server stores the
    # prepared password, so every spelling that prepares the same way works.
    root.test.command(
        "createUser", "\u2168", pwd="I\u00adV", roles=[], mechanisms=["SCRAM-SHA-256"]
    )
    try:
        for password in ("IV", "I\u00adV", "\u2163"):
            with connect(
                server,
                username="\u2168",
                password=password,
                authSource="test",
                authMechanism="SCRAM-SHA-256",
            ) as client:
                assert client.test.command("ping")["ok"] == 1.0
    finally:
        root.test.command("dropUser", "\u2168")


def test_logout_ends_the_session(server: FakeMongoThread) -> None:
    with connect(server, username="root", password="rootpw", maxPoolSize=1) as client:
        assert client.admin.command("logout")["ok"] == 1.0
        assert client.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == []
        with pytest.raises(OperationFailure) as info:
            client.test.things.find_one()
        assert info.value.code == 13
