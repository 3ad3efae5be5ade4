"""What the async shell must do after the description changed, decided purely.

:func:`update_topology` only says what the deployment looks like; this module
compares two descriptions and lists the actions that follow: start monitoring
new servers, stop monitoring (and close the pools of) removed ones, request an
immediate check of an old primary a newer one displaced, publish events for the
servers whose description changed, and mark a pool ready after a check.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._server_description import ServerDescription, ServerType
from ._topology_description import STALE_PRIMARY_NEWER, TopologyDescription, TopologyType

__all__ = ["TopologyChanges", "description_changed", "pool_ready", "topology_changes"]


@dataclass(frozen=True, slots=True)
class TopologyChanges:
    """The differences between two descriptions that the shell acts on.

    ``added``: servers to start monitoring. ``removed``: servers to stop
    monitoring, whose pools close. ``changed``: servers present in both whose
    descriptions differ under SDAM equality (for ServerDescriptionChangedEvent).
    ``check_now``: old primaries marked Unknown because a newer primary was
    found; SDAM ("updateRSFromPrimary") requires an immediate check of each, and
    forbids clearing their pools.
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    check_now: tuple[str, ...]

    def __bool__(self) -> bool:
        """Whether anything at all differs."""
        return bool(self.added or self.removed or self.changed)


def topology_changes(old: TopologyDescription, new: TopologyDescription) -> TopologyChanges:
    """The actions that turning ``old`` into ``new`` calls for (addresses in the
    order of the description they come from)."""
    added = tuple(address for address in new.servers if address not in old.servers)
    removed = tuple(address for address in old.servers if address not in new.servers)
    changed: list[str] = []
    check_now: list[str] = []
    for address, server in new.servers.items():
        before = old.servers.get(address)
        if before is None or before.sdam_equal(server):
            continue
        changed.append(address)
        if before.type is ServerType.RS_PRIMARY and server.error == STALE_PRIMARY_NEWER:
            check_now.append(address)
    return TopologyChanges(added, removed, tuple(changed), tuple(check_now))


def pool_ready(topology: TopologyDescription, server: ServerDescription) -> bool:
    """Whether a successful check of ``server`` marks its pool ready (SDAM,
    "Connection Pool Management"): it is data-bearing, or the connection is
    direct (TopologyType Single) and its type is known."""
    return server.type.is_data_bearing or (
        topology.type is TopologyType.SINGLE and server.is_available
    )


def description_changed(old: TopologyDescription, new: TopologyDescription) -> bool:
    """Whether a TopologyDescriptionChangedEvent is due (SDAM Logging and
    Monitoring, "Events API": when the descriptions are not equal): the type,
    the replica set name and election maxima, or any server under SDAM
    equality differ (round trip times do not count)."""
    return not (
        old.type is new.type
        and old.set_name == new.set_name
        and old.max_set_version == new.max_set_version
        and old.max_election_id == new.max_election_id
        and old.servers.keys() == new.servers.keys()
        and all(server.sdam_equal(new.servers[a]) for a, server in old.servers.items())
    )
