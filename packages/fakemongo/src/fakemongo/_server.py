"""The server: an asyncio TCP (optionally TLS) listener on 127.0.0.1.

``async with FakeMongo() as server:`` starts it on a free port (or the one
given) and yields once it accepts connections; leaving the block closes every
connection and cancels every background task. For synchronous test suites,
:class:`fakemongo.FakeMongoThread` runs the same server on a loop in a
background thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import replace
from importlib import metadata
from typing import Any, Self

from . import _commands  # noqa: F401 - registers every command handler
from ._connection import Connection
from ._cursors import CursorStore
from ._state import ServerOptions, ServerState
from ._storage import Storage
from ._ttl import expire_documents
from ._users import UserStore

__all__ = ["FakeMongo"]

log = logging.getLogger("fakemongo")
# Seconds a client has to finish its TLS handshake where the listener does it
# (uvloop; see start()): asyncio's default is 60.
_TLS_HANDSHAKE_TIMEOUT = 10.0


class Monitor:
    """A periodic background pass: TTL deletion or idle-cursor reaping.

    The server runs :meth:`run_forever` as a task; :meth:`run_now` does one
    pass at once (tests and impatient users), and :meth:`next_pass` waits for
    the next pass to finish, so a test waits on the outcome instead of
    sleeping.
    """

    def __init__(self, name: str, interval: Callable[[], float], work: Callable[[], int]) -> None:
        self.name = name
        self.passes = 0
        self._interval = interval
        self._work = work
        self._waiters: list[asyncio.Future[int]] = []

    def run_now(self) -> int:
        """Do one pass; return how many things it removed."""
        removed = self._work()
        self.passes += 1
        if removed:
            log.debug("%s removed %d", self.name, removed)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(removed)
        return removed

    async def next_pass(self) -> int:
        """Wait until the next pass has finished; return what it removed."""
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await waiter

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval())
            try:
                self.run_now()
            except Exception:  # a failed pass must not end the monitor
                log.exception("%s pass failed; the next one runs as scheduled", self.name)

    def __repr__(self) -> str:
        return f"<Monitor {self.name} passes={self.passes}>"


def _version() -> str:
    try:
        return metadata.version("fakemongo")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


class FakeMongo:
    """An in-process MongoDB 8.0 server speaking the wire protocol.

    Options are those of :class:`ServerOptions`, given as an instance or as
    keywords (``FakeMongo(port=27017, users=[("admin", "root", "pw")])``).
    """

    version = _version()

    def __init__(self, options: ServerOptions | None = None, **kwargs: Any) -> None:
        if "users" in kwargs:
            kwargs["users"] = tuple(tuple(u) for u in kwargs["users"])
        self.options = replace(options or ServerOptions(), **kwargs)
        self.state = ServerState(
            options=self.options,
            storage=Storage(),
            cursors=CursorStore(self.options.cursor_timeout_ms),
            users=UserStore.from_options(self.options),
        )
        self._server: asyncio.Server | None = None
        self._tls: ssl.SSLContext | None = None  # what each connection starts
        self._listener_tls: ssl.SSLContext | None = None  # what the listener does
        self._connections: set[Connection] = set()
        self._background: list[asyncio.Task[None]] = []
        #: Removes expired documents of TTL indexes (manual: "TTL Indexes").
        self.ttl_monitor = Monitor(
            "TTL monitor",
            lambda: self.options.ttl_monitor_seconds,
            lambda: expire_documents(self.state.storage),
        )
        #: Kills cursors idle longer than ``cursor_timeout_ms``.
        self.cursor_monitor = Monitor(
            "cursor monitor",
            lambda: self.options.cursor_monitor_seconds,
            self.state.cursors.reap,
        )

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> Self:
        """Listen, and return once the server accepts connections."""
        if self._server is not None:
            raise RuntimeError("fakemongo server already started")
        tls = self._ssl_context()
        loop = asyncio.get_running_loop()
        # On asyncio's loop each connection starts TLS itself (not the
        # listener), so stop() sees, cancels and closes connections still in
        # their handshake. uvloop starts reading as soon as connection_made
        # returns, before start_tls could take the transport over, and the
        # ClientHello would be lost: there the listener does the handshake, and
        # a connection still in it at stop() is left to the handshake timeout.
        per_connection = isinstance(loop, asyncio.BaseEventLoop)
        self._tls = tls if per_connection else None
        listener_tls = self._listener_tls = None if per_connection or tls is None else tls
        self._server = await loop.create_server(
            self._new_connection,
            self.options.host,
            self.options.port,
            reuse_address=True,
            ssl=listener_tls,
            ssl_handshake_timeout=None if listener_tls is None else _TLS_HANDSHAKE_TIMEOUT,
        )
        self.state.port = self._server.sockets[0].getsockname()[1]
        self._background = [
            asyncio.create_task(self.cursor_monitor.run_forever(), name="fakemongo-cursor-monitor"),
            asyncio.create_task(self.ttl_monitor.run_forever(), name="fakemongo-ttl-monitor"),
        ]
        log.info("fakemongo %s listening on %s", self.version, self.uri)
        return self

    async def stop(self) -> None:
        """Stop listening, close every connection and background task. On a
        loop other than asyncio's, serving TLS, a connection still in its
        handshake is waited for (at most the 10-second handshake timeout)."""
        server, self._server = self._server, None
        if server is None:
            return
        handshaking = None
        if self._listener_tls is not None:
            # Connections still in a handshake the listener does are not ours
            # to abort: wait_closed(), registered before close(), returns once
            # they have ended (their client's close, or the handshake timeout),
            # so the loop never closes under an open socket.
            handshaking = asyncio.ensure_future(server.wait_closed())
            await asyncio.sleep(0)  # its first step registers it
        connections = list(self._connections)
        for connection in connections:
            connection.abort()
        loop = asyncio.get_running_loop()
        if isinstance(loop, asyncio.SelectorEventLoop):
            # asyncio's selector loop builds the transport of a connection it
            # accepted in a task, a loop turn later; CPython 3.11's
            # Server._attach asserts the listener is still open, so a close()
            # in between fails that construction half-way and leaves its
            # socket open. Stop accepting, let those tasks run (their
            # connections see the server stopped and close), then close.
            for sock in server.sockets:
                loop.remove_reader(sock.fileno())
            await asyncio.sleep(0)
        server.close()
        for task in self._background:
            task.cancel()
        await asyncio.gather(
            *self._background, *(c.closed for c in connections), return_exceptions=True
        )
        self._background.clear()
        # The aborted transports close their sockets in the loop's next turn.
        await asyncio.sleep(0)
        with contextlib.suppress(Exception):
            await server.wait_closed()
        if handshaking is not None:
            await handshaking
        log.info("fakemongo on port %d stopped", self.state.port)

    async def wait_connections_closed(self) -> None:
        """Return once every connection open now has ended (its client closed
        it, or it misbehaved); bound it with ``asyncio.wait_for``."""
        if self._connections:
            # asyncio.wait, not gather: cancelling the wait leaves them serving.
            await asyncio.wait({connection.closed for connection in self._connections})

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- addresses ---------------------------------------------------------

    @property
    def host(self) -> str:
        return self.options.host

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        return self.state.port

    @property
    def address(self) -> str:
        """``host:port``, with an IPv6 host in brackets as connection strings want it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def uri(self) -> str:
        """A connection string for this server (``tls=true`` when serving TLS)."""
        tls = "/?tls=true" if self.options.tls_certfile else ""
        return f"mongodb://{self.address}{tls}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def statistics(self) -> dict[str, Any]:
        """Counts a test can assert on: connections, cursors, databases, commands."""
        return {
            "connections": self.state.current_connections,
            "total_connections": self.state.total_connections,
            "open_cursors": len(self.state.cursors),
            "databases": sorted(self.state.storage.databases),
            "commands": dict(self.state.command_counts),
            "ttl_monitor_passes": self.ttl_monitor.passes,
            "cursor_monitor_passes": self.cursor_monitor.passes,
        }

    def __repr__(self) -> str:
        state = f"listening on {self.address}" if self.running else "stopped"
        return (
            f"<FakeMongo {state} connections={self.state.current_connections} "
            f"cursors={len(self.state.cursors)} databases={len(self.state.storage.databases)}>"
        )

    # -- internals ---------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.options.tls_certfile:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.options.tls_certfile, self.options.tls_keyfile)
        if self.options.tls_ca_file:
            # Like mongod given --tlsCAFile (and not
            # --tlsAllowConnectionsWithoutCertificates): clients must present
            # a certificate that CA signed (manual: "Configure mongod and
            # mongos for TLS/SSL", net.tls.CAFile).
            context.load_verify_locations(self.options.tls_ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def _new_connection(self) -> Connection:
        return Connection(self)
