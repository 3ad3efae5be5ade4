"""What a topology keeps per server, and the context manager of a check-out.

:class:`Server` holds one server's pool, its monitor and its
``operationCount`` (Server Selection, "operationCount": the operations between
selection and completion). :class:`Checkout` is what
:meth:`Topology.checkout <mongotor.pool.Topology.checkout>` returns: select,
count, check out; then, at the end of the block, route any error through SDAM
error handling and check the connection in.
"""

from __future__ import annotations

from collections.abc import Collection
from types import TracebackType
from typing import TYPE_CHECKING, Generic

from ._monitor import ServerMonitor
from ._pool import Pool
from ._pool_types import C
from ._read_preference import ReadPreference
from ._selection import Operation
from ._server_description import ServerDescription

if TYPE_CHECKING:
    from ._topology import Topology

__all__ = ["Checkout", "Server"]


class Server(Generic[C]):
    """What the topology keeps per server: its pool, its monitor, and the
    operations in progress on it (Server Selection's ``operationCount``)."""

    __slots__ = ("address", "monitor", "operations", "pool")
    monitor: ServerMonitor  # set right after the pool exists

    def __init__(self, address: str, pool: Pool[C]) -> None:
        self.address = address
        self.pool = pool
        self.operations = 0

    def __repr__(self) -> str:
        return (
            f"<Server {self.address} operations={self.operations} "
            f"pool={self.pool!r} monitor={self.monitor!r}>"
        )


class Checkout(Generic[C]):
    """The context manager :meth:`Topology.checkout` returns (a class rather than
    a generator: it is on every operation's path)."""

    __slots__ = (
        "_connection",
        "_deadline",
        "_deprioritized",
        "_entry",
        "_kind",
        "_preference",
        "_topology",
    )

    def __init__(
        self,
        topology: Topology[C],
        kind: Operation,
        read_preference: ReadPreference,
        deprioritized: Collection[str],
        deadline: float | None,
    ) -> None:
        self._topology = topology
        self._kind = kind
        self._preference = read_preference
        self._deprioritized = deprioritized
        self._deadline = deadline
        self._entry: Server[C] | None = None
        self._connection: C | None = None

    async def __aenter__(self) -> tuple[ServerDescription, C]:
        topology = self._topology
        server = await topology.select_server(
            self._kind, self._preference, deprioritized=self._deprioritized, deadline=self._deadline
        )
        entry = self._entry = topology.server(server.address)
        # Server Selection, "operationCount": from selection to the end of the operation.
        entry.operations += 1
        try:
            self._connection = await entry.pool.checkout(deadline=self._deadline)
        except BaseException as exc:
            entry.operations -= 1
            topology.handle_error(exc)
            raise
        return server, self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        entry, connection = self._entry, self._connection
        assert entry is not None
        assert connection is not None
        entry.operations -= 1
        if exc is not None:
            self._topology.handle_error(exc)
        entry.pool.checkin(connection)
