"""Authentication conversations against a scripted peer: negotiation,
speculation, the long and short SCRAM conversations, PLAIN, X.509, failures."""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

import pytest
from bson.binary import Binary

from mongotor.pool import (
    AuthenticationError,
    AuthMechanism,
    Credential,
    HandshakeResult,
    authenticate,
    choose_mechanism,
    parse_handshake,
    speculative_start,
)
from mongotor.pool._scram import ScramMechanism, scram_password


class Peer:
    """A server's side of authentication commands, recorded."""

    address = "db:27017"
    generation = 1
    max_wire_version = 25

    def __init__(self, server: Any = None, *, skip_empty: bool = True) -> None:
        self.server = server
        self.skip_empty = skip_empty
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.replies: list[dict[str, Any]] = []

    async def command(
        self, db: str, body: Any, *, deadline: float | None = None, check: bool = False
    ) -> dict[str, Any]:
        self.sent.append((db, dict(body)))
        if self.replies:
            return self.replies.pop(0)
        name = next(iter(body))
        if name == "authenticate":
            return {"ok": 1, "dbname": "$external", "user": body.get("user", "CN=client")}
        payload = bytes(body["payload"])
        if name == "saslStart" and body["mechanism"] == "PLAIN":
            return {"ok": 1, "conversationId": 1, "done": True, "payload": b""}
        if name == "saslStart":
            return {
                "ok": 1,
                "conversationId": 1,
                "done": False,
                "payload": self.server.first(payload),
            }
        if not payload:
            return {"ok": 1, "conversationId": 1, "done": True, "payload": b""}
        final = self.server.final(payload)
        return {"ok": 1, "conversationId": 1, "done": self.skip_empty, "payload": final}

    @property
    def names(self) -> list[str]:
        return [next(iter(body)) for _, body in self.sent]


def handshake(**reply: Any) -> HandshakeResult:
    return parse_handshake(
        "db:27017", {"ok": 1, **reply}, requested_compressors=(), round_trip_time_ms=1, now_ms=0
    )


def scram_peer(fakes: Any, mechanism: ScramMechanism, password: str = "pencil", **kw: Any) -> Peer:
    digest = "sha1" if mechanism is ScramMechanism.SCRAM_SHA_1 else "sha256"
    return Peer(fakes.ScramServer(digest, scram_password(mechanism, "user", password)), **kw)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_negotiation() -> None:
    negotiated = Credential("user", "pencil", "admin")
    both = handshake(saslSupportedMechs=["SCRAM-SHA-1", "SCRAM-SHA-256"])
    assert choose_mechanism(negotiated, both) is AuthMechanism.SCRAM_SHA_256
    assert choose_mechanism(negotiated, handshake(saslSupportedMechs=["SCRAM-SHA-1"])) is (
        AuthMechanism.SCRAM_SHA_1
    )
    # No saslSupportedMechs at all (an unknown user, an old server): SCRAM-SHA-1.
    assert choose_mechanism(negotiated, handshake()) is AuthMechanism.SCRAM_SHA_1
    explicit = Credential("user", "pencil", "admin", AuthMechanism.SCRAM_SHA_1)
    assert choose_mechanism(explicit, both) is AuthMechanism.SCRAM_SHA_1


@pytest.mark.parametrize("mechanism", list(ScramMechanism))
def test_scram_conversation_with_skip_empty_exchange(fakes: Any, mechanism: ScramMechanism) -> None:
    peer = scram_peer(fakes, mechanism)
    credential = Credential("user", "pencil", "app", AuthMechanism(mechanism.value))
    run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]
    assert peer.names == ["saslStart", "saslContinue"]
    db, start = peer.sent[0]
    assert db == "app"
    assert start["mechanism"] == mechanism.value
    assert start["options"] == {"skipEmptyExchange": True}
    assert start["autoAuthorize"] == 1
    assert isinstance(start["payload"], Binary)
    assert peer.sent[1][1]["conversationId"] == 1


def test_long_conversation_of_older_servers(fakes: Any) -> None:
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_256, skip_empty=False)
    run(
        authenticate(
            peer,
            Credential("user", "pencil", "admin"),
            handshake(  # type: ignore[arg-type]
                saslSupportedMechs=["SCRAM-SHA-256"]
            ),
        )
    )
    assert peer.names == ["saslStart", "saslContinue", "saslContinue"]
    assert bytes(peer.sent[2][1]["payload"]) == b""


def test_a_conversation_that_never_ends(fakes: Any) -> None:
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_1, skip_empty=False)
    original = peer.command

    async def never_done(db: str, body: Any, **options: Any) -> dict[str, Any]:
        reply = await original(db, body, **options)
        reply["done"] = False
        return reply

    peer.command = never_done  # type: ignore[method-assign]
    credential = Credential("user", "pencil", "admin", AuthMechanism.SCRAM_SHA_1)
    with pytest.raises(AuthenticationError, match="did not end the SASL conversation"):
        run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]
    assert peer.names == ["saslStart", "saslContinue", "saslContinue"]


def test_speculative_authentication_taken(fakes: Any) -> None:
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_256)
    credential = Credential("user", "pencil", "app")
    speculation = speculative_start(credential, address=peer.address)
    assert speculation is not None
    assert speculation.mechanism is AuthMechanism.SCRAM_SHA_256
    assert speculation.command["db"] == "app"
    assert speculation.command["saslStart"] == 1
    first = bytes(speculation.command["payload"])
    answer = {"conversationId": 1, "done": False, "payload": peer.server.first(first)}
    result = handshake(saslSupportedMechs=["SCRAM-SHA-256"], speculativeAuthenticate=answer)
    run(authenticate(peer, credential, result, speculation=speculation))  # type: ignore[arg-type]
    assert peer.names == ["saslContinue"]


def test_speculation_not_taken_falls_back(fakes: Any) -> None:
    # The user has only SCRAM-SHA-1: the SHA-256 guess got no answer.
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_1)
    credential = Credential("user", "pencil", "admin")
    speculation = speculative_start(credential, address=peer.address)
    result = handshake(saslSupportedMechs=["SCRAM-SHA-1"])
    run(authenticate(peer, credential, result, speculation=speculation))  # type: ignore[arg-type]
    assert peer.names == ["saslStart", "saslContinue"]
    assert peer.sent[0][1]["mechanism"] == "SCRAM-SHA-1"
    # A speculative answer for another mechanism than the one chosen is ignored too.
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_1)
    result = handshake(saslSupportedMechs=["SCRAM-SHA-1"], speculativeAuthenticate={"x": 1})
    run(authenticate(peer, credential, result, speculation=speculation))  # type: ignore[arg-type]
    assert peer.names == ["saslStart", "saslContinue"]


def test_server_refusal_is_typed_and_keeps_no_payload(fakes: Any) -> None:
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_256)
    peer.replies = [
        {
            "ok": 0,
            "errmsg": "Authentication failed.",
            "code": 18,
            "codeName": "AuthenticationFailed",
            "payload": b"secret",
        }
    ]
    credential = Credential("user", "SENTINELpw", "admin", AuthMechanism.SCRAM_SHA_256)
    with pytest.raises(AuthenticationError) as caught:
        run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]
    error = caught.value
    assert (error.code, error.code_name, error.mechanism, error.source) == (
        18,
        "AuthenticationFailed",
        "SCRAM-SHA-256",
        "admin",
    )
    assert "payload" not in error.details
    assert (error.generation, error.max_wire_version) == (1, 25)
    text = "".join(traceback.format_exception(error)) + repr(error)
    assert "SENTINELpw" not in text
    assert "user" not in str(error)
    peer.replies = [{"ok": 0}]
    with pytest.raises(AuthenticationError, match="authentication failed") as bare:
        run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]
    assert bare.value.code is None


def test_wrong_password_fails_the_proof(fakes: Any) -> None:
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_256, password="other")
    credential = Credential("user", "pencil", "admin", AuthMechanism.SCRAM_SHA_256)
    with pytest.raises(AuthenticationError, match="invalid-proof"):
        run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]


def test_a_server_that_does_not_know_the_password(fakes: Any) -> None:
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_256)
    original = peer.server.final

    def forged(client_final: bytes) -> bytes:
        original(client_final)
        return b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

    peer.server.final = forged
    credential = Credential("user", "pencil", "admin", AuthMechanism.SCRAM_SHA_256)
    with pytest.raises(AuthenticationError, match="signature does not verify"):
        run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]


def test_a_reply_without_payload(fakes: Any) -> None:
    peer = scram_peer(fakes, ScramMechanism.SCRAM_SHA_256)
    peer.replies = [{"ok": 1, "conversationId": 1, "done": False}]
    credential = Credential("user", "pencil", "admin", AuthMechanism.SCRAM_SHA_256)
    with pytest.raises(AuthenticationError, match="no payload"):
        run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]


def test_a_password_saslprep_refuses() -> None:
    credential = Credential("user", "bad\u0007SENTINEL", "admin")
    with pytest.raises(AuthenticationError, match="SASLprep") as caught:
        speculative_start(credential, address="db:27017")
    assert "SENTINEL" not in str(caught.value)
    assert caught.value.mechanism == "SCRAM-SHA-256"
    with pytest.raises(AuthenticationError, match="SASLprep"):
        run(authenticate(Peer(), credential, handshake(saslSupportedMechs=["SCRAM-SHA-256"])))  # type: ignore[arg-type]


def test_plain() -> None:
    peer = Peer()
    credential = Credential("user", "pencil", "$external", AuthMechanism.PLAIN)
    assert speculative_start(credential, address=peer.address) is None
    run(authenticate(peer, credential, handshake()))  # type: ignore[arg-type]
    db, body = peer.sent[0]
    assert (db, body["mechanism"], bytes(body["payload"])) == (
        "$external",
        "PLAIN",
        b"\x00user\x00pencil",
    )


def test_x509() -> None:
    named = Credential("CN=client", None, "$external", AuthMechanism.MONGODB_X509)
    speculation = speculative_start(named, address="db:27017")
    assert speculation is not None
    assert speculation.command == {
        "authenticate": 1,
        "mechanism": "MONGODB-X509",
        "user": "CN=client",
        "db": "$external",
    }
    peer = Peer()
    taken = handshake(speculativeAuthenticate={"dbname": "$external", "user": "CN=client"})
    run(authenticate(peer, named, taken, speculation=speculation))  # type: ignore[arg-type]
    assert peer.sent == []
    anonymous = Credential(None, None, "$external", AuthMechanism.MONGODB_X509)
    run(authenticate(peer, anonymous, handshake()))  # type: ignore[arg-type]
    assert peer.sent == [("$external", {"authenticate": 1, "mechanism": "MONGODB-X509"})]
