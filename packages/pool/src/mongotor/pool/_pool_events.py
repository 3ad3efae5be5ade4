"""CMAP monitoring events, as data (CMAP, "Connection Pool Monitoring").

Each event is a frozen dataclass; a listener is any callable taking one. A
pool calls its listeners synchronously, in order, at the instant the spec
names, and logs every event at DEBUG on this module's logger (the spec's
"equivalent log message"). A listener that raises is logged and ignored: it
cannot break the pool. Durations are in seconds, from the loop's monotonic clock.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = [
    "CheckOutFailedReason",
    "ConnectionCheckOutFailed",
    "ConnectionCheckOutStarted",
    "ConnectionCheckedIn",
    "ConnectionCheckedOut",
    "ConnectionClosed",
    "ConnectionClosedReason",
    "ConnectionCreated",
    "ConnectionReady",
    "PoolCleared",
    "PoolClosed",
    "PoolCreated",
    "PoolEvent",
    "PoolListener",
    "PoolReady",
    "emit",
]

logger = logging.getLogger(__name__)


class ConnectionClosedReason(enum.StrEnum):
    """Why a pool closed a connection (ConnectionClosedEvent.reason)."""

    #: The pool was cleared, making the connection no longer valid.
    STALE = "stale"
    #: The connection was available for longer than maxIdleTimeMS.
    IDLE = "idle"
    #: The connection experienced an error (or failed to establish).
    ERROR = "error"
    #: The pool was closed.
    POOL_CLOSED = "poolClosed"


class CheckOutFailedReason(enum.StrEnum):
    """Why a check-out failed (ConnectionCheckOutFailedEvent.reason)."""

    #: The pool was closed.
    POOL_CLOSED = "poolClosed"
    #: The wait queue timeout elapsed.
    TIMEOUT = "timeout"
    #: Establishing a connection failed, or the pool was paused or cleared.
    CONNECTION_ERROR = "connectionError"
    #: mongotor's addition: the task checking out was cancelled.
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PoolCreated:
    """A pool was created; ``options`` are its non-default options, by URI name."""

    address: str
    options: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PoolReady:
    """A pool was marked ready: check-outs and background connections may begin."""

    address: str


@dataclass(frozen=True, slots=True)
class PoolCleared:
    """A ready pool was cleared (paused, its generation incremented)."""

    address: str
    interrupt_in_use_connections: bool = False
    service_id: object | None = None


@dataclass(frozen=True, slots=True)
class PoolClosed:
    """A pool was closed."""

    address: str


@dataclass(frozen=True, slots=True)
class ConnectionCreated:
    """A connection was created (it is not established yet)."""

    address: str
    connection_id: int


@dataclass(frozen=True, slots=True)
class ConnectionReady:
    """A connection finished its handshake and authentication; ``duration`` is
    the time since its ConnectionCreated."""

    address: str
    connection_id: int
    duration: float


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """A pool closed a connection; ``error`` is the error, for ``reason`` ERROR."""

    address: str
    connection_id: int
    reason: ConnectionClosedReason
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class ConnectionCheckOutStarted:
    """A check-out began."""

    address: str


@dataclass(frozen=True, slots=True)
class ConnectionCheckOutFailed:
    """A check-out failed; ``duration`` is the time since it began."""

    address: str
    reason: CheckOutFailedReason
    duration: float
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class ConnectionCheckedOut:
    """A check-out succeeded; ``duration`` is the time since it began."""

    address: str
    connection_id: int
    duration: float


@dataclass(frozen=True, slots=True)
class ConnectionCheckedIn:
    """A connection was checked back in."""

    address: str
    connection_id: int


PoolEvent: TypeAlias = (
    PoolCreated
    | PoolReady
    | PoolCleared
    | PoolClosed
    | ConnectionCreated
    | ConnectionReady
    | ConnectionClosed
    | ConnectionCheckOutStarted
    | ConnectionCheckOutFailed
    | ConnectionCheckedOut
    | ConnectionCheckedIn
)
#: Anything called with each event.
PoolListener: TypeAlias = Callable[[PoolEvent], object]


def emit(event: PoolEvent, listeners: Iterable[PoolListener]) -> None:
    """Log ``event`` and hand it to each listener; a listener's error is logged."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%r", event)
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            logger.exception("pool event listener %r failed on %r", listener, event)
