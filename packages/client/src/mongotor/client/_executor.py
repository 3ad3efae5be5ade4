"""The one seam between the API and the servers: "run this command".

Everything above it (collections, cursors, bulk writes, the 2012 API) builds
command documents and reads replies; everything below it (server selection,
connections, implicit sessions, retries, monitoring) is an :class:`Executor`.
Tests give the API a fake executor; :class:`~mongotor.client.TopologyExecutor`
is the real one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from mongotor.pool import PRIMARY, ReadPreference
from mongotor.wire import (
    DEFAULT_MAX_MESSAGE_SIZE,
    MAX_BSON_OBJECT_SIZE,
    MAX_WRITE_BATCH_SIZE,
    DocumentSequence,
)

if TYPE_CHECKING:
    from ._sessions import ImplicitSession

__all__ = ["DEFAULT_LIMITS", "Executor", "OperationKind", "Reply", "Request", "ServerLimits"]


class OperationKind(enum.Enum):
    """How a command is routed and retried."""

    #: A read: a server chosen by the read preference; retried once if ``retryable``.
    READ = "read"
    #: A write: the primary; retried once (with a transaction number) if ``retryable``.
    WRITE = "write"
    #: Any other command: the primary unless a read preference is given; never retried.
    COMMAND = "command"


@dataclass(frozen=True, slots=True)
class Request:
    """One command to run.

    ``command`` is the body without ``$db``, ``lsid`` or ``$readPreference`` (the
    executor adds them); ``sequences`` are OP_MSG kind-1 sections. ``acknowledged``
    false sends it with ``moreToCome``: no reply is read (a ``w: 0`` write).
    ``address`` pins the command to one server (``getMore`` and ``killCursors``
    must go where the cursor lives). ``session`` is the implicit session a cursor
    keeps across its commands (``None``: the executor uses one for this command).
    """

    database: str
    command: Mapping[str, Any]
    kind: OperationKind = OperationKind.COMMAND
    read_preference: ReadPreference = PRIMARY
    sequences: Sequence[DocumentSequence] = ()
    retryable: bool = False
    acknowledged: bool = True
    address: str | None = None
    session: ImplicitSession | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """The command's name: its first key."""
        return next(iter(self.command))


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's reply (``{}`` for an unacknowledged write) and the server that sent it."""

    document: Mapping[str, Any] = field(repr=False)
    address: str


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The sizes a server accepts (its hello reply): ``max_bson_object_size`` for one
    document, ``max_message_size`` for one message, ``max_write_batch_size`` writes
    per command."""

    max_bson_object_size: int = MAX_BSON_OBJECT_SIZE
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    max_write_batch_size: int = MAX_WRITE_BATCH_SIZE


#: What every MongoDB from 4.2 to 8.x announces (used before any server answered).
DEFAULT_LIMITS: Final = ServerLimits()


class Executor(Protocol):
    """Runs commands. Implementations raise :mod:`mongotor.errors` classes only:
    :class:`~mongotor.errors.OperationFailure` (and subclasses) for ``ok: 0``,
    :class:`~mongotor.errors.ConnectionFailure` subclasses for the network,
    :class:`~mongotor.errors.EncodingError` for what cannot be sent. Write errors
    inside an ``ok: 1`` reply are the caller's to read."""

    @property
    def limits(self) -> ServerLimits:
        """The limits of the servers seen last (:data:`DEFAULT_LIMITS` before any)."""
        ...

    async def execute(self, request: Request) -> Reply:
        """Run ``request`` and return its reply."""
        ...
