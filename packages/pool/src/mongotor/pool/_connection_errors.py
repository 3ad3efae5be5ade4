"""Errors of using a server: the network, commands, authentication and the pool.

Each class says whose fault it is (``remote``) and whether a later try can help
(``retryable``); each instance carries the server ``address`` and, where SDAM
needs them (:func:`as_application_error`), the facts that classify it: the
connection's pool ``generation``, whether the handshake had completed
(``established``), the connection's ``max_wire_version`` and the error
``labels``.

Secrecy: no message contains a user name, a password, a SCRAM payload or a
command's arguments; only addresses, numbers, server error codes and the
server's own ``errmsg``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._error_handling import ApplicationError, ErrorKind
from ._hello import parse_topology_version

__all__ = [
    "AuthenticationError",
    "CommandError",
    "ConnectionFailure",
    "NetworkError",
    "NetworkTimeout",
    "PoolClearedError",
    "PoolClosedError",
    "TooManyConnections",
    "as_application_error",
]

# The label servers and drivers put on errors a retry may fix (Retryable Reads /
# Writes specs); CMAP's PoolClearedError is such an error.
RETRYABLE_ERROR = "RetryableError"


class ConnectionFailure(Exception):
    """A server could not be reached or a connection could not be used.

    ``address`` is the server's (``host:port``); ``labels`` are error labels
    (e.g. ``SystemOverloadedError`` added while establishing a connection).
    """

    #: Whose fault: the network or the server, by default.
    remote = True
    #: A later try (usually on a new connection) can succeed.
    retryable = True

    def __init__(self, message: str, *, address: str, labels: Iterable[str] = ()) -> None:
        self.address = address
        self.labels = frozenset(labels)
        super().__init__(message)

    def has_label(self, label: str) -> bool:
        """Whether the error carries ``label``."""
        return label in self.labels


class NetworkError(ConnectionFailure):
    """A socket failed: refused, reset, closed by the server, a TLS failure, a
    wire protocol violation, or a connection closed by the client after an
    interrupted operation. The connection it happened on is closed.

    ``connection_id`` is the pool's id of the connection (``None`` before one
    existed); ``established`` says whether its handshake and authentication had
    completed (SDAM's "completed handshake"); ``generation`` is the pool
    generation the connection belongs to; ``max_wire_version`` is the server's
    as the handshake saw it (0 before).
    """

    #: SDAM's classification (see :func:`as_application_error`).
    kind = ErrorKind.NETWORK

    def __init__(
        self,
        message: str,
        *,
        address: str,
        connection_id: int | None = None,
        established: bool = False,
        generation: int = 0,
        max_wire_version: int = 0,
        labels: Iterable[str] = (),
    ) -> None:
        self.connection_id = connection_id
        self.established = established
        self.generation = generation
        self.max_wire_version = max_wire_version
        super().__init__(message, address=address, labels=labels)


class NetworkTimeout(NetworkError):
    """A connect, a TLS handshake, or a reply did not arrive in time; the
    connection was closed (a half-read connection is never reused).

    ``timeout_ms`` is the time that was allowed.
    """

    kind = ErrorKind.TIMEOUT

    def __init__(
        self,
        message: str,
        *,
        address: str,
        timeout_ms: float,
        connection_id: int | None = None,
        established: bool = False,
        generation: int = 0,
        max_wire_version: int = 0,
        labels: Iterable[str] = (),
    ) -> None:
        self.timeout_ms = timeout_ms
        super().__init__(
            message,
            address=address,
            connection_id=connection_id,
            established=established,
            generation=generation,
            max_wire_version=max_wire_version,
            labels=labels,
        )


class CommandError(Exception):
    """A server answered a command with ``ok: 0``.

    ``code`` and ``code_name`` are the server's (``None`` when absent),
    ``message`` is its ``errmsg``, ``labels`` its ``errorLabels``; ``details``
    is the whole reply (never shown in ``str()``). ``address``, ``generation``,
    ``established`` and ``max_wire_version`` describe the connection, for SDAM.
    """

    #: Whose fault: the server refused; the command may still be the caller's fault.
    remote = True

    def __init__(
        self,
        message: str,
        *,
        address: str,
        code: int | None = None,
        code_name: str | None = None,
        labels: Iterable[str] = (),
        details: Mapping[str, Any] | None = None,
        established: bool = True,
        generation: int = 0,
        max_wire_version: int = 0,
    ) -> None:
        self.address = address
        self.code = code
        self.code_name = code_name
        self.message = message
        self.labels = frozenset(labels)
        self.details: Mapping[str, Any] = details if details is not None else {}
        self.established = established
        self.generation = generation
        self.max_wire_version = max_wire_version
        super().__init__(self._describe())

    @classmethod
    def from_reply(
        cls,
        reply: Mapping[str, Any],
        *,
        address: str,
        established: bool = True,
        generation: int = 0,
        max_wire_version: int = 0,
    ) -> CommandError:
        """The error an ``ok: 0`` reply describes."""
        code = reply.get("code")
        code_name = reply.get("codeName")
        labels = reply.get("errorLabels")
        return cls(
            str(reply.get("errmsg", "")) or "command failed",
            address=address,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            code_name=code_name if isinstance(code_name, str) else None,
            labels=[label for label in labels if isinstance(label, str)]
            if isinstance(labels, list)
            else (),
            details=reply,
            established=established,
            generation=generation,
            max_wire_version=max_wire_version,
        )

    @property
    def retryable(self) -> bool:
        """Whether the server labelled the error retryable."""
        return RETRYABLE_ERROR in self.labels

    def has_label(self, label: str) -> bool:
        """Whether the error carries ``label``."""
        return label in self.labels

    def _describe(self) -> str:
        name = f" {self.code_name}" if self.code_name else ""
        code = f" (code {self.code}{name})" if self.code is not None else ""
        return f"{self.message}{code} on {self.address}"


class AuthenticationError(CommandError):
    """Authentication failed: wrong credentials, an unknown user, a mechanism the
    user lacks, or a server whose SCRAM proof did not verify.

    ``mechanism`` is the mechanism tried and ``source`` the database
    authenticated against. The user name and password never appear in any
    field or message. ``code`` is the server's (18, AuthenticationFailed,
    typically) or ``None`` when the client detected the failure.
    """

    #: Whose fault: usually the credentials given (a bad server proof is the server's).
    remote = False

    def __init__(
        self,
        message: str,
        *,
        address: str,
        mechanism: str,
        source: str,
        code: int | None = None,
        code_name: str | None = None,
        labels: Iterable[str] = (),
        details: Mapping[str, Any] | None = None,
        generation: int = 0,
        max_wire_version: int = 0,
    ) -> None:
        self.mechanism = mechanism
        self.source = source
        super().__init__(
            message,
            address=address,
            code=code,
            code_name=code_name,
            labels=labels,
            details=details,
            established=False,
            generation=generation,
            max_wire_version=max_wire_version,
        )

    @property
    def retryable(self) -> bool:
        """Retrying with the same credentials cannot help."""
        return False

    def _describe(self) -> str:
        return f"{self.mechanism} authentication on {self.source!r}: {super()._describe()}"


class PoolClosedError(ConnectionFailure):
    """A connection was asked of a pool that is closed (CMAP's PoolClosedError)."""

    remote = False
    retryable = False

    def __init__(self, address: str) -> None:
        super().__init__(
            f"Attempted to check out a connection from closed connection pool for {address}",
            address=address,
        )


class PoolClearedError(ConnectionFailure):
    """The pool was cleared (paused) because an operation or a server check failed;
    the request was evicted, or its in-use connection was interrupted.

    Retryable (it carries the ``RetryableError`` label) and, as CMAP requires,
    never a reason to mark the server Unknown. ``cause`` says why the pool was
    cleared, when known.
    """

    def __init__(self, message: str, *, address: str, cause: str | None = None) -> None:
        self.cause = cause
        super().__init__(message, address=address, labels=(RETRYABLE_ERROR,))

    @classmethod
    def paused(cls, address: str, cause: str | None) -> PoolClearedError:
        """The error for a check-out from (or waiting in) a paused pool."""
        because = f" because another operation failed with: {cause}" if cause else ""
        return cls(
            f"Connection pool for {address} was cleared{because}", address=address, cause=cause
        )

    @classmethod
    def interrupted(cls, address: str) -> PoolClearedError:
        """The error of an operation whose connection a clear interrupted."""
        return cls(
            f"Connection to {address} interrupted due to server monitor timeout",
            address=address,
            cause="server monitor timeout",
        )


class TooManyConnections(ConnectionFailure):
    """No connection became available within the wait queue timeout (CMAP's
    WaitQueueTimeoutError; the 2012 mongotor's name).

    Fields: ``address``; ``max_pool_size`` (0: unlimited); ``in_use``, ``pending``
    (being established) and ``waiting`` (requests queued, this one included)
    when the time ran out; ``timeout_ms``, the time allowed (``timeout`` gives
    it in seconds). All of them are in the message.
    """

    #: Whose fault: the pool is too small for the load (or a server is slow).
    remote = False
    #: A later try can find a free connection.
    retryable = True

    def __init__(
        self,
        *,
        address: str,
        max_pool_size: int,
        in_use: int,
        pending: int,
        waiting: int,
        timeout_ms: float,
    ) -> None:
        self.max_pool_size = max_pool_size
        self.in_use = in_use
        self.pending = pending
        self.waiting = waiting
        self.timeout_ms = timeout_ms
        limit = "unlimited" if max_pool_size == 0 else str(max_pool_size)
        super().__init__(
            f"Timed out while checking out a connection from connection pool for {address} "
            f"after {timeout_ms:g} ms: {in_use} in use and {pending} being established "
            f"(maxPoolSize {limit}), {waiting} waiting",
            address=address,
        )

    @property
    def timeout(self) -> float:
        """The time allowed, in seconds."""
        return self.timeout_ms / 1000


def as_application_error(error: BaseException) -> ApplicationError | None:
    """What SDAM's :func:`~mongotor.pool.handle_application_error` must look at
    for ``error``, or ``None`` for errors that say nothing about the server
    (pool errors, cancellation, the caller's own mistakes).

    Network errors and timeouts become NETWORK / TIMEOUT errors; command and
    authentication errors become COMMAND errors with their code, message,
    topologyVersion and labels.
    """
    if isinstance(error, NetworkError):
        return ApplicationError(
            error.address,
            error.kind,
            generation=error.generation,
            completed_handshake=error.established,
            max_wire_version=error.max_wire_version,
            message=str(error),
            labels=error.labels,
        )
    if isinstance(error, CommandError):
        return ApplicationError(
            error.address,
            ErrorKind.COMMAND,
            generation=error.generation,
            completed_handshake=error.established,
            max_wire_version=error.max_wire_version,
            code=error.code,
            message=error.message,
            topology_version=parse_topology_version(error.details),
            labels=error.labels,
        )
    return None
