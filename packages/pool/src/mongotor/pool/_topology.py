"""The topology: the thin async shell around SDAM and server selection.

A :class:`Topology` owns the current :class:`TopologyDescription` (replaced on
every change, never mutated) and, per server, a :class:`Pool` and a monitor.
Every decision is made by the pure core, in one synchronous step (the event
loop is the lock, so a description swap and what must happen with it, marking
a pool ready or clearing it, are atomic, as SDAM's "Why synchronize clearing a
server's pool with updating the topology?" requires):

- a monitor's check -> :func:`update_topology`; :func:`topology_changes` says
  which monitors and pools to start or stop; :func:`pool_ready` marks a pool
  ready after a successful check; a failed check clears the pool
  (server-monitoring.md, "Network or command error during server check");
- an operation's error -> :func:`as_application_error` ->
  :func:`handle_application_error` -> clear the pool, cancel or request a check;
- server selection -> :func:`select_server`; when nothing suits, request
  checks and wait for the next change, until ``serverSelectionTimeoutMS``
  (Server Selection, "Multi-threaded or asynchronous server selection").

Nothing happens in the constructor but validation: monitors, pools and (for
``mongodb+srv://``) DNS start at the first use or at :meth:`Topology.open`.
A topology is bound to the event loop it is first used on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Collection, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Generic

import dns.asyncresolver
from bson import ObjectId

from ._checkout import Checkout, Server
from ._connection import Connection
from ._connection_errors import NetworkTimeout, as_application_error
from ._error_handling import ErrorOutcome, handle_application_error
from ._errors import EventLoopMismatchError, TopologyClosedError
from ._monitor import Monitor, MonitorFactory, MonitorSettings
from ._options import ConnectionOptions
from ._pool import create_pool
from ._pool_types import C
from ._read_preference import PRIMARY, ReadPreference
from ._sdam_events import (
    ServerClosed,
    ServerDescriptionChanged,
    ServerOpening,
    TopologyClosed,
    TopologyDescriptionChanged,
    TopologyEvent,
    TopologyListener,
    TopologyOpening,
    emit,
)
from ._selection import Operation, ServerSelector, select_server, selection_timeout_error
from ._server_description import ServerDescription
from ._settings import ConnectionSettings, PoolOptions
from ._srv import DNSResolver, resolve_srv
from ._srv_polling import POLLED_TOPOLOGY_TYPES, SrvPoller, srv_polling_update
from ._topology_changes import description_changed, pool_ready, topology_changes
from ._topology_description import (
    TopologyDescription,
    TopologySettings,
    TopologyType,
    initial_topology,
    update_topology,
)
from ._topology_types import PoolFactory, ServerStatistics, TopologyState, TopologyStatistics
from ._uri import parse_uri

__all__ = ["DEFAULT_SERVER_SELECTION_TIMEOUT_MS", "Topology", "create_topology"]

logger = logging.getLogger(__name__)

#: Server Selection, "serverSelectionTimeoutMS": 30 seconds.
DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 30_000


class _OperationCounts(Mapping[str, int]):
    """A live, read-only view of each server's ``operationCount`` for
    :func:`select_server` (no copy per selection)."""

    __slots__ = ("_servers",)

    def __init__(self, servers: Mapping[str, Server[Any]]) -> None:
        self._servers = servers

    def __getitem__(self, address: str) -> int:
        return self._servers[address].operations

    def __iter__(self) -> Iterator[str]:
        return iter(self._servers)

    def __len__(self) -> int:
        return len(self._servers)


class Topology(Generic[C]):
    """The servers of one deployment, monitored, pooled and selected from.

    ``options`` is a parsed connection string (``mongodb+srv://`` names are
    resolved at first use). ``pool_factory`` and ``monitor_factory`` make each
    server's pool and monitor (:func:`create_topology` passes the real ones).
    ``connection_settings``, ``pool_options`` and ``monitor_settings`` default
    to what the options say. ``listeners`` receive every SDAM event (topology,
    server, heartbeat) and every CMAP event of the pools. ``resolver`` answers
    the SRV and TXT queries; ``rng`` drives random choices (selection within
    the latency window, ``srvMaxHosts``).

    Raises :class:`UnsupportedOptionError` for ``loadBalanced=true`` and the
    configuration errors of :class:`TopologySettings`, :class:`ConnectionSettings`
    and :class:`PoolOptions` (at once, or for ``mongodb+srv://`` when the DNS
    answer is applied, where a TXT record may still ask for load balancing).
    Use from one event loop: another raises :class:`EventLoopMismatchError`.
    """

    def __init__(
        self,
        options: ConnectionOptions,
        *,
        pool_factory: PoolFactory[C],
        monitor_factory: MonitorFactory,
        connection_settings: ConnectionSettings | None = None,
        pool_options: PoolOptions | None = None,
        monitor_settings: MonitorSettings | None = None,
        listeners: Iterable[TopologyListener] = (),
        resolver: DNSResolver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        options.check_supported()
        self.options = options
        self.topology_id = ObjectId()
        self._pool_factory = pool_factory
        self._monitor_factory = monitor_factory
        self._given = (connection_settings, pool_options, monitor_settings)
        self._listeners = tuple(listeners)
        self._resolver = resolver
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not secrecy
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state = TopologyState.INITIAL
        self._servers: dict[str, Server[C]] = {}
        self._operation_counts = _OperationCounts(self._servers)
        self._closing: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._opening: asyncio.Task[None] | None = None
        self._srv_poller: SrvPoller | None = None
        self._waiting = 0
        self._description: TopologyDescription | None = None
        self.server_selection_timeout_ms = (
            DEFAULT_SERVER_SELECTION_TIMEOUT_MS
            if options.server_selection_timeout_ms is None
            else options.server_selection_timeout_ms
        )
        if not options.is_srv:
            self._configure(options)

    def _configure(self, options: ConnectionOptions) -> None:
        """Build everything the (resolved) options decide: ``connection_settings``,
        ``pool_options``, ``monitor_settings``, ``resolved_options`` and the
        initial description. No network I/O (TLS files named in the options are
        read, so that a wrong path fails here rather than at the first use)."""
        settings = TopologySettings.from_options(options)
        connection_settings, pool_options, monitor_settings = self._given
        self.connection_settings = connection_settings or ConnectionSettings.from_options(options)
        self.pool_options = pool_options or PoolOptions.from_options(options)
        self.monitor_settings = monitor_settings or MonitorSettings.from_options(options)
        self.resolved_options = options
        self._description = initial_topology(settings)

    # -- state -------------------------------------------------------------------------

    @property
    def description(self) -> TopologyDescription | None:
        """The current description (``None`` until a ``mongodb+srv://`` name is
        resolved). A new object after every change; never modified."""
        return self._description

    @property
    def operation_counts(self) -> Mapping[str, int]:
        """Each server's ``operationCount`` (Server Selection): the operations
        between selection and completion, counted by :meth:`checkout`. A live,
        read-only view."""
        return self._operation_counts

    @property
    def state(self) -> TopologyState:
        """The topology's :class:`TopologyState`."""
        return self._state

    def statistics(self) -> TopologyStatistics:
        """A :class:`TopologyStatistics` snapshot."""
        description = self._description
        servers = []
        for address, entry in self._servers.items():
            # Invariant: every server with a pool is in the description.
            assert description is not None
            server = description.servers[address]
            servers.append(
                ServerStatistics(
                    address,
                    server.type,
                    server.round_trip_time_ms,
                    entry.operations,
                    entry.pool.statistics(),
                )
            )
        return TopologyStatistics(
            state=self._state,
            type=description.type if description is not None else None,
            set_name=description.set_name if description is not None else None,
            servers=tuple(servers),
            waiting=self._waiting,
        )

    def __repr__(self) -> str:
        description = self._description
        if description is None:
            return f"<Topology {self.options.srv_host} {self._state.value} unresolved>"
        name = f" set={description.set_name}" if description.set_name else ""
        servers = ", ".join(
            f"{address} {server.type.value}" for address, server in description.servers.items()
        )
        return (
            f"<Topology {description.type.value}{name} {self._state.value} "
            f"servers=[{servers}] waiting={self._waiting}>"
        )

    # -- life ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Start monitoring: resolve a ``mongodb+srv://`` name, then start each
        seed's monitor (SDAM events follow). Done by the first use anyway;
        idempotent, and concurrent callers share one opening. Raises
        :class:`SeedlistDiscoveryError` (the next call tries again), the
        configuration errors of the DNS answer, :class:`TopologyClosedError`."""
        loop = self._bind_loop()
        if self._state is TopologyState.OPEN:
            return
        if self._state is TopologyState.CLOSED:
            raise TopologyClosedError("this topology was closed")
        task = self._opening
        if task is None:
            task = self._opening = loop.create_task(self._open(), name="mongotor-topology-open")
            # Retrieved here even if every opener is cancelled before it ends.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            await asyncio.shield(task)
        except BaseException:
            if task.done() and self._opening is task:
                self._opening = None  # it failed: the next use tries again
            if task.cancelled() and self._is_closed():
                raise TopologyClosedError("this topology was closed while opening") from None
            raise

    async def _open(self) -> None:
        if self._description is None:
            resolved = await resolve_srv(self.options, resolver=self._resolver, rng=self._rng)
            self._configure(resolved)
        description = self._description
        assert description is not None
        self._state = TopologyState.OPEN
        self._emit(TopologyOpening(self.topology_id))
        # SDAM Logging and Monitoring, "Events API": the first change starts
        # from an Unknown description with no servers.
        empty = TopologyDescription(TopologyType.UNKNOWN, {}, description.settings)
        self._emit(TopologyDescriptionChanged(self.topology_id, empty, description))
        for address in description.servers:
            self._add_server(address)
        if self.options.is_srv and description.type in POLLED_TOPOLOGY_TYPES:
            self._srv_poller = SrvPoller(
                self.resolved_options,
                self.monitor_settings,
                resolver=self._resolver or dns.asyncresolver.get_default_resolver(),
                topology_type=self._topology_type,
                found=self._srv_found,
            )
            self._srv_poller.start()
        logger.debug("opened %r", self)

    async def close(self) -> None:
        """Stop everything: SRV polling, every monitor and pool (in-use
        connections close when checked in), then publish ServerClosed for each
        server, the change to an Unknown description with no servers, and
        TopologyClosed. Waiting selections fail with :class:`TopologyClosedError`.
        Idempotent."""
        if self._state is TopologyState.CLOSED:
            return
        if self._loop is not None:
            self._bind_loop()
        was_open = self._state is TopologyState.OPEN
        self._state = TopologyState.CLOSED
        self._notify()
        if self._opening is not None:
            self._opening.cancel()
        entries = dict(self._servers)
        self._servers.clear()
        tasks = [self._close_server(entry) for entry in entries.values()]
        if self._srv_poller is not None:
            tasks.append(self._srv_poller.close())
        # Shielded: a cancelled close() still stops every monitor and pool.
        closing = asyncio.gather(*tasks, *self._closing, return_exceptions=True)
        for result in await asyncio.shield(closing):
            if isinstance(result, BaseException):
                logger.error("closing %r: %r", self, result)
        for address in entries:
            self._emit(ServerClosed(self.topology_id, address))
        old = self._description
        if was_open and old is not None:
            # "Closing Topology Description": the description becomes Unknown.
            self._description = TopologyDescription(TopologyType.UNKNOWN, {}, old.settings)
            self._emit(TopologyDescriptionChanged(self.topology_id, old, self._description))
            self._emit(TopologyClosed(self.topology_id))
        logger.debug("closed %r", self)

    async def __aenter__(self) -> Topology[C]:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- selection -----------------------------------------------------------------------

    async def select_server(
        self,
        operation: Operation | str = Operation.READ,
        read_preference: ReadPreference = PRIMARY,
        *,
        deprioritized: Collection[str] = (),
        server_selector: ServerSelector | None = None,
        deadline: float | None = None,
    ) -> ServerDescription:
        """A server for ``operation`` (``"read"`` or ``"write"``; reads follow
        ``read_preference``), waiting for the topology to change while none
        suits, up to ``serverSelectionTimeoutMS`` or ``deadline`` (a
        ``loop.time()``), whichever is sooner. ``deprioritized`` addresses
        (servers a retry should avoid) are chosen only if nothing else suits.

        Opens the topology if needed. Raises :class:`ServerSelectionError`
        (describing the last description seen), :class:`IncompatibleServerError`,
        :class:`InvalidReadPreferenceError`, :class:`TopologyClosedError`, and as
        :meth:`open`. Does not count the operation: :meth:`checkout` does.
        """
        loop = self._bind_loop()
        if self._state is not TopologyState.OPEN:
            await self.open()
        kind = operation if isinstance(operation, Operation) else Operation(operation)
        timeout_ms: float = self.server_selection_timeout_ms
        limit = loop.time() + timeout_ms / 1000
        if deadline is not None and deadline < limit:
            timeout_ms, limit = max(0.0, (deadline - loop.time()) * 1000), deadline
        waiting = False
        try:
            while True:
                if self._is_closed():
                    raise TopologyClosedError("this topology was closed")
                description = self._description
                assert description is not None
                server = select_server(
                    description,
                    kind,
                    read_preference,
                    deprioritized=deprioritized,
                    server_selector=server_selector,
                    operation_counts=self._operation_counts,
                    rng=self._rng,
                )
                if server is not None:
                    return server
                if loop.time() >= limit:
                    raise selection_timeout_error(
                        description, kind, read_preference, timeout_ms=timeout_ms
                    )
                if not waiting:
                    waiting = True
                    self._waiting += 1
                    logger.debug("waiting for a server suitable for %s in %r", kind.value, self)
                # Step 9: request an immediate check, wait for the topology to change.
                for entry in self._servers.values():
                    entry.monitor.request_check()
                try:
                    async with asyncio.timeout_at(limit):
                        await self._changed.wait()
                except TimeoutError:
                    pass  # one last look at the topology, then the error above
        finally:
            if waiting:
                self._waiting -= 1

    def checkout(
        self,
        operation: Operation | str = Operation.READ,
        read_preference: ReadPreference = PRIMARY,
        *,
        deprioritized: Collection[str] = (),
        deadline: float | None = None,
    ) -> Checkout[C]:
        """``async with topology.checkout("write") as (server, connection):``

        Selects a server (as :meth:`select_server`), counts the operation on it,
        checks out a connection from its pool (bounded by ``waitQueueTimeoutMS``
        and ``deadline``), and checks it in at the end. Any error of the
        check-out or of the block goes through SDAM error handling
        (:meth:`handle_error`) before it propagates, unchanged: network errors
        mark the server Unknown and clear its pool, state change errors request
        a check. Errors say whether a retry can help (``retryable``, ``labels``);
        retry on another server with ``deprioritized=(server.address,)``.
        """
        kind = operation if isinstance(operation, Operation) else Operation(operation)
        return Checkout(self, kind, read_preference, deprioritized, deadline)

    def server(self, address: str) -> Server[C]:
        """The pool, monitor and operation count of the server at ``address``.
        Raises ``KeyError`` for a server not in the topology."""
        return self._servers[address]

    def handle_error(self, error: BaseException) -> ErrorOutcome | None:
        """Apply SDAM's error handling to an operation's ``error`` (SDAM, "Error
        handling"): mark the server Unknown, clear its pool, cancel or request
        its monitor's check, as :func:`handle_application_error` decides.
        Returns that outcome, or ``None`` for errors that say nothing about a
        server of this topology (pool errors, cancellation, another address)."""
        application = as_application_error(error)
        if application is None or self._state is not TopologyState.OPEN:
            return None
        entry = self._servers.get(application.address)
        if entry is None:
            return None
        assert self._description is not None
        outcome = handle_application_error(
            self._description, application, pool_generation=entry.pool.generation
        )
        if outcome.topology is not self._description:
            self._swap(outcome.topology, application.address)
        if outcome.clear_pool:
            entry.pool.clear(cause=error)
        if outcome.cancel_check:
            entry.monitor.cancel_check()
        if outcome.request_check:
            entry.monitor.request_check()
        if outcome.marked_unknown:
            logger.info("%s marked Unknown (%s): %s", application.address, outcome.reason, error)
        return outcome

    # -- the shell's synchronous steps ------------------------------------------------------

    def _on_check(
        self, entry: Server[C], server: ServerDescription, error: BaseException | None
    ) -> None:
        """A monitor's check ended: swap in the next description and mark the pool
        ready or clear it, in one step (server-monitoring.md, "Marking the
        connection pool as ready" and "Error handling")."""
        if self._servers.get(entry.address) is not entry:
            return  # a monitor of a server that has left the topology
        current = self._description
        assert current is not None
        new = update_topology(current, server)
        if new is current:
            self._notify()  # a stale reply (older topologyVersion): ignored
            return
        self._swap(new, entry.address)
        if self._servers.get(entry.address) is not entry:
            return  # the check removed its own server
        if error is not None:
            # Clear only after the server is Unknown; interrupt in-use
            # connections after a network timeout.
            entry.pool.clear(interrupt_in_use=isinstance(error, NetworkTimeout), cause=error)
        elif pool_ready(new, server):
            entry.pool.ready()

    def _swap(self, new: TopologyDescription, about: str | None = None) -> None:
        """Make ``new`` the description, publish what changed, start and stop
        servers, and wake the selections waiting for a change. ``about`` is the
        server the change came from (a check, an error): only its description
        change is published, as the SDAM monitoring tests expect; servers changed
        in passing (a PossiblePrimary hint, a stale primary) are logged."""
        old = self._description
        assert old is not None
        self._description = new
        changes = topology_changes(old, new)
        for address in changes.changed:
            before, after = old.servers[address], new.servers[address]
            if address == about:
                self._emit(ServerDescriptionChanged(self.topology_id, address, before, after))
            if before.type is not after.type:
                logger.info(
                    "%s is now %s%s",
                    address,
                    after.type.value,
                    f" ({after.error})" if after.error else "",
                )
        for address in changes.removed:
            entry = self._servers.pop(address)
            task = asyncio.get_running_loop().create_task(self._close_server(entry))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
            self._emit(ServerClosed(self.topology_id, address))
        for address in changes.added:
            self._add_server(address)
        for address in changes.check_now:
            self._servers[address].monitor.request_check()
        if description_changed(old, new):
            self._emit(TopologyDescriptionChanged(self.topology_id, old, new))
        self._notify()

    def _add_server(self, address: str) -> None:
        # "ServerOpeningEvent": before the monitor is created.
        self._emit(ServerOpening(self.topology_id, address))
        pool = self._pool_factory(
            address,
            self.connection_settings,
            self.pool_options,
            listeners=self._listeners,
            on_background_error=self.handle_error,
        )
        entry = Server(address, pool)
        entry.monitor = self._monitor_factory(
            address,
            self.connection_settings,
            self.monitor_settings,
            report=functools.partial(self._on_check, entry),
            listeners=self._listeners,
        )
        self._servers[address] = entry
        entry.monitor.start()

    async def _close_server(self, entry: Server[C]) -> None:
        await entry.monitor.close()
        await entry.pool.close()

    def _is_closed(self) -> bool:
        # A method, not an inline check: the state changes across awaits.
        return self._state is TopologyState.CLOSED

    def _topology_type(self) -> TopologyType:
        assert self._description is not None
        return self._description.type

    def _srv_found(self, addresses: tuple[str, ...]) -> None:
        description = self._description
        if self._state is not TopologyState.OPEN or description is None:
            return
        if description.type not in POLLED_TOPOLOGY_TYPES:
            return
        new = srv_polling_update(
            description, addresses, max_hosts=self.resolved_options.srv_max_hosts, rng=self._rng
        )
        if new is not description:
            self._swap(new)

    def _notify(self) -> None:
        # "Application operations are unblocked when a server is found": every
        # selection waiting looks again.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _emit(self, event: TopologyEvent) -> None:
        emit(event, self._listeners)

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise EventLoopMismatchError(repr(self))
        return loop


def create_topology(
    options: ConnectionOptions | str,
    *,
    connection_settings: ConnectionSettings | None = None,
    pool_options: PoolOptions | None = None,
    monitor_settings: MonitorSettings | None = None,
    listeners: Iterable[TopologyListener] = (),
    resolver: DNSResolver | None = None,
    rng: random.Random | None = None,
) -> Topology[Connection]:
    """A :class:`Topology` of real servers: pools of :class:`Connection` made by
    :func:`create_pool`, and a :class:`Monitor` per server. ``options`` may be
    a connection string. Raises as :func:`parse_uri` and :class:`Topology`."""
    parsed = parse_uri(options) if isinstance(options, str) else options
    return Topology(
        parsed,
        pool_factory=create_pool,
        monitor_factory=Monitor,
        connection_settings=connection_settings,
        pool_options=pool_options,
        monitor_settings=monitor_settings,
        listeners=listeners,
        resolver=resolver,
        rng=rng,
    )
