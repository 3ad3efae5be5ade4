"""A scripted stand-in for mongotor.pool.Topology and its connections."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from mongotor import pool as mpool
from mongotor.pool import (
    ServerDescription,
    ServerType,
    TopologyDescription,
    TopologySettings,
    TopologyState,
    TopologyType,
)
from mongotor.wire import DocumentSequence

PRIMARY = "a:27017"
SECONDARY = "b:27017"


def server(
    address: str = PRIMARY,
    kind: ServerType = ServerType.RS_PRIMARY,
    *,
    wire: int = 25,
    sessions: int | None = 30,
) -> ServerDescription:
    return ServerDescription(
        address,
        type=kind,
        min_wire_version=0,
        max_wire_version=wire,
        logical_session_timeout_minutes=sessions,
    )


class FakeConnection:
    """Answers each command with the next scripted item: a reply document (an
    ``ok: 0`` one raises the pool's CommandError, as ``check=True`` does) or an
    exception; records what was sent."""

    def __init__(self, topology: FakeTopology, address: str) -> None:
        self.topology = topology
        self.address = address
        self.id = 7
        self.handshake: Any = topology.handshake

    async def command(
        self,
        db: str,
        body: Mapping[str, Any],
        *,
        sequences: Sequence[DocumentSequence] = (),
        deadline: float | None = None,
        check: bool = False,
    ) -> Mapping[str, Any]:
        self.topology.sent.append((self.address, db, dict(body)))
        item = self.topology.replies.popleft() if self.topology.replies else {"ok": 1}
        if callable(item):
            item = await item()
        if isinstance(item, BaseException):
            raise item
        if check and item.get("ok") != 1:
            raise mpool.CommandError.from_reply(item, address=self.address)
        return item

    async def send(
        self,
        db: str,
        body: Mapping[str, Any],
        *,
        sequences: Sequence[DocumentSequence] = (),
        deadline: float | None = None,
    ) -> None:
        self.topology.sent.append((self.address, db, dict(body)))
        if self.topology.replies and callable(self.topology.replies[0]):
            await self.topology.replies.popleft()()


class _Checkout:
    def __init__(self, topology: FakeTopology, chosen: ServerDescription | BaseException) -> None:
        self.topology = topology
        self.chosen = chosen

    async def __aenter__(self) -> tuple[ServerDescription, FakeConnection]:
        if isinstance(self.chosen, BaseException):
            raise self.chosen
        return self.chosen, FakeConnection(self.topology, self.chosen.address)

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.topology.handled.append(exc)


class FakeTopology:
    """Selection picks the first server not deprioritized (or the next scripted
    selection: a server or an exception)."""

    def __init__(
        self,
        servers: Sequence[ServerDescription] = (),
        *,
        kind: TopologyType = TopologyType.REPLICA_SET_WITH_PRIMARY,
    ) -> None:
        servers = list(servers) or [server()]
        self.description = TopologyDescription(
            kind,
            {s.address: s for s in servers},
            TopologySettings(seeds=tuple(s.address for s in servers)),
        )
        self.servers = servers
        self.state = TopologyState.OPEN
        self.selections: deque[ServerDescription | BaseException] = deque()
        self.replies: deque[Any] = deque()
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.checkouts: list[tuple[Any, Any, tuple[str, ...]]] = []
        self.handled: list[BaseException] = []
        self.closed = False
        self.handshake: Any = None

    def checkout(
        self,
        operation: Any = None,
        read_preference: Any = None,
        *,
        deprioritized: Sequence[str] = (),
    ) -> _Checkout:
        self.checkouts.append((operation, read_preference, tuple(deprioritized)))
        if self.selections:
            return _Checkout(self, self.selections.popleft())
        chosen = next((s for s in self.servers if s.address not in deprioritized), self.servers[0])
        return _Checkout(self, chosen)

    def server(self, address: str) -> Any:
        @contextlib.asynccontextmanager
        async def connection() -> AsyncIterator[FakeConnection]:
            yield FakeConnection(self, address)

        return SimpleNamespace(pool=SimpleNamespace(connection=connection))

    def handle_error(self, error: BaseException) -> None:
        self.handled.append(error)

    def statistics(self) -> Any:
        return "topology statistics"

    async def close(self) -> None:
        self.closed = True
        self.state = TopologyState.CLOSED

    def __repr__(self) -> str:
        return "<FakeTopology>"
