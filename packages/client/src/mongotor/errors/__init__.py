"""mongotor.errors: the public home of every mongotor error.

The 2012 library's names (:class:`Error`, :class:`InterfaceError`,
:class:`DatabaseError`, :class:`IntegrityError`, :class:`ProgrammingError`,
:class:`TimeoutError`, :class:`TooManyConnections`,
:class:`InvalidOperationError`) inside the hierarchy PyMongo users know
(:class:`OperationFailure`, :class:`DuplicateKeyError`, :class:`BulkWriteError`,
:class:`AutoReconnect`, ...). Every error says whose fault it is (``remote``)
and whether a retry can help (``retryable``). Server error codes are the
:class:`ErrorCode` table.
"""

from __future__ import annotations

from ._codes import CALLER_FAULT_CODES as CALLER_FAULT_CODES
from ._codes import DUPLICATE_KEY_CODES as DUPLICATE_KEY_CODES
from ._codes import NOT_PRIMARY_CODES as NOT_PRIMARY_CODES
from ._codes import RETRYABLE_READ_CODES as RETRYABLE_READ_CODES
from ._codes import RETRYABLE_WRITE_CODES as RETRYABLE_WRITE_CODES
from ._codes import ErrorCode as ErrorCode
from ._codes import error_code as error_code
from ._errors import AuthenticationError as AuthenticationError
from ._errors import AutoReconnect as AutoReconnect
from ._errors import BulkWriteError as BulkWriteError
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ConnectionFailure as ConnectionFailure
from ._errors import CursorNotFound as CursorNotFound
from ._errors import DatabaseError as DatabaseError
from ._errors import DocumentTooLarge as DocumentTooLarge
from ._errors import DuplicateKeyError as DuplicateKeyError
from ._errors import EncodingError as EncodingError
from ._errors import Error as Error
from ._errors import ExecutionTimeout as ExecutionTimeout
from ._errors import IntegrityError as IntegrityError
from ._errors import InterfaceError as InterfaceError
from ._errors import InvalidName as InvalidName
from ._errors import InvalidOperationError as InvalidOperationError
from ._errors import InvalidURI as InvalidURI
from ._errors import NetworkTimeout as NetworkTimeout
from ._errors import NotPrimaryError as NotPrimaryError
from ._errors import OperationFailure as OperationFailure
from ._errors import ProgrammingError as ProgrammingError
from ._errors import ServerSelectionTimeoutError as ServerSelectionTimeoutError
from ._errors import TimeoutError as TimeoutError
from ._errors import TooManyConnections as TooManyConnections
from ._errors import WriteConcernError as WriteConcernError
from ._errors import WriteError as WriteError

# Tracebacks and reprs name the public home, not the private module.
for _cls in (
    AuthenticationError,
    AutoReconnect,
    BulkWriteError,
    ConfigurationError,
    ConnectionFailure,
    CursorNotFound,
    DatabaseError,
    DocumentTooLarge,
    DuplicateKeyError,
    EncodingError,
    Error,
    ExecutionTimeout,
    IntegrityError,
    InterfaceError,
    InvalidName,
    InvalidOperationError,
    InvalidURI,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ProgrammingError,
    ServerSelectionTimeoutError,
    TimeoutError,
    TooManyConnections,
    WriteConcernError,
    WriteError,
    ErrorCode,
):
    _cls.__module__ = __name__
del _cls

#: PyMongo's names for the same classes.
PyMongoError = Error
InvalidOperation = InvalidOperationError

__all__ = [
    "CALLER_FAULT_CODES",
    "DUPLICATE_KEY_CODES",
    "NOT_PRIMARY_CODES",
    "RETRYABLE_READ_CODES",
    "RETRYABLE_WRITE_CODES",
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
    "ErrorCode",
    "ExecutionTimeout",
    "IntegrityError",
    "InterfaceError",
    "InvalidName",
    "InvalidOperation",
    "InvalidOperationError",
    "InvalidURI",
    "NetworkTimeout",
    "NotPrimaryError",
    "OperationFailure",
    "ProgrammingError",
    "PyMongoError",
    "ServerSelectionTimeoutError",
    "TimeoutError",
    "TooManyConnections",
    "WriteConcernError",
    "WriteError",
    "error_code",
]
