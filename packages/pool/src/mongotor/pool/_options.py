"""The typed, immutable result of parsing a connection string.

:class:`ConnectionOptions` records what the caller asked for: an option that was
not given is ``None`` and its default is applied by the layer that uses it (pool,
monitoring, server selection), so "not given" and "given the default" stay
distinguishable, as TXT records and keyword overrides need.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Final

from ._errors import REDACTED, SENSITIVE_OPTIONS, UnsupportedOptionError

__all__ = [
    "DEFAULT_PORT",
    "ConnectionOptions",
    "Host",
    "HostType",
    "ReadPreferenceMode",
    "ServerMonitoringMode",
]

#: The port of a host given without one.
DEFAULT_PORT: Final = 27017

# Connection-string name -> ConnectionOptions attribute, for every option parsed.
# ``ssl`` is the spec's alias of ``tls``; lookups are by lowercased name.
OPTION_ATTRIBUTES: Final[Mapping[str, str]] = {
    name.lower(): attribute
    for name, attribute in (
        ("appName", "app_name"),
        ("authMechanism", "auth_mechanism"),
        ("authMechanismProperties", "auth_mechanism_properties"),
        ("authSource", "auth_source"),
        ("compressors", "compressors"),
        ("connectTimeoutMS", "connect_timeout_ms"),
        ("directConnection", "direct_connection"),
        ("enableOverloadRetargeting", "enable_overload_retargeting"),
        ("heartbeatFrequencyMS", "heartbeat_frequency_ms"),
        ("journal", "journal"),
        ("loadBalanced", "load_balanced"),
        ("localThresholdMS", "local_threshold_ms"),
        ("maxAdaptiveRetries", "max_adaptive_retries"),
        ("maxConnecting", "max_connecting"),
        ("maxIdleTimeMS", "max_idle_time_ms"),
        ("maxPoolSize", "max_pool_size"),
        ("maxStalenessSeconds", "max_staleness_seconds"),
        ("minPoolSize", "min_pool_size"),
        ("readConcernLevel", "read_concern_level"),
        ("readPreference", "read_preference"),
        ("readPreferenceTags", "read_preference_tags"),
        ("replicaSet", "replica_set"),
        ("retryReads", "retry_reads"),
        ("retryWrites", "retry_writes"),
        ("serverMonitoringMode", "server_monitoring_mode"),
        ("serverSelectionTimeoutMS", "server_selection_timeout_ms"),
        ("serverSelectionTryOnce", "server_selection_try_once"),
        ("socketTimeoutMS", "socket_timeout_ms"),
        ("srvAllowedHostsSuffix", "srv_allowed_hosts_suffix"),
        ("srvMaxHosts", "srv_max_hosts"),
        ("srvServiceName", "srv_service_name"),
        ("ssl", "tls"),
        ("timeoutMS", "timeout_ms"),
        ("tls", "tls"),
        ("tlsAllowInvalidCertificates", "tls_allow_invalid_certificates"),
        ("tlsAllowInvalidHostnames", "tls_allow_invalid_hostnames"),
        ("tlsCAFile", "tls_ca_file"),
        ("tlsCertificateKeyFile", "tls_certificate_key_file"),
        ("tlsCertificateKeyFilePassword", "tls_certificate_key_file_password"),
        ("tlsDisableCertificateRevocationCheck", "tls_disable_certificate_revocation_check"),
        ("tlsDisableOCSPEndpointCheck", "tls_disable_ocsp_endpoint_check"),
        ("tlsInsecure", "tls_insecure"),
        ("w", "w"),
        ("waitQueueTimeoutMS", "wait_queue_timeout_ms"),
        ("wTimeoutMS", "w_timeout_ms"),
        ("zlibCompressionLevel", "zlib_compression_level"),
    )
}

# authMechanismProperties whose values are not secrets; all others are redacted.
_PUBLIC_AUTH_PROPERTIES = frozenset(
    {
        "ALLOWED_HOSTS",
        "CANONICALIZE_HOST_NAME",
        "ENVIRONMENT",
        "SERVICE_HOST",
        "SERVICE_NAME",
        "SERVICE_REALM",
        "TOKEN_RESOURCE",
    }
)
_SENSITIVE_ATTRIBUTES = frozenset(
    OPTION_ATTRIBUTES[name] for name in SENSITIVE_OPTIONS if name in OPTION_ATTRIBUTES
)


class HostType(enum.Enum):
    """How a host identifier was written (Connection String spec test vocabulary)."""

    HOSTNAME = "hostname"
    IPV4 = "ipv4"
    IP_LITERAL = "ip_literal"
    UNIX = "unix"


class ReadPreferenceMode(enum.StrEnum):
    """The ``readPreference`` modes of the Server Selection spec."""

    PRIMARY = "primary"
    PRIMARY_PREFERRED = "primaryPreferred"
    SECONDARY = "secondary"
    SECONDARY_PREFERRED = "secondaryPreferred"
    NEAREST = "nearest"


class ServerMonitoringMode(enum.StrEnum):
    """The ``serverMonitoringMode`` values of the SDAM monitoring spec."""

    AUTO = "auto"
    STREAM = "stream"
    POLL = "poll"


@dataclass(frozen=True, slots=True)
class Host:
    """One seed: a DNS name, an IPv4 address, an IPv6 literal or a UNIX socket path.

    ``host`` is lowercased for names and addresses (DNS is case-insensitive) and
    kept as given for socket paths; an IPv6 literal is stored without brackets.
    ``port`` is ``None`` when none was written (and always for a socket).
    """

    host: str
    port: int | None
    type: HostType

    @property
    def effective_port(self) -> int | None:
        """The port to connect to: the written one or 27017; ``None`` for a socket."""
        if self.type is HostType.UNIX:
            return None
        return DEFAULT_PORT if self.port is None else self.port

    def __str__(self) -> str:
        """``host:port`` with the effective port (``[::1]:27017``), or the socket path."""
        if self.type is HostType.UNIX:
            return self.host
        host = f"[{self.host}]" if self.type is HostType.IP_LITERAL else self.host
        return f"{host}:{self.effective_port}"


class FrozenMap(Mapping[str, str]):
    """An immutable, hashable ``str -> str`` mapping (tag sets, auth properties)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._items)


@dataclass(frozen=True, slots=True, repr=False)
class ConnectionOptions:
    """Everything a connection string (or the 2012 ``addresses, dbname`` form) says.

    ``hosts`` are the seeds. For ``mongodb+srv://`` they are empty until
    :func:`~mongotor.pool.resolve_srv` fills them, and ``srv_host`` keeps the name
    looked up (SRV polling needs it later). ``tls`` is the effective setting: the
    ``tls``/``ssl`` option if given, else true for ``mongodb+srv://`` or when any
    other ``tls*`` option is given, else false. Every other option is ``None``
    when not given. ``max_staleness_seconds=-1`` means "no maximum".

    ``repr()`` and ``str()`` never show the username, the password, sensitive
    options or secret ``authMechanismProperties``.
    """

    hosts: tuple[Host, ...]
    srv_host: str | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = None
    tls: bool = False
    app_name: str | None = None
    auth_mechanism: str | None = None
    auth_mechanism_properties: Mapping[str, str] | None = None
    auth_source: str | None = None
    compressors: tuple[str, ...] | None = None
    zlib_compression_level: int | None = None
    connect_timeout_ms: int | None = None
    socket_timeout_ms: int | None = None
    server_selection_timeout_ms: int | None = None
    heartbeat_frequency_ms: int | None = None
    local_threshold_ms: int | None = None
    timeout_ms: int | None = None
    max_pool_size: int | None = None
    min_pool_size: int | None = None
    max_connecting: int | None = None
    max_idle_time_ms: int | None = None
    wait_queue_timeout_ms: int | None = None
    direct_connection: bool | None = None
    load_balanced: bool | None = None
    replica_set: str | None = None
    read_preference: ReadPreferenceMode | None = None
    read_preference_tags: tuple[Mapping[str, str], ...] | None = None
    max_staleness_seconds: int | None = None
    w: int | str | None = None
    w_timeout_ms: int | None = None
    journal: bool | None = None
    read_concern_level: str | None = None
    retry_reads: bool | None = None
    retry_writes: bool | None = None
    tls_insecure: bool | None = None
    tls_allow_invalid_certificates: bool | None = None
    tls_allow_invalid_hostnames: bool | None = None
    tls_disable_ocsp_endpoint_check: bool | None = None
    tls_disable_certificate_revocation_check: bool | None = None
    tls_ca_file: str | None = None
    tls_certificate_key_file: str | None = None
    tls_certificate_key_file_password: str | None = None
    server_monitoring_mode: ServerMonitoringMode | None = None
    server_selection_try_once: bool | None = None
    srv_service_name: str | None = None
    srv_max_hosts: int | None = None
    srv_allowed_hosts_suffix: str | None = None
    max_adaptive_retries: int | None = None
    enable_overload_retargeting: bool | None = None

    @property
    def is_srv(self) -> bool:
        """Whether this came from a ``mongodb+srv://`` string."""
        return self.srv_host is not None

    def option(self, name: str) -> object:
        """The parsed value of the option called ``name`` in connection strings.

        ``name`` is matched case-insensitively (``"maxPoolSize"``, ``"ssl"``).
        Returns ``None`` for an option that was not given. Raises ``KeyError`` for
        a name that is not a connection-string option.
        """
        return getattr(self, OPTION_ATTRIBUTES[name.lower()])

    @property
    def unsupported(self) -> tuple[str, ...]:
        """Options given with a value mongotor parses but does not act on.

        ``loadBalanced=true``: load-balancer mode is not implemented.
        ``serverSelectionTryOnce=true``: a single-threaded driver's behaviour; an
        asyncio client keeps selecting until ``serverSelectionTimeoutMS``.
        """
        found: list[str] = []
        if self.load_balanced:
            found.append("loadBalanced")
        if self.server_selection_try_once:
            found.append("serverSelectionTryOnce")
        return tuple(found)

    def check_supported(self) -> None:
        """Raise :class:`UnsupportedOptionError` if any option is :attr:`unsupported`."""
        for name in self.unsupported:
            raise UnsupportedOptionError(
                f"{name}=true is not supported by mongotor", option=name, value="true"
            )

    def __repr__(self) -> str:
        shown = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or (field.name == "tls" and not value):
                continue
            if field.name in ("username", "password") or field.name in _SENSITIVE_ATTRIBUTES:
                value = REDACTED
            elif field.name == "auth_mechanism_properties":
                value = {
                    key: (item if key.upper() in _PUBLIC_AUTH_PROPERTIES else REDACTED)
                    for key, item in value.items()
                }
            elif field.name == "hosts":
                value = [str(host) for host in value]
            elif isinstance(value, enum.Enum):
                value = value.value
            shown.append(f"{field.name}={value!r}")
        return f"ConnectionOptions({', '.join(shown)})"

    __str__ = __repr__
