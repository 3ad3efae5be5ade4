"""Server selection over a :class:`TopologyDescription`, purely.

Server Selection, "Rules for server selection": the suitable servers for an
operation by topology type and read preference (:func:`suitable_servers`), the
latency window (:func:`latency_window`), and the choice within it by two random
picks and the lower ``operationCount`` (:func:`choose_server`).
:func:`select_server` chains them; it returns ``None`` when nothing is
suitable, and the async shell then requests an immediate check and waits for
the topology to change, until ``serverSelectionTimeoutMS`` (see
:func:`selection_timeout_error`). Randomness comes from an injectable
``random.Random``.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Final

from ._errors import ServerSelectionError
from ._options import ReadPreferenceMode
from ._read_preference import PRIMARY, ReadPreference
from ._server_description import ServerDescription, ServerType
from ._topology_description import TopologyDescription, TopologyType

__all__ = [
    "Operation",
    "ServerSelector",
    "choose_server",
    "latency_window",
    "select_server",
    "selection_timeout_error",
    "suitable_servers",
]

#: An application-provided filter over the suitable servers (Server Selection,
#: "serverSelector"); it must return a subset of what it is given.
ServerSelector = Callable[[Sequence[ServerDescription]], Sequence[ServerDescription]]

# Not for security: spreading load among equally good servers.
_RANDOM: Final = random.Random()  # noqa: S311


class Operation(enum.Enum):
    """What the server is selected for: a read (with a read preference) or a write."""

    READ = "read"
    WRITE = "write"


def suitable_servers(
    topology: TopologyDescription,
    operation: Operation,
    read_preference: ReadPreference = PRIMARY,
    *,
    deprioritized: Collection[str] = (),
) -> tuple[ServerDescription, ...]:
    """The servers that may take the operation, in topology order, before the
    latency window (Server Selection, "Topology type: ...").

    ``read_preference`` matters only for reads from a replica set (Single and
    Sharded ignore it). ``deprioritized`` addresses (servers that failed a retry)
    are left out unless nothing else is suitable. Raises
    :class:`InvalidReadPreferenceError` for a read from a replica set whose
    ``maxStalenessSeconds`` is too small for the heartbeat frequency.
    """
    if operation is Operation.READ and topology.type.is_replica_set:
        read_preference.check_max_staleness(topology.settings.heartbeat_frequency_ms)
    servers = tuple(topology.servers.values())
    if deprioritized:
        # Server Selection, "Server Selection Algorithm" step 3: first without the
        # deprioritized servers, then, if that finds none, with them.
        preferred = tuple(server for server in servers if server.address not in deprioritized)
        found = _suitable(topology, preferred, operation, read_preference)
        if found:
            return found
    return _suitable(topology, servers, operation, read_preference)


def latency_window(
    servers: Sequence[ServerDescription], local_threshold_ms: float
) -> tuple[ServerDescription, ...]:
    """The servers whose average RTT is within ``local_threshold_ms`` of the
    fastest one's (Server Selection, "Filtering suitable servers based on the
    latency window"). A server without an RTT counts as the slowest possible."""
    if not servers:
        return ()
    fastest = min(_rtt(server) for server in servers)
    return tuple(server for server in servers if _rtt(server) <= fastest + local_threshold_ms)


def choose_server(
    window: Sequence[ServerDescription],
    *,
    rng: random.Random,
    operation_counts: Mapping[str, int] | None = None,
) -> ServerDescription:
    """One server of the latency window (Server Selection, "Server Selection
    Algorithm" steps 6-7): two distinct servers at random, then the one with the
    lower ``operationCount`` (in-flight operations per address; missing counts
    are 0), the first pick on a tie. Raises ``ValueError`` for an empty window."""
    if not window:
        raise ValueError("cannot choose from an empty latency window")
    if len(window) == 1:
        return window[0]
    first, second = rng.sample(list(window), 2)
    counts = operation_counts or {}
    return second if counts.get(second.address, 0) < counts.get(first.address, 0) else first


def select_server(
    topology: TopologyDescription,
    operation: Operation,
    read_preference: ReadPreference = PRIMARY,
    *,
    deprioritized: Collection[str] = (),
    server_selector: ServerSelector | None = None,
    operation_counts: Mapping[str, int] | None = None,
    rng: random.Random | None = None,
) -> ServerDescription | None:
    """One selection attempt: the chosen server, or ``None`` if none is suitable.

    Raises :class:`IncompatibleServerError` if the topology is incompatible
    (step 2) and :class:`InvalidReadPreferenceError` as :func:`suitable_servers`.
    ``server_selector`` filters the suitable servers before the latency window;
    ``rng`` defaults to a module-wide ``random.Random``.
    """
    topology.check_compatible()
    suitable: Sequence[ServerDescription] = suitable_servers(
        topology, operation, read_preference, deprioritized=deprioritized
    )
    if server_selector is not None and suitable:
        suitable = server_selector(suitable)
    window = latency_window(suitable, topology.settings.local_threshold_ms)
    if not window:
        return None
    return choose_server(window, rng=rng or _RANDOM, operation_counts=operation_counts)


def selection_timeout_error(
    topology: TopologyDescription,
    operation: Operation,
    read_preference: ReadPreference = PRIMARY,
    *,
    timeout_ms: float,
) -> ServerSelectionError:
    """The error to raise when selection timed out on ``topology`` (Server
    Selection, "Server Selection Errors"): if some servers were available, none
    suited the criteria; otherwise the servers' own errors say why."""
    criteria = "write" if operation is Operation.WRITE else f"read with {read_preference!r}"
    if any(server.is_available for server in topology.servers.values()):
        why = f"no server is suitable for {criteria}"
    else:
        errors = dict.fromkeys(
            server.error for server in topology.servers.values() if server.error is not None
        )
        why = "; ".join(errors) if errors else "no server has answered a check yet"
    servers = ", ".join(f"{s.address} ({s.type.value})" for s in topology.servers.values())
    message = (
        f"server selection timed out after {timeout_ms:g} ms: {why} "
        f"[topology {topology.type.value}: {servers or 'no servers'}]"
    )
    return ServerSelectionError(
        message, criteria=criteria, topology=topology, timeout_ms=timeout_ms
    )


def _suitable(
    topology: TopologyDescription,
    servers: tuple[ServerDescription, ...],
    operation: Operation,
    read_preference: ReadPreference,
) -> tuple[ServerDescription, ...]:
    kind = topology.type
    if kind is TopologyType.UNKNOWN:
        return ()
    if kind is TopologyType.SINGLE:
        # "Topology type: Single": the one server, whatever its type, if available.
        return tuple(server for server in servers if server.is_available)
    if kind is TopologyType.SHARDED:
        # "Topology type: Sharded": any mongos; mongos applies the read preference.
        return tuple(server for server in servers if server.type is ServerType.MONGOS)
    # "Topology types: ReplicaSetWithPrimary or ReplicaSetNoPrimary".
    primaries = tuple(server for server in servers if server.type is ServerType.RS_PRIMARY)
    mode = read_preference.mode
    if operation is Operation.WRITE or mode is ReadPreferenceMode.PRIMARY:
        return primaries
    secondaries = tuple(server for server in servers if server.type is ServerType.RS_SECONDARY)
    if mode is ReadPreferenceMode.PRIMARY_PREFERRED:
        return primaries or _eligible(topology, secondaries, read_preference)
    if mode is ReadPreferenceMode.SECONDARY:
        return _eligible(topology, secondaries, read_preference)
    if mode is ReadPreferenceMode.SECONDARY_PREFERRED:
        return _eligible(topology, secondaries, read_preference) or primaries
    members = (ServerType.RS_PRIMARY, ServerType.RS_SECONDARY)
    nearest = tuple(server for server in servers if server.type in members)
    return _eligible(topology, nearest, read_preference)


def _eligible(
    topology: TopologyDescription,
    candidates: tuple[ServerDescription, ...],
    read_preference: ReadPreference,
) -> tuple[ServerDescription, ...]:
    # Server Selection, "Read operations": staleness first, then tag sets ("Why
    # is maxStalenessSeconds applied before tag_sets?").
    fresh = _fresh(topology, candidates, read_preference.max_staleness_seconds)
    return _matching_tags(fresh, read_preference.tag_sets)


def _fresh(
    topology: TopologyDescription,
    candidates: tuple[ServerDescription, ...],
    max_staleness_seconds: int | None,
) -> tuple[ServerDescription, ...]:
    if max_staleness_seconds is None:
        return candidates
    limit_ms = max_staleness_seconds * 1000
    primary = topology.primary
    newest = max(
        (
            server.last_write_date_ms
            for server in topology.servers.values()
            if server.type is ServerType.RS_SECONDARY and server.last_write_date_ms is not None
        ),
        default=None,
    )
    heartbeat_ms = topology.settings.heartbeat_frequency_ms
    return tuple(
        server
        for server in candidates
        if (staleness := _staleness_ms(server, primary, newest, heartbeat_ms)) is not None
        and staleness <= limit_ms
    )


def _staleness_ms(
    server: ServerDescription,
    primary: ServerDescription | None,
    newest_write_ms: int | None,
    heartbeat_ms: int,
) -> float | None:
    # Server Selection, "maxStalenessSeconds": only secondaries can be stale. An
    # estimate that lacks a time is unknown, and an unknown staleness is not
    # eligible: the caller asked for a bound we cannot vouch for.
    if server.type is not ServerType.RS_SECONDARY:
        return 0
    written, updated = server.last_write_date_ms, server.last_update_time_ms
    if written is None:
        return None
    if primary is None:
        # No primary: measured against the secondary with the greatest lastWriteDate.
        newest = written if newest_write_ms is None else newest_write_ms
        return newest - written + heartbeat_ms
    primary_written, primary_updated = primary.last_write_date_ms, primary.last_update_time_ms
    if updated is None or primary_written is None or primary_updated is None:
        return None
    return (updated - written) - (primary_updated - primary_written) + heartbeat_ms


def _matching_tags(
    servers: tuple[ServerDescription, ...], tag_sets: tuple[Mapping[str, str], ...]
) -> tuple[ServerDescription, ...]:
    # Server Selection, "tag_sets": the first tag set that matches any server
    # decides; a server matches when its tags include every tag of the set.
    if not tag_sets:
        return servers
    for tag_set in tag_sets:
        matching = tuple(
            server
            for server in servers
            if all(server.tags.get(key) == value for key, value in tag_set.items())
        )
        if matching:
            return matching
    return ()


def _rtt(server: ServerDescription) -> float:
    return math.inf if server.round_trip_time_ms is None else server.round_trip_time_ms
