"""The server side of SCRAM (RFC 5802, RFC 7677) as mongod runs it, with no I/O.

:class:`ScramServer` is one conversation: feed it each client message with
:meth:`ScramServer.step` and send back what it returns. It follows mongod's
``SaslSCRAMServerMechanism`` (src/mongo/db/auth/sasl_scram_server_conversation.cpp)
step for step:

1. client-first ``gs2-header client-first-bare`` -> server-first
   ``r=<client nonce><server nonce>,s=<salt>,i=<iterations>``;
2. client-final ``c=..,r=..,p=<proof>`` -> server-final ``v=<server signature>``,
   done only when the client asked for ``skipEmptyExchange``;
3. otherwise one more, empty, exchange that completes the conversation.

A message that is malformed, names an unknown user or carries a wrong proof
raises :class:`ScramError` with the status mongod computes (its code and text),
which mongod only logs: the client is told 18 AuthenticationFailed,
"Authentication failed." (that masking belongs to the command layer). A proof
that is not base64 raises :class:`CommandError` as it is, because mongod's
base64 decoder throws rather than returning a status.

Credentials are what mongod stores per mechanism: salt, iteration count,
StoredKey and ServerKey (RFC 5802 section 3); never the password.
:func:`saslprep` is RFC 4013, which SCRAM-SHA-256 applies to passwords
(RFC 7677 section 3; mongod's ``icuSaslPrep``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import stringprep
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ._errors import CommandError, ErrorCode

__all__ = [
    "MECHANISMS",
    "SCRAM_SHA_1",
    "SCRAM_SHA_256",
    "SaslPrepError",
    "ScramCredential",
    "ScramError",
    "ScramServer",
    "b64decode",
    "saslprep",
]

SCRAM_SHA_1: Final = "SCRAM-SHA-1"
SCRAM_SHA_256: Final = "SCRAM-SHA-256"


@dataclass(frozen=True, slots=True)
class _Hash:
    name: str  # hashlib's name
    size: int  # digest size in bytes
    iterations: int  # mongod's default scramSHA*IterationCount
    salt_size: int  # mongod salts with (digest size - 4) random bytes


#: The SCRAM mechanisms mongod 8.0 offers, in the order it advertises them.
MECHANISMS: Final[dict[str, _Hash]] = {
    SCRAM_SHA_1: _Hash("sha1", 20, 10_000, 16),
    SCRAM_SHA_256: _Hash("sha256", 32, 15_000, 28),
}

# RFC 5802 section 3: the fixed strings keyed into SaltedPassword.
_CLIENT_KEY = b"Client Key"
_SERVER_KEY = b"Server Key"
# mongod's server nonce: base64 of three random 64-bit words.
_SERVER_NONCE_BYTES = 24
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


class ScramError(Exception):
    """A SCRAM step failed; ``code`` and ``reason`` are mongod's (logged, not sent)."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"ScramError({self.code.name}, {self.reason!r})"


@dataclass(frozen=True, slots=True)
class ScramCredential:
    """What the server keeps to verify one mechanism: no password, no secret in repr."""

    mechanism: str
    iterations: int
    salt: bytes = field(repr=False)
    stored_key: bytes = field(repr=False)
    server_key: bytes = field(repr=False)

    @classmethod
    def derive(
        cls,
        mechanism: str,
        password: str,
        *,
        salt: bytes | None = None,
        iterations: int | None = None,
    ) -> ScramCredential:
        """Derive the stored credential from an already prepared password.

        ``password`` is what the mechanism hashes: the MONGODB-CR digest for
        SCRAM-SHA-1, the SASLprep'd password for SCRAM-SHA-256. A fresh random
        salt and mongod's default iteration count are used unless given.
        Raises KeyError for a mechanism that is not SCRAM-SHA-1/256.
        """
        spec = MECHANISMS[mechanism]
        salt = secrets.token_bytes(spec.salt_size) if salt is None else salt
        iterations = spec.iterations if iterations is None else iterations
        # RFC 5802 section 3: SaltedPassword := Hi(Normalize(password), salt, i),
        # and Hi is PBKDF2 with HMAC as the PRF.
        salted = hashlib.pbkdf2_hmac(spec.name, password.encode(), salt, iterations)
        client_key = hmac.digest(salted, _CLIENT_KEY, spec.name)
        return cls(
            mechanism=mechanism,
            iterations=iterations,
            salt=salt,
            stored_key=hashlib.new(spec.name, client_key).digest(),
            server_key=hmac.digest(salted, _SERVER_KEY, spec.name),
        )

    def document(self) -> dict[str, Any]:
        """The credential as mongod stores it in admin.system.users."""
        return {
            "iterationCount": self.iterations,
            "salt": base64.b64encode(self.salt).decode(),
            "storedKey": base64.b64encode(self.stored_key).decode(),
            "serverKey": base64.b64encode(self.server_key).decode(),
        }


def _server_nonce() -> str:
    return base64.b64encode(secrets.token_bytes(_SERVER_NONCE_BYTES)).decode()


def _decode_scram_name(name: str) -> str:
    # RFC 5802 section 5.1: ',' and '=' in a saslname travel as =2C and =3D.
    # mongod replaces both sequences and rejects nothing else.
    return name.replace("=2C", ",").replace("=3D", "=")


class ScramServer:
    """One server-side SCRAM conversation.

    ``credentials`` maps the client's user name to its credential for this
    mechanism, or raises :class:`ScramError` (unknown user, no credential for
    the mechanism). ``nonce`` makes the server's half of the nonce (random by
    default; tests pass RFC vectors). Not reusable: mongod discards a
    conversation once it succeeds or fails.
    """

    def __init__(
        self,
        mechanism: str,
        credentials: Callable[[str], ScramCredential],
        *,
        skip_empty_exchange: bool = False,
        nonce: Callable[[], str] = _server_nonce,
    ) -> None:
        self.mechanism = mechanism
        self._hash = MECHANISMS[mechanism]
        self._credentials = credentials
        self._nonce_factory = nonce
        self.skip_empty_exchange = skip_empty_exchange
        self.principal: str | None = None
        self.done = False
        self._step = 0
        self._nonce = ""
        self._auth_message = ""
        self._credential: ScramCredential | None = None

    @property
    def total_steps(self) -> int:
        return 2 if self.skip_empty_exchange else 3

    def step(self, payload: bytes) -> tuple[bool, bytes]:
        """Consume one client message; return ``(done, server message)``.

        Raises :class:`ScramError` with mongod's status for a malformed
        message, an unknown user, a missing credential, a nonce mismatch, a
        wrong proof or a step past the end; :class:`CommandError` (10270 /
        40537) for a proof that is not base64.
        """
        self._step += 1
        if self._step > self.total_steps:
            raise ScramError(
                ErrorCode.AuthenticationFailed, f"Invalid SCRAM authentication step: {self._step}"
            )
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            # mongod would look up a user by these bytes and find none.
            raise ScramError(ErrorCode.BadValue, "SCRAM message is not valid UTF-8") from None
        if self._step == 1:
            reply = self._first(text)
        elif self._step == 2:
            reply = self._final(text)
            self.done = self.skip_empty_exchange
        else:
            # The empty exchange that completes the conversation: mongod
            # ignores what the client sends here (the proof was checked).
            reply = ""
            self.done = True
        return self.done, reply.encode()

    def _first(self, message: str) -> str:
        # RFC 5802 section 7: client-first-message = gs2-header client-first-message-bare,
        # gs2-header = gs2-cbind-flag "," [authzid] ",".
        def bad_count(got: int) -> ScramError:
            return ScramError(
                ErrorCode.BadValue,
                f"Incorrect number of arguments for first SCRAM client message, got {got} "
                "expected at least 3",
            )

        flag, sep, rest = message.partition(",")
        if not sep:
            raise bad_count(1)
        if flag.startswith("p="):
            raise ScramError(ErrorCode.BadValue, "Server does not support channel binding")
        if flag not in ("y", "n"):
            raise ScramError(ErrorCode.BadValue, f"Incorrect SCRAM client message prefix: {flag}")
        authzid, sep, bare = rest.partition(",")
        if not sep:
            raise bad_count(2)
        if authzid:
            if not authzid.startswith("a="):
                raise ScramError(ErrorCode.BadValue, f"Incorrect SCRAM authzid: {authzid}")
            authzid = authzid[2:]
        if bare.startswith("m="):
            raise ScramError(ErrorCode.BadValue, "SCRAM mandatory extensions are not supported")
        # mongod splits skipping empty fields ("a,,b" is two fields); the
        # AuthMessage uses the bare message exactly as sent.
        fields = [f for f in bare.split(",") if f]
        if len(fields) < 2:
            raise bad_count(len(fields) + 2)
        if not fields[0].startswith("n=") or len(fields[0]) < 3:
            raise ScramError(ErrorCode.BadValue, f"Invalid SCRAM user name: {fields[0]}")
        self.principal = _decode_scram_name(fields[0][2:])
        if authzid and self.principal != authzid:
            raise ScramError(
                ErrorCode.BadValue,
                f"SCRAM user name {self.principal} does not match authzid {authzid}",
            )
        if not fields[1].startswith("r=") or len(fields[1]) < 6:
            raise ScramError(ErrorCode.BadValue, f"Invalid SCRAM client nonce: {fields[1]}")
        credential = self._credentials(self.principal)
        self._credential = credential
        self._nonce = fields[1][2:] + self._nonce_factory()
        salt = base64.b64encode(credential.salt).decode()
        server_first = f"r={self._nonce},s={salt},i={credential.iterations}"
        self._auth_message = f"{bare},{server_first}"
        return server_first

    def _final(self, message: str) -> str:
        # RFC 5802 section 7: client-final-message =
        # client-final-message-without-proof "," proof.
        def bad_count(got: int) -> ScramError:
            return ScramError(
                ErrorCode.BadValue,
                f"Incorrect number of arguments for second SCRAM client message, got {got} "
                "expected at least 3",
            )

        without_proof, sep, last = message.rpartition(",")
        if not sep:
            raise bad_count(1)
        if len(last) < 3 or not last.startswith("p="):
            raise ScramError(ErrorCode.BadValue, f"Incorrect SCRAM ClientProof: {last}")
        fields = [f for f in without_proof.split(",") if f]
        if len(fields) < 2:
            raise bad_count(len(fields) + 1)
        # RFC 5802 asks the server to check c= against the gs2 header; mongod
        # ignores it ("we are ignoring the channel binding part"), and so do
        # we: a tampered c= still changes the AuthMessage, so the proof fails.
        if not fields[0].startswith("c=") or len(fields[0]) < 3:
            raise ScramError(ErrorCode.BadValue, f"Incorrect SCRAM channel binding: {fields[0]}")
        if not fields[1].startswith("r=") or len(fields[1]) < 6:
            raise ScramError(
                ErrorCode.BadValue, f"Incorrect SCRAM client|server nonce: {fields[1]}"
            )
        nonce = fields[1][2:]
        if nonce != self._nonce:
            raise ScramError(
                ErrorCode.BadValue,
                "Unmatched SCRAM nonce received from client in second step, expected "
                f"{self._nonce} but received {nonce}",
            )
        proof = b64decode(last[2:].encode())
        auth_message = f"{self._auth_message},{without_proof}".encode()
        credential = self._credential
        assert credential is not None  # step 1 succeeded, or we would not be here
        name = self._hash.name
        # RFC 5802 section 3: ClientKey := ClientSignature XOR ClientProof, and
        # the client is who it claims if H(ClientKey) == StoredKey.
        signature = hmac.digest(credential.stored_key, auth_message, name)
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=False))
        verified = len(proof) == self._hash.size and hmac.compare_digest(
            hashlib.new(name, client_key).digest(), credential.stored_key
        )
        if not verified:
            raise ScramError(
                ErrorCode.AuthenticationFailed, "SCRAM authentication failed, storedKey mismatch"
            )
        server_signature = hmac.digest(credential.server_key, auth_message, name)
        return "v=" + base64.b64encode(server_signature).decode()


def b64decode(text: bytes) -> bytes:
    """Decode standard base64 as mongod's ``base64::decode`` does.

    Raises CommandError 10270 "invalid base64" for a length that is not a
    multiple of 4, 40537 "Invalid base64 character" for anything outside the
    alphabet (and its padding). mongod throws these rather than returning a
    status, so inside a SCRAM step they reach the client unmasked.
    """
    if len(text) % 4:
        raise CommandError(ErrorCode.Location10270, "invalid base64")
    if not _BASE64.fullmatch(text):
        raise CommandError(ErrorCode.Location40537, "Invalid base64 character")
    return binascii.a2b_base64(text)


# -- SASLprep (RFC 4013), on stringprep's Unicode 3.2 tables (RFC 3454) -------


class SaslPrepError(ValueError):
    """A string SASLprep refuses; ``icu_error`` is the name ICU (and so mongod) gives."""

    def __init__(self, icu_error: str) -> None:
        super().__init__(icu_error)
        self.icu_error = icu_error


# RFC 4013 section 2.3: prohibited output (C.1.1, the ASCII space, is allowed).
_PROHIBITED: Final = (
    stringprep.in_table_c12,
    stringprep.in_table_c21_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
)


def saslprep(text: str, *, allow_unassigned: bool = False) -> str:
    """Prepare ``text`` with the SASLprep profile of stringprep (RFC 4013).

    Unassigned code points are refused unless ``allow_unassigned`` (mongod
    stores passwords with ICU's default, which refuses them). Raises
    :class:`SaslPrepError` naming ICU's error for an unassigned or prohibited
    character or a bidirectional-text violation.
    """
    # ICU reports unassigned code points while mapping, before anything else.
    if not allow_unassigned and any(stringprep.in_table_a1(ch) for ch in text):
        raise SaslPrepError("U_STRINGPREP_UNASSIGNED_ERROR")
    # Section 2.1: non-ASCII spaces map to SPACE, B.1 characters to nothing.
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch for ch in text if not stringprep.in_table_b1(ch)
    )
    # Section 2.2: normalization form KC, on the Unicode version of the tables.
    prepared = unicodedata.ucd_3_2_0.normalize("NFKC", mapped)
    if any(table(ch) for ch in prepared for table in _PROHIBITED):
        raise SaslPrepError("U_STRINGPREP_PROHIBITED_ERROR")
    # Section 2.4 / RFC 3454 section 6: a string with right-to-left characters
    # has no left-to-right ones, and starts and ends with right-to-left ones.
    if any(stringprep.in_table_d1(ch) for ch in prepared) and (
        any(stringprep.in_table_d2(ch) for ch in prepared)
        or not stringprep.in_table_d1(prepared[0])
        or not stringprep.in_table_d1(prepared[-1])
    ):
        raise SaslPrepError("U_STRINGPREP_CHECK_BIDI_ERROR")
    return prepared
