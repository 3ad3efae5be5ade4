"""Errors and warnings of mongotor.pool: configuration, topology and server selection.

Every configuration error is the caller's fault (``remote = False``) and retrying
the same configuration cannot help (``retryable = False``), except a DNS failure
during seedlist discovery, which says per instance whether a retry can help. The
topology errors say the same on their class: an incompatible server is the
deployment's fault and waiting does not fix it; a server selection timeout is the
deployment's state and a later try can succeed.

Secrecy: no message ever contains text taken from the connection string except
option *names* and values that have already been parsed into booleans, numbers
or enumerations. A username, a password or any raw value could be a credential
that was mistyped into the wrong place, so raw values travel only in the
``value`` field (and not even there for sensitive options), never in ``str()``.
Topology errors name server addresses (as every driver does, to say which server
is at fault) but never user information.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._topology_description import TopologyDescription

__all__ = [
    "ConfigurationError",
    "ConflictingOptionsError",
    "ConnectionStringWarning",
    "DeprecatedOptionWarning",
    "EventLoopMismatchError",
    "IncompatibleServerError",
    "InvalidCredentialError",
    "InvalidOptionValueError",
    "InvalidOptionValueWarning",
    "InvalidReadPreferenceError",
    "InvalidURIError",
    "RepeatedOptionWarning",
    "SeedlistDiscoveryError",
    "ServerSelectionError",
    "TopologyClosedError",
    "UnknownOptionWarning",
    "UnsupportedOptionError",
]

#: What a sensitive option's value is replaced with wherever it could be shown.
REDACTED = "<redacted>"

# Options whose values are credentials (URI options spec, "sensitive options").
SENSITIVE_OPTIONS = frozenset({"tlscertificatekeyfilepassword", "proxypassword", "proxyusername"})


def redact(option: str | None, value: str | None) -> str | None:
    """The value as it may be stored on an error or warning: hidden if sensitive."""
    if value is not None and option is not None and option.lower() in SENSITIVE_OPTIONS:
        return REDACTED
    return value


class ConfigurationError(Exception):
    """The client was configured wrongly: a bad connection string or option.

    Fields: ``option`` is the connection-string name of the option at fault, or
    ``None`` when the fault is in the structure of the string; ``value`` is the raw
    text given for it, ``"<redacted>"`` for sensitive options, or ``None``.
    The message never contains raw text from the connection string.
    """

    #: Whose fault: the configuration is the caller's.
    remote = False
    #: Retrying with the same configuration cannot help.
    retryable = False

    def __init__(
        self, message: str, *, option: str | None = None, value: str | None = None
    ) -> None:
        self.option = option
        self.value = redact(option, value)
        super().__init__(message)


class InvalidURIError(ConfigurationError):
    """The connection string is malformed: scheme, user info, hosts, database or
    the shape of the query string.

    ``component`` names the part at fault (``"scheme"``, ``"userinfo"``, ``"host"``,
    ``"database"``, ``"options"``); ``index`` is the 1-based position of the host
    or option within its list, where that applies.
    """

    def __init__(
        self,
        message: str,
        *,
        component: str,
        index: int | None = None,
        option: str | None = None,
    ) -> None:
        self.component = component
        self.index = index
        super().__init__(message, option=option)


class InvalidOptionValueError(ConfigurationError):
    """A known option has a value it cannot take.

    Raised only where the specifications demand an error (an empty ``authSource``,
    an unusable ``srvAllowedHostsSuffix``) or when parsing with ``strict=True``;
    otherwise an invalid value is ignored with an :class:`InvalidOptionValueWarning`.
    ``expected`` describes the values the option accepts.
    """

    def __init__(self, message: str, *, option: str, value: str | None, expected: str) -> None:
        self.expected = expected
        super().__init__(message, option=option, value=value)


class ConflictingOptionsError(ConfigurationError):
    """Two settings may not be combined, e.g. ``tlsInsecure`` with
    ``tlsAllowInvalidCertificates``, or ``directConnection=true`` with several hosts.

    ``option`` and ``value`` describe the first setting, ``other`` names the second.
    """

    def __init__(self, message: str, *, option: str, value: str | None = None, other: str) -> None:
        self.other = other
        super().__init__(message, option=option, value=value)


class UnsupportedOptionError(ConfigurationError):
    """A valid option asks for something mongotor does not do (e.g. ``loadBalanced=true``).

    Parsing records such options in ``ConnectionOptions.unsupported``; the
    connecting layer raises this error through ``ConnectionOptions.check_supported()``.
    """


class SeedlistDiscoveryError(ConfigurationError):
    """``mongodb+srv://`` discovery failed: a DNS error, no SRV records, a returned
    host outside the allowed domain, or a TXT record that is not allowed.

    ``srv_host`` is the name that was looked up. ``retryable`` is true only for DNS
    failures (a timeout, no reachable name server), where a later try can succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        srv_host: str,
        retryable: bool = False,
        option: str | None = None,
        value: str | None = None,
    ) -> None:
        self.srv_host = srv_host
        self.retryable = retryable
        super().__init__(message, option=option, value=value)


class InvalidCredentialError(ConfigurationError):
    """The credential the options describe is unusable for its mechanism (Auth
    spec, "MongoCredential Properties"): a missing user name or password, a
    password or property the mechanism forbids, an ``authSource`` other than
    ``$external`` where that is required, an invalid mechanism property.

    ``mechanism`` is the mechanism the credential is for (``None``: the default,
    SCRAM-SHA-256 or SCRAM-SHA-1); ``option`` names the setting at fault. Neither
    the message nor ``value`` ever holds a user name or a password.
    """

    def __init__(
        self,
        message: str,
        *,
        mechanism: str | None,
        option: str | None = None,
        value: str | None = None,
    ) -> None:
        self.mechanism = mechanism
        super().__init__(message, option=option, value=value)


class InvalidReadPreferenceError(ConfigurationError):
    """A read preference the Server Selection and Max Staleness specs forbid: tag
    sets or ``maxStalenessSeconds`` with mode ``primary``, a ``maxStalenessSeconds``
    that is neither -1 nor positive, or (for a replica set) one below 90 seconds or
    below ``heartbeatFrequencyMS`` + 10 seconds.

    ``option`` names the setting at fault (``"maxStalenessSeconds"``,
    ``"readPreferenceTags"``), ``value`` is its value as text and ``expected``
    describes what it may be.
    """

    def __init__(self, message: str, *, option: str, value: str | None, expected: str) -> None:
        self.expected = expected
        super().__init__(message, option=option, value=value)


class IncompatibleServerError(Exception):
    """A server's wire protocol range does not overlap mongotor's (SDAM, "Checking
    wire protocol compatibility"); every operation fails while it persists.

    ``address`` is the server's; ``min_wire_version`` and ``max_wire_version`` are
    what it reported.
    """

    #: Whose fault: the deployment runs a MongoDB version mongotor does not speak.
    remote = True
    #: Retrying cannot help until the server is upgraded or replaced.
    retryable = False

    def __init__(
        self, message: str, *, address: str, min_wire_version: int, max_wire_version: int
    ) -> None:
        self.address = address
        self.min_wire_version = min_wire_version
        self.max_wire_version = max_wire_version
        super().__init__(message)


class ServerSelectionError(Exception):
    """No suitable server was found within ``serverSelectionTimeoutMS``.

    ``criteria`` describes what was asked for (``"write"``, ``"read with
    ReadPreference(mode='secondary', ...)"``); ``topology`` is the last
    :class:`TopologyDescription` seen, whose servers' ``error`` fields say why each
    was unusable; ``timeout_ms`` is the time that was allowed.
    """

    #: Whose fault: the deployment had no server that could take the operation.
    remote = True
    #: The topology changes as servers come back or elect a primary: a later try can succeed.
    retryable = True

    def __init__(
        self, message: str, *, criteria: str, topology: TopologyDescription, timeout_ms: float
    ) -> None:
        self.criteria = criteria
        self.topology = topology
        self.timeout_ms = timeout_ms
        super().__init__(message)


class TopologyClosedError(Exception):
    """The topology (the client) was closed: nothing more can be done with it."""

    #: Whose fault: the caller's, who closed it.
    remote = False
    #: Retrying on a closed client cannot help.
    retryable = False


class EventLoopMismatchError(RuntimeError):
    """An object bound to one event loop was used from another (DESIGN rule 9).

    Create the client inside the loop that uses it (with Tornado, after the
    IOLoop starts, e.g. in ``main()`` run by ``asyncio.run``). ``owner`` is the
    ``repr()`` of the object that was misused.
    """

    remote = False
    retryable = False

    def __init__(self, owner: str) -> None:
        self.owner = owner
        super().__init__(
            f"{owner} is bound to another event loop; create it in the loop that uses it"
        )


class ConnectionStringWarning(UserWarning):
    """Something in a connection string was ignored; the string is still usable.

    Fields as on :class:`ConfigurationError`: ``option`` (the name as written, or
    ``None`` where it could hide a credential) and ``value`` (raw text, redacted
    for sensitive options). The message never contains raw values.
    """

    def __init__(self, message: str, *, option: str | None, value: str | None = None) -> None:
        self.option = option
        self.value = redact(option, value)
        super().__init__(message)


class UnknownOptionWarning(ConnectionStringWarning):
    """An option name mongotor does not know; it is ignored (Connection String spec)."""


class InvalidOptionValueWarning(ConnectionStringWarning):
    """A known option with an invalid or empty value; the option is ignored.

    ``expected`` describes the values the option accepts.
    """

    def __init__(self, message: str, *, option: str, value: str | None, expected: str) -> None:
        self.expected = expected
        super().__init__(message, option=option, value=value)


class RepeatedOptionWarning(ConnectionStringWarning):
    """A single-valued option was given more than once; the last value wins."""


class DeprecatedOptionWarning(ConnectionStringWarning):
    """A deprecated option name was used; ``replacement`` names the current one."""

    def __init__(self, message: str, *, option: str, value: str | None, replacement: str) -> None:
        self.replacement = replacement
        super().__init__(message, option=option, value=value)
