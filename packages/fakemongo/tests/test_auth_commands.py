"""The authentication and user-management commands, through the dispatcher.

Replies and errors are mongod 8.0's (sasl_commands.cpp, authentication_session.cpp,
user_management_commands.cpp); the SCRAM client here follows RFC 5802 and the
driver Auth spec (MONGODB-CR digest for SCRAM-SHA-1, SASLprep for SCRAM-SHA-256).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from typing import Any

import pytest
from bson import Binary, Int64

from fakemongo._cmd_auth import (
    sasl_supported_mechs,
    speculative_authenticate,
)
from fakemongo._cursors import CursorStore
from fakemongo._dispatch import Context, run_command
from fakemongo._scram import MECHANISMS, SCRAM_SHA_1, SCRAM_SHA_256, saslprep
from fakemongo._state import ConnectionState, ServerOptions, ServerState
from fakemongo._storage import Storage
from fakemongo._users import RoleName, UserStore, mongodb_cr_digest

ROOT = ("admin", "root", "rootpw")


class Client:
    """A client-side SCRAM conversation (RFC 5802 section 3 and 7)."""

    def __init__(self, mechanism: str, user: str, password: str, nonce: str = "") -> None:
        self.mechanism = mechanism
        self.hash = MECHANISMS[mechanism].name
        escaped = user.replace("=", "=3D").replace(",", "=2C")
        self.bare = f"n={escaped},r={nonce or base64.b64encode(os.urandom(18)).decode()}"
        self.password = (
            mongodb_cr_digest(user, password) if mechanism == SCRAM_SHA_1 else saslprep(password)
        )
        self.expected = b""

    def first(self) -> bytes:
        return f"n,,{self.bare}".encode()

    def final(self, server_first: bytes) -> bytes:
        fields = dict(item.split("=", 1) for item in server_first.decode().split(","))
        salted = hashlib.pbkdf2_hmac(
            self.hash, self.password.encode(), base64.b64decode(fields["s"]), int(fields["i"])
        )
        client_key = hmac.digest(salted, b"Client Key", self.hash)
        without_proof = f"c=biws,r={fields['r']}"
        auth = f"{self.bare},{server_first.decode()},{without_proof}".encode()
        signature = hmac.digest(hashlib.new(self.hash, client_key).digest(), auth, self.hash)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", self.hash)
        self.expected = b"v=" + base64.b64encode(hmac.digest(server_key, auth, self.hash))
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


class Connection:
    """One client connection to a server state, running commands through the dispatcher."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.conn: ConnectionState = state.new_connection("127.0.0.1:5000")

    def context(self, db: str = "admin") -> Context:
        return Context(self.state, self.conn, db)

    def run(self, body: dict[str, Any], db: str = "admin") -> dict[str, Any]:
        return asyncio.run(run_command(self.context(db), body))

    def login(
        self, user: str, password: str, db: str = "admin", mechanism: str = SCRAM_SHA_256
    ) -> dict[str, Any]:
        client = Client(mechanism, user, password)
        start = {
            "saslStart": 1,
            "mechanism": mechanism,
            "payload": client.first(),
            "autoAuthorize": 1,
        }
        reply = self.run(start, db)
        assert reply["ok"] == 1.0, reply
        reply = self.run(
            {"saslContinue": 1, "conversationId": 1, "payload": client.final(reply["payload"])}, db
        )
        if reply["ok"] == 1.0:
            assert bytes(reply["payload"]) == client.expected
            reply = self.run({"saslContinue": 1, "conversationId": 1, "payload": b""}, db)
        return reply


def server(*users: tuple[str, str, str]) -> ServerState:
    options = ServerOptions(users=users)
    return ServerState(
        options=options,
        storage=Storage(),
        cursors=CursorStore(60_000),
        users=UserStore.from_options(options),
    )


def failure(code: int, errmsg: str) -> dict[str, Any]:
    from fakemongo._errors import ErrorCode

    return {"ok": 0.0, "errmsg": errmsg, "code": code, "codeName": ErrorCode(code).name}


AUTH_FAILED = failure(18, "Authentication failed.")


@pytest.fixture
def auth_server() -> ServerState:
    return server(ROOT)


@pytest.fixture
def root(auth_server: ServerState) -> Connection:
    connection = Connection(auth_server)
    assert connection.login("root", "rootpw")["done"] is True
    return connection


@pytest.mark.parametrize("mechanism", [SCRAM_SHA_1, SCRAM_SHA_256])
def test_full_conversation_with_the_empty_exchange(
    auth_server: ServerState, mechanism: str
) -> None:
    connection = Connection(auth_server)
    client = Client(mechanism, "root", "rootpw")
    first = connection.run({"saslStart": 1, "mechanism": mechanism, "payload": client.first()})
    assert list(first) == ["conversationId", "done", "payload", "ok"]
    assert (first["conversationId"], first["done"], first["ok"]) == (1, False, 1.0)
    assert isinstance(first["payload"], Binary)
    assert first["payload"].subtype == 0
    second = connection.run(
        {"saslContinue": 1, "conversationId": 1, "payload": client.final(first["payload"])}
    )
    assert second == {
        "conversationId": 1,
        "done": False,
        "payload": Binary(client.expected, 0),
        "ok": 1.0,
    }
    assert not connection.conn.authenticated_users  # not until the conversation is done
    third = connection.run({"saslContinue": 1, "conversationId": 1, "payload": b""})
    assert third == {"conversationId": 1, "done": True, "payload": Binary(b"", 0), "ok": 1.0}
    assert connection.conn.authenticated_users == {("admin", "root")}
    assert not connection.conn.conversations
    assert connection.run({"saslContinue": 1, "conversationId": 1, "payload": b""}) == failure(
        17, "No SASL session state found"
    )


def test_skip_empty_exchange_and_base64_payloads(auth_server: ServerState) -> None:
    connection = Connection(auth_server)
    client = Client(SCRAM_SHA_256, "root", "rootpw")
    start = {
        "saslStart": 1,
        "mechanism": SCRAM_SHA_256,
        "payload": base64.b64encode(client.first()).decode(),
        "options": {"skipEmptyExchange": True},
    }
    first = connection.run(start)
    assert isinstance(first["payload"], str)
    final = client.final(base64.b64decode(first["payload"]))
    second = connection.run(
        {"saslContinue": 1, "conversationId": 1, "payload": base64.b64encode(final).decode()}
    )
    assert second == {
        "conversationId": 1,
        "done": True,
        "payload": base64.b64encode(client.expected).decode(),
        "ok": 1.0,
    }
    assert connection.conn.authenticated_users == {("admin", "root")}


def test_wrong_password_unknown_user_missing_mechanism(auth_server: ServerState) -> None:
    connection = Connection(auth_server)
    assert connection.login("root", "wrong") == AUTH_FAILED
    assert not connection.conn.conversations
    assert connection.run({"saslContinue": 1, "conversationId": 1, "payload": b"x"}) == failure(
        17, "No SASL session state found"
    )
    nobody = Client(SCRAM_SHA_256, "nobody", "x").first()
    unknown = {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": nobody, "options": {}}
    assert connection.run(unknown) == AUTH_FAILED
    auth_server.users.add_user("admin", "old", "pw", [], [SCRAM_SHA_1])
    sha256 = {
        "saslStart": 1,
        "mechanism": SCRAM_SHA_256,
        "payload": Client(SCRAM_SHA_256, "old", "pw").first(),
    }
    assert connection.run(sha256) == AUTH_FAILED
    malformed = {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": b"garbage"}
    assert connection.run(malformed) == AUTH_FAILED
    assert connection.login("old", "pw", mechanism=SCRAM_SHA_1)["done"] is True


def test_proof_that_is_not_base64_ends_the_conversation(auth_server: ServerState) -> None:
    connection = Connection(auth_server)
    client = Client(SCRAM_SHA_256, "root", "rootpw")
    first = connection.run({"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": client.first()})
    nonce = first["payload"].decode().split(",")[0]
    bad = {"saslContinue": 1, "conversationId": 1, "payload": f"c=biws,{nonce},p=abc".encode()}
    assert connection.run(bad) == failure(10270, "invalid base64")
    assert not connection.conn.conversations


@pytest.mark.parametrize(
    ("mechanism", "db", "expected"),
    [
        (
            "PLAIN",
            "admin",
            failure(334, "Received authentication for mechanism PLAIN which is not enabled"),
        ),
        (
            "MONGODB-X509",
            "admin",
            failure(334, "Unsupported mechanism 'MONGODB-X509' on authentication database 'admin'"),
        ),
        (
            SCRAM_SHA_256,
            "$external",
            failure(
                334, "Unsupported mechanism 'SCRAM-SHA-256' on authentication database '$external'"
            ),
        ),
    ],
)
def test_unavailable_mechanisms(
    auth_server: ServerState, mechanism: str, db: str, expected: dict[str, Any]
) -> None:
    assert (
        Connection(auth_server).run(
            {"saslStart": 1, "mechanism": mechanism, "payload": b"n,,n=u,r=abcdef"}, db
        )
        == expected
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"saslStart": 1, "payload": b""},
            failure(40414, "BSON field 'saslStart.mechanism' is missing but a required field"),
        ),
        (
            {"saslStart": 1, "mechanism": None, "payload": b""},
            failure(
                14,
                "BSON field 'saslStart.mechanism' is the wrong type 'null', expected type 'string'",
            ),
        ),
        (
            {"saslStart": 1, "mechanism": 5, "payload": b""},
            failure(
                14,
                "BSON field 'saslStart.mechanism' is the wrong type 'int', expected type 'string'",
            ),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256},
            failure(40414, "BSON field 'saslStart.payload' is missing but a required field"),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": b"", "bogus": 1},
            failure(40415, "BSON field 'saslStart.bogus' is an unknown field."),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": b"", "autoAuthorize": "x"},
            failure(
                14,
                "BSON field 'saslStart.autoAuthorize' is the wrong type 'string', expected types "
                "'[bool, long, int, decimal, double']",
            ),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": b"", "options": 1},
            failure(
                14, "BSON field 'saslStart.options' is the wrong type 'int', expected type 'object'"
            ),
        ),
        (
            {
                "saslStart": 1,
                "mechanism": SCRAM_SHA_256,
                "payload": b"",
                "options": {"skipEmptyExchange": 1},
            },
            failure(2, "skipEmptyExchange must be boolean"),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": 7},
            failure(2, "Invalid SASLPayload type. Expected Base64 or BinData, got: int"),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": Binary(b"x", 4)},
            failure(2, "Invalid SASLPayload subtype. Expected BinDataGeneral, got: UUID"),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": Binary(b"x", 128)},
            failure(2, "Invalid SASLPayload subtype. Expected BinDataGeneral, got: Custom"),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": Binary(b"x", 200)},
            failure(2, "Invalid SASLPayload subtype. Expected BinDataGeneral, got: invalid"),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": "abc"},
            failure(10270, "Failed decoding SASL payload: invalid base64"),
        ),
        (
            {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": "ab$="},
            failure(40537, "Failed decoding SASL payload: Invalid base64 character"),
        ),
        (
            {"saslContinue": 1, "payload": b""},
            failure(
                40414, "BSON field 'saslContinue.conversationId' is missing but a required field"
            ),
        ),
        (
            {"saslContinue": 1, "conversationId": 1},
            failure(40414, "BSON field 'saslContinue.payload' is missing but a required field"),
        ),
        (
            {"saslContinue": 1, "conversationId": 1.0, "payload": b""},
            failure(
                14,
                "BSON field 'saslContinue.conversationId' is the wrong type 'double', expected "
                "type 'int'",
            ),
        ),
        (
            {"saslContinue": 1, "conversationId": Int64(1), "payload": b""},
            failure(
                14,
                "BSON field 'saslContinue.conversationId' is the wrong type 'long', expected "
                "type 'int'",
            ),
        ),
        (
            {"saslContinue": 1, "conversationId": True, "payload": b""},
            failure(
                14,
                "BSON field 'saslContinue.conversationId' is the wrong type 'bool', expected "
                "type 'int'",
            ),
        ),
        (
            {"saslContinue": 1, "conversationId": 2**31, "payload": b""},
            failure(
                14,
                "BSON field 'saslContinue.conversationId' is the wrong type 'long', expected "
                "type 'int'",
            ),
        ),
        (
            {"saslContinue": 1, "conversationId": 1, "payload": b"", "x": 1},
            failure(40415, "BSON field 'saslContinue.x' is an unknown field."),
        ),
    ],
)
def test_sasl_argument_errors(
    auth_server: ServerState, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert Connection(auth_server).run(body) == expected


def test_mismatched_conversation_id_ends_the_conversation(auth_server: ServerState) -> None:
    connection = Connection(auth_server)
    client = Client(SCRAM_SHA_256, "root", "rootpw")
    connection.run({"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": client.first()})
    assert connection.run({"saslContinue": 1, "conversationId": 2, "payload": b""}) == failure(
        17, "sasl: Mismatched conversation id"
    )
    assert not connection.conn.conversations


def test_a_new_sasl_start_abandons_the_conversation(auth_server: ServerState) -> None:
    connection = Connection(auth_server)
    stale = Client(SCRAM_SHA_256, "root", "rootpw")
    stale_first = connection.run(
        {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": stale.first()}
    )
    assert connection.login("root", "rootpw")["done"] is True
    connection.run(
        {
            "saslStart": 1,
            "mechanism": SCRAM_SHA_256,
            "payload": Client(SCRAM_SHA_256, "root", "x").first(),
        }
    )
    final = stale.final(stale_first["payload"])
    assert connection.run({"saslContinue": 1, "conversationId": 1, "payload": final}) == AUTH_FAILED


def test_one_user_per_connection(auth_server: ServerState, root: Connection) -> None:
    auth_server.users.add_user("admin", "other", "pw", [])
    auth_server.users.add_user("test", "tester", "pw", [])
    assert root.login("root", "rootpw")["done"] is True  # the same user again is fine
    assert root.login("other", "pw") == failure(
        5626702,
        "Client has attempted to authenticate on multiple databases.Already authenticated as: "
        "root@admin",
    )
    assert root.login("tester", "pw", db="test") == failure(
        5626701,
        "Each client connection may only be authenticated once. Previously authenticated as: "
        "root@admin",
    )
    assert root.conn.authenticated_users == {("admin", "root")}
    assert not root.conn.conversations


def test_a_dropped_user_is_logged_out(auth_server: ServerState, root: Connection) -> None:
    auth_server.users.add_user("test", "tester", "pw", [RoleName("read", "test")])
    other = Connection(auth_server)
    assert other.login("tester", "pw", db="test")["done"] is True
    assert auth_server.users.authenticated_user(other.conn) is auth_server.users.get(
        "test", "tester"
    )
    assert root.run({"dropUser": "tester"}, "test") == {"ok": 1.0}
    # mongod drops the deleted user from the session at its next request.
    assert other.run({"usersInfo": 1}, "test") == failure(
        13, "Command usersInfo requires authentication"
    )
    assert not other.conn.authenticated_users
    assert auth_server.users.authenticated_user(other.conn) is None


def test_logout(auth_server: ServerState, root: Connection) -> None:
    assert root.run({"logout": 1}, "test") == {"ok": 1.0}
    assert root.conn.authenticated_users == {("admin", "root")}  # not logged in on test
    assert root.run({"logout": 1, "extra": 1}) == failure(
        40415, "BSON field 'logout.extra' is an unknown field."
    )
    assert root.run({"logout": 1}) == {"ok": 1.0}
    assert not root.conn.authenticated_users
    assert root.run({"logout": 1}) == failure(13, "Command logout requires authentication")
    open_server = Connection(server())
    assert open_server.run({"logout": 1}) == {"ok": 1.0}


def test_connection_status(auth_server: ServerState, root: Connection) -> None:
    anonymous = Connection(auth_server)
    assert anonymous.run({"connectionStatus": 1}) == {
        "authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []},
        "ok": 1.0,
    }
    assert (
        anonymous.run({"connectionStatus": 1, "showPrivileges": True})["authInfo"][
            "authenticatedUserPrivileges"
        ]
        == []
    )
    status = root.run({"connectionStatus": 1}, "test")["authInfo"]
    assert status["authenticatedUsers"] == [{"user": "root", "db": "admin"}]
    roles = status["authenticatedUserRoles"]
    assert roles[0] == {"role": "root", "db": "admin"}
    assert {"role": "readAnyDatabase", "db": "admin"} in roles
    assert {"role": "read", "db": "local"} in roles
    reply = root.run({"connectionStatus": 1, "showPrivileges": 1})
    assert (reply["ok"], reply["code"]) == (0.0, 2)
    assert "showPrivileges" in reply["errmsg"]
    assert anonymous.run({"connectionStatus": 1, "x": 1})["code"] == 40415


def test_speculative_authentication(auth_server: ServerState) -> None:
    connection = Connection(auth_server)
    ctx = connection.context("admin")
    client = Client(SCRAM_SHA_256, "root", "rootpw")
    doc = {
        "saslStart": 1,
        "mechanism": SCRAM_SHA_256,
        "payload": Binary(client.first(), 0),
        "options": {"skipEmptyExchange": True},
        "db": "admin",
    }
    reply = speculative_authenticate(ctx, doc)
    assert reply is not None
    assert list(reply) == ["conversationId", "done", "payload"]
    assert (reply["conversationId"], reply["done"]) == (1, False)
    final = connection.run(
        {"saslContinue": 1, "conversationId": 1, "payload": client.final(reply["payload"])}
    )
    assert final == {
        "conversationId": 1,
        "done": True,
        "payload": Binary(client.expected, 0),
        "ok": 1.0,
    }
    assert connection.conn.authenticated_users == {("admin", "root")}


def test_failed_speculative_authentication_is_hidden(auth_server: ServerState) -> None:
    connection = Connection(auth_server)
    ctx = connection.context()
    unknown = Client(SCRAM_SHA_256, "nobody", "x")
    doc = {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": unknown.first(), "db": "admin"}
    assert speculative_authenticate(ctx, doc) is None
    # mongod keeps a speculative conversation that failed authentication;
    # continuing it fails the same way.
    assert (
        connection.run(
            {"saslContinue": 1, "conversationId": 1, "payload": b"c=biws,r=abcdef,p=AAAA"}
        )
        == AUTH_FAILED
    )
    assert not connection.conn.conversations
    for hidden in (
        {"authenticate": 1, "mechanism": "MONGODB-X509", "db": "$external"},
        {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": unknown.first()},  # no db
        {"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": unknown.first(), "db": 1},
        {"saslStart": 1, "mechanism": "PLAIN", "payload": b"", "db": "admin"},
        {"saslStart": 1, "payload": b"", "db": "admin"},
    ):
        root = Client(SCRAM_SHA_256, "root", "rootpw").first()
        assert connection.run({"saslStart": 1, "mechanism": SCRAM_SHA_256, "payload": root})["ok"]
        assert speculative_authenticate(ctx, hidden) is None
        # With a db, the speculative start replaces the conversation, as in mongod.
        assert bool(connection.conn.conversations) is ("db" not in hidden)


@pytest.mark.parametrize(
    ("doc", "code", "errmsg"),
    [
        (
            5,
            14,
            "BSON field 'hello.speculativeAuthenticate' is the wrong type 'int', expected type "
            "'object'",
        ),
        ({}, 2, "hello.speculativeAuthenticate must be a non-empty Object"),
        ({"find": 1}, 51769, "hello.speculativeAuthenticate unknown command: find"),
    ],
)
def test_speculative_authenticate_shape_errors_fail_hello(
    auth_server: ServerState, doc: Any, code: int, errmsg: str
) -> None:
    from fakemongo._errors import CommandError

    with pytest.raises(CommandError) as info:
        speculative_authenticate(Connection(auth_server).context(), doc)
    assert (info.value.code, info.value.errmsg) == (code, errmsg)


def test_sasl_supported_mechs(auth_server: ServerState) -> None:
    from fakemongo._errors import CommandError

    auth_server.users.add_user("test", "old", "pw", [], [SCRAM_SHA_1])
    auth_server.users.add_user("$external", "CN=x", None, [])
    assert sasl_supported_mechs(auth_server, "admin.root") == [SCRAM_SHA_1, SCRAM_SHA_256]
    assert sasl_supported_mechs(auth_server, {"user": "old", "db": "test"}) == [SCRAM_SHA_1]
    assert sasl_supported_mechs(auth_server, "$external.CN=x") == []
    assert sasl_supported_mechs(auth_server, "admin.nobody") is None
    for value, code, errmsg in (
        ("root", 2, "UserName must contain a '.' separated database.user pair"),
        ({"user": "root"}, 2, "UserName must contain a field named: db"),
        (
            1,
            14,
            "BSON field 'hello.saslSupportedMechs' is the wrong type 'int', expected types "
            "'[string, object']",
        ),
    ):
        with pytest.raises(CommandError) as info:
            sasl_supported_mechs(auth_server, value)
        assert (info.value.code, info.value.errmsg) == (code, errmsg)


# -- user management -----------------------------------------------------------


def test_create_user_and_users_info(root: Connection) -> None:
    body = {
        "createUser": "alice",
        "pwd": "pw",
        "roles": ["readWrite", {"role": "read", "db": "other", "extra": "ignored"}],
        "customData": {"team": "x"},
        "comment": "hi",
    }
    assert root.run(body, "test") == {"ok": 1.0}
    info = root.run({"usersInfo": "alice"}, "test")
    assert info["ok"] == 1.0
    (alice,) = info["users"]
    assert list(alice) == ["_id", "userId", "user", "db", "customData", "roles", "mechanisms"]
    assert alice["_id"] == "test.alice"
    assert alice["roles"] == [{"role": "readWrite", "db": "test"}, {"role": "read", "db": "other"}]
    assert alice["mechanisms"] == [SCRAM_SHA_1, SCRAM_SHA_256]
    assert isinstance(alice["userId"], Binary)
    assert alice["userId"].subtype == 4
    detailed = root.run(
        {
            "usersInfo": {"user": "alice", "db": "test"},
            "showCredentials": True,
            "showCustomData": False,
        },
        "admin",
    )
    (alice,) = detailed["users"]
    assert "customData" not in alice
    assert alice["credentials"][SCRAM_SHA_256]["iterationCount"] == 15000
    # the new user can log in, with either mechanism
    for mechanism in (SCRAM_SHA_1, SCRAM_SHA_256):
        assert Connection(root.state).login("alice", "pw", "test", mechanism)["done"] is True


def ids(reply: dict[str, Any]) -> list[str]:
    return [user["_id"] for user in reply["users"]]


def test_users_info_forms_and_filter(root: Connection) -> None:
    for db, name in [("test", "b"), ("test", "a"), ("other", "a")]:
        assert root.run({"createUser": name, "pwd": "pw", "roles": []}, db)["ok"] == 1.0
    assert ids(root.run({"usersInfo": 1}, "test")) == ["test.a", "test.b"]
    assert ids(root.run({"usersInfo": {"forAllDBs": True}})) == [
        "other.a",
        "test.a",
        "test.b",
        "admin.root",
    ]
    assert ids(root.run({"usersInfo": ["b", {"user": "a", "db": "other"}, "missing"]}, "test")) == [
        "other.a",
        "test.b",
    ]
    assert ids(root.run({"usersInfo": 1, "filter": {"user": "a"}}, "test")) == ["test.a"]
    assert root.run({"usersInfo": True}, "test") == failure(
        2, "UserName must be either a string or an object"
    )
    assert root.run({"usersInfo": 1, "x": 1}, "test") == failure(
        40415, "BSON field 'usersInfo.x' is an unknown field."
    )


@pytest.mark.parametrize(
    ("body", "code", "errmsg"),
    [
        (
            {"usersInfo": 1, "showPrivileges": True},
            20,
            "Privilege or restriction details require exact-match usersInfo queries",
        ),
        (
            {"usersInfo": "a", "showPrivileges": True, "filter": {}},
            20,
            "Privilege or restriction details require exact-match usersInfo queries",
        ),
        (
            {"usersInfo": "a", "showAuthenticationRestrictions": True},
            2,
            "fakemongo does not implement usersInfo showPrivileges / "
            "showAuthenticationRestrictions",
        ),
    ],
)
def test_users_info_privileges_are_not_implemented(
    root: Connection, body: dict[str, Any], code: int, errmsg: str
) -> None:
    assert root.run(body, "test") == failure(code, errmsg)


@pytest.mark.parametrize(
    ("body", "db", "code", "errmsg"),
    [
        (
            {"createUser": 1, "pwd": "pw", "roles": []},
            "test",
            14,
            "BSON field 'createUser.createUser' is the wrong type 'int', expected type 'string'",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [], "bad": 1},
            "test",
            40415,
            "BSON field 'createUser.bad' is an unknown field.",
        ),
        (
            {"createUser": "u", "pwd": True, "roles": []},
            "test",
            14,
            "BSON field 'createUser.pwd' is the wrong type 'bool', expected type 'string'",
        ),
        (
            {"createUser": "u", "pwd": "pw"},
            "test",
            40414,
            "BSON field 'createUser.roles' is missing but a required field",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": None},
            "test",
            10065,
            "invalid parameter: expected an object (roles)",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": "not-array"},
            "test",
            14,
            "BSON field 'createUser.roles' is the wrong type 'string', expected type 'array'",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [1]},
            "test",
            2,
            "RoleName must be either a string or an object",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [{"role": "read"}]},
            "test",
            2,
            "RoleName must contain a field named: db",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [], "customData": 1},
            "test",
            14,
            "BSON field 'createUser.customData' is the wrong type 'int', expected type 'object'",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [], "mechanisms": "x"},
            "test",
            14,
            "BSON field 'createUser.mechanisms' is the wrong type 'string', expected type 'array'",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [], "mechanisms": [1]},
            "test",
            14,
            "BSON field 'createUser.mechanisms.0' is the wrong type 'int', expected type 'string'",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [], "authenticationRestrictions": 1},
            "test",
            14,
            "BSON field 'createUser.authenticationRestrictions' is the wrong type 'int', "
            "expected type 'array'",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": []},
            "local",
            2,
            "Cannot create users in the local database",
        ),
        (
            {"createUser": "u\0v", "pwd": "pw", "roles": []},
            "test",
            2,
            "Username cannot contain NULL characters",
        ),
        (
            {"createUser": "u", "roles": []},
            "test",
            2,
            "Must provide a 'pwd' field for all user documents, except those with '$external' as "
            "the user's source db",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": []},
            "$external",
            2,
            "Cannot set the password for users defined on the '$external' database",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [], "mechanisms": []},
            "test",
            2,
            "mechanisms field must not be empty",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": [], "mechanisms": ["BAD"]},
            "test",
            2,
            "Unknown auth mechanism 'BAD'",
        ),
        (
            {
                "createUser": "u",
                "pwd": "pw",
                "roles": [],
                "authenticationRestrictions": [{"clientSource": ["127.0.0.1"]}],
            },
            "test",
            2,
            "fakemongo does not implement authenticationRestrictions (createUser)",
        ),
        (
            {"createUser": "u", "pwd": "", "roles": []},
            "test",
            50687,
            "Error preflighting UTF-8 conversion: U_STRING_NOT_TERMINATED_WARNING",
        ),
        (
            {"createUser": "u", "pwd": "pw", "roles": ["nope"]},
            "test",
            31,
            "Could not find role: nope@test",
        ),
        (
            {"createUser": "root", "pwd": "pw", "roles": []},
            "admin",
            51003,
            'User "root@admin" already exists',
        ),
        (
            {"createUser": "", "pwd": "pw", "roles": []},
            "test",
            2,
            "User document needs 'user' field to be non-empty",
        ),
    ],
)
def test_create_user_errors(
    root: Connection, body: dict[str, Any], db: str, code: int, errmsg: str
) -> None:
    assert root.run(body, db) == failure(code, errmsg)


def test_create_user_variants(root: Connection) -> None:
    assert root.run(
        {"createUser": "CN=client", "roles": [{"role": "read", "db": "test"}]}, "$external"
    ) == {"ok": 1.0}
    assert root.run({"usersInfo": "CN=client"}, "$external")["users"][0]["mechanisms"] == [
        "external"
    ]
    assert root.run(
        {
            "createUser": "d",
            "pwd": mongodb_cr_digest("d", "pw"),
            "roles": [],
            "digestPassword": False,
            "mechanisms": [SCRAM_SHA_1],
            "authenticationRestrictions": [],
        },
        "test",
    ) == {"ok": 1.0}
    assert Connection(root.state).login("d", "pw", "test", SCRAM_SHA_1)["done"] is True


def test_drop_user(root: Connection) -> None:
    root.run({"createUser": "u", "pwd": "pw", "roles": []}, "test")
    assert root.run({"dropUser": "u", "writeConcern": {"w": 1}}, "test") == {"ok": 1.0}
    assert root.run({"usersInfo": [{"user": "u", "db": "test"}]}, "test") == {
        "users": [],
        "ok": 1.0,
    }
    assert root.run({"dropUser": "u"}, "test") == failure(11, "User 'u@test' not found")
    assert root.run({"dropUser": 1}, "test")["code"] == 14
    assert root.run({"dropUser": "u", "x": 1}, "test")["code"] == 40415


def test_authorization_of_user_management(auth_server: ServerState, root: Connection) -> None:
    root.run({"createUser": "admin", "pwd": "pw", "roles": ["userAdmin"]}, "test")
    root.run({"createUser": "reader", "pwd": "pw", "roles": ["read"]}, "test")
    admin, reader = Connection(auth_server), Connection(auth_server)
    assert admin.login("admin", "pw", "test")["done"] is True
    assert reader.login("reader", "pw", "test")["done"] is True
    create = {"createUser": "x", "pwd": "pw", "roles": []}
    assert reader.run(create, "test") == failure(13, "Not authorized to create users on db: test")
    assert admin.run(create, "other") == failure(13, "Not authorized to create users on db: other")
    granting = {"createUser": "x", "pwd": "pw", "roles": [{"role": "read", "db": "other"}]}
    assert admin.run(granting, "test") == failure(13, "Not authorized to grant role: read@other")
    assert admin.run(create | {"authenticationRestrictions": []}, "test") == {"ok": 1.0}
    assert reader.run({"dropUser": "x"}, "test") == failure(
        13, "Not authorized to drop users from the test database"
    )
    assert admin.run({"dropUser": "x"}, "test") == {"ok": 1.0}
    denied = failure(13, "Not authorized to view users from the test database")
    assert reader.run({"usersInfo": 1}, "test") == denied
    assert reader.run({"usersInfo": ["reader", "admin"]}, "test") == denied
    assert (
        reader.run({"usersInfo": "reader"}, "test")["users"][0]["_id"] == "test.reader"
    )  # oneself
    assert admin.run({"usersInfo": {"user": "root", "db": "admin"}}, "test") == denied
    assert admin.run({"usersInfo": 1}, "test")["ok"] == 1.0
    assert admin.run({"usersInfo": {"forAllDBs": True}}, "test") == failure(
        13, "Not authorized to view users from all databases"
    )
    anonymous = Connection(auth_server)
    assert anonymous.run(create, "test") == failure(
        13, "Command createUser requires authentication"
    )


def test_without_auth_anyone_manages_users() -> None:
    connection = Connection(server())
    assert not connection.state.auth_required
    assert connection.run({"createUser": "u", "pwd": "pw", "roles": ["root"]}, "admin") == {
        "ok": 1.0
    }
    assert not connection.state.auth_required  # decided at start, like mongod --auth
    assert connection.run({"usersInfo": {"forAllDBs": 1}})["users"][0]["_id"] == "admin.u"
    assert connection.run({"usersInfo": "u"})["users"][0]["_id"] == "admin.u"
    # authentication still works and is reported
    assert connection.login("u", "pw")["done"] is True
    assert connection.run({"connectionStatus": 1})["authInfo"]["authenticatedUsers"] == [
        {"user": "u", "db": "admin"}
    ]
    assert connection.run({"dropUser": "u"}) == {"ok": 1.0}
