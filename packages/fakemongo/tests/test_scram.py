"""The SCRAM server state machine, driven by a client written here from the RFCs.

Vectors: RFC 5802 section 5 (SCRAM-SHA-1, "user" / "pencil") and RFC 7677
section 3 (SCRAM-SHA-256, same user and password). Error statuses are
mongod's (sasl_scram_server_conversation.cpp).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable

import pytest

from fakemongo._errors import CommandError, ErrorCode
from fakemongo._scram import (
    MECHANISMS,
    SCRAM_SHA_1,
    SCRAM_SHA_256,
    SaslPrepError,
    ScramCredential,
    ScramError,
    ScramServer,
    b64decode,
    saslprep,
)

# RFC 5802 section 5.
SHA1_CLIENT_NONCE = "fyko+d2lbbFgONRv9qkxdawL"
SHA1_SERVER_NONCE = "3rfcNHYJY1ZVvWVs7j"
SHA1_SALT = "QSXCR+Q6sek8bf92"
SHA1_PROOF = "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
SHA1_SIGNATURE = "rmF9pqV8S7suAoZWja4dJRkFsKQ="
# RFC 7677 section 3.
SHA256_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
SHA256_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
SHA256_SALT = "W22ZaJ0SNY7soEsUEjb6gQ=="
SHA256_PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
SHA256_SIGNATURE = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def credential(
    mechanism: str, password: str = "pencil", salt: str = "", iterations: int = 4096
) -> ScramCredential:
    return ScramCredential.derive(
        mechanism, password, salt=base64.b64decode(salt or SHA256_SALT), iterations=iterations
    )


def lookup(expected_user: str, cred: ScramCredential) -> Callable[[str], ScramCredential]:
    def find(user: str) -> ScramCredential:
        if user != expected_user:
            raise ScramError(ErrorCode.UserNotFound, f'Could not find user "{user}" for db "test"')
        return cred

    return find


def client_final(
    mechanism: str,
    password: str,
    client_first_bare: str,
    server_first: str,
    channel: str = "c=biws",
) -> tuple[str, str]:
    """An RFC 5802 client's final message and the server signature it expects."""
    name = MECHANISMS[mechanism].name
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    salted = hashlib.pbkdf2_hmac(
        name, password.encode(), base64.b64decode(fields["s"]), int(fields["i"])
    )
    client_key = hmac.digest(salted, b"Client Key", name)
    without_proof = f"{channel},r={fields['r']}"
    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.new(name, client_key).digest(), auth_message, name)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    server_key = hmac.digest(salted, b"Server Key", name)
    expected = base64.b64encode(hmac.digest(server_key, auth_message, name)).decode()
    return f"{without_proof},p={base64.b64encode(proof).decode()}", f"v={expected}"


@pytest.mark.parametrize(
    ("mechanism", "client_nonce", "server_nonce", "salt", "proof", "signature"),
    [
        (SCRAM_SHA_1, SHA1_CLIENT_NONCE, SHA1_SERVER_NONCE, SHA1_SALT, SHA1_PROOF, SHA1_SIGNATURE),
        (
            SCRAM_SHA_256,
            SHA256_CLIENT_NONCE,
            SHA256_SERVER_NONCE,
            SHA256_SALT,
            SHA256_PROOF,
            SHA256_SIGNATURE,
        ),
    ],
)
def test_rfc_vectors(
    mechanism: str, client_nonce: str, server_nonce: str, salt: str, proof: str, signature: str
) -> None:
    cred = credential(mechanism, salt=salt)
    server = ScramServer(mechanism, lookup("user", cred), nonce=lambda: server_nonce)
    assert server.total_steps == 3
    done, first = server.step(f"n,,n=user,r={client_nonce}".encode())
    nonce = client_nonce + server_nonce
    assert (done, first) == (False, f"r={nonce},s={salt},i=4096".encode())
    assert server.principal == "user"
    done, final = server.step(f"c=biws,r={nonce},p={proof}".encode())
    assert (done, final) == (False, f"v={signature}".encode())
    # The empty exchange completes the conversation; mongod ignores its content.
    assert server.step(b"") == (True, b"")
    assert server.done
    with pytest.raises(ScramError, match="Invalid SCRAM authentication step: 4") as info:
        server.step(b"")
    assert info.value.code == ErrorCode.AuthenticationFailed


def test_our_client_reproduces_the_vectors() -> None:
    bare = f"n=user,r={SHA256_CLIENT_NONCE}"
    server_first = f"r={SHA256_CLIENT_NONCE}{SHA256_SERVER_NONCE},s={SHA256_SALT},i=4096"
    final, expected = client_final(SCRAM_SHA_256, "pencil", bare, server_first)
    assert final.endswith(f"p={SHA256_PROOF}")
    assert expected == f"v={SHA256_SIGNATURE}"


def converse(
    server: ScramServer, password: str, first: str = "n,,n=user,r=clientnonce"
) -> tuple[bool, bytes]:
    done, server_first = server.step(first.encode())
    assert not done
    final, expected = client_final(
        server.mechanism, password, first.split(",", 2)[2], server_first.decode()
    )
    result = server.step(final.encode())
    if result[1]:
        assert result[1].decode() == expected
    return result


@pytest.mark.parametrize("mechanism", [SCRAM_SHA_1, SCRAM_SHA_256])
def test_skip_empty_exchange_finishes_at_the_server_signature(mechanism: str) -> None:
    server = ScramServer(mechanism, lookup("user", credential(mechanism)), skip_empty_exchange=True)
    assert server.total_steps == 2
    done, signature = converse(server, "pencil")
    assert done
    assert signature.startswith(b"v=")
    # A replayed client-final after success is a step past the end.
    with pytest.raises(ScramError, match="Invalid SCRAM authentication step: 3"):
        server.step(b"c=biws,r=clientnonce,p=AAAA")


def test_random_server_nonce_is_mongods_24_bytes() -> None:
    server = ScramServer(SCRAM_SHA_256, lookup("user", credential(SCRAM_SHA_256)))
    _, first = server.step(b"n,,n=user,r=clientnonce")
    nonce = dict(item.split("=", 1) for item in first.decode().split(","))["r"]
    assert nonce.startswith("clientnonce")
    assert len(base64.b64decode(nonce[len("clientnonce") :])) == 24
    other = ScramServer(SCRAM_SHA_256, lookup("user", credential(SCRAM_SHA_256)))
    assert other.step(b"n,,n=user,r=clientnonce")[1] != first


@pytest.mark.parametrize("mechanism", [SCRAM_SHA_1, SCRAM_SHA_256])
def test_wrong_password(mechanism: str) -> None:
    server = ScramServer(mechanism, lookup("user", credential(mechanism)))
    with pytest.raises(ScramError, match="SCRAM authentication failed, storedKey mismatch") as info:
        converse(server, "wrong")
    assert info.value.code == ErrorCode.AuthenticationFailed
    assert "storedKey mismatch" in repr(info.value)


def test_proof_of_the_wrong_length_fails_without_error() -> None:
    server = ScramServer(SCRAM_SHA_256, lookup("user", credential(SCRAM_SHA_256)))
    _, first = server.step(b"n,,n=user,r=clientnonce")
    nonce = first.decode().split(",")[0]
    with pytest.raises(ScramError, match="storedKey mismatch"):
        server.step(f"c=biws,{nonce},p=AAAA".encode())


def test_unknown_user_fails_in_the_first_step() -> None:
    server = ScramServer(SCRAM_SHA_256, lookup("user", credential(SCRAM_SHA_256)))
    with pytest.raises(ScramError, match='Could not find user "nobody"') as info:
        server.step(b"n,,n=nobody,r=clientnonce")
    assert info.value.code == ErrorCode.UserNotFound


def test_replayed_final_in_a_new_conversation_fails_on_the_nonce() -> None:
    cred = credential(SCRAM_SHA_256)
    first = ScramServer(SCRAM_SHA_256, lookup("user", cred))
    _, server_first = first.step(b"n,,n=user,r=clientnonce")
    final, _ = client_final(SCRAM_SHA_256, "pencil", "n=user,r=clientnonce", server_first.decode())
    assert first.step(final.encode())[1].startswith(b"v=")
    second = ScramServer(SCRAM_SHA_256, lookup("user", cred))
    second.step(b"n,,n=user,r=clientnonce")
    with pytest.raises(
        ScramError, match="Unmatched SCRAM nonce received from client in second step"
    ):
        second.step(final.encode())


def test_user_name_escapes_authzid_and_empty_fields() -> None:
    seen: list[str] = []
    cred = credential(SCRAM_SHA_256)

    def find(user: str) -> ScramCredential:
        seen.append(user)
        return cred

    server = ScramServer(SCRAM_SHA_256, find, skip_empty_exchange=True)
    # RFC 5802 5.1: "=2C" is ",", "=3D" is "=".
    assert converse(server, "pencil", "n,,n=a=2Cb=3Dc,r=clientnonce")[0]
    # mongod accepts "y", an authzid equal to the user, and skips empty fields
    # but signs the bare message exactly as sent.
    server = ScramServer(SCRAM_SHA_256, find, skip_empty_exchange=True)
    assert converse(server, "pencil", "y,a=user,n=user,,r=clientnonce,x=ext")[0]
    assert seen == ["a,b=c", "user"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"", "got 1 expected at least 3"),
        (b"n", "got 1 expected at least 3"),
        (b"n,", "got 2 expected at least 3"),
        (b"p=tls-unique,,n=user,r=clientnonce", "Server does not support channel binding"),
        (b"x,,n=user,r=clientnonce", "Incorrect SCRAM client message prefix: x"),
        (b"n,n=user,r=clientnonce", "Incorrect SCRAM authzid: n=user"),
        (b"n,,m=ext,n=user,r=clientnonce", "SCRAM mandatory extensions are not supported"),
        (b"n,,n=user", "got 3 expected at least 3"),
        (b"n,,r=clientnonce,n=user", "Invalid SCRAM user name: r=clientnonce"),
        (b"n,,n=,r=clientnonce", "Invalid SCRAM user name: n="),
        (b"n,,n=user,r=abc", "Invalid SCRAM client nonce: r=abc"),
        (b"n,,n=user,x=clientnonce", "Invalid SCRAM client nonce: x=clientnonce"),
        (b"n,a=other,n=user,r=clientnonce", "SCRAM user name user does not match authzid other"),
        (b"n,,n=\xff,r=clientnonce", "SCRAM message is not valid UTF-8"),
    ],
)
def test_malformed_client_first(message: bytes, reason: str) -> None:
    server = ScramServer(SCRAM_SHA_256, lookup("user", credential(SCRAM_SHA_256)))
    with pytest.raises(ScramError, match=re.escape(reason)) as info:
        server.step(message)
    assert info.value.code == ErrorCode.BadValue


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("nocomma", "Incorrect number of arguments for second SCRAM client message, got 1"),
        ("c=biws,r={nonce},p=", "Incorrect SCRAM ClientProof: p="),
        ("c=biws,r={nonce},x=abcd", "Incorrect SCRAM ClientProof: x=abcd"),
        ("c=biws,p=abcd", "got 2 expected at least 3"),
        (",p=abcd", "got 1 expected at least 3"),
        ("x=biws,r={nonce},p=abcd", "Incorrect SCRAM channel binding: x=biws"),
        ("c=,r={nonce},p=abcd", "Incorrect SCRAM channel binding: c="),
        ("c=biws,r=abc,p=abcd", "Incorrect SCRAM client|server nonce: r=abc"),
        ("c=biws,x={nonce},p=abcd", "Incorrect SCRAM client|server nonce: x="),
        (
            "c=biws,r=clientnonceX,p=abcd",
            "Unmatched SCRAM nonce received from client in second step, expected {nonce} "
            "but received clientnonceX",
        ),
    ],
)
def test_malformed_client_final(message: str, reason: str) -> None:
    server = ScramServer(
        SCRAM_SHA_256, lookup("user", credential(SCRAM_SHA_256)), nonce=lambda: "SERVER"
    )
    server.step(b"n,,n=user,r=clientnonce")
    nonce = "clientnonceSERVER"
    with pytest.raises(ScramError) as info:
        server.step(message.format(nonce=nonce).encode())
    assert info.value.code == ErrorCode.BadValue
    assert reason.format(nonce=nonce) in info.value.reason


@pytest.mark.parametrize(
    ("proof", "code", "errmsg"),
    [
        ("abc", 10270, "invalid base64"),
        ("ab!d", 40537, "Invalid base64 character"),
        ("A===", 40537, ""),
    ],
)
def test_proof_that_is_not_base64_is_thrown_unmasked(proof: str, code: int, errmsg: str) -> None:
    server = ScramServer(
        SCRAM_SHA_256, lookup("user", credential(SCRAM_SHA_256)), nonce=lambda: "SERVER"
    )
    server.step(b"n,,n=user,r=clientnonce")
    with pytest.raises(CommandError) as info:
        server.step(f"c=biws,r=clientnonceSERVER,p={proof}".encode())
    assert info.value.code == code
    assert errmsg in info.value.errmsg


def test_b64decode() -> None:
    assert b64decode(b"") == b""
    assert b64decode(b"cGVuY2ls") == b"pencil"
    assert b64decode(b"cGVuY2lsIQ==") == b"pencil!"


def test_credential_defaults_document_and_repr() -> None:
    for mechanism, iterations, salt_size, key_size in [
        (SCRAM_SHA_1, 10_000, 16, 20),
        (SCRAM_SHA_256, 15_000, 28, 32),
    ]:
        cred = ScramCredential.derive(mechanism, "secret-password")
        assert (cred.iterations, len(cred.salt), len(cred.stored_key), len(cred.server_key)) == (
            iterations,
            salt_size,
            key_size,
            key_size,
        )
        assert ScramCredential.derive(mechanism, "secret-password").salt != cred.salt
        doc = cred.document()
        assert list(doc) == ["iterationCount", "salt", "storedKey", "serverKey"]
        assert base64.b64decode(doc["storedKey"]) == cred.stored_key
        text = repr(cred)
        assert "secret" not in text
        assert doc["salt"] not in text
        assert doc["storedKey"] not in text
        assert doc["serverKey"] not in text
    with pytest.raises(KeyError):
        ScramCredential.derive("PLAIN", "x")


@pytest.mark.parametrize(
    ("text", "prepared"),
    [
        # RFC 4013 section 3's examples, and the mappings of section 2.1.
        ("I\u00adX", "IX"),
        ("user", "user"),
        ("USER", "USER"),
        ("\u00aa", "a"),
        ("\u2168", "IX"),
        ("a\u00a0b", "a b"),
        ("\u0627\u0628", "\u0627\u0628"),
        ("", ""),
    ],
)
def test_saslprep(text: str, prepared: str) -> None:
    assert saslprep(text) == prepared


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("\u0007", "U_STRINGPREP_PROHIBITED_ERROR"),
        ("pass\x00word", "U_STRINGPREP_PROHIBITED_ERROR"),
        ("\u0627\u0031", "U_STRINGPREP_CHECK_BIDI_ERROR"),
        ("1\u0627", "U_STRINGPREP_CHECK_BIDI_ERROR"),
        ("\u0627a\u0628", "U_STRINGPREP_CHECK_BIDI_ERROR"),
        ("\u0221", "U_STRINGPREP_UNASSIGNED_ERROR"),
    ],
)
def test_saslprep_refuses(text: str, error: str) -> None:
    with pytest.raises(SaslPrepError) as info:
        saslprep(text)
    assert info.value.icu_error == error


def test_saslprep_may_allow_unassigned() -> None:
    assert saslprep("\u0221", allow_unassigned=True) == "\u0221"
