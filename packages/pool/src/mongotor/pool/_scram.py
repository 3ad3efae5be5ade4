"""The client side of SCRAM (RFC 5802; SHA-256: RFC 7677), sans-I/O.

:class:`ScramConversation` produces the client's messages and checks the
server's: ``first_message()``, then ``final_message(server_first)``, then
``verify(server_final)``. It never touches a socket, so RFC test vectors run
against it directly; :mod:`._auth` carries its messages in saslStart /
saslContinue.

MongoDB's rules (Auth spec, "SCRAM-SHA-1" and "SCRAM-SHA-256"): user names are
not SASLprepped; SCRAM-SHA-1 uses the hex MD5 digest of ``user:mongo:password``
as the password; SCRAM-SHA-256 uses the SASLprepped password; the iteration
count must be at least 4096; no channel binding (``n,,``).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

from ._saslprep import saslprep

__all__ = [
    "MIN_ITERATIONS",
    "ScramCache",
    "ScramConversation",
    "ScramError",
    "ScramMechanism",
    "scram_password",
]

#: Auth spec: drivers MUST refuse fewer iterations (a downgrade attack).
MIN_ITERATIONS: Final = 4096
# RFC 5802 section 7: "n,," is the GS2 header without channel binding, and
# "c=biws" its base64 in the client-final-message.
_GS2_HEADER: Final = "n,,"
_CHANNEL_BINDING: Final = "c=" + base64.b64encode(_GS2_HEADER.encode()).decode()
_NONCE_BYTES: Final = 24


class ScramMechanism(enum.StrEnum):
    """The SCRAM mechanisms MongoDB speaks, and their hash functions."""

    SCRAM_SHA_1 = "SCRAM-SHA-1"
    SCRAM_SHA_256 = "SCRAM-SHA-256"

    @property
    def digest(self) -> str:
        """The hashlib name of the mechanism's hash."""
        return "sha1" if self is ScramMechanism.SCRAM_SHA_1 else "sha256"


class ScramError(Exception):
    """The server's SCRAM message is malformed, refuses us (``e=``), offers too few
    iterations, changes our nonce, or its proof does not verify. The message
    never contains a password, a salt or a proof."""


@dataclass(slots=True)
class _CachedKeys:
    salt: bytes
    iterations: int
    client_key: bytes
    server_key: bytes


class ScramCache:
    """The keys derived from one credential's password, per mechanism (Auth spec,
    "Caching credentials in SCRAM"): PBKDF2 runs once per salt and iteration
    count, not once per connection. Never shown by ``repr()``."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[ScramMechanism, _CachedKeys] = {}

    def get(self, mechanism: ScramMechanism, salt: bytes, iterations: int) -> _CachedKeys | None:
        entry = self._entries.get(mechanism)
        if entry is not None and entry.salt == salt and entry.iterations == iterations:
            return entry
        return None

    def put(self, mechanism: ScramMechanism, entry: _CachedKeys) -> None:
        self._entries[mechanism] = entry

    def __repr__(self) -> str:
        return f"<ScramCache entries={len(self._entries)}>"


def scram_password(mechanism: ScramMechanism, username: str, password: str) -> bytes:
    """The password bytes SCRAM hashes, as MongoDB defines them.

    SCRAM-SHA-1: ``hex(md5("user:mongo:password"))`` (neither part SASLprepped).
    SCRAM-SHA-256: the SASLprepped password in UTF-8. Raises
    :class:`~mongotor.pool._saslprep.SASLprepError` for a password SASLprep refuses.
    """
    if mechanism is ScramMechanism.SCRAM_SHA_1:
        digest = hashlib.md5(f"{username}:mongo:{password}".encode(), usedforsecurity=False)
        return digest.hexdigest().encode()
    return saslprep(password).encode()


def _escape_username(username: str) -> str:
    # RFC 5802 section 5.1, "n": "=" and "," are escaped as "=3D" and "=2C".
    return username.replace("=", "=3D").replace(",", "=2C")


def _parse(message: bytes, what: str) -> dict[str, str]:
    try:
        text = message.decode()
    except UnicodeDecodeError:
        raise ScramError(f"the server's {what} is not UTF-8") from None
    fields: dict[str, str] = {}
    for item in text.split(","):
        key, equals, value = item.partition("=")
        if len(key) != 1 or not equals:
            raise ScramError(f"the server's {what} is malformed")
        fields.setdefault(key, value)
    if "e" in fields:
        raise ScramError(f"the server refused the authentication: {fields['e']}")
    return fields


class ScramConversation:
    """One SCRAM exchange, client side.

    ``password`` is the output of :func:`scram_password`. ``nonce`` is for tests
    (RFC vectors); by default 24 random bytes from :mod:`secrets`, base64-encoded.
    ``cache`` keeps derived keys across conversations of the same credential.
    """

    __slots__ = (
        "_auth_message",
        "_cache",
        "_client_first_bare",
        "_nonce",
        "_password",
        "_server_signature",
        "mechanism",
    )

    def __init__(
        self,
        mechanism: ScramMechanism,
        username: str,
        password: bytes,
        *,
        nonce: str | None = None,
        cache: ScramCache | None = None,
    ) -> None:
        self.mechanism = mechanism
        self._password = password
        self._nonce = nonce or base64.b64encode(secrets.token_bytes(_NONCE_BYTES)).decode()
        self._cache = cache
        self._client_first_bare = f"n={_escape_username(username)},r={self._nonce}"
        self._auth_message = b""
        self._server_signature = b""

    def first_message(self) -> bytes:
        """The client-first-message."""
        return (_GS2_HEADER + self._client_first_bare).encode()

    def final_message(self, server_first: bytes) -> bytes:
        """The client-final-message (with the proof) answering ``server_first``.

        Raises :class:`ScramError` if the server's message is malformed, does not
        extend our nonce, or asks for fewer than :data:`MIN_ITERATIONS`.
        """
        fields = _parse(server_first, "first message")
        if "m" in fields:
            raise ScramError("the server asks for a SCRAM extension (m=) mongotor does not know")
        try:
            nonce, salt_text, iterations_text = fields["r"], fields["s"], fields["i"]
        except KeyError:
            raise ScramError("the server's first message lacks r, s or i") from None
        if not nonce.startswith(self._nonce) or len(nonce) == len(self._nonce):
            raise ScramError("the server's nonce does not extend the client's")
        try:
            salt = base64.b64decode(salt_text, validate=True)
            iterations = int(iterations_text)
        except ValueError:
            raise ScramError("the server's salt or iteration count is malformed") from None
        if iterations < MIN_ITERATIONS:
            raise ScramError(
                f"the server asks for {iterations} iterations; at least {MIN_ITERATIONS} "
                "are required"
            )
        keys = self._keys(salt, iterations)
        without_proof = f"{_CHANNEL_BINDING},r={nonce}"
        auth_message = f"{self._client_first_bare},{server_first.decode()},{without_proof}"
        self._auth_message = auth_message.encode()
        digest = self.mechanism.digest
        stored_key = hashlib.new(digest, keys.client_key).digest()
        signature = hmac.digest(stored_key, self._auth_message, digest)
        proof = bytes(a ^ b for a, b in zip(keys.client_key, signature, strict=True))
        self._server_signature = hmac.digest(keys.server_key, self._auth_message, digest)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes) -> None:
        """Check the server-final-message's signature; raises :class:`ScramError`
        unless the server proved it knows the password."""
        if not self._auth_message:
            raise ScramError("the server's final message came before its first")
        fields = _parse(server_final, "final message")
        try:
            signature = base64.b64decode(fields["v"], validate=True)
        except (KeyError, ValueError):
            raise ScramError("the server's final message has no valid signature (v=)") from None
        if not hmac.compare_digest(signature, self._server_signature):
            raise ScramError(
                "the server's signature does not verify: it does not know the password"
            )

    def _keys(self, salt: bytes, iterations: int) -> _CachedKeys:
        cache = self._cache
        if cache is not None:
            cached = cache.get(self.mechanism, salt, iterations)
            if cached is not None:
                return cached
        digest = self.mechanism.digest
        salted = hashlib.pbkdf2_hmac(digest, self._password, salt, iterations)
        keys = _CachedKeys(
            salt,
            iterations,
            client_key=hmac.digest(salted, b"Client Key", digest),
            server_key=hmac.digest(salted, b"Server Key", digest),
        )
        if cache is not None:
            cache.put(self.mechanism, keys)
        return keys

    def __repr__(self) -> str:
        return f"<ScramConversation {self.mechanism}>"
