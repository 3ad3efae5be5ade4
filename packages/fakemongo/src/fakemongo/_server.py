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
from dataclasses import replace
from importlib import metadata
from typing import Any, Self

from . import _commands  # noqa: F401 - registers every command handler
from ._connection import serve_connection
from ._cursors import CursorStore
from ._state import ServerOptions, ServerState
from ._storage import Storage
from ._ttl import expire_documents
from ._users import UserStore

__all__ = ["FakeMongo"]

log = logging.getLogger("fakemongo")

# mongod's clientCursorMonitorFrequencySecs: how often idle cursors are reaped.
_CURSOR_MONITOR_SECONDS = 4.0


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
        self._connections: set[asyncio.Task[None]] = set()
        self._background: list[asyncio.Task[None]] = []
        self.topology_changed = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> Self:
        """Listen, and return once the server accepts connections."""
        if self._server is not None:
            raise RuntimeError("fakemongo server already started")
        self.topology_changed = asyncio.Event()
        self._server = await asyncio.start_server(
            self._accept,
            self.options.host,
            self.options.port,
            ssl=self._ssl_context(),
            reuse_address=True,
        )
        self.state.port = self._server.sockets[0].getsockname()[1]
        self._background.append(asyncio.create_task(self._reap_cursors(), name="fakemongo-cursor-monitor"))
        self._background.append(asyncio.create_task(self._expire_ttl(), name="fakemongo-ttl-monitor"))
        log.info("fakemongo %s listening on %s", self.version, self.uri)
        return self

    async def stop(self) -> None:
        """Stop listening, close every connection and background task."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = [*self._connections, *self._background]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._background.clear()
        with contextlib.suppress(Exception):
            await server.wait_closed()
        log.info("fakemongo on port %d stopped", self.state.port)

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
        return f"{self.host}:{self.port}"

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
            # Client certificates are checked when a CA is given, optional otherwise.
            context.load_verify_locations(self.options.tls_ca_file)
            context.verify_mode = ssl.CERT_OPTIONAL
        return context

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await serve_connection(self, reader, writer)
        except asyncio.CancelledError:
            # stop() cancels connections; asyncio's stream callback would
            # report a cancelled client task as an error, so end it quietly.
            pass
        finally:
            self._connections.discard(task)

    async def _expire_ttl(self) -> None:
        while True:
            await asyncio.sleep(self.options.ttl_monitor_seconds)
            removed = expire_documents(self.state.storage)
            if removed:
                log.debug("TTL monitor removed %d documents", removed)

    async def _reap_cursors(self) -> None:
        while True:
            await asyncio.sleep(_CURSOR_MONITOR_SECONDS)
            reaped = self.state.cursors.reap()
            if reaped:
                log.debug("reaped %d idle cursors", reaped)
