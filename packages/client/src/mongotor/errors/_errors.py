"""The exception hierarchy: the 2012 library's names, inside PyMongo's shape.

::

    Error                                   every mongotor client error
    ├── InterfaceError                      the API was used wrongly (the caller's fault)
    │   ├── InvalidOperationError           not now: a started cursor, a closed client, another loop
    │   ├── InvalidName                     a database or collection name MongoDB refuses
    │   ├── ConfigurationError              a bad connection string or option
    │   │   └── InvalidURI
    │   └── EncodingError                   a document that cannot be sent
    │       └── DocumentTooLarge
    ├── TimeoutError                        something took longer than allowed (a mixin root)
    ├── ConnectionFailure                   a server could not be reached or used
    │   ├── AutoReconnect                   a network error; a retry may succeed
    │   │   ├── NetworkTimeout              (also a TimeoutError)
    │   │   ├── NotPrimaryError             the server is no (longer a) primary, or recovering
    │   │   └── ServerSelectionTimeoutError (also a TimeoutError)
    │   └── TooManyConnections              the pool's wait queue timed out (also a TimeoutError)
    └── DatabaseError                       the server refused or failed an operation
        ├── IntegrityError(msg, code)       a uniqueness constraint (the 2012 name)
        └── OperationFailure                code, code_name, details, error_labels
            ├── ProgrammingError            the server rejected the command as malformed
            ├── AuthenticationError
            ├── CursorNotFound
            ├── ExecutionTimeout            maxTimeMS expired (also a TimeoutError)
            ├── WriteConcernError
            ├── WriteError                  one write failed: index, details
            │   └── DuplicateKeyError       (also an IntegrityError)
            └── BulkWriteError              details: the whole bulk result

Every class says whose fault it is (``remote``: the server's or the network's
when true, the caller's when false) and whether trying again can help
(``retryable``). No message ever holds a credential or a document's contents;
server messages (``errmsg``) are shown as the server wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mongotor.pool import TooManyConnections as _PoolTooManyConnections

from ._codes import CALLER_FAULT_CODES, RETRYABLE_READ_CODES, ErrorCode, error_code

if TYPE_CHECKING:
    from mongotor.pool import TopologyDescription

__all__ = [
    "AuthenticationError",
    "AutoReconnect",
    "BulkWriteError",
    "ConfigurationError",
    "ConnectionFailure",
    "CursorNotFound",
    "DatabaseError",
    "DocumentTooLarge",
    "DuplicateKeyError",
    "EncodingError",
    "Error",
    "ExecutionTimeout",
    "IntegrityError",
    "InterfaceError",
    "InvalidName",
    "InvalidOperationError",
    "InvalidURI",
    "NetworkTimeout",
    "NotPrimaryError",
    "OperationFailure",
    "ProgrammingError",
    "ServerSelectionTimeoutError",
    "TimeoutError",
    "TooManyConnections",
    "WriteConcernError",
    "WriteError",
]

# Retryable Writes spec: the label a server (4.4+) or the driver puts on a write
# error a retry may fix; Client Backpressure: the overload labels.
RETRYABLE_WRITE_ERROR = "RetryableWriteError"
RETRYABLE_ERROR = "RetryableError"


class Error(Exception):
    """The root of every mongotor client error (the 2012 ``mongotor.errors.Error``;
    PyMongo's ``PyMongoError``).

    ``error_labels`` are the server's ``errorLabels`` and the ones the driver adds
    (``RetryableWriteError``, ``NoWritesPerformed``).
    """

    #: Whose fault: true for the server's or the network's, false for the caller's.
    remote = True
    #: Whether the same operation, tried again later, can succeed.
    retryable = False

    def __init__(self, message: str, *, error_labels: Iterable[str] = ()) -> None:
        self.error_labels = frozenset(error_labels)
        super().__init__(message)

    @property
    def message(self) -> str:
        """The error's text."""
        return str(self)

    def has_error_label(self, label: str) -> bool:
        """Whether the error carries ``label``."""
        return label in self.error_labels

    def add_error_label(self, label: str) -> None:
        """Add ``label`` (as the retry logic does)."""
        self.error_labels = self.error_labels | {label}


# -- the caller's mistakes ---------------------------------------------------------


class InterfaceError(Error):
    """The API was used in a way it does not allow (the 2012 name)."""

    remote = False


class InvalidOperationError(InterfaceError):
    """The operation is not possible in the object's current state: changing a
    cursor after iteration started, using a closed client, using a client from
    an event loop other than the one it is bound to (PyMongo's ``InvalidOperation``)."""


class InvalidName(InterfaceError, ValueError):
    """A database or collection name MongoDB does not accept; ``name`` is it."""

    def __init__(self, message: str, *, name: str) -> None:
        self.name = name
        super().__init__(message)


class ConfigurationError(InterfaceError):
    """A bad connection string or client option.

    ``option`` names the option at fault (``None`` when the fault is the string's
    structure); ``value`` is the value given, redacted for sensitive options.
    """

    def __init__(self, message: str, *, option: str | None = None, value: str | None = None):
        self.option = option
        self.value = value
        super().__init__(message)


class InvalidURI(ConfigurationError):
    """A malformed connection string; ``component`` names the part at fault
    (``"scheme"``, ``"userinfo"``, ``"host"``, ``"database"``, ``"options"``)."""

    def __init__(self, message: str, *, component: str, option: str | None = None) -> None:
        self.component = component
        super().__init__(message, option=option)


class EncodingError(InterfaceError, ValueError):
    """A document (or command) cannot be encoded as BSON: an unsupported type, a
    key that is not a string, an invalid key (with ``check_keys``)."""


class DocumentTooLarge(EncodingError):
    """A document is larger than the server's ``maxBsonObjectSize``; nothing was
    sent. ``size`` and ``max_size`` are in bytes."""

    def __init__(self, message: str, *, size: int, max_size: int) -> None:
        self.size = size
        self.max_size = max_size
        super().__init__(message)


# -- time --------------------------------------------------------------------------


class TimeoutError(Error):
    """Something took longer than it was allowed: a reply (:class:`NetworkTimeout`),
    server selection, a connection from the pool (:class:`TooManyConnections`), or
    a server-side ``maxTimeMS`` (:class:`ExecutionTimeout`). It is not
    ``builtins.TimeoutError``: catch this class."""

    retryable = True


# -- the network and the servers -----------------------------------------------------


class ConnectionFailure(Error):
    """A server could not be reached or used. ``address`` is its ``host:port``
    (``None`` when no server was involved)."""

    retryable = True

    def __init__(
        self, message: str, *, address: str | None = None, error_labels: Iterable[str] = ()
    ) -> None:
        self.address = address
        super().__init__(message, error_labels=error_labels)


class AutoReconnect(ConnectionFailure):
    """A connection failed (refused, reset, closed, unreadable); it was discarded
    and the next operation uses a new one. Reads and writes are retried once
    automatically (retryReads / retryWrites) before this reaches the caller."""


class NetworkTimeout(AutoReconnect, TimeoutError):
    """A reply did not arrive in time (``socketTimeoutMS`` or a deadline);
    ``timeout_ms`` is the time that was allowed."""

    def __init__(
        self,
        message: str,
        *,
        address: str | None = None,
        timeout_ms: float | None = None,
        error_labels: Iterable[str] = (),
    ) -> None:
        self.timeout_ms = timeout_ms
        super().__init__(message, address=address, error_labels=error_labels)


class NotPrimaryError(AutoReconnect):
    """The server answered that it is not (or no longer) a writable primary, or
    that it is recovering or shutting down; the topology is re-checked.

    ``code``, ``code_name`` and ``details`` (the reply) are the server's.
    """

    def __init__(
        self,
        message: str,
        *,
        address: str | None = None,
        code: int | None = None,
        code_name: str | None = None,
        details: Mapping[str, Any] | None = None,
        error_labels: Iterable[str] = (),
    ) -> None:
        self.code = code
        self.code_name = code_name
        self.details: Mapping[str, Any] = details if details is not None else {}
        super().__init__(message, address=address, error_labels=error_labels)


class ServerSelectionTimeoutError(AutoReconnect, TimeoutError):
    """No suitable server was found within ``serverSelectionTimeoutMS``.

    ``criteria`` says what was asked for, ``timeout_ms`` the time allowed and
    ``topology`` the last topology description seen (each server's ``error``
    says why it was unusable).
    """

    def __init__(
        self,
        message: str,
        *,
        criteria: str,
        timeout_ms: float,
        topology: TopologyDescription | None = None,
    ) -> None:
        self.criteria = criteria
        self.timeout_ms = timeout_ms
        self.topology = topology
        super().__init__(message)


# Both bases keep ``address``; the pool's is never None (mypy cannot tell they agree).
class TooManyConnections(  # type: ignore[misc]
    ConnectionFailure, TimeoutError, _PoolTooManyConnections
):
    """No pooled connection became free within ``waitQueueTimeoutMS`` (the 2012
    name; also an instance of :class:`mongotor.pool.TooManyConnections`, whose
    fields it carries: ``address``, ``max_pool_size``, ``in_use``, ``pending``,
    ``waiting``, ``timeout_ms``).

    Whose fault: the pool is too small for the load (``remote`` is false).
    """

    remote = False
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
        _PoolTooManyConnections.__init__(
            self,
            address=address,
            max_pool_size=max_pool_size,
            in_use=in_use,
            pending=pending,
            waiting=waiting,
            timeout_ms=timeout_ms,
        )
        self.error_labels = frozenset()

    @classmethod
    def from_pool(cls, error: _PoolTooManyConnections) -> TooManyConnections:
        """The client's error for the pool's."""
        return cls(
            address=error.address,
            max_pool_size=error.max_pool_size,
            in_use=error.in_use,
            pending=error.pending,
            waiting=error.waiting,
            timeout_ms=error.timeout_ms,
        )


# -- what the server said ---------------------------------------------------------------


class DatabaseError(Error):
    """The server refused or failed an operation (the 2012 name)."""


class IntegrityError(DatabaseError):
    """A write broke a uniqueness constraint (the 2012 name; ``IntegrityError(msg,
    code)``). :class:`DuplicateKeyError` is the one mongotor raises."""

    def __init__(
        self, msg: str, code: int | None = None, *, error_labels: Iterable[str] = ()
    ) -> None:
        # A DuplicateKeyError sets its code (as an ErrorCode) before reaching here.
        if code is not None or not hasattr(self, "code"):
            self.code = code
        super().__init__(msg, error_labels=error_labels)

    @property
    def remote(self) -> bool:  # type: ignore[override]
        """The data written is the caller's."""
        return False


class OperationFailure(DatabaseError):
    """The server answered with an error.

    ``code`` (an :class:`ErrorCode` when the table names it) and ``code_name`` are
    the server's; ``details`` is the whole error document (never shown in
    ``str()``); ``error_labels`` the server's ``errorLabels``; ``address`` the
    server that answered. ``remote`` is false for codes that say the request
    was wrong; ``retryable`` is true for a retryable label or code.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        code_name: str | None = None,
        details: Mapping[str, Any] | None = None,
        error_labels: Iterable[str] = (),
        address: str | None = None,
    ) -> None:
        self.code: ErrorCode | int | None = error_code(code) if code is not None else None
        self.code_name = code_name
        self.details: Mapping[str, Any] = details if details is not None else {}
        self.address = address
        self.errmsg = message
        super().__init__(_describe(message, self.code, code_name), error_labels=error_labels)

    @property
    def remote(self) -> bool:  # type: ignore[override]
        """False when the code says the request itself was wrong."""
        return self.code not in CALLER_FAULT_CODES

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """Whether the server labelled the error retryable, or its code is one the
        retryable reads and writes specs retry."""
        return (
            RETRYABLE_WRITE_ERROR in self.error_labels
            or RETRYABLE_ERROR in self.error_labels
            or self.code in RETRYABLE_READ_CODES
        )


def _describe(message: str, code: int | None, code_name: str | None) -> str:
    if code is None:
        return message
    name = f" {code_name}" if code_name else ""
    return f"{message} (code {int(code)}{name})"


class ProgrammingError(OperationFailure):
    """The server rejected the command as malformed: a bad value or option, a type
    mismatch, an unknown command or operator (the 2012 name; ``remote`` is false)."""


class AuthenticationError(OperationFailure):
    """Authentication failed. ``mechanism`` and ``source`` say what was tried; no
    field or message holds the user name or the password."""

    def __init__(
        self,
        message: str,
        *,
        mechanism: str,
        source: str,
        code: int | None = None,
        code_name: str | None = None,
        address: str | None = None,
    ) -> None:
        self.mechanism = mechanism
        self.source = source
        super().__init__(message, code=code, code_name=code_name, address=address)

    @property
    def remote(self) -> bool:  # type: ignore[override]
        """The credentials are the caller's."""
        return False

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """Retrying the same credentials cannot help."""
        return False


class CursorNotFound(OperationFailure):
    """The server no longer has the cursor (it timed out, or was killed)."""


class ExecutionTimeout(OperationFailure, TimeoutError):
    """The operation exceeded its ``maxTimeMS`` on the server (code 50)."""

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """A later try may finish in time."""
        return True


class WriteConcernError(OperationFailure):
    """The write was applied but its write concern was not satisfied;
    ``details`` is the ``writeConcernError`` document."""


class WriteError(OperationFailure):
    """One write of a command failed. ``index`` is its position in the batch the
    caller gave; ``details`` is the server's write error document."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        code_name: str | None = None,
        details: Mapping[str, Any] | None = None,
        error_labels: Iterable[str] = (),
        address: str | None = None,
        index: int = 0,
    ) -> None:
        self.index = index
        super().__init__(
            message,
            code=code,
            code_name=code_name,
            details=details,
            error_labels=error_labels,
            address=address,
        )


class DuplicateKeyError(WriteError, IntegrityError):
    """A unique index refused the write (codes 11000, 11001, 12582).

    ``key_pattern`` and ``key_value`` are the server's (``None`` when absent).
    """

    @property
    def key_pattern(self) -> Mapping[str, Any] | None:
        """The unique index's key pattern."""
        value = self.details.get("keyPattern")
        return value if isinstance(value, Mapping) else None

    @property
    def key_value(self) -> Mapping[str, Any] | None:
        """The duplicated key."""
        value = self.details.get("keyValue")
        return value if isinstance(value, Mapping) else None


class BulkWriteError(OperationFailure):
    """Some writes of a bulk (insert_many, bulk_write, a multi-document insert)
    failed. ``details`` is the bulk result as PyMongo reports it: ``writeErrors``
    (each with the ``index`` in the caller's list), ``writeConcernErrors``,
    ``nInserted``, ``nUpserted``, ``nMatched``, ``nModified``, ``nRemoved``,
    ``upserted``.
    """

    def __init__(self, details: Mapping[str, Any]) -> None:
        errors: Sequence[Mapping[str, Any]] = details.get("writeErrors", ())
        concern: Sequence[Mapping[str, Any]] = details.get("writeConcernErrors", ())
        first = errors[0] if errors else (concern[0] if concern else {})
        code = first.get("code")
        super().__init__(
            f"batch op errors occurred: {len(errors)} write error(s), "
            f"{len(concern)} write concern error(s); first: {first.get('errmsg', '')}",
            code=code if isinstance(code, int) else None,
            details=details,
        )

    @property
    def write_errors(self) -> list[Mapping[str, Any]]:
        """The write errors, each with ``index``, ``code``, ``errmsg``, ``op``."""
        return list(self.details.get("writeErrors", ()))

    @property
    def write_concern_errors(self) -> list[Mapping[str, Any]]:
        """The write concern errors."""
        return list(self.details.get("writeConcernErrors", ()))
