"""Authenticating a new connection (Auth spec), the thin async shell over SCRAM.

:func:`speculative_start` builds the authentication command the handshake
carries (``speculativeAuthenticate``); :func:`authenticate` finishes the
conversation after the handshake: it picks the mechanism (the one asked for;
else SCRAM-SHA-256 when the server lists it in ``saslSupportedMechs``, else
SCRAM-SHA-1), continues the speculative conversation when the server took it
up, and otherwise runs ``saslStart`` / ``saslContinue`` (with
``skipEmptyExchange``), verifying the server's signature. PLAIN and
MONGODB-X509 are single-step.

Every failure is an :class:`AuthenticationError` naming the mechanism, the
source and the server, never the user name or the password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bson.binary import Binary

from ._connection_errors import AuthenticationError
from ._credentials import AuthMechanism, Credential
from ._saslprep import SASLprepError
from ._scram import ScramConversation, ScramError, ScramMechanism, scram_password

if TYPE_CHECKING:
    from ._connection import Connection
    from ._handshake import HandshakeResult

__all__ = ["Speculation", "authenticate", "choose_mechanism", "speculative_start"]

_EXTERNAL: Final = "$external"
# Auth spec, "SCRAM-SHA-1" / "SCRAM-SHA-256": the saslStart options drivers MUST send.
_SASL_OPTIONS: Final = {"skipEmptyExchange": True}
# Auth spec, "Default Authentication Methods": the speculative guess with no mechanism.
_DEFAULT_SPECULATIVE: Final = AuthMechanism.SCRAM_SHA_256
_SCRAM: Final = {
    AuthMechanism.SCRAM_SHA_1: ScramMechanism.SCRAM_SHA_1,
    AuthMechanism.SCRAM_SHA_256: ScramMechanism.SCRAM_SHA_256,
}


@dataclass(frozen=True, slots=True)
class Speculation:
    """A speculative first step: the command for the handshake, and the SCRAM
    conversation it began (``None`` for MONGODB-X509)."""

    mechanism: AuthMechanism
    command: Mapping[str, Any]
    conversation: ScramConversation | None


def choose_mechanism(credential: Credential, handshake: HandshakeResult) -> AuthMechanism:
    """The mechanism to use: the credential's, else negotiated (Auth spec,
    "Default Authentication Methods")."""
    if credential.mechanism is not None:
        return credential.mechanism
    offered = handshake.sasl_supported_mechs or ()
    if AuthMechanism.SCRAM_SHA_256.value in offered:
        return AuthMechanism.SCRAM_SHA_256
    return AuthMechanism.SCRAM_SHA_1


def speculative_start(credential: Credential, *, address: str) -> Speculation | None:
    """The handshake's ``speculativeAuthenticate`` for ``credential``, or ``None``
    for mechanisms that do not speculate (PLAIN). Raises
    :class:`AuthenticationError` for a password SASLprep refuses."""
    mechanism = credential.mechanism or _DEFAULT_SPECULATIVE
    if mechanism is AuthMechanism.MONGODB_X509:
        command = _x509_command(credential)
        command["db"] = _EXTERNAL
        return Speculation(mechanism, command, None)
    scram = _SCRAM.get(mechanism)
    if scram is None:
        return None
    conversation = _conversation(credential, scram, address)
    command = _sasl_start(scram.value, conversation.first_message())
    command["db"] = credential.source
    return Speculation(mechanism, command, conversation)


async def authenticate(
    connection: Connection,
    credential: Credential,
    handshake: HandshakeResult,
    *,
    speculation: Speculation | None = None,
    deadline: float | None = None,
) -> None:
    """Authenticate ``connection`` as ``credential`` after its handshake.

    Raises :class:`AuthenticationError`; network errors and timeouts propagate
    as they are (the connection is then closed).
    """
    mechanism = choose_mechanism(credential, handshake)
    session = _Session(connection, credential, mechanism, deadline)
    # Handshake spec: the server took up the speculative step iff it answered it.
    answer = handshake.speculative_authenticate
    matches = speculation is not None and speculation.mechanism is mechanism
    if mechanism is AuthMechanism.MONGODB_X509:
        if not (matches and answer is not None):
            await session.run(_x509_command(credential))
        return
    if mechanism is AuthMechanism.PLAIN:
        payload = f"\x00{credential.username}\x00{credential.password}".encode()
        await session.run(_sasl_start(mechanism.value, payload))
        return
    begun = speculation.conversation if speculation is not None and matches else None
    if begun is not None and answer is not None:
        conversation, reply = begun, answer
    else:
        conversation = _conversation(credential, _SCRAM[mechanism], connection.address)
        reply = await session.run(_sasl_start(mechanism.value, conversation.first_message()))
    await session.scram(conversation, reply)


class _Session:
    """One authentication exchange on one connection."""

    __slots__ = ("connection", "credential", "deadline", "mechanism")

    def __init__(
        self,
        connection: Connection,
        credential: Credential,
        mechanism: AuthMechanism,
        deadline: float | None,
    ) -> None:
        self.connection = connection
        self.credential = credential
        self.mechanism = mechanism
        self.deadline = deadline

    def error(self, message: str, reply: Mapping[str, Any] | None = None) -> AuthenticationError:
        code = reply.get("code") if reply is not None else None
        code_name = reply.get("codeName") if reply is not None else None
        return AuthenticationError(
            message,
            address=self.connection.address,
            mechanism=self.mechanism.value,
            source=self.credential.source,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            code_name=code_name if isinstance(code_name, str) else None,
            # The reply's payload is part of the conversation: never kept.
            details={key: value for key, value in (reply or {}).items() if key != "payload"},
            generation=self.connection.generation,
            max_wire_version=self.connection.max_wire_version,
        )

    async def run(self, command: Mapping[str, Any]) -> Mapping[str, Any]:
        db = _EXTERNAL if "authenticate" in command else self.credential.source
        reply = await self.connection.command(db, command, deadline=self.deadline)
        if reply.get("ok") != 1:
            raise self.error(str(reply.get("errmsg") or "authentication failed"), reply)
        return reply

    async def scram(self, conversation: ScramConversation, reply: Mapping[str, Any]) -> None:
        conversation_id = reply.get("conversationId")
        try:
            final = conversation.final_message(_payload(reply))
            reply = await self.run(_sasl_continue(conversation_id, final))
            conversation.verify(_payload(reply))
        except ScramError as exc:
            raise self.error(str(exc)) from None
        if not reply.get("done"):
            # Servers before 4.4 ignore skipEmptyExchange: one empty round more.
            reply = await self.run(_sasl_continue(conversation_id, b""))
            if not reply.get("done"):
                raise self.error("the server did not end the SASL conversation", reply)


def _conversation(
    credential: Credential, mechanism: ScramMechanism, address: str
) -> ScramConversation:
    username = credential.username or ""
    try:
        password = scram_password(mechanism, username, credential.password or "")
    except SASLprepError as exc:
        raise AuthenticationError(
            f"the password cannot be used with {mechanism}: {exc}",
            address=address,
            mechanism=mechanism.value,
            source=credential.source,
        ) from None
    return ScramConversation(mechanism, username, password, cache=credential.cache)


def _payload(reply: Mapping[str, Any]) -> bytes:
    payload = reply.get("payload")
    if isinstance(payload, bytes):
        return payload
    raise ScramError("the server's SASL reply has no payload")


def _sasl_start(mechanism: str, payload: bytes) -> dict[str, Any]:
    return {
        "saslStart": 1,
        "mechanism": mechanism,
        "payload": Binary(payload),
        "autoAuthorize": 1,
        "options": dict(_SASL_OPTIONS),
    }


def _sasl_continue(conversation_id: Any, payload: bytes) -> dict[str, Any]:
    return {"saslContinue": 1, "conversationId": conversation_id, "payload": Binary(payload)}


def _x509_command(credential: Credential) -> dict[str, Any]:
    command: dict[str, Any] = {"authenticate": 1, "mechanism": AuthMechanism.MONGODB_X509.value}
    if credential.username is not None:
        command["user"] = credential.username
    return command
