"""What an application error means for the topology, decided purely.

SDAM, "Error handling" ("Application errors" and its pseudocode ``handleError``):
given the current :class:`TopologyDescription`, the server's pool generation and
an :class:`ApplicationError`, :func:`handle_application_error` returns an
:class:`ErrorOutcome`: the next description and what the async shell must do
(clear the pool, request an immediate check, cancel the monitor's check). The
shell applies it under the same lock as the description swap, so that clearing
the pool and marking the server Unknown happen together (SDAM, "Why synchronize
clearing a server's pool with updating the topology?").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ._hello import parse_topology_version
from ._server_description import (
    TopologyVersion,
    WireVersion,
    compare_topology_versions,
    unknown_server,
)
from ._topology_description import TopologyDescription, update_topology

__all__ = [
    "BACKPRESSURE_LABELS",
    "SYSTEM_OVERLOADED_ERROR",
    "ApplicationError",
    "ErrorKind",
    "ErrorOutcome",
    "StateChangeCode",
    "establishment_error_labels",
    "handle_application_error",
    "is_not_writable_primary",
    "is_recovering",
    "is_shutting_down",
    "is_state_change_error",
]


# SDAM, '"not writable primary" and "node is recovering"': the codes, matched by
# number and never by name (names change between server versions).
class StateChangeCode(enum.IntEnum):
    """Server error codes that mean the client is wrong about a server's type."""

    # "node is recovering"
    INTERRUPTED_AT_SHUTDOWN = 11600
    INTERRUPTED_DUE_TO_REPL_STATE_CHANGE = 11602
    NOT_PRIMARY_OR_SECONDARY = 13436
    PRIMARY_STEPPED_DOWN = 189
    SHUTDOWN_IN_PROGRESS = 91
    # "not writable primary"
    NOT_WRITABLE_PRIMARY = 10107
    NOT_PRIMARY_NO_SECONDARY_OK = 13435
    LEGACY_NOT_PRIMARY = 10058


_RECOVERING: Final = frozenset(
    {
        StateChangeCode.INTERRUPTED_AT_SHUTDOWN,
        StateChangeCode.INTERRUPTED_DUE_TO_REPL_STATE_CHANGE,
        StateChangeCode.NOT_PRIMARY_OR_SECONDARY,
        StateChangeCode.PRIMARY_STEPPED_DOWN,
        StateChangeCode.SHUTDOWN_IN_PROGRESS,
    }
)
_NOT_WRITABLE_PRIMARY: Final = frozenset(
    {
        StateChangeCode.NOT_WRITABLE_PRIMARY,
        StateChangeCode.NOT_PRIMARY_NO_SECONDARY_OK,
        StateChangeCode.LEGACY_NOT_PRIMARY,
    }
)
# The "node is shutting down" subset: the only state changes that clear the pool.
_SHUTTING_DOWN: Final = frozenset(
    {StateChangeCode.INTERRUPTED_AT_SHUTDOWN, StateChangeCode.SHUTDOWN_IN_PROGRESS}
)

# CMAP, "Connection Pool" (backpressure-enabled): the labels a pool adds to a
# network error or timeout while establishing a connection or running its hello.
SYSTEM_OVERLOADED_ERROR: Final = "SystemOverloadedError"
BACKPRESSURE_LABELS: Final = frozenset({SYSTEM_OVERLOADED_ERROR, "RetryableError"})


class ErrorKind(enum.Enum):
    """What failed: the network, a network timeout, or a command (SDAM tests' ``type``)."""

    NETWORK = "network"
    TIMEOUT = "timeout"
    COMMAND = "command"


@dataclass(frozen=True, slots=True)
class ApplicationError:
    """An error an application operation met on the server at ``address``.

    ``generation`` is the connection's pool generation (for an error before the
    handshake completed, the pool's generation when the attempt began: SDAM,
    "error generation number"). ``completed_handshake`` is false for errors while
    connecting, running hello or authenticating. ``max_wire_version`` is the
    connection's. ``code``, ``message`` and ``topology_version`` come from a
    command error's reply; ``labels`` are its error labels, plus those the pool
    added (see :func:`establishment_error_labels`).
    """

    address: str
    kind: ErrorKind
    generation: int
    completed_handshake: bool
    max_wire_version: int
    code: int | None = None
    message: str = ""
    topology_version: TopologyVersion | None = None
    labels: frozenset[str] = frozenset()

    @classmethod
    def from_reply(
        cls,
        address: str,
        reply: Mapping[str, Any],
        *,
        generation: int,
        completed_handshake: bool,
        max_wire_version: int,
    ) -> ApplicationError | None:
        """The error SDAM must look at in a command ``reply``, or ``None``.

        ``ok: 0`` gives the top-level ``code`` and ``errmsg``; otherwise a
        ``writeConcernError`` gives its own; ``writeErrors`` are never looked at
        (SDAM, '"not writable primary" and "node is recovering"').
        """
        if reply.get("ok") == 1:
            concern = reply.get("writeConcernError")
            if not isinstance(concern, Mapping):
                return None
            source: Mapping[str, Any] = concern
        else:
            source = reply
        code = source.get("code")
        labels = reply.get("errorLabels")
        return cls(
            address,
            ErrorKind.COMMAND,
            generation=generation,
            completed_handshake=completed_handshake,
            max_wire_version=max_wire_version,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            message=str(source.get("errmsg", "")),
            topology_version=parse_topology_version(source) or parse_topology_version(reply),
            labels=frozenset(label for label in labels if isinstance(label, str))
            if isinstance(labels, list)
            else frozenset(),
        )

    def describe(self) -> str:
        """The text stored as the Unknown server description's ``error``."""
        if self.kind is not ErrorKind.COMMAND:
            return f"{self.kind.value} error: {self.message or 'connection failed'}"
        code = "" if self.code is None else f" (code {self.code})"
        return f"command error: {self.message or 'no error message'}{code}"


def establishment_error_labels(kind: ErrorKind) -> frozenset[str]:
    """The labels the pool adds to an error while establishing a connection or
    running its hello (CMAP, "backpressure-enabled"): SystemOverloadedError and
    RetryableError for network errors and timeouts, none for command errors. Not
    for errors during authentication, which comes after hello."""
    return BACKPRESSURE_LABELS if kind is not ErrorKind.COMMAND else frozenset()


def is_recovering(code: int | None, message: str) -> bool:
    """A "node is recovering" error: by code when there is one, else by message."""
    if code is not None:
        return code in _RECOVERING
    return "node is recovering" in message or "not master or secondary" in message


def is_not_writable_primary(code: int | None, message: str) -> bool:
    """A "not writable primary" error: by code when there is one, else by message."""
    if code is not None:
        return code in _NOT_WRITABLE_PRIMARY
    return "not master" in message and not is_recovering(None, message)


def is_state_change_error(code: int | None, message: str) -> bool:
    """A State Change Error: "not writable primary" or "node is recovering"."""
    return is_recovering(code, message) or is_not_writable_primary(code, message)


def is_shutting_down(code: int | None) -> bool:
    """A "node is shutting down" error (by code only)."""
    return code in _SHUTTING_DOWN


@dataclass(frozen=True, slots=True)
class ErrorOutcome:
    """What one application error changes, for the shell to carry out.

    ``topology`` is the next description (the same object when nothing changed);
    ``marked_unknown`` says the server was replaced by an Unknown description;
    ``clear_pool`` asks to clear the server's pool (bumping its generation);
    ``request_check`` asks for an immediate check of the server;
    ``cancel_check`` asks to cancel the monitor's in-progress check and close
    its connection. ``reason`` says briefly why, for logs.
    """

    topology: TopologyDescription
    marked_unknown: bool
    clear_pool: bool
    request_check: bool
    cancel_check: bool
    reason: str


def handle_application_error(
    topology: TopologyDescription, error: ApplicationError, *, pool_generation: int
) -> ErrorOutcome:
    """Decide what ``error`` means (SDAM, "Error handling pseudocode").

    ``pool_generation`` is the server's pool's current generation. Stale errors
    (an older generation, or a topologyVersion not newer than the server's) and
    errors from servers no longer in the topology change nothing. A State Change
    Error marks the server Unknown with the error's topologyVersion and requests
    an immediate check; it clears the pool only for "node is shutting down", for
    a pre-4.2 connection, or during the handshake. A network error (or a timeout
    before the handshake completed) marks the server Unknown, clears the pool and
    cancels the monitor's check, unless the pool labelled it SystemOverloadedError.
    A timeout after the handshake, or any other command error after it, changes
    nothing. Never raises.
    """
    server = topology.servers.get(error.address)
    if server is None:
        return _ignore(topology, "the server is no longer in the topology")
    # SDAM, "Why ignore errors based on CMAP's generation number?"
    if error.generation < pool_generation:
        return _ignore(topology, "stale error: the connection predates the pool's last clear")
    # isStaleError: any state change yields a new topologyVersion, hence ">=".
    if compare_topology_versions(server.topology_version, error.topology_version) >= 0:
        return _ignore(topology, "stale error: the server's topologyVersion is as new")
    if error.kind is ErrorKind.COMMAND and is_state_change_error(error.code, error.message):
        # SDAM: clear the pool iff "node is shutting down"; before 4.2 (wire 8) a
        # "not writable primary" error also closed connections; and SDAM,
        # "MongoDB Handshake errors": an error while connecting clears the pool.
        clear = (
            is_shutting_down(error.code)
            or error.max_wire_version < WireVersion.MONGODB_4_2
            or not error.completed_handshake
        )
        unknown = unknown_server(
            error.address, error=error.describe(), topology_version=error.topology_version
        )
        return ErrorOutcome(
            update_topology(topology, unknown),
            marked_unknown=True,
            clear_pool=clear,
            request_check=True,
            cancel_check=False,
            reason="state change error",
        )
    if error.completed_handshake and error.kind is not ErrorKind.NETWORK:
        # SDAM, "Network error when reading or writing": a timeout may only mean a
        # slow operation; "Other transient errors": command errors say nothing
        # about the server's type.
        return _ignore(topology, f"{error.kind.value} error after the handshake")
    if SYSTEM_OVERLOADED_ERROR in error.labels:
        # SDAM pseudocode: errors with the backpressure label leave the pool alone.
        return _ignore(topology, "the server is overloaded (SystemOverloadedError)")
    # Network errors, and any error while connecting or authenticating: mark
    # Unknown, clear the pool, no immediate check (it would likely fail too).
    return ErrorOutcome(
        update_topology(topology, unknown_server(error.address, error=error.describe())),
        marked_unknown=True,
        clear_pool=True,
        request_check=False,
        cancel_check=True,
        reason=f"{error.kind.value} error",
    )


def _ignore(topology: TopologyDescription, reason: str) -> ErrorOutcome:
    return ErrorOutcome(
        topology,
        marked_unknown=False,
        clear_pool=False,
        request_check=False,
        cancel_check=False,
        reason=reason,
    )
