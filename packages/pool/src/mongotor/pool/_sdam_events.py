"""SDAM monitoring events, as data (SDAM Logging and Monitoring, "Events API").

Nine events: six for the topology's life (opening, description changed,
closed; and each server's opening, description changed, closed) and three for
a monitor's heartbeats (started, succeeded, failed). Each is a frozen
dataclass; a listener is any callable taking one, called synchronously, in
order, at the moment the specification names. Every event is also logged at
DEBUG on this module's logger. A listener that raises is logged and ignored.
Durations are in seconds, from the event loop's monotonic clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from bson import ObjectId

from ._pool_events import PoolEvent
from ._server_description import ServerDescription
from ._topology_description import TopologyDescription

__all__ = [
    "HeartbeatEvent",
    "SdamEvent",
    "ServerClosed",
    "ServerDescriptionChanged",
    "ServerHeartbeatFailed",
    "ServerHeartbeatStarted",
    "ServerHeartbeatSucceeded",
    "ServerOpening",
    "TopologyClosed",
    "TopologyDescriptionChanged",
    "TopologyEvent",
    "TopologyListener",
    "TopologyOpening",
    "emit",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TopologyOpening:
    """A topology was initialized: the first SDAM event of a topology."""

    topology_id: ObjectId


@dataclass(frozen=True, slots=True)
class TopologyDescriptionChanged:
    """The topology description changed (SDAM equality: round trip times do not
    count). The first one of a topology starts from an Unknown description with
    no servers; the last one, at close, ends in one."""

    topology_id: ObjectId
    previous_description: TopologyDescription
    new_description: TopologyDescription


@dataclass(frozen=True, slots=True)
class TopologyClosed:
    """A topology was closed: the last SDAM event of a topology."""

    topology_id: ObjectId


@dataclass(frozen=True, slots=True)
class ServerOpening:
    """A server joined the topology, before its monitor starts."""

    topology_id: ObjectId
    address: str


@dataclass(frozen=True, slots=True)
class ServerDescriptionChanged:
    """A server's description changed (SDAM, "Server Description Equality")."""

    topology_id: ObjectId
    address: str
    previous_description: ServerDescription
    new_description: ServerDescription


@dataclass(frozen=True, slots=True)
class ServerClosed:
    """A server left the topology (or the topology closed): its monitor stopped."""

    topology_id: ObjectId
    address: str


@dataclass(frozen=True, slots=True)
class ServerHeartbeatStarted:
    """A monitor is about to check its server: just before it opens a connection,
    sends a hello, or (streaming) waits for the next streamed reply.

    ``awaited`` is true for an awaitable hello (the server may hold the reply).
    """

    address: str
    awaited: bool


@dataclass(frozen=True, slots=True)
class ServerHeartbeatSucceeded:
    """A check succeeded. ``duration`` is what the RTT is measured from when not
    ``awaited``; ``reply`` is the hello reply."""

    address: str
    duration: float
    reply: Mapping[str, Any] = field(repr=False)
    awaited: bool


@dataclass(frozen=True, slots=True)
class ServerHeartbeatFailed:
    """A check failed: a network error, a timeout, or an ``ok: 0`` hello
    (``error`` says which)."""

    address: str
    duration: float
    error: BaseException
    awaited: bool


TopologyEvent: TypeAlias = (
    TopologyOpening
    | TopologyDescriptionChanged
    | TopologyClosed
    | ServerOpening
    | ServerDescriptionChanged
    | ServerClosed
)
HeartbeatEvent: TypeAlias = (
    ServerHeartbeatStarted | ServerHeartbeatSucceeded | ServerHeartbeatFailed
)
SdamEvent: TypeAlias = TopologyEvent | HeartbeatEvent
#: A listener a topology accepts: called with SDAM events and with its pools' CMAP events.
TopologyListener: TypeAlias = Callable[[SdamEvent | PoolEvent], object]


def emit(event: SdamEvent, listeners: Iterable[TopologyListener]) -> None:
    """Log ``event`` and hand it to each listener; a listener's error is logged."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%r", event)
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            logger.exception("SDAM event listener %r failed on %r", listener, event)
