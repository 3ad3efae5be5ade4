"""The SCRAM client against RFC 5802 / RFC 7677 and the Auth spec's conversations."""

from __future__ import annotations

import base64

import pytest

from mongotor.pool import SASLprepError
from mongotor.pool._scram import (
    MIN_ITERATIONS,
    ScramCache,
    ScramConversation,
    ScramError,
    ScramMechanism,
    scram_password,
)

SHA1 = ScramMechanism.SCRAM_SHA_1
SHA256 = ScramMechanism.SCRAM_SHA_256

# (mechanism, password bytes, client nonce, server-first, client-final, server-final)
VECTORS = [
    pytest.param(
        # RFC 5802 section 5: plain SCRAM-SHA-1 with the password "pencil".
        SHA1,
        b"pencil",
        "fyko+d2lbbFgONRv9qkxdawL",
        b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        id="rfc5802",
    ),
    pytest.param(
        # RFC 7677 section 3 (also the Auth spec's SCRAM-SHA-256 conversation).
        SHA256,
        scram_password(SHA256, "user", "pencil"),
        "rOprNGfwEbeRWgbNEkqO",
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        id="rfc7677",
    ),
    pytest.param(
        # The Auth spec's SCRAM-SHA-1 conversation: MongoDB's digested password.
        SHA1,
        scram_password(SHA1, "user", "pencil"),
        "fyko+d2lbbFgONRv9qkxdawL",
        b"r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,"
        b"s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000",
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,"
        b"p=MC2T8BvbmWRckDw8oWl5IVghwCY=",
        b"v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=",
        id="auth-spec-sha1",
    ),
]


@pytest.mark.parametrize(
    ("mechanism", "password", "nonce", "server_first", "client_final", "server_final"), VECTORS
)
def test_vectors(
    mechanism: ScramMechanism,
    password: bytes,
    nonce: str,
    server_first: bytes,
    client_final: bytes,
    server_final: bytes,
) -> None:
    conversation = ScramConversation(mechanism, "user", password, nonce=nonce)
    assert conversation.first_message() == f"n,,n=user,r={nonce}".encode()
    assert conversation.final_message(server_first) == client_final
    conversation.verify(server_final)


def test_mongodb_sha1_password_is_the_md5_digest() -> None:
    # hex(md5("user:mongo:pencil")), neither part SASLprepped.
    assert scram_password(SHA1, "user", "pencil") == b"1c33006ec1ffd90f9cadcbcc0e118200"
    assert scram_password(SHA1, "I\u00adX", "p") != scram_password(SHA1, "IX", "p")


def test_sha256_password_is_saslprepped() -> None:
    assert scram_password(SHA256, "u", "I\u00adX") == b"IX"
    with pytest.raises(SASLprepError):
        scram_password(SHA256, "u", "\u0007")


def test_usernames_are_escaped_not_saslprepped() -> None:
    conversation = ScramConversation(SHA256, "a=b,c\u00ad", b"x", nonce="N")
    assert conversation.first_message() == "n,,n=a=3Db=2Cc\u00ad,r=N".encode()


def test_random_nonce_differs_each_time() -> None:
    first = ScramConversation(SHA256, "u", b"p").first_message()
    second = ScramConversation(SHA256, "u", b"p").first_message()
    assert first != second
    assert len(base64.b64decode(first.split(b"r=")[1])) == 24


def _server_first(nonce: str = "Nserver", iterations: int = MIN_ITERATIONS) -> bytes:
    return f"r={nonce},s=c2FsdA==,i={iterations}".encode()


@pytest.mark.parametrize(
    ("server_first", "complaint"),
    [
        (b"e=unknown-user", "refused the authentication: unknown-user"),
        (b"m=ext,r=Nx,s=c2FsdA==,i=4096", "extension"),
        (b"r=Nx,s=c2FsdA==", "lacks r, s or i"),
        (b"r=Nx,garbage", "malformed"),
        (b"\xff", "not UTF-8"),
        (_server_first("N"), "does not extend"),
        (_server_first("Xserver"), "does not extend"),
        (b"r=Nx,s=!!!,i=4096", "malformed"),
        (b"r=Nx,s=c2FsdA==,i=many", "malformed"),
        (_server_first(iterations=4095), "4095 iterations"),
    ],
)
def test_bad_server_first_messages(server_first: bytes, complaint: str) -> None:
    conversation = ScramConversation(SHA256, "u", b"secret-password", nonce="N")
    with pytest.raises(ScramError, match=complaint) as caught:
        conversation.final_message(server_first)
    assert "secret-password" not in str(caught.value)


@pytest.mark.parametrize(
    ("server_final", "complaint"),
    [
        (b"v=AAAA", "does not verify"),
        (b"x=1", "no valid signature"),
        (b"v=***", "no valid signature"),
        (b"e=invalid-proof", "invalid-proof"),
    ],
)
def test_bad_server_final_messages(server_final: bytes, complaint: str) -> None:
    conversation = ScramConversation(SHA256, "u", b"p", nonce="N")
    conversation.final_message(_server_first())
    with pytest.raises(ScramError, match=complaint):
        conversation.verify(server_final)


def test_final_before_first_is_refused() -> None:
    with pytest.raises(ScramError, match="before its first"):
        ScramConversation(SHA256, "u", b"p").verify(b"v=AAAA")


def test_cache_derives_keys_once_per_salt_and_iterations(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    calls: list[int] = []
    real = hashlib.pbkdf2_hmac

    def counting(name: str, password: bytes, salt: bytes, iterations: int) -> bytes:
        calls.append(iterations)
        return real(name, password, salt, iterations)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    cache = ScramCache()
    for _ in range(2):
        ScramConversation(SHA256, "u", b"p", nonce="N", cache=cache).final_message(_server_first())
    assert calls == [MIN_ITERATIONS]
    ScramConversation(SHA256, "u", b"p", nonce="N", cache=cache).final_message(
        _server_first(iterations=5000)
    )
    ScramConversation(SHA1, "u", b"p", nonce="N", cache=cache).final_message(_server_first())
    assert calls == [MIN_ITERATIONS, 5000, MIN_ITERATIONS]
    assert repr(cache) == "<ScramCache entries=2>"


def test_reprs_show_no_secrets() -> None:
    conversation = ScramConversation(SHA256, "alice", b"hunter2", nonce="N")
    assert repr(conversation) == "<ScramConversation SCRAM-SHA-256>"
    assert SHA1.digest == "sha1"
    assert SHA256.digest == "sha256"
