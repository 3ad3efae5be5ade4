"""Run a fakemongo server (or replica set) on its own event loop in a
background thread.

For synchronous test suites (PyMongo's sync client, Django, plain unittest):
``with FakeMongoThread() as server: MongoClient(server.uri)``, or
``with FakeMongoReplicaSetThread(members=3) as rs: MongoClient(rs.uri)``.
Start-up waits on a threading.Event, not a sleep; a failure to start is
re-raised in the caller's thread.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any, Protocol, Self

from ._loops import loop_factory
from ._replset import FakeMongoReplicaSet
from ._server import FakeMongo
from ._state import ServerOptions

__all__ = ["FakeMongoReplicaSetThread", "FakeMongoThread"]

_START_TIMEOUT = 30.0


class _Served(Protocol):
    @property
    def running(self) -> bool: ...
    async def start(self) -> Any: ...
    async def stop(self) -> None: ...


class _LoopThread:
    """Serves ``self._served`` from a daemon thread running its own loop."""

    _served: _Served

    def __init__(self, loop: str) -> None:
        self._loop_factory = loop_factory(loop)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._served.running

    def start(self) -> Self:
        """Start the thread; return once the server accepts connections.

        Raises what the server raised when it could not start (an OSError
        when the port is taken, say), or TimeoutError after 30 seconds.
        """
        if self._thread is not None:
            raise RuntimeError("fakemongo thread already started")
        self._started.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"fakemongo-{id(self):x}", daemon=True
        )
        self._thread.start()
        if not self._started.wait(_START_TIMEOUT):
            raise TimeoutError(f"fakemongo did not start within {_START_TIMEOUT} seconds")
        if self._error is not None:
            error, self._error = self._error, None
            self._thread.join()
            self._loop = self._thread = self._stop = None
            raise error
        return self

    def stop(self) -> None:
        """Stop the server and join the thread (idempotent)."""
        loop, thread, stop = self._loop, self._thread, self._stop
        if loop is None or thread is None or stop is None:
            return
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._loop = self._thread = self._stop = None

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` on the server's loop and return its result
        (awaited, when it is awaitable); its exception is raised here."""
        if self._loop is None or not self._served.running:
            raise RuntimeError("fakemongo thread is not running")

        async def run() -> Any:
            result = function(*args)
            if inspect.isawaitable(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(_START_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._served!r}>"

    def _run(self) -> None:
        with asyncio.Runner(loop_factory=self._loop_factory) as runner:
            runner.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self._served.start()
        except BaseException as exc:  # reported to the thread that called start()
            self._error = exc
            self._started.set()
            return
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await self._served.stop()


class FakeMongoThread(_LoopThread):
    """A :class:`FakeMongo` served from a daemon thread.

    ``loop`` picks the thread's event loop: ``"auto"`` (uvloop's where it is
    installed), ``"asyncio"`` or ``"uvloop"``; an unknown name raises
    ValueError here, and ``"uvloop"`` without uvloop ImportError.

    ``server`` is the FakeMongo instance: touch its state only through the
    wire, or with :meth:`call`, which runs a function on the server's loop
    (``thread.call(thread.server.ttl_monitor.run_now)``).
    """

    def __init__(
        self, options: ServerOptions | None = None, *, loop: str = "auto", **kwargs: Any
    ) -> None:
        super().__init__(loop)
        self.server = self._served = FakeMongo(options, **kwargs)

    @property
    def uri(self) -> str:
        return self.server.uri

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def address(self) -> str:
        return self.server.address


class FakeMongoReplicaSetThread(_LoopThread):
    """A :class:`~fakemongo.FakeMongoReplicaSet` served from a daemon thread.

    Takes FakeMongoReplicaSet's arguments, and ``loop`` as FakeMongoThread.
    ``replset`` is the set: drive it with :meth:`call`
    (``thread.call(thread.replset.kill, 0)``,
    ``thread.call(thread.replset.wait_for_primary)``).
    """

    def __init__(self, *args: Any, loop: str = "auto", **kwargs: Any) -> None:
        super().__init__(loop)
        self.replset = self._served = FakeMongoReplicaSet(*args, **kwargs)

    @property
    def uri(self) -> str:
        return self.replset.uri

    @property
    def hosts(self) -> list[str]:
        return self.replset.hosts
