"""The types a pool is built from and reports: what it needs of a connection,
how it opens one, its states, and its statistics."""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = [
    "C",
    "ConnectionFactory",
    "PoolState",
    "PoolStatistics",
    "PooledConnection",
]


class PooledConnection(Protocol):
    """What a pool needs of a connection (:class:`~mongotor.pool.Connection`, or a
    test double)."""

    @property
    def id(self) -> int: ...

    @property
    def generation(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...

    def abort(self, error: BaseException | None = None) -> None: ...


C = TypeVar("C", bound=PooledConnection)
C_co = TypeVar("C_co", bound=PooledConnection, covariant=True)


class ConnectionFactory(Protocol[C_co]):
    """Opens an established connection to ``address`` (CMAP "Establishing a
    Connection"); raises on failure."""

    def __call__(self, address: str, *, connection_id: int, generation: int) -> Awaitable[C_co]: ...


class PoolState(enum.Enum):
    """CMAP's pool states."""

    PAUSED = "paused"
    READY = "ready"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PoolStatistics:
    """A snapshot of a pool.

    ``active``: connections checked out; ``idle``: available in the pool;
    ``pending``: being established; ``total``: all three; ``waiting``:
    check-outs queued for a connection.
    """

    address: str
    state: PoolState
    generation: int
    active: int
    idle: int
    pending: int
    total: int
    waiting: int
    max_pool_size: int
    min_pool_size: int
    max_connecting: int
