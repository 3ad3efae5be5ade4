"""The user store: credentials as mongod derives them, built-in roles, names.

Expected errors are mongod's, several of them as recorded against a real
server by FerretDB's compatibility tests (createUser / usersInfo / dropUser).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64

from fakemongo._errors import CommandError, ErrorCode
from fakemongo._scram import SCRAM_SHA_1, SCRAM_SHA_256, ScramCredential, ScramError, ScramServer
from fakemongo._state import ServerOptions
from fakemongo._users import (
    USER_ADMIN_ACTIONS,
    RoleName,
    UserStore,
    is_authorized,
    is_builtin_role,
    mongodb_cr_digest,
    parse_auth_name,
    parse_users_info,
    role_closure,
)


@contextmanager
def error(code: int, errmsg: str) -> Iterator[None]:
    """Expect a CommandError with exactly this code and message."""
    with pytest.raises(CommandError) as info:
        yield
    assert (info.value.code, info.value.errmsg) == (code, errmsg)


def test_mongodb_cr_digest_is_the_auth_spec_value() -> None:
    # Driver Auth spec, SCRAM-SHA-1: the password hashed is md5("user:mongo:pencil").
    assert mongodb_cr_digest("user", "pencil") == "1c33006ec1ffd90f9cadcbcc0e118200"


def test_sha1_credential_verifies_the_auth_spec_conversation() -> None:
    # Driver Auth spec, "SCRAM-SHA-1" conversation (MongoDB's digested password).
    cred = ScramCredential.derive(
        SCRAM_SHA_1,
        mongodb_cr_digest("user", "pencil"),
        salt=base64.b64decode("rQ9ZY3MntBeuP3E1TDVC4w=="),
        iterations=10000,
    )
    server = ScramServer(
        SCRAM_SHA_1, lambda user: cred, nonce=lambda: "Ho+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE"
    )
    nonce = "fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE"
    assert server.step(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")[1] == (
        f"r={nonce},s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000".encode()
    )
    final = f"c=biws,r={nonce},p=MC2T8BvbmWRckDw8oWl5IVghwCY=".encode()
    assert server.step(final) == (False, b"v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=")


def stored_key(cred: ScramCredential, hashed_password: str) -> bytes:
    name = {SCRAM_SHA_1: "sha1", SCRAM_SHA_256: "sha256"}[cred.mechanism]
    salted = hashlib.pbkdf2_hmac(name, hashed_password.encode(), cred.salt, cred.iterations)
    return hashlib.new(name, hmac.digest(salted, b"Client Key", name)).digest()


def test_add_user_builds_both_credentials_like_mongod() -> None:
    store = UserStore()
    assert not store.has_users()
    user = store.add_user("test", "alice", "I\u00adX", [RoleName("readWrite", "test")])
    assert store.has_users()
    assert len(store) == 1
    assert user.mechanisms == [SCRAM_SHA_1, SCRAM_SHA_256]
    sha1, sha256 = user.credentials[SCRAM_SHA_1], user.credentials[SCRAM_SHA_256]
    assert (sha1.iterations, len(sha1.salt)) == (10000, 16)
    assert (sha256.iterations, len(sha256.salt)) == (15000, 28)
    # SHA-1 hashes the MONGODB-CR digest; SHA-256 the SASLprep'd password.
    assert sha1.stored_key == stored_key(sha1, mongodb_cr_digest("alice", "I\u00adX"))
    assert sha256.stored_key == stored_key(sha256, "IX")
    assert user.user_id.subtype == 4
    assert len(user.user_id) == 16
    assert store.get("test", "alice") is user
    assert store.get("other", "alice") is None


def test_mechanisms_and_digest_password() -> None:
    store = UserStore()
    only_sha1 = store.add_user("test", "a", "pw", [], [SCRAM_SHA_1])
    assert only_sha1.mechanisms == [SCRAM_SHA_1]
    assert store.add_user("test", "a2", "pw", [], [SCRAM_SHA_256]).mechanisms == [SCRAM_SHA_256]
    digested = store.add_user(
        "test", "b", mongodb_cr_digest("b", "pw"), [], [SCRAM_SHA_1], digest_password=False
    )
    cred = digested.credentials[SCRAM_SHA_1]
    assert cred.stored_key == stored_key(cred, mongodb_cr_digest("b", "pw"))
    with error(2, "Use of SCRAM-SHA-256 requires undigested passwords"):
        store.add_user("test", "c", "pw", [], None, digest_password=False)
    with error(2, "Unknown auth mechanism 'PLAIN'"):
        store.add_user("test", "d", "pw", [], [SCRAM_SHA_256, "PLAIN"])
    assert store.add_user("test", "e", "pw", [], [SCRAM_SHA_256, SCRAM_SHA_1]).mechanisms == [
        SCRAM_SHA_1,
        SCRAM_SHA_256,
    ]


@pytest.mark.parametrize(
    ("password", "code", "errmsg"),
    [
        ("", 50687, "Error preflighting UTF-8 conversion: U_STRING_NOT_TERMINATED_WARNING"),
        ("pass\x00word", 50692, "Error preflighting normalization: U_STRINGPREP_PROHIBITED_ERROR"),
        ("\u00ad", 50692, "Error preflighting normalization: U_STRING_NOT_TERMINATED_WARNING"),
        ("\u0627a", 50692, "Error preflighting normalization: U_STRINGPREP_CHECK_BIDI_ERROR"),
        ("\u0221", 50692, "Error preflighting normalization: U_STRINGPREP_UNASSIGNED_ERROR"),
    ],
)
def test_passwords_saslprep_refuses(password: str, code: int, errmsg: str) -> None:
    store = UserStore()
    with error(code, errmsg):
        store.add_user("test", "u", password, [])
    # Only SCRAM-SHA-256 prepares the password.
    assert store.add_user("test", "u", password, [], [SCRAM_SHA_1]).mechanisms == [SCRAM_SHA_1]


def test_user_and_role_validation_in_mongods_order() -> None:
    store = UserStore()
    with error(2, "Unknown auth mechanism 'BAD'"):
        store.add_user("test", "", "pw", [RoleName("nope", "test")], ["BAD"])
    with error(2, "User document needs 'user' field to be non-empty"):
        store.add_user("test", "", "pw", [RoleName("nope", "test")])
    with error(31, "Could not find role: nope@test"):
        store.add_user("test", "u", "pw", [RoleName("nope", "test"), RoleName("nope", "test")])
    with error(31, "Could not find roles: root@test, x@admin"):
        store.add_user(
            "test",
            "u",
            "pw",
            [RoleName("root", "test"), RoleName("read", "test"), RoleName("x", "admin")],
        )
    store.add_user("test", "u", "pw", [RoleName("read", "test"), RoleName("read", "test")])
    assert store.get("test", "u") is not None
    assert store.get("test", "u").roles == (RoleName("read", "test"),)  # type: ignore[union-attr]
    with error(51003, 'User "u@test" already exists'):
        store.add_user("test", "u", "other", [])
    with error(31, "Could not find role: nope@test"):  # roles are checked before existence
        store.add_user("test", "u", "other", [RoleName("nope", "test")])


def test_external_users_have_no_credentials() -> None:
    user = UserStore().add_user("$external", "CN=client", None, [RoleName("read", "test")])
    assert user.external
    assert user.mechanisms == ["external"]
    assert user.document(show_credentials=True)["credentials"] == {"external": True}


def test_remove_get_list() -> None:
    store = UserStore()
    for db, name in [("b", "x"), ("a", "y"), ("a", "x"), ("c", "a")]:
        store.add_user(db, name, "pw", [], [SCRAM_SHA_1])
    assert [u.key for u in store.list()] == [("c", "a"), ("a", "x"), ("b", "x"), ("a", "y")]
    assert [u.key for u in store.list("a")] == [("a", "x"), ("a", "y")]
    assert store.remove("a", "x").key == ("a", "x")
    with error(11, "User 'x@a' not found"):
        store.remove("a", "x")
    assert repr(store) == "<UserStore users=3>"


def test_scram_credential_lookup() -> None:
    store = UserStore()
    store.add_user("test", "u", "pw", [], [SCRAM_SHA_1])
    assert store.scram_credential("test", "u", SCRAM_SHA_1).mechanism == SCRAM_SHA_1
    with pytest.raises(ScramError) as info:
        store.scram_credential("test", "nobody", SCRAM_SHA_1)
    assert (info.value.code, info.value.reason) == (
        ErrorCode.UserNotFound,
        'Could not find user "nobody" for db "test"',
    )
    with pytest.raises(ScramError) as info:
        store.scram_credential("test", "u", SCRAM_SHA_256)
    assert info.value.code == ErrorCode.MechanismUnavailable
    assert info.value.reason == (
        "Unable to use SCRAM-SHA-256 based authentication for user without any "
        "SCRAM-SHA-256 credentials registered"
    )


def test_document_and_repr_show_no_secrets() -> None:
    store = UserStore()
    user = store.add_user(
        "test", "u", "hunter2-secret", [RoleName("read", "test")], custom_data={"k": 1}
    )
    doc = user.document()
    assert list(doc) == ["_id", "userId", "user", "db", "customData", "roles", "mechanisms"]
    assert doc["_id"] == "test.u"
    assert doc["userId"] == user.user_id
    assert isinstance(doc["userId"], Binary)
    assert doc["roles"] == [{"role": "read", "db": "test"}]
    assert doc["customData"] == {"k": 1}
    full = user.document(show_credentials=True, show_custom_data=False)
    assert list(full) == ["_id", "userId", "user", "db", "credentials", "roles", "mechanisms"]
    assert list(full["credentials"]) == [SCRAM_SHA_1, SCRAM_SHA_256]
    assert full["credentials"][SCRAM_SHA_256]["iterationCount"] == 15000
    text = repr(user) + repr(store) + repr(user.credentials[SCRAM_SHA_256])
    assert "hunter2" not in text
    for cred in full["credentials"].values():
        assert cred["storedKey"] not in text
        assert cred["serverKey"] not in text
        assert cred["salt"] not in text
    assert repr(user).startswith(
        "User(db='test', name='u', roles=(RoleName(role='read', db='test'),))"
    )
    assert "customData" not in UserStore().add_user("t", "v", "pw", []).document()


def test_from_options() -> None:
    store = UserStore.from_options(
        ServerOptions(users=(("admin", "root", "pw"), ("app", "svc", "pw2")))
    )
    root, svc = store.get("admin", "root"), store.get("app", "svc")
    assert root is not None
    assert svc is not None
    assert root.roles == (RoleName("root", "admin"),)
    assert svc.roles == (RoleName("dbOwner", "app"),)
    assert root.mechanisms == svc.mechanisms == [SCRAM_SHA_1, SCRAM_SHA_256]
    assert not UserStore.from_options(ServerOptions()).has_users()


def test_role_names() -> None:
    role = RoleName("read", "test")
    assert str(role) == "read@test"
    assert role.document() == {"role": "read", "db": "test"}
    assert is_builtin_role(RoleName("readWrite", "any"))
    assert is_builtin_role(RoleName("enableSharding", "x"))
    assert is_builtin_role(RoleName("root", "admin"))
    assert not is_builtin_role(RoleName("root", "test"))
    assert not is_builtin_role(RoleName("custom", "admin"))


def test_role_closure_follows_builtin_roles_yml() -> None:
    assert role_closure([RoleName("dbOwner", "app"), RoleName("readWrite", "app")]) == [
        RoleName("dbOwner", "app"),
        RoleName("readWrite", "app"),
        RoleName("dbAdmin", "app"),
        RoleName("userAdmin", "app"),
    ]
    root = role_closure([RoleName("root", "admin")])
    assert root[0] == RoleName("root", "admin")
    expected = {
        "clusterAdmin",
        "clusterMonitor",
        "hostManager",
        "clusterManager",
        "userAdminAnyDatabase",
        "dbAdminAnyDatabase",
        "readWriteAnyDatabase",
        "readAnyDatabase",
        "backup",
        "__queryableBackup",
        "restore",
        "directShardOperations",
    }
    assert {r.role for r in root if r.db == "admin"} == expected | {"root"}
    assert {r for r in root if r.db != "admin"} == {
        RoleName("read", "config"),
        RoleName("read", "local"),
    }
    assert len(root) == len(set(root))


@pytest.mark.parametrize(
    ("roles", "action", "db", "allowed"),
    [
        ([RoleName("userAdmin", "test")], "createUser", "test", True),
        ([RoleName("userAdmin", "test")], "createUser", "other", False),
        ([RoleName("userAdmin", "test")], "viewUser", None, False),
        ([RoleName("dbOwner", "test")], "dropUser", "test", True),
        ([RoleName("readWrite", "test")], "createUser", "test", False),
        ([RoleName("userAdminAnyDatabase", "admin")], "grantRole", "local", True),
        ([RoleName("userAdminAnyDatabase", "admin")], "viewUser", None, True),
        ([RoleName("userAdminAnyDatabase", "test")], "viewUser", "test", False),
        ([RoleName("root", "admin")], "createUser", "config", True),
        ([RoleName("restore", "admin")], "createUser", "test", True),
        ([RoleName("restore", "admin")], "createUser", "local", False),
        ([RoleName("restore", "admin")], "viewUser", None, False),
        ([RoleName("__system", "admin")], "viewUser", None, True),
        ([RoleName("root", "admin")], "find", "test", False),
        ([], "createUser", "test", False),
    ],
)
def test_is_authorized(roles: list[RoleName], action: str, db: str | None, allowed: bool) -> None:
    assert is_authorized(roles, action, db) is allowed
    assert action in USER_ADMIN_ACTIONS or not allowed


@pytest.mark.parametrize(
    ("value", "strict", "errmsg"),
    [
        (None, True, "UserName must be either a string or an object"),
        (True, True, "UserName must be either a string or an object"),
        ({"foo": "bar"}, True, "UserName contains an unknown field named: 'foo"),
        (
            {"user": 123, "db": "x"},
            True,
            "UserName must contain a string field named: user. But, has type int",
        ),
        (
            {"user": "u", "db": Int64(1)},
            True,
            "UserName must contain a string field named: db. But, has type long",
        ),
        ({"user": "u"}, True, "UserName must contain a field named: db"),
        ({"db": "x"}, True, "UserName must contain a field named: user"),
        ({"db": "x", "extra": 1}, False, "UserName must contain a field named: user"),
    ],
)
def test_parse_auth_name_errors(value: Any, strict: bool, errmsg: str) -> None:
    with error(2, errmsg):
        parse_auth_name(value, "UserName", "user", strict=strict)


def test_parse_auth_name() -> None:
    assert parse_auth_name({"db": "d", "user": "u"}, "UserName", "user", strict=True) == ("d", "u")
    assert parse_auth_name({"role": "r", "db": "d", "x": 1}, "RoleName", "role", strict=False) == (
        "d",
        "r",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, ("db", [])),
        (1.9, ("db", [])),
        (Int64(1), ("db", [])),
        (Decimal128("1"), ("db", [])),
        ({"forAllDBs": True}, ("all", [])),
        ({"forAllDBs": 1}, ("all", [])),
        ({"forAllDBs": "yes"}, ("all", [])),
        ({"forAllDBs": Decimal128("2")}, ("all", [])),
        ("alice", ("exact", [("test", "alice")])),
        ({"user": "bob", "db": "other"}, ("exact", [("other", "bob")])),
        (
            ["alice", {"user": "bob", "db": "other"}],
            ("exact", [("test", "alice"), ("other", "bob")]),
        ),
        ([], ("exact", [])),
    ],
)
def test_parse_users_info(value: Any, expected: tuple[str, list[tuple[str, str]]]) -> None:
    assert parse_users_info(value, "test") == expected


@pytest.mark.parametrize(
    ("value", "errmsg"),
    [
        (None, "UserName must be either a string or an object"),
        (True, "UserName must be either a string or an object"),
        (2, "UserName must be either a string or an object"),
        (float("nan"), "UserName must be either a string or an object"),
        (float("inf"), "UserName must be either a string or an object"),
        ({"forAllDBs": False}, "UserName contains an unknown field named: 'forAllDBs"),
        ({"forAllDBs": None}, "UserName contains an unknown field named: 'forAllDBs"),
        ({"forAllDBs": Decimal128("0")}, "UserName contains an unknown field named: 'forAllDBs"),
        ([{"user": "missing_db"}], "UserName must contain a field named: db"),
    ],
)
def test_parse_users_info_errors(value: Any, errmsg: str) -> None:
    with error(2, errmsg):
        parse_users_info(value, "test")
