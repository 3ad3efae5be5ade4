"""Sessions, retryable writes and error labels, as a MongoDB 8.0 member keeps them.

Session fields (``lsid``, ``txnNumber``, ``autocommit``, ``startTransaction``)
are checked as mongod's ``initializeOperationSessionInfo`` and
``validateSessionOptions`` check them. A standalone refuses a transaction
number (20 IllegalOperation); a replica-set member accepts one on a retryable
write command (insert, update, delete, findAndModify, bulkWrite) and runs it
once (manual: "Retryable Writes"): the reply of the write is kept per session
and transaction number in ``config.transactions`` (so it replicates and rolls
back with the write), and the same write sent again with the same ``lsid``
and ``txnNumber`` answers that reply, with ``retriedStmtIds`` naming the
statements it did not run again, instead of writing twice. A lower
transaction number than the session's newest fails with 225
TransactionTooOld. Multi-document transactions (``autocommit: false``) are not
implemented and are refused with 115 CommandNotSupported.

Error labels follow the server's ``ErrorLabelBuilder`` (db/error_labels.cpp):
RetryableWriteError on a retryable write whose error code or write concern
error code is in the RetriableError category, and the change-stream labels.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bson import Binary, Int64

from ._bsonorder import type_alias
from ._errors import CommandError, ErrorCode
from ._storage import id_key

if TYPE_CHECKING:
    from ._dispatch import Context, Reply
    from ._state import ServerState
    from ._storage import Storage

log = logging.getLogger("fakemongo.commands")

__all__ = [
    "RETRIABLE_CODES",
    "RETRYABLE_WRITE_COMMANDS",
    "SESSIONS_NAMESPACE",
    "RetryableWrite",
    "RetryableWrites",
    "SessionKey",
    "SessionOptions",
    "WriteRecord",
    "check_session_options",
    "error_labels",
    "executed_statements",
    "session_options",
]

#: Commands that can run as retryable writes (mongod: Command::supportsRetryableWrite).
RETRYABLE_WRITE_COMMANDS: Final = frozenset(
    {"insert", "update", "delete", "findAndModify", "findandmodify", "bulkWrite"}
)

#: The RetriableError category of MongoDB 8.0's error_codes.yml, less the
#: internal-only codes: the retryable-writes specification's list ("Determining
#: Retryable Errors": 6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435,
#: 13436) and 134, 358 and 50915, which the server also labels.
RETRIABLE_CODES: Final = frozenset(
    {6, 7, 89, 91, 134, 189, 262, 358, 9001, 10107, 11600, 11602, 13435, 13436, 50915}
)

# error_codes.yml: the NonResumableChangeStreamError category, and the codes
# after which a change stream resumes (RetriableError, NetworkError,
# NeedRetargettingError, RetryChangeStream, FailedToSatisfyReadPreference).
_NON_RESUMABLE_CHANGE_STREAM: Final = frozenset({280, 286})
_RESUMABLE_CHANGE_STREAM: Final = RETRIABLE_CODES | {133, 150, 234, 13388}


@dataclass(frozen=True, slots=True)
class SessionKey:
    """A logical session: the client's ``lsid.id`` and the user it belongs to
    (mongod's LogicalSessionId is the id and a hash of the user)."""

    id: bytes
    user: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """A command's session fields, checked (OperationSessionInfoFromClient)."""

    session: SessionKey | None
    txn_number: int | None
    autocommit: bool | None
    start_transaction: bool | None

    @property
    def retryable_write(self) -> bool:
        # ErrorLabelBuilder::isRetryableWriteError: a txnNumber outside a transaction.
        return self.txn_number is not None and self.autocommit is None


def _session_key(ctx: Context, lsid: Any) -> SessionKey:
    if not isinstance(lsid, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field 'OperationSessionInfo.lsid' is the wrong type '{type_alias(lsid)}', "
            "expected type 'object'",
        )
    raw = lsid.get("id")
    if isinstance(raw, uuid.UUID):
        raw = raw.bytes
    if not isinstance(raw, Binary | bytes):
        raise CommandError(
            ErrorCode.Location40414,
            "BSON field 'LogicalSessionFromClient.id' is missing but a required field",
        )
    user = ctx.server.users.authenticated_user(ctx.conn)
    return SessionKey(bytes(raw), None if user is None else (user.db, user.name))


def session_options(
    ctx: Context, body: Mapping[str, Any], *, requires_auth: bool
) -> SessionOptions | None:
    """The command's transaction fields, checked as mongod's
    ``initializeOperationSessionInfo`` checks them; None when it has none (a
    bare ``lsid`` asks nothing of a server that keeps no transaction state).

    Raises :class:`CommandError`: 50889 / 263 for a command that takes no
    session, 72 InvalidOptions for fields without the ones they need, 20
    IllegalOperation for a transaction number on a standalone.
    """
    if "txnNumber" not in body and "autocommit" not in body and "startTransaction" not in body:
        return None  # the common case, checked without a loop
    txn_number = body.get("txnNumber")
    autocommit = body.get("autocommit")
    start = body.get("startTransaction")
    if not requires_auth:
        if autocommit is not None:
            raise CommandError(
                ErrorCode.OperationNotSupportedInTransaction,
                "This command is not supported in transactions",
            )
        if txn_number is not None:
            raise CommandError(
                ErrorCode.Location50889, "It is illegal to provide a txnNumber for this command"
            )
    if txn_number is not None and not isinstance(txn_number, Int64):
        # The IDL type of txnNumber is long: int and double are refused.
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field 'OperationSessionInfo.txnNumber' is the wrong type "
            f"'{type_alias(txn_number)}', expected type 'long'",
        )
    for name, value in (("autocommit", autocommit), ("startTransaction", start)):
        if value is not None and not isinstance(value, bool):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"BSON field 'OperationSessionInfo.{name}' is the wrong type "
                f"'{type_alias(value)}', expected type 'bool'",
            )
    session = None
    if "lsid" in body:
        session = _session_key(ctx, body["lsid"])
    elif txn_number is not None:
        raise CommandError(
            ErrorCode.InvalidOptions,
            "Transaction number requires a session ID to also be specified",
        )
    if txn_number is not None:
        # Manual, "Transactions" and "Retryable Writes": a replica set member
        # or mongos, never a standalone.
        if ctx.server.options.replica_set_name is None:
            raise CommandError(
                ErrorCode.IllegalOperation,
                "Transaction numbers are only allowed on a replica set member or mongos",
            )
        if txn_number < 0:
            raise CommandError(ErrorCode.InvalidOptions, "Transaction number cannot be negative")
    elif autocommit is not None:
        raise CommandError(
            ErrorCode.InvalidOptions,
            "'autocommit' field requires a transaction number to also be specified",
        )
    if autocommit is not None:
        if autocommit:
            raise CommandError(
                ErrorCode.InvalidOptions, "Specifying autocommit=true is not allowed."
            )
    elif start is not None:
        raise CommandError(
            ErrorCode.InvalidOptions,
            "'startTransaction' field requires 'autocommit' field to also be specified",
        )
    if start is False:
        raise CommandError(
            ErrorCode.InvalidOptions, "Specifying startTransaction=false is not allowed."
        )
    return SessionOptions(
        session, None if txn_number is None else int(txn_number), autocommit, start
    )


def check_session_options(options: SessionOptions, command: str) -> None:
    """mongod's ``validateSessionOptions``, which runs after the failCommand
    fail point: a transaction number outside a transaction only on a
    retryable write command. Transactions themselves are refused: fakemongo
    does not implement them."""
    if options.autocommit is not None:
        raise CommandError(
            ErrorCode.CommandNotSupported,
            "fakemongo does not support multi-document transactions "
            "(autocommit: false / startTransaction)",
        )
    if options.txn_number is not None and command not in RETRYABLE_WRITE_COMMANDS:
        raise CommandError(
            ErrorCode.NotARetryableWriteCommand,
            "txnNumber may only be provided for multi-document transactions and retryable "
            f"write commands. autocommit:false was not provided, and {command} is not a "
            "retryable write command.",
        )


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One executed retryable write, so that it is not applied twice. ``reply``
    is the command's own reply (no write concern error, no labels: those
    belong to each attempt); ``executed`` the indexes of the statements that ran."""

    session: SessionKey
    txn_number: int
    command: str
    reply: dict[str, Any]
    executed: tuple[int, ...]

    def replay(self) -> Reply:
        """The reply to a retry of this write (write_ops.idl: ``retriedStmtIds``
        for the statements not run again, ``retriedStmtId`` for findAndModify)."""
        reply = copy.deepcopy(self.reply)
        if self.command in ("findAndModify", "findandmodify"):
            reply["retriedStmtId"] = 0
        elif self.executed:
            reply["retriedStmtIds"] = list(self.executed)
        return reply


_STATEMENTS: Final = {"insert": "documents", "update": "updates", "delete": "deletes"}


def executed_statements(
    command: str, body: Mapping[str, Any], reply: Mapping[str, Any]
) -> tuple[int, ...]:
    """The statements of a write that ran: all but those with a write error,
    and none after the first error of an ordered batch (manual: "insert",
    "update", "delete": an ordered batch stops at its first error)."""
    statements = body.get(_STATEMENTS.get(command, ""))
    if not isinstance(statements, list):
        return (0,)  # one statement: findAndModify
    failed = sorted(entry["index"] for entry in reply.get("writeErrors", ()))
    count = len(statements)
    if failed and body.get("ordered", True) is not False:
        count = failed[0]
    return tuple(index for index in range(count) if index not in failed)


# Where a member keeps its sessions' executed writes: mongod's
# config.transactions (manual: "Retryable Writes"; one document per session,
# ``{_id: {id, uid}, txnNum, lastWriteDate}``). Being a collection, the record
# replicates through the oplog with the write and rolls back with it, so a
# retry on a new primary is not applied twice either. fakemongo adds the
# reply it answers retries with, under "fakemongo".
_TRANSACTIONS: Final = ("config", "transactions")
#: Its namespace, as oplog entries name it.
SESSIONS_NAMESPACE: Final = ".".join(_TRANSACTIONS)


def _session_id(session: SessionKey) -> dict[str, Any]:
    # LogicalSessionId: the client's id and the SHA-256 of the user's name
    # (of "" without authentication).
    user = "" if session.user is None else f"{session.user[1]}@{session.user[0]}"
    return {
        "id": Binary(session.id, 4),
        "uid": Binary(hashlib.sha256(user.encode()).digest(), 0),
    }


class RetryableWrites:
    """The retryable-write state of a member: the newest transaction number
    each session has started (in memory, as mongod's TransactionParticipant
    keeps it) and the executed writes, in ``config.transactions``."""

    def __init__(self) -> None:
        self._active: dict[SessionKey, int] = {}

    def __repr__(self) -> str:
        return f"<RetryableWrites sessions={len(self._active)}>"

    def begin(self, storage: Storage, session: SessionKey, txn_number: int) -> WriteRecord | None:
        """Start (or continue) ``txn_number`` on ``session``: the record of the
        write if it already ran, else None. A newer number replaces the
        session's; an older one fails with 225 TransactionTooOld
        (TransactionParticipant::beginOrContinue)."""
        stored = self._stored(storage, session)
        newest = max(self._active.get(session, -1), -1 if stored is None else stored.txn_number)
        if txn_number < newest:
            shown = uuid.UUID(bytes=session.id) if len(session.id) == 16 else session.id.hex()
            raise CommandError(
                ErrorCode.TransactionTooOld,
                f"Retryable write with txnNumber {txn_number} is prohibited on session "
                f"{shown} because a newer retryable write with txnNumber {newest} has "
                "already started on this session.",
            )
        self._active[session] = txn_number
        if stored is not None and stored.txn_number == txn_number:
            return stored
        return None

    def record(self, storage: Storage, record: WriteRecord) -> None:
        """Keep an executed write (its document replaces the session's older one)."""
        collection = storage.get_or_create(*_TRANSACTIONS)
        doc = {
            "_id": _session_id(record.session),
            "txnNum": Int64(record.txn_number),
            "lastWriteDate": _now(),
            "fakemongo": {
                "command": record.command,
                "reply": copy.deepcopy(record.reply),
                "executed": list(record.executed),
            },
        }
        key = id_key(doc["_id"])
        if collection.get(key) is None:
            collection.insert(doc)
        else:
            collection.replace(key, doc)

    def _stored(self, storage: Storage, session: SessionKey) -> WriteRecord | None:
        collection = storage.collection(*_TRANSACTIONS)
        doc = None if collection is None else collection.get(id_key(_session_id(session)))
        if doc is None or not isinstance(doc.get("fakemongo"), Mapping):
            return None  # none, or one fakemongo did not write: nothing to replay
        kept = doc["fakemongo"]
        return WriteRecord(
            session,
            int(doc["txnNum"]),
            kept["command"],
            copy.deepcopy(kept["reply"]),
            tuple(kept["executed"]),
        )


def _now() -> datetime.datetime:
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON: milliseconds


class RetryableWrite:
    """One retryable write command on its way through the dispatcher, which
    calls :meth:`begin` once the member has admitted it and :meth:`executed`
    when the handler has run."""

    __slots__ = ("_body", "_command", "_server", "_session", "_txn_number")

    def __init__(
        self,
        server: ServerState,
        session: SessionKey,
        txn_number: int,
        command: str,
        body: Mapping[str, Any],
    ) -> None:
        self._server = server
        self._session = session
        self._txn_number = txn_number
        self._command = command
        self._body = body

    def begin(self) -> Reply | None:
        """The reply of this write if it already ran (a retry), else None;
        raises 225 TransactionTooOld for a superseded transaction number."""
        server = self._server
        done = server.retryable_writes.begin(server.storage, self._session, self._txn_number)
        if done is None:
            return None
        log.debug(
            "retryable write %s txnNumber %d answered from its record",
            self._command,
            self._txn_number,
        )
        return done.replay()

    def executed(self, reply: Reply) -> None:
        """Record the write the handler ran (handlers fail by raising, so
        every reply that reaches here is a success)."""
        executed = executed_statements(self._command, self._body, reply)
        record = WriteRecord(self._session, self._txn_number, self._command, reply, executed)
        self._server.retryable_writes.record(self._server.storage, record)


def error_labels(
    command: str,
    body: Mapping[str, Any],
    options: SessionOptions | None,
    code: int | None,
    wc_code: int | None,
) -> list[str]:
    """The labels MongoDB 8.0 adds to a reply (db/error_labels.cpp
    ``ErrorLabelBuilder::build``). ``code`` is the command's error code (None
    on success), ``wc_code`` its write concern error's code."""
    labels: list[str] = []
    if (
        options is not None
        and options.retryable_write
        and (code in RETRIABLE_CODES or wc_code in RETRIABLE_CODES)
    ):
        labels.append("RetryableWriteError")
    elif _resumable_change_stream(command, body, code, wc_code):
        labels.append("ResumableChangeStreamError")
    if not labels and code in _NON_RESUMABLE_CHANGE_STREAM:
        labels.append("NonResumableChangeStreamError")
    return labels


def _resumable_change_stream(
    command: str, body: Mapping[str, Any], code: int | None, wc_code: int | None
) -> bool:
    # Only an aggregate that opens a change stream: fakemongo has no change
    # stream cursors for a getMore to continue.
    if command != "aggregate" or code not in _RESUMABLE_CHANGE_STREAM or wc_code is not None:
        return False
    pipeline = body.get("pipeline")
    if not isinstance(pipeline, list) or not pipeline or not isinstance(pipeline[0], Mapping):
        return False
    return "$changeStream" in pipeline[0]
