"""The types a topology is built from and reports: how it makes pools, its
states, and its statistics."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from ._pool import Pool
from ._pool_events import PoolListener
from ._pool_types import C, PoolStatistics
from ._server_description import ServerType
from ._settings import ConnectionSettings, PoolOptions
from ._topology_description import TopologyType

__all__ = ["PoolFactory", "ServerStatistics", "TopologyState", "TopologyStatistics"]


class PoolFactory(Protocol[C]):
    """Makes the pool of the server at ``address`` (:func:`~mongotor.pool.create_pool`
    is one; tests pass pools of fake connections)."""

    def __call__(
        self,
        address: str,
        settings: ConnectionSettings,
        options: PoolOptions,
        *,
        listeners: Iterable[PoolListener],
        on_background_error: Callable[[BaseException], object],
    ) -> Pool[C]: ...


class TopologyState(enum.Enum):
    """Where a topology is in its life."""

    #: Made, nothing started: no task, no socket, no DNS query yet.
    INITIAL = "initial"
    #: Monitoring its servers (after the first use, or ``open()``).
    OPEN = "open"
    #: Closed; every later use raises TopologyClosedError.
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ServerStatistics:
    """One server as the topology sees it: its type and average RTT (ms), the
    operations in progress on it (Server Selection's ``operationCount``), and
    its pool."""

    address: str
    type: ServerType
    round_trip_time_ms: float | None
    operations: int
    pool: PoolStatistics


@dataclass(frozen=True, slots=True)
class TopologyStatistics:
    """A snapshot of a topology: its state, type (``None`` before a
    ``mongodb+srv://`` name is resolved), replica set name, servers, and the
    server selections waiting for a suitable server."""

    state: TopologyState
    type: TopologyType | None
    set_name: str | None
    servers: tuple[ServerStatistics, ...]
    waiting: int
