"""Command monitoring (Command Logging and Monitoring spec): started, succeeded
and failed events, as frozen dataclasses, to listeners; and logging.

A failed event is also published when the operation is cancelled while the
command is in flight (``failure`` is the ``CancelledError``). The command and
reply of security-sensitive commands (authentication, user management, a
hello carrying speculative authentication) are replaced with empty documents,
and logs never show a command's contents: only its name, database, server,
ids and duration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

__all__ = [
    "CommandEvent",
    "CommandFailedEvent",
    "CommandListener",
    "CommandStartedEvent",
    "CommandSucceededEvent",
    "Monitor",
    "redact",
]

logger = logging.getLogger("mongotor.client.command")

# Command Logging and Monitoring spec, "Security": always redacted.
_SENSITIVE: Final = frozenset(
    {
        "authenticate",
        "saslstart",
        "saslcontinue",
        "getnonce",
        "createuser",
        "updateuser",
        "copydbgetnonce",
        "copydbsaslstart",
        "copydb",
    }
)
# Redacted only when they carry speculativeAuthenticate.
_HELLOS: Final = frozenset({"hello", "ismaster"})


def redact(name: str, document: Mapping[str, Any]) -> Mapping[str, Any]:
    """``document`` (a command or its reply), or ``{}`` if it may hold credentials."""
    lowered = name.lower()
    if lowered in _SENSITIVE or (lowered in _HELLOS and "speculativeAuthenticate" in document):
        return {}
    return document


@dataclass(frozen=True, slots=True)
class CommandStartedEvent:
    """A command is about to be sent. ``request_id`` identifies this command's
    events; ``operation_id`` groups the commands of one operation (its retries,
    a cursor's getMores have their own)."""

    command_name: str
    database_name: str
    request_id: int
    operation_id: int
    address: str
    connection_id: int
    command: Mapping[str, Any] = field(repr=False)
    server_connection_id: int | None = None


@dataclass(frozen=True, slots=True)
class CommandSucceededEvent:
    """A command's reply arrived (``reply`` is ``{"ok": 1}`` for a write sent
    unacknowledged); ``duration_ms`` from send to reply."""

    command_name: str
    database_name: str
    request_id: int
    operation_id: int
    address: str
    connection_id: int
    duration_ms: float
    reply: Mapping[str, Any] = field(repr=False)
    server_connection_id: int | None = None


@dataclass(frozen=True, slots=True)
class CommandFailedEvent:
    """A command failed: an ``ok: 0`` reply, a network error or a cancellation
    (``failure`` is the exception)."""

    command_name: str
    database_name: str
    request_id: int
    operation_id: int
    address: str
    connection_id: int
    duration_ms: float
    failure: BaseException
    server_connection_id: int | None = None


CommandEvent: TypeAlias = CommandStartedEvent | CommandSucceededEvent | CommandFailedEvent
#: A callable that receives every command event.
CommandListener: TypeAlias = Callable[[CommandEvent], None]


class Monitor:
    """Publishes command events to ``listeners`` (a listener's exception is logged
    and never reaches the operation) and logs each at DEBUG."""

    def __init__(self, listeners: Iterable[CommandListener] = ()) -> None:
        self.listeners = list(listeners)

    @property
    def enabled(self) -> bool:
        """Whether anyone listens or logs (events are built only then)."""
        return bool(self.listeners) or logger.isEnabledFor(logging.DEBUG)

    def publish(self, event: CommandEvent) -> None:
        """Count, log and hand ``event`` to every listener."""
        if isinstance(event, CommandStartedEvent):
            logger.debug(
                "command %s started on %s.%s (request %d, connection %d)",
                event.command_name,
                event.address,
                event.database_name,
                event.request_id,
                event.connection_id,
            )
        elif isinstance(event, CommandSucceededEvent):
            logger.debug(
                "command %s succeeded on %s in %.3f ms (request %d)",
                event.command_name,
                event.address,
                event.duration_ms,
                event.request_id,
            )
        else:
            logger.debug(
                "command %s failed on %s in %.3f ms (request %d): %s",
                event.command_name,
                event.address,
                event.duration_ms,
                event.request_id,
                type(event.failure).__name__,
            )
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("a command listener raised")
