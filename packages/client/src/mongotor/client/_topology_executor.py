"""The real :class:`~mongotor.client.Executor`: the pool's topology, implicit
sessions, retryable reads and writes, ``$readPreference``, and command events.

Every command is one ``async with topology.checkout(...) as (server, connection)``
block; the pool's own errors leave that block unchanged, so that SDAM error
handling sees them, and become :mod:`mongotor.errors` classes outside it.

Retries (Retryable Reads and Retryable Writes specs): a read, or a single-
statement write on a replica set or sharded cluster, that fails with a
retryable error is tried once more on a newly selected server (the failed one
deprioritized), with the same ``lsid`` and, for writes, the same
``txnNumber``. If the retry fails with ``NoWritesPerformed`` or cannot select a
server, the first error is raised.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, cast

from bson import Int64, decode

from mongotor.errors import (
    RETRYABLE_WRITE_CODES,
    AutoReconnect,
    Error,
    InvalidOperationError,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
)
from mongotor.pool import (
    CommandError,
    Operation,
    ReadPreference,
    ReadPreferenceMode,
    ServerDescription,
    ServerType,
    TopologyState,
    TopologyStatistics,
    TopologyType,
)
from mongotor.pool import TopologyDescription as _TopologyDescription
from mongotor.wire import DocumentSequence

from ._errors_from import translate, write_concern_error
from ._executor import DEFAULT_LIMITS, OperationKind, Reply, Request, ServerLimits
from ._monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
    Monitor,
    redact,
)
from ._sessions import ImplicitSession, SessionPool

__all__ = ["ExecutorStatistics", "TopologyExecutor"]

logger = logging.getLogger(__name__)

_RETRYABLE_WRITE_ERROR = "RetryableWriteError"
_NO_WRITES_PERFORMED = "NoWritesPerformed"
# MongoDB 4.4 (wire 9) labels retryable write errors itself; before, the codes decide.
_LABELLING_WIRE_VERSION = 9
_PRIMARY_PREFERRED = {"mode": ReadPreferenceMode.PRIMARY_PREFERRED.value}
_PREFERRED = ReadPreference(ReadPreferenceMode.PRIMARY_PREFERRED)


class ConnectionLike(Protocol):
    """What the executor uses of a :class:`mongotor.pool.Connection`."""

    id: int

    @property
    def handshake(self) -> Any: ...

    async def command(
        self,
        db: str,
        body: Mapping[str, Any],
        *,
        sequences: Sequence[DocumentSequence] = (),
        deadline: float | None = None,
        check: bool = False,
    ) -> Mapping[str, Any]: ...

    async def send(
        self,
        db: str,
        body: Mapping[str, Any],
        *,
        sequences: Sequence[DocumentSequence] = (),
        deadline: float | None = None,
    ) -> None: ...


class PoolLike(Protocol):
    def connection(self) -> AbstractAsyncContextManager[ConnectionLike]: ...


class ServerLike(Protocol):
    @property
    def pool(self) -> PoolLike: ...


class TopologyLike(Protocol):
    """What the executor uses of a :class:`mongotor.pool.Topology`."""

    @property
    def description(self) -> _TopologyDescription | None: ...

    @property
    def state(self) -> TopologyState: ...

    def checkout(
        self,
        operation: Operation | str = ...,
        read_preference: ReadPreference = ...,
        *,
        deprioritized: Sequence[str] = (),
    ) -> AbstractAsyncContextManager[tuple[ServerDescription, ConnectionLike]]: ...

    def server(self, address: str) -> ServerLike: ...

    def handle_error(self, error: BaseException) -> object: ...

    def statistics(self) -> TopologyStatistics: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ExecutorStatistics:
    """Commands sent, succeeded and failed, retries made, operations in progress,
    pooled server sessions, and the topology's own statistics."""

    commands: int
    succeeded: int
    failed: int
    retries: int
    in_progress: int
    pooled_sessions: int
    topology: TopologyStatistics


def _supports_retryable_writes(server: ServerDescription) -> bool:
    # Retryable Writes spec, "Supported Server Versions": not on a standalone.
    return server.type is not ServerType.STANDALONE and (
        server.logical_session_timeout_minutes is not None
    )


def _is_retryable(error: BaseException, write: bool, wire_version: int) -> bool:
    if isinstance(error, ServerSelectionTimeoutError) or not isinstance(error, Error):
        return False
    if isinstance(error, OperationFailure | NotPrimaryError):
        if not write:
            return error.retryable
        if wire_version >= _LABELLING_WIRE_VERSION:
            return error.has_error_label(_RETRYABLE_WRITE_ERROR)
        return error.code in RETRYABLE_WRITE_CODES or error.has_error_label(_RETRYABLE_WRITE_ERROR)
    # Network errors, and a pool cleared while waiting (labelled RetryableError).
    return isinstance(error, AutoReconnect) or error.retryable


class _WriteConcernFailure(CommandError):
    """A write's ``ok: 1`` reply with a ``writeConcernError``, as the pool's
    command error SDAM reads (its code, the reply's labels and topologyVersion);
    ``error`` is what the application sees: a :class:`WriteConcernError`."""

    error: Error

    @classmethod
    def of(
        cls, reply: Mapping[str, Any], concern: Mapping[str, Any], server: ServerDescription
    ) -> _WriteConcernFailure:
        # 4.4+ servers put the labels at the top level of the reply (retryable
        # writes spec, "Determining Retryable Errors"); older ones in the error.
        labels = reply.get("errorLabels", concern.get("errorLabels"))
        described = {
            **concern,
            "errorLabels": labels,
            "topologyVersion": reply.get("topologyVersion"),
        }
        failure = cast(
            _WriteConcernFailure,
            cls.from_reply(
                described, address=server.address, max_wire_version=server.max_wire_version
            ),
        )
        failure.error = write_concern_error(described, server.address)
        return failure


class TopologyExecutor:
    """Runs commands on ``topology``'s servers (see the module's description).

    ``retry_reads`` / ``retry_writes`` are the URI options (on by default);
    ``listeners`` receive :mod:`command events <mongotor.client>`. Bound to the
    event loop of its first use: another loop raises
    :class:`~mongotor.errors.InvalidOperationError`, as does any use after
    :meth:`close`.
    """

    def __init__(
        self,
        topology: TopologyLike,
        *,
        retry_reads: bool = True,
        retry_writes: bool = True,
        listeners: Iterable[CommandListener] = (),
    ) -> None:
        self.topology = topology
        self.retry_reads = retry_reads
        self.retry_writes = retry_writes
        self.monitor = Monitor(listeners)
        self.limits: ServerLimits = DEFAULT_LIMITS
        self._sessions = SessionPool()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._commands = self._succeeded = self._failed = self._retries = 0
        self._in_progress = 0

    # -- state ---------------------------------------------------------------------------------

    def statistics(self) -> ExecutorStatistics:
        """A snapshot of the counters and the topology's statistics."""
        return ExecutorStatistics(
            self._commands,
            self._succeeded,
            self._failed,
            self._retries,
            self._in_progress,
            len(self._sessions),
            self.topology.statistics(),
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.topology.state.value
        return (
            f"<TopologyExecutor {state} commands={self._commands} failed={self._failed} "
            f"in_progress={self._in_progress} topology={self.topology!r}>"
        )

    def _check_usable(self) -> None:
        if self._closed:
            raise InvalidOperationError("the client was closed (Database.disconnect())")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise InvalidOperationError(
                f"{self!r} is bound to another event loop; create the Database in the loop "
                "that uses it (with Tornado: after the IOLoop starts)"
            )

    async def close(self) -> None:
        """End the pooled server sessions (best effort), close the topology.
        Idempotent."""
        if self._closed:
            return
        lsids = self._sessions.drain()
        if lsids and self.topology.state is TopologyState.OPEN:
            try:
                await self._execute(
                    Request("admin", {"endSessions": lsids}, read_preference=_PREFERRED)
                )
            except Exception as exc:  # the server drops them after its timeout anyway
                logger.debug("endSessions failed: %r", exc)
        self._closed = True
        await self.topology.close()

    # -- execution ------------------------------------------------------------------------------

    async def execute(self, request: Request) -> Reply:
        """Run ``request``; raises :mod:`mongotor.errors` classes only (see
        :class:`~mongotor.client.Executor`)."""
        self._check_usable()
        return await self._execute(request)

    async def _execute(self, request: Request) -> Reply:
        self._in_progress += 1
        try:
            if request.address is not None:
                return await self._pinned(request, request.address)
            session = request.session
            if session is None and request.acknowledged:
                session = ImplicitSession()
                try:
                    return await self._with_retries(request, session)
                finally:
                    session.release()
            return await self._with_retries(request, session)
        finally:
            self._in_progress -= 1

    async def _with_retries(self, request: Request, session: ImplicitSession | None) -> Reply:
        write = request.kind is OperationKind.WRITE
        operation = Operation.WRITE if write else Operation.READ
        retry_enabled = request.retryable and request.acknowledged
        retry_enabled = retry_enabled and (
            self.retry_writes if write else self.retry_reads and request.kind is OperationKind.READ
        )
        operation_id = next(self._ids)
        first_error: BaseException | None = None
        deprioritized: tuple[str, ...] = ()
        txn_number: int | None = None
        support_checked = False
        server: ServerDescription | None = None
        while True:
            server = None
            try:
                async with self.topology.checkout(
                    operation, request.read_preference, deprioritized=deprioritized
                ) as (server, connection):
                    if write and retry_enabled and not support_checked:
                        # The first server reached decides (nothing was sent before).
                        support_checked = True
                        retry_enabled = _supports_retryable_writes(server)
                        if retry_enabled and session is not None:
                            txn_number = session.bind(self._sessions).next_txn_number()
                    body = self._body(request, server, session, txn_number)
                    document = await self._send(connection, server, request, body, operation_id)
                    concern = document.get("writeConcernError") if write else None
                    if concern is not None:
                        failure = _WriteConcernFailure.of(document, concern, server)
                        if (
                            retry_enabled
                            and first_error is None
                            and _is_retryable(failure.error, True, server.max_wire_version)
                        ):
                            # Raised inside the checkout so that SDAM's error
                            # handling sees it, then retried below (retryable
                            # writes spec: a writeConcernError labelled
                            # RetryableWriteError is retried like an error).
                            raise failure
                        # Not retried: SDAM still sees a state-change code in it
                        # (SDAM, "Error handling": writeConcernError), and the
                        # CRUD layer raises WriteConcernError from the reply.
                        self.topology.handle_error(failure)
                return Reply(document, server.address)
            except asyncio.CancelledError:
                if session is not None:
                    session.discard()
                raise
            except BaseException as raw:
                error = raw.error if isinstance(raw, _WriteConcernFailure) else translate(raw)
                if first_error is not None:
                    if isinstance(error, ServerSelectionTimeoutError) or (
                        isinstance(error, Error) and error.has_error_label(_NO_WRITES_PERFORMED)
                    ):
                        raise first_error from None
                    raise error from error.__cause__
                wire = server.max_wire_version if server is not None else 0
                if not (retry_enabled and _is_retryable(error, write, wire)):
                    raise error from error.__cause__
                if (
                    write
                    and isinstance(error, AutoReconnect)
                    and not isinstance(error, NotPrimaryError)
                ):
                    error.add_error_label(_RETRYABLE_WRITE_ERROR)
                first_error = error
                self._retries += 1
                if server is not None:
                    deprioritized = (server.address,)
                logger.debug("retrying %s after %r", request.name, error)

    async def _pinned(self, request: Request, address: str) -> Reply:
        description = self.topology.description
        server = description.servers.get(address) if description is not None else None
        if server is None:
            raise AutoReconnect(f"{address} is no longer part of the topology", address=address)
        session = request.session
        try:
            async with self.topology.server(address).pool.connection() as connection:
                body = self._body(request, server, session, None, bind=False)
                document = await self._send(connection, server, request, body, next(self._ids))
        except asyncio.CancelledError:
            raise
        except BaseException as raw:
            self.topology.handle_error(raw)
            error = translate(raw)
            raise error from error.__cause__
        return Reply(document, address)

    def _body(
        self,
        request: Request,
        server: ServerDescription,
        session: ImplicitSession | None,
        txn_number: int | None,
        *,
        bind: bool = True,
    ) -> dict[str, Any]:
        body = dict(request.command)
        timeout = server.logical_session_timeout_minutes
        if session is not None and timeout is not None:
            self._sessions.timeout_minutes = timeout
            server_session = session.bind(self._sessions) if bind else session.server_session
            if server_session is not None:
                body["lsid"] = server_session.lsid
                if txn_number is not None:
                    body["txnNumber"] = Int64(txn_number)
        preference = request.read_preference
        # Server Selection, "Passing read preference to mongos" and "Topology Type
        # Single": a non-primary mode goes to any server; a direct connection reads
        # from whatever it reaches (a secondary too).
        if request.kind is not OperationKind.WRITE:
            if preference.mode is not ReadPreferenceMode.PRIMARY:
                body["$readPreference"] = preference.to_document()
            elif (
                server.type is not ServerType.MONGOS
                and (description := self.topology.description) is not None
                and description.type is TopologyType.SINGLE
            ):
                body["$readPreference"] = _PRIMARY_PREFERRED
        return body

    async def _send(
        self,
        connection: ConnectionLike,
        server: ServerDescription,
        request: Request,
        body: dict[str, Any],
        operation_id: int,
    ) -> Mapping[str, Any]:
        handshake = connection.handshake
        if handshake is not None:
            self._limits_from(handshake)
        name, database = request.name, request.database
        monitor = self.monitor if self.monitor.enabled else None
        request_id = next(self._ids)
        self._commands += 1
        server_connection_id = getattr(handshake, "server_connection_id", None)
        if monitor is not None:
            monitor.publish(
                CommandStartedEvent(
                    name,
                    database,
                    request_id,
                    operation_id,
                    server.address,
                    connection.id,
                    redact(name, _as_sent(body, database, request.sequences)),
                    server_connection_id,
                )
            )
        started = time.perf_counter()
        try:
            if request.acknowledged:
                reply = await connection.command(
                    database, body, sequences=request.sequences, check=True
                )
            else:
                await connection.send(database, body, sequences=request.sequences)
                reply = {"ok": 1}
        except BaseException as exc:
            self._failed += 1
            if monitor is not None:
                monitor.publish(
                    CommandFailedEvent(
                        name,
                        database,
                        request_id,
                        operation_id,
                        server.address,
                        connection.id,
                        (time.perf_counter() - started) * 1000,
                        translate(exc),
                        server_connection_id,
                    )
                )
            raise
        self._succeeded += 1
        if monitor is not None:
            monitor.publish(
                CommandSucceededEvent(
                    name,
                    database,
                    request_id,
                    operation_id,
                    server.address,
                    connection.id,
                    (time.perf_counter() - started) * 1000,
                    redact(name, reply),
                    server_connection_id,
                )
            )
        return {} if not request.acknowledged else reply

    def _limits_from(self, handshake: Any) -> None:
        limits = self.limits
        if (
            handshake.max_bson_object_size != limits.max_bson_object_size
            or handshake.max_message_size != limits.max_message_size
            or handshake.max_write_batch_size != limits.max_write_batch_size
        ):
            self.limits = ServerLimits(
                handshake.max_bson_object_size,
                handshake.max_message_size,
                handshake.max_write_batch_size,
            )


def _as_sent(
    body: Mapping[str, Any], database: str, sequences: Sequence[DocumentSequence]
) -> dict[str, Any]:
    """The command as the server sees it: ``$db`` added, document sequences as arrays."""
    command = {**body, "$db": database}
    for sequence in sequences:
        command[sequence.identifier] = [
            document if isinstance(document, Mapping) else decode(bytes(document))
            for document in sequence.documents
        ]
    return command
