"""The client's view of the whole deployment, and how one check changes it.

SDAM, "Updating the TopologyDescription": :func:`update_topology` takes the
current :class:`TopologyDescription` and a new :class:`ServerDescription` and
returns the next description, applying the TopologyType table and its
subroutines (updateUnknownWithStandalone, updateRSWithoutPrimary,
updateRSWithPrimaryFromMember, updateRSFromPrimary, checkIfHasPrimary). It never
modifies its input; the async shell swaps the result in under its lock and
starts or stops monitors for the servers that appeared or disappeared.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final

from bson import ObjectId

from ._errors import ConfigurationError, ConflictingOptionsError, IncompatibleServerError
from ._options import ConnectionOptions
from ._server_description import (
    MAX_SUPPORTED_WIRE_VERSION,
    MIN_SUPPORTED_WIRE_VERSION,
    ServerDescription,
    ServerType,
    WireVersion,
    compare_topology_versions,
    unknown_server,
)

__all__ = [
    "DEFAULT_HEARTBEAT_FREQUENCY_MS",
    "DEFAULT_LOCAL_THRESHOLD_MS",
    "MIN_HEARTBEAT_FREQUENCY_MS",
    "TopologyDescription",
    "TopologySettings",
    "TopologyType",
    "initial_topology",
    "update_topology",
]

# SDAM, "heartbeatFrequencyMS": 10 s for asynchronous clients, never below 500 ms.
DEFAULT_HEARTBEAT_FREQUENCY_MS: Final = 10_000
MIN_HEARTBEAT_FREQUENCY_MS: Final = 500
# Server Selection, "localThresholdMS".
DEFAULT_LOCAL_THRESHOLD_MS: Final = 15

# The MongoDB release of each wire version, for SDAM's compatibility message.
_RELEASES: Final[Mapping[int, str]] = {
    version.value: version.name.removeprefix("MONGODB_").replace("_", ".")
    for version in WireVersion
}

# SDAM, "error": the substrings the specification's tests look for.
STALE_PRIMARY_MISMATCH: Final = "primary marked stale due to electionId/setVersion mismatch"
STALE_PRIMARY_NEWER: Final = "primary marked stale due to discovery of newer primary"

_RS_MEMBERS: Final = (ServerType.RS_SECONDARY, ServerType.RS_ARBITER, ServerType.RS_OTHER)


class TopologyType(enum.Enum):
    """SDAM's TopologyType; the values are the specification's names. There is no
    LoadBalanced type: mongotor refuses ``loadBalanced=true``."""

    UNKNOWN = "Unknown"
    SINGLE = "Single"
    REPLICA_SET_NO_PRIMARY = "ReplicaSetNoPrimary"
    REPLICA_SET_WITH_PRIMARY = "ReplicaSetWithPrimary"
    SHARDED = "Sharded"

    @property
    def is_replica_set(self) -> bool:
        """ReplicaSetNoPrimary or ReplicaSetWithPrimary."""
        return self in (TopologyType.REPLICA_SET_NO_PRIMARY, TopologyType.REPLICA_SET_WITH_PRIMARY)


@dataclass(frozen=True, slots=True)
class TopologySettings:
    """The configuration discovery and selection depend on.

    ``seeds`` are normalized addresses (``"a:27017"``); ``replica_set`` is the
    ``replicaSet`` option; ``direct_connection`` asks for TopologyType Single.
    Raises :class:`ConfigurationError` for no seeds, and
    :class:`ConflictingOptionsError` for a direct connection to several seeds
    (SDAM, "Allowed configuration combinations"); ``ValueError`` for a heartbeat
    below 500 ms or a negative latency threshold.
    """

    seeds: tuple[str, ...]
    replica_set: str | None = None
    direct_connection: bool = False
    heartbeat_frequency_ms: int = DEFAULT_HEARTBEAT_FREQUENCY_MS
    local_threshold_ms: int = DEFAULT_LOCAL_THRESHOLD_MS

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ConfigurationError("a topology needs at least one seed")
        if self.direct_connection and len(self.seeds) > 1:
            raise ConflictingOptionsError(
                "directConnection=true cannot be used with several hosts",
                option="directConnection",
                value="true",
                other="hosts",
            )
        if self.heartbeat_frequency_ms < MIN_HEARTBEAT_FREQUENCY_MS:
            raise ValueError(
                f"heartbeatFrequencyMS must be at least {MIN_HEARTBEAT_FREQUENCY_MS}, "
                f"got {self.heartbeat_frequency_ms}"
            )
        if self.local_threshold_ms < 0:
            raise ValueError(f"localThresholdMS cannot be negative, got {self.local_threshold_ms}")

    @classmethod
    def from_options(cls, options: ConnectionOptions) -> TopologySettings:
        """The settings a parsed (and, for ``mongodb+srv://``, resolved) connection
        string asks for. Raises :class:`UnsupportedOptionError` for options mongotor
        does not act on (``loadBalanced=true``), and as the constructor does."""
        options.check_supported()
        return cls(
            seeds=tuple(str(host) for host in options.hosts),
            replica_set=options.replica_set,
            direct_connection=bool(options.direct_connection),
            heartbeat_frequency_ms=options.heartbeat_frequency_ms or DEFAULT_HEARTBEAT_FREQUENCY_MS,
            local_threshold_ms=DEFAULT_LOCAL_THRESHOLD_MS
            if options.local_threshold_ms is None
            else options.local_threshold_ms,
        )


@dataclass(frozen=True, slots=True)
class TopologyDescription:
    """Everything the client knows about the deployment (SDAM, "TopologyDescription").

    ``servers`` maps each address to its description, in discovery order, and is
    read-only. ``compatibility_error`` (``None`` when every server's wire range
    overlaps mongotor's) and ``logical_session_timeout_minutes`` are derived from
    the servers when the description is made. Raises ``ValueError`` if a key of
    ``servers`` is not that server's address.
    """

    type: TopologyType
    servers: Mapping[str, ServerDescription]
    settings: TopologySettings
    set_name: str | None = None
    max_set_version: int | None = None
    max_election_id: ObjectId | None = None
    compatibility_error: str | None = field(init=False)
    logical_session_timeout_minutes: int | None = field(init=False)

    def __post_init__(self) -> None:
        servers = dict(self.servers)
        for address, server in servers.items():
            if address != server.address:
                raise ValueError(f"servers[{address!r}] describes {server.address!r}")
        object.__setattr__(self, "servers", MappingProxyType(servers))
        incompatible = _first_incompatible(servers.values())
        object.__setattr__(self, "compatibility_error", incompatible and incompatible[1])
        object.__setattr__(
            self, "logical_session_timeout_minutes", _session_timeout(servers.values())
        )

    def __hash__(self) -> int:
        # The servers mapping is a read-only proxy, which does not hash itself.
        return hash(
            (
                self.type,
                tuple(self.servers.items()),
                self.settings,
                self.set_name,
                self.max_set_version,
                self.max_election_id,
            )
        )

    @property
    def compatible(self) -> bool:
        """Whether mongotor can speak to every known server."""
        return self.compatibility_error is None

    @property
    def primary(self) -> ServerDescription | None:
        """The RSPrimary, if one is known."""
        return next(
            (server for server in self.servers.values() if server.type is ServerType.RS_PRIMARY),
            None,
        )

    def check_compatible(self) -> None:
        """Raise :class:`IncompatibleServerError` for the first server whose wire
        protocol range does not overlap mongotor's (Server Selection step 2)."""
        if self.compatibility_error is None:
            return
        incompatible = _first_incompatible(self.servers.values())
        assert incompatible is not None  # compatibility_error says there is one
        server, message = incompatible
        raise IncompatibleServerError(
            message,
            address=server.address,
            min_wire_version=server.min_wire_version,
            max_wire_version=server.max_wire_version,
        )


def initial_topology(settings: TopologySettings) -> TopologyDescription:
    """The description before any check: every seed Unknown, and the initial
    TopologyType of SDAM's table ("Initial TopologyType"): Single for a direct
    connection, ReplicaSetNoPrimary with a ``replicaSet``, otherwise Unknown (a
    new driver behaves as if ``directConnection=false`` when it is not given)."""
    if settings.direct_connection:
        kind = TopologyType.SINGLE
    elif settings.replica_set is not None:
        kind = TopologyType.REPLICA_SET_NO_PRIMARY
    else:
        kind = TopologyType.UNKNOWN
    servers = {address: unknown_server(address) for address in settings.seeds}
    return TopologyDescription(kind, servers, settings, set_name=settings.replica_set)


def update_topology(
    topology: TopologyDescription, server: ServerDescription
) -> TopologyDescription:
    """The description after one check (or one error) produced ``server``.

    Returns ``topology`` itself when the outcome must be ignored: the server is no
    longer in the topology (SDAM, "Other TopologyTypes": a check may finish after
    a primary removed its server), or ``server.topology_version`` is older than the
    current one (SDAM, "Parsing a hello or legacy hello response": replace only
    if greater than or equal). Otherwise the server's description is replaced,
    even when equal, and the TopologyType table is applied.
    """
    current = topology.servers.get(server.address)
    if current is None:
        return topology
    if compare_topology_versions(current.topology_version, server.topology_version) > 0:
        return topology
    draft = _Draft(topology)
    draft.servers[server.address] = server
    if topology.type is TopologyType.SINGLE:
        draft.update_single(server)
    else:
        draft.update(server)
    return draft.freeze()


class _Draft:
    """The mutable working copy one update builds; only :func:`update_topology` sees it."""

    def __init__(self, topology: TopologyDescription) -> None:
        self.settings = topology.settings
        self.type = topology.type
        self.servers = dict(topology.servers)
        self.set_name = topology.set_name
        self.max_set_version = topology.max_set_version
        self.max_election_id = topology.max_election_id

    def freeze(self) -> TopologyDescription:
        return TopologyDescription(
            self.type,
            self.servers,
            self.settings,
            set_name=self.set_name,
            max_set_version=self.max_set_version,
            max_election_id=self.max_election_id,
        )

    def update_single(self, server: ServerDescription) -> None:
        # SDAM, "Verifying setName with TopologyType Single": a known server of
        # another set (or of none) becomes Unknown; the type never changes.
        wanted = self.set_name
        if wanted is not None and server.is_available and server.set_name != wanted:
            reported = "no replica set" if server.set_name is None else repr(server.set_name)
            self.servers[server.address] = unknown_server(
                server.address,
                error=f"the server reports {reported}, not the replicaSet the client is "
                "configured for",
            )

    def update(self, server: ServerDescription) -> None:
        # SDAM, "TopologyType table": rows are the server's type, columns ours.
        kind = server.type
        if self.type is TopologyType.UNKNOWN:
            if kind is ServerType.STANDALONE:
                self.update_unknown_with_standalone(server)
            elif kind is ServerType.MONGOS:
                self.type = TopologyType.SHARDED
            elif kind is ServerType.RS_PRIMARY:
                self.update_rs_from_primary(server)
            elif kind in _RS_MEMBERS:
                self.type = TopologyType.REPLICA_SET_NO_PRIMARY
                self.update_rs_without_primary(server)
            # Unknown and RSGhost: no-op ("TopologyType remains Unknown when an
            # RSGhost is discovered").
        elif self.type is TopologyType.SHARDED:
            if kind not in (ServerType.UNKNOWN, ServerType.MONGOS):
                del self.servers[server.address]
        elif kind in (ServerType.STANDALONE, ServerType.MONGOS):
            del self.servers[server.address]
            self.check_if_has_primary()
        elif kind is ServerType.RS_PRIMARY:
            self.update_rs_from_primary(server)
        elif kind in _RS_MEMBERS:
            if self.type is TopologyType.REPLICA_SET_WITH_PRIMARY:
                self.update_rs_with_primary_from_member(server)
            else:
                self.update_rs_without_primary(server)
        else:
            # Unknown or RSGhost in a replica set: did we just lose the primary?
            self.check_if_has_primary()

    def update_unknown_with_standalone(self, server: ServerDescription) -> None:
        # SDAM, "updateUnknownWithStandalone" and "TopologyType remains Unknown
        # when one of the seeds is a Standalone".
        if len(self.settings.seeds) == 1:
            self.type = TopologyType.SINGLE
        else:
            del self.servers[server.address]

    def update_rs_without_primary(self, server: ServerDescription) -> None:
        # SDAM, "updateRSWithoutPrimary": add what a member reports, remove nothing
        # but the member itself.
        if self.set_name is None:
            self.set_name = server.set_name
        elif self.set_name != server.set_name:
            del self.servers[server.address]
            return
        self.add_unknown(server.members)
        self.mark_possible_primary(server.primary)
        if server.me is not None and server.address != server.me:
            del self.servers[server.address]

    def update_rs_with_primary_from_member(self, server: ServerDescription) -> None:
        # SDAM, "updateRSWithPrimaryFromMember".
        if server.set_name != self.set_name or (
            server.me is not None and server.address != server.me
        ):
            del self.servers[server.address]
            self.check_if_has_primary()
            return
        self.check_if_has_primary()
        if self.type is TopologyType.REPLICA_SET_NO_PRIMARY:
            # This member had been the primary: believe its hint of the next one.
            self.mark_possible_primary(server.primary)

    def mark_possible_primary(self, address: str | None) -> None:
        # The member's "primary" hint: an Unknown server there becomes
        # PossiblePrimary (SDAM, "updateRSWithoutPrimary"). It stays unselectable;
        # the type only orders a single-threaded client's scan.
        hinted = None if address is None else self.servers.get(address)
        if hinted is not None and hinted.type is ServerType.UNKNOWN:
            self.servers[hinted.address] = replace(hinted, type=ServerType.POSSIBLE_PRIMARY)

    def update_rs_from_primary(self, server: ServerDescription) -> None:
        # SDAM, "updateRSFromPrimary".
        if self.set_name is None:
            self.set_name = server.set_name
        elif self.set_name != server.set_name:
            del self.servers[server.address]
            self.check_if_has_primary()
            return
        stale = self.record_election(server)
        if stale is not None:
            self.servers[server.address] = unknown_server(server.address, error=stale)
            self.check_if_has_primary()
            return
        for address, other in self.servers.items():
            if address != server.address and other.type is ServerType.RS_PRIMARY:
                # An old primary: Unknown (its pool is kept; the shell re-checks it).
                self.servers[address] = unknown_server(address, error=STALE_PRIMARY_NEWER)
        self.add_unknown(server.members)
        members = set(server.members)
        for address in [address for address in self.servers if address not in members]:
            del self.servers[address]
        self.check_if_has_primary()

    def record_election(self, server: ServerDescription) -> str | None:
        """Raise the (electionId, setVersion) maximum to ``server``'s, or say why it
        is a stale primary (SDAM, "Using electionId and setVersion to detect stale
        primaries")."""
        election_id, set_version = server.election_id, server.set_version
        if server.max_wire_version >= WireVersion.MONGODB_6_0:
            # 6.0+: order by electionId, then setVersion; null is less than any value.
            new = (_nullable(election_id), _nullable(set_version))
            most = (_nullable(self.max_election_id), _nullable(self.max_set_version))
            if new < most:
                return _stale_message(
                    (election_id, set_version), (self.max_election_id, self.max_set_version)
                )
            self.max_election_id, self.max_set_version = election_id, set_version
            return None
        # Before 6.0: setVersion first, then electionId, and only when both are present.
        if set_version is not None and election_id is not None:
            if (
                self.max_set_version is not None
                and self.max_election_id is not None
                and (
                    self.max_set_version > set_version
                    or (self.max_set_version == set_version and self.max_election_id > election_id)
                )
            ):
                return _stale_message(
                    (set_version, election_id), (self.max_set_version, self.max_election_id)
                )
            self.max_election_id = election_id
        if set_version is not None and (
            self.max_set_version is None or set_version > self.max_set_version
        ):
            self.max_set_version = set_version
        return None

    def add_unknown(self, addresses: tuple[str, ...]) -> None:
        for address in addresses:
            if address not in self.servers:
                self.servers[address] = unknown_server(address)

    def check_if_has_primary(self) -> None:
        # SDAM, "checkIfHasPrimary".
        has_primary = any(s.type is ServerType.RS_PRIMARY for s in self.servers.values())
        self.type = (
            TopologyType.REPLICA_SET_WITH_PRIMARY
            if has_primary
            else TopologyType.REPLICA_SET_NO_PRIMARY
        )


def _nullable(value: ObjectId | int | None) -> tuple[int] | tuple[int, bytes | int]:
    # A sort key in which null is less than every value (SDAM, "updateRSFromPrimary");
    # ObjectIds compare as 12-byte strings ("Using electionId and setVersion").
    if value is None:
        return (0,)
    return (1, value.binary if isinstance(value, ObjectId) else value)


def _stale_message(
    stale: tuple[ObjectId | int | None, ObjectId | int | None],
    most: tuple[ObjectId | int | None, ObjectId | int | None],
) -> str:
    def show(pair: tuple[ObjectId | int | None, ObjectId | int | None]) -> str:
        return "(" + ", ".join("null" if item is None else str(item) for item in pair) + ")"

    return f"{STALE_PRIMARY_MISMATCH}, {show(stale)} is stale compared to {show(most)}"


def _incompatibility(server: ServerDescription) -> str | None:
    # SDAM, "Checking wire protocol compatibility", with its message texts.
    if server.min_wire_version > MAX_SUPPORTED_WIRE_VERSION:
        return (
            f"Server at {server.address} requires wire version {server.min_wire_version}, "
            f"but this version of mongotor only supports up to {MAX_SUPPORTED_WIRE_VERSION}."
        )
    if server.max_wire_version < MIN_SUPPORTED_WIRE_VERSION:
        return (
            f"Server at {server.address} reports wire version {server.max_wire_version}, "
            f"but this version of mongotor requires at least {MIN_SUPPORTED_WIRE_VERSION} "
            f"(MongoDB {_RELEASES[MIN_SUPPORTED_WIRE_VERSION]})."
        )
    return None


def _first_incompatible(
    servers: Iterable[ServerDescription],
) -> tuple[ServerDescription, str] | None:
    # Unknown servers (and PossiblePrimary) are not checked: their versions are defaults.
    for server in servers:
        problem = _incompatibility(server) if server.is_available else None
        if problem is not None:
            return server, problem
    return None


def _session_timeout(servers: Iterable[ServerDescription]) -> int | None:
    # SDAM, "Logical Session Timeout": the least among data-bearing servers; null
    # if any of them has none, or there are none.
    least: int | None = None
    for server in servers:
        if server.type.is_data_bearing:
            timeout = server.logical_session_timeout_minutes
            if timeout is None:
                return None
            least = timeout if least is None else min(least, timeout)
    return least
