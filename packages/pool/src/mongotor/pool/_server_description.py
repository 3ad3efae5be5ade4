"""What the client knows about one server: an immutable :class:`ServerDescription`.

Server Discovery and Monitoring (SDAM), "Data structures": a description is built
from each check of a server (see ``_hello``) or from an error, and replaces the
previous one wholesale; nothing here is ever modified in place.

Units: times are milliseconds. ``round_trip_time_ms`` is the average over checks
(Server Selection, "Calculation of Average Round Trip Times");
``last_update_time_ms`` is the monitor's monotonic clock when the check finished;
``last_write_date_ms`` is the server's wall clock (milliseconds since the epoch).
The staleness estimate only ever subtracts like from like.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from bson import ObjectId

from ._options import FrozenMap

__all__ = [
    "MAX_SUPPORTED_WIRE_VERSION",
    "MIN_SUPPORTED_WIRE_VERSION",
    "RTT_ALPHA",
    "ServerDescription",
    "ServerType",
    "TopologyVersion",
    "WireVersion",
    "average_round_trip_time",
    "compare_topology_versions",
    "unknown_server",
]


# The wire protocol versions mongotor names, by the MongoDB release that introduced
# each (the handshake's maxWireVersion; the specs' tests use these values).
class WireVersion(enum.IntEnum):
    """A hello reply's ``maxWireVersion``, named by MongoDB release."""

    MONGODB_4_2 = 8
    MONGODB_4_4 = 9
    MONGODB_5_0 = 13
    MONGODB_6_0 = 17
    MONGODB_7_0 = 21
    MONGODB_8_0 = 25


# SDAM, "clientMinWireVersion and clientMaxWireVersion": MongoDB 4.2 to 8.0.
MIN_SUPPORTED_WIRE_VERSION: Final = WireVersion.MONGODB_4_2
MAX_SUPPORTED_WIRE_VERSION: Final = WireVersion.MONGODB_8_0

# Server Selection, "Calculation of Average Round Trip Times": the EWMA weight.
RTT_ALPHA: Final = 0.2


class ServerType(enum.Enum):
    """SDAM's ServerType; the values are the specification's names.

    ``POSSIBLE_PRIMARY`` is an Unknown server that a member named as its primary;
    it is as unselectable as Unknown (SDAM, "ServerType": the two are synonyms for
    asynchronous clients) and only hints which server to check first. There is no
    LoadBalancer type: mongotor refuses ``loadBalanced=true``.
    """

    UNKNOWN = "Unknown"
    STANDALONE = "Standalone"
    MONGOS = "Mongos"
    POSSIBLE_PRIMARY = "PossiblePrimary"
    RS_PRIMARY = "RSPrimary"
    RS_SECONDARY = "RSSecondary"
    RS_ARBITER = "RSArbiter"
    RS_OTHER = "RSOther"
    RS_GHOST = "RSGhost"

    @property
    def is_available(self) -> bool:
        """Reachable and of a known type (Server Selection, "Terms: Available")."""
        return self not in (ServerType.UNKNOWN, ServerType.POSSIBLE_PRIMARY)

    @property
    def is_data_bearing(self) -> bool:
        """A type the application can read data from (SDAM, "Data-Bearing Server Type")."""
        return self in (
            ServerType.MONGOS,
            ServerType.RS_PRIMARY,
            ServerType.RS_SECONDARY,
            ServerType.STANDALONE,
        )


@dataclass(frozen=True, slots=True)
class TopologyVersion:
    """A server's ``topologyVersion`` (MongoDB 4.4+): which process, and how many
    state changes it has been through (SDAM, "topologyVersion")."""

    process_id: ObjectId
    counter: int


def compare_topology_versions(
    current: TopologyVersion | None, incoming: TopologyVersion | None
) -> int:
    """-1, 0 or 1 as ``current`` is older than, equal to or newer than ``incoming``.

    SDAM, "topologyVersion Comparison": when either is missing, or they come from
    different processes, the incoming one is assumed to be newer (-1).
    """
    if current is None or incoming is None or current.process_id != incoming.process_id:
        return -1
    return (current.counter > incoming.counter) - (current.counter < incoming.counter)


@dataclass(frozen=True, slots=True)
class ServerDescription:
    """The client's view of one server after its latest check (SDAM, "ServerDescription").

    ``address`` is the normalized ``host:port`` the client connects to (see
    :func:`~mongotor.pool.normalize_address`), never the server's own ``me``.
    ``hosts``, ``passives`` and ``arbiters`` are normalized the same way. ``error``
    says why the server is Unknown, when it is. Fields default to SDAM's defaults,
    so ``ServerDescription("a:27017")`` is a server not yet checked.
    """

    address: str
    type: ServerType = ServerType.UNKNOWN
    error: str | None = None
    round_trip_time_ms: float | None = None
    min_round_trip_time_ms: float | None = None
    last_update_time_ms: float | None = None
    last_write_date_ms: int | None = None
    min_wire_version: int = 0
    max_wire_version: int = 0
    me: str | None = None
    hosts: tuple[str, ...] = ()
    passives: tuple[str, ...] = ()
    arbiters: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=FrozenMap)
    set_name: str | None = None
    set_version: int | None = None
    election_id: ObjectId | None = None
    primary: str | None = None
    logical_session_timeout_minutes: int | None = None
    topology_version: TopologyVersion | None = None
    iscryptd: bool = False

    def __post_init__(self) -> None:
        # Keep the description immutable even when handed a plain dict of tags.
        if not isinstance(self.tags, FrozenMap):
            object.__setattr__(self, "tags", FrozenMap(self.tags))

    @property
    def is_available(self) -> bool:
        """Whether the server can be selected at all (not Unknown nor PossiblePrimary)."""
        return self.type.is_available

    @property
    def members(self) -> tuple[str, ...]:
        """This server's opinion of the replica set: hosts, passives, then arbiters."""
        return self.hosts + self.passives + self.arbiters

    def sdam_equal(self, other: ServerDescription) -> bool:
        """Whether the two are equal for SDAM events (SDAM, "Server Description
        Equality"): the fields marked (=), with the member lists compared as sets.
        Round trip times and update times do not count."""
        return (
            self.address == other.address
            and self.error == other.error
            and self.type is other.type
            and self.min_wire_version == other.min_wire_version
            and self.max_wire_version == other.max_wire_version
            and self.me == other.me
            and set(self.hosts) == set(other.hosts)
            and set(self.passives) == set(other.passives)
            and set(self.arbiters) == set(other.arbiters)
            and dict(self.tags) == dict(other.tags)
            and self.set_name == other.set_name
            and self.election_id == other.election_id
            and self.set_version == other.set_version
            and self.primary == other.primary
            and self.logical_session_timeout_minutes == other.logical_session_timeout_minutes
            and self.topology_version == other.topology_version
            and self.iscryptd == other.iscryptd
        )


def unknown_server(
    address: str, *, error: str | None = None, topology_version: TopologyVersion | None = None
) -> ServerDescription:
    """A default description of type Unknown, carrying why (``error``) and, for a
    State Change Error, the error's ``topologyVersion`` (SDAM, "Error handling")."""
    return ServerDescription(address, error=error, topology_version=topology_version)


def average_round_trip_time(previous_ms: float | None, sample_ms: float) -> float:
    """The new average RTT after one more measurement (Server Selection, "Calculation
    of Average Round Trip Times"): the first sample as is, then an EWMA with alpha 0.2.

    ``previous_ms`` is ``None`` when the server has no average yet (it was Unknown).
    Raises ``ValueError`` for a negative sample (Server Selection tests: "reject
    negative RTT values").
    """
    if sample_ms < 0:
        raise ValueError(f"a round trip time cannot be negative, got {sample_ms} ms")
    if previous_ms is None:
        return sample_ms
    return RTT_ALPHA * sample_ms + (1 - RTT_ALPHA) * previous_ms
