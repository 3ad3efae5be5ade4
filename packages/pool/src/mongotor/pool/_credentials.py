"""The credential a connection string describes (Auth spec, "MongoCredential").

:func:`credential_from_options` applies the Auth spec's rules purely: userinfo
(even an empty one) asks for authentication, a database or ``authSource`` alone
does not; each mechanism's required and forbidden properties; the source's
default (``authSource``, else the URI database, else ``admin`` for SCRAM;
``$external`` for the external mechanisms). It is checked against the spec's
``auth/legacy/connection-string.json``.

mongotor authenticates with SCRAM-SHA-256, SCRAM-SHA-1, PLAIN and MONGODB-X509;
the others (GSSAPI, MONGODB-AWS, MONGODB-OIDC) are parsed and validated, and
refused when a connection is configured (:data:`PERFORMED_MECHANISMS`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, NoReturn

from ._errors import REDACTED, InvalidCredentialError
from ._options import ConnectionOptions, FrozenMap
from ._scram import ScramCache

__all__ = ["PERFORMED_MECHANISMS", "AuthMechanism", "Credential", "credential_from_options"]

_EXTERNAL: Final = "$external"


class AuthMechanism(enum.StrEnum):
    """The ``authMechanism`` values of the Auth spec."""

    SCRAM_SHA_1 = "SCRAM-SHA-1"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    PLAIN = "PLAIN"
    MONGODB_X509 = "MONGODB-X509"
    GSSAPI = "GSSAPI"
    MONGODB_AWS = "MONGODB-AWS"
    MONGODB_OIDC = "MONGODB-OIDC"


#: The mechanisms mongotor can carry out on a connection.
PERFORMED_MECHANISMS: Final = frozenset(
    {
        AuthMechanism.SCRAM_SHA_1,
        AuthMechanism.SCRAM_SHA_256,
        AuthMechanism.PLAIN,
        AuthMechanism.MONGODB_X509,
    }
)

# Auth spec, each mechanism's "mechanism_properties" (names are case-insensitive).
_ALLOWED_PROPERTIES: Final[Mapping[AuthMechanism, frozenset[str]]] = {
    AuthMechanism.GSSAPI: frozenset(
        {"SERVICE_NAME", "CANONICALIZE_HOST_NAME", "SERVICE_REALM", "SERVICE_HOST"}
    ),
    AuthMechanism.MONGODB_AWS: frozenset({"AWS_SESSION_TOKEN"}),
    AuthMechanism.MONGODB_OIDC: frozenset({"ENVIRONMENT", "TOKEN_RESOURCE", "ALLOWED_HOSTS"}),
}
_CANONICALIZE_VALUES: Final = frozenset({"none", "forward", "forwardAndReverse", "true", "false"})
# MONGODB-OIDC built-in environments, and whether each needs TOKEN_RESOURCE and
# allows a user name (Auth spec, "Built-in OIDC Environment Integrations").
_OIDC_ENVIRONMENTS: Final[Mapping[str, tuple[bool, bool]]] = {
    "test": (False, False),
    "azure": (True, True),
    "gcp": (True, False),
    "k8s": (False, False),
}


@dataclass(frozen=True, slots=True, repr=False)
class Credential:
    """Who to authenticate as, where, and how.

    ``mechanism`` is ``None`` when none was given: the handshake then negotiates
    SCRAM-SHA-256 or SCRAM-SHA-1 (Auth spec, "Default Authentication Methods").
    ``source`` is the database authenticated against. ``cache`` keeps SCRAM's
    derived keys between connections. ``repr()`` and ``str()`` show neither the
    user name nor the password.
    """

    username: str | None
    password: str | None
    source: str
    mechanism: AuthMechanism | None = None
    mechanism_properties: Mapping[str, str] | None = None
    cache: ScramCache = field(default_factory=ScramCache, compare=False)

    def __repr__(self) -> str:
        mechanism = self.mechanism.value if self.mechanism is not None else None
        shown = [f"mechanism={mechanism!r}", f"source={self.source!r}"]
        if self.username is not None:
            shown.append(f"username={REDACTED!r}")
        if self.password is not None:
            shown.append(f"password={REDACTED!r}")
        if self.mechanism_properties:
            shown.append(f"mechanism_properties=[{', '.join(sorted(self.mechanism_properties))}]")
        return f"Credential({', '.join(shown)})"

    __str__ = __repr__


def credential_from_options(options: ConnectionOptions) -> Credential | None:
    """The credential ``options`` ask for, or ``None`` when they ask for none.

    Raises :class:`~mongotor.pool.InvalidCredentialError` when the credential is
    incomplete or contradicts its mechanism's rules.
    """
    name = options.auth_mechanism
    if name is None and options.username is None:
        return None
    mechanism = AuthMechanism(name) if name is not None else None
    properties = {
        key.upper(): value for key, value in (options.auth_mechanism_properties or {}).items()
    }
    check = _Check(mechanism, options)
    if mechanism in (None, AuthMechanism.SCRAM_SHA_1, AuthMechanism.SCRAM_SHA_256):
        check.username_required()
        check.password_required()
        check.no_properties(properties)
        source = options.auth_source or options.database or "admin"
        return Credential(options.username, options.password, source, mechanism)
    if mechanism is AuthMechanism.PLAIN:
        check.username_required()
        check.password_required()
        check.no_properties(properties)
        for part, value in (("user name", options.username), ("password", options.password)):
            if "\x00" in (value or ""):
                check.fail(f"the {part} contains a NUL character")
        source = options.auth_source or options.database or _EXTERNAL
        return Credential(options.username, options.password, source, mechanism)
    check.external_source()
    if mechanism is AuthMechanism.MONGODB_X509:
        check.password_forbidden()
        check.no_properties(properties)
    elif mechanism is AuthMechanism.GSSAPI:
        check.username_required()
        check.known_properties(properties)
        canonicalize = properties.get("CANONICALIZE_HOST_NAME")
        if canonicalize is not None and canonicalize not in _CANONICALIZE_VALUES:
            check.fail(
                "CANONICALIZE_HOST_NAME must be none, forward, forwardAndReverse, true or false",
                option="authMechanismProperties",
            )
        properties.setdefault("SERVICE_NAME", "mongodb")
    elif mechanism is AuthMechanism.MONGODB_AWS:
        if (options.username is None) != (options.password is None):
            check.fail("MONGODB-AWS needs both a user name and a password, or neither")
        check.known_properties(properties)
    else:
        _check_oidc(check, options, properties)
    return Credential(
        options.username,
        options.password,
        _EXTERNAL,
        mechanism,
        FrozenMap(properties) if properties else None,
    )


def _check_oidc(check: _Check, options: ConnectionOptions, properties: dict[str, str]) -> None:
    check.password_forbidden()
    check.known_properties(properties)
    environment = properties.get("ENVIRONMENT")
    if environment is None:
        # Callbacks, the other way to get a token, can only be given in code.
        check.fail("MONGODB-OIDC needs an ENVIRONMENT mechanism property")
    if environment not in _OIDC_ENVIRONMENTS:
        check.fail(
            "ENVIRONMENT must be one of " + ", ".join(sorted(_OIDC_ENVIRONMENTS)),
            option="authMechanismProperties",
        )
    needs_resource, allows_username = _OIDC_ENVIRONMENTS[environment]
    if needs_resource and "TOKEN_RESOURCE" not in properties:
        check.fail(f"MONGODB-OIDC with ENVIRONMENT {environment} needs TOKEN_RESOURCE")
    if options.username is not None and not allows_username:
        check.fail(f"MONGODB-OIDC with ENVIRONMENT {environment} takes no user name")


class _Check:
    """The rules shared by several mechanisms; each raises InvalidCredentialError."""

    __slots__ = ("mechanism", "options")

    def __init__(self, mechanism: AuthMechanism | None, options: ConnectionOptions) -> None:
        self.mechanism = mechanism
        self.options = options

    @property
    def _name(self) -> str:
        return self.mechanism.value if self.mechanism is not None else "authentication"

    def fail(self, message: str, *, option: str | None = "authMechanism") -> NoReturn:
        mechanism = self.mechanism.value if self.mechanism is not None else None
        raise InvalidCredentialError(message, mechanism=mechanism, option=option)

    def username_required(self) -> None:
        if not self.options.username:
            self.fail(f"{self._name} needs a user name", option=None)

    def password_required(self) -> None:
        if self.options.password is None:
            self.fail(f"{self._name} needs a password", option=None)

    def password_forbidden(self) -> None:
        if self.options.password is not None:
            self.fail(f"{self._name} takes no password", option=None)

    def external_source(self) -> None:
        source = self.options.auth_source
        if source is not None and source != _EXTERNAL:
            self.fail(f"{self._name} authenticates against $external only", option="authSource")

    def no_properties(self, properties: Mapping[str, str]) -> None:
        if properties:
            self.fail(
                f"{self._name} takes no mechanism properties", option="authMechanismProperties"
            )

    def known_properties(self, properties: Mapping[str, str]) -> None:
        assert self.mechanism is not None  # only the external mechanisms take properties
        unknown = sorted(set(properties) - _ALLOWED_PROPERTIES[self.mechanism])
        if unknown:
            self.fail(
                f"{self._name} does not take the mechanism properties {', '.join(unknown)}",
                option="authMechanismProperties",
            )
