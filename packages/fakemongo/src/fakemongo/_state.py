"""The server's state and each connection's state.

ServerState is everything one fakemongo process knows: its options, its
databases, its cursors, its users, and the counters serverStatus reports.
ConnectionState is what mongod keeps per client connection: its id, the
client's handshake metadata, the negotiated compressor and who has
authenticated on it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from ._failpoints import FailPoints
from ._retryable import RetryableWrites

if TYPE_CHECKING:
    from ._cursors import CursorStore
    from ._replmember import Member
    from ._storage import Storage
    from ._users import UserStore

__all__ = ["ConnectionState", "ServerOptions", "ServerState"]


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How a fakemongo server is configured.

    ``users`` holds ``(db, user, password)`` triples: the server then requires
    authentication (decided at start, like ``mongod --auth``). ``tls_certfile`` / ``tls_keyfile``
    turn on TLS. ``cursor_timeout_ms`` is how long an idle cursor lives (10
    minutes, like mongod's ``cursorTimeoutMillis``), and ``cursor_monitor_seconds``
    how often idle cursors are looked for (4 s, mongod's
    ``clientCursorMonitorFrequencySecs``). ``ttl_monitor_seconds`` is how often
    expired TTL documents are removed (60 s, mongod's ``ttlMonitorSleepSecs``).
    """

    host: str = "127.0.0.1"
    port: int = 0
    users: tuple[tuple[str, str, str], ...] = ()  # (db, user, password)
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    tls_ca_file: str | None = None
    cursor_timeout_ms: int = 10 * 60 * 1000
    cursor_monitor_seconds: float = 4.0  # mongod's clientCursorMonitorFrequencySecs
    compressors: tuple[str, ...] = ("snappy", "zstd", "zlib")
    enable_test_commands: bool = True
    ttl_monitor_seconds: float = 60.0  # mongod's ttlMonitorSleepSecs
    # The replica set this server is a member of (mongod --replSet), or None
    # for a standalone. Members accept lsid/txnNumber (retryable writes).
    replica_set_name: str | None = None


@dataclass(slots=True)
class ConnectionState:
    """Per connection: id, peer, handshake metadata, auth, compression."""

    connection_id: int
    peer: str
    client_metadata: dict[str, Any] | None = None
    compressors: list[str] = field(default_factory=list)
    authenticated_users: set[tuple[str, str]] = field(default_factory=set)  # (db, user)
    conversations: dict[int, Any] = field(default_factory=dict)  # SASL conversationId -> state
    handshake_done: bool = False


@dataclass(slots=True)
class ServerState:
    """Everything one server knows; mutated only on its event loop."""

    options: ServerOptions
    storage: Storage
    cursors: CursorStore
    users: UserStore
    started_at: float = field(default_factory=time.monotonic)
    started_wall: float = field(default_factory=time.time)
    process_id: ObjectId = field(default_factory=ObjectId)
    next_connection_id: int = 1
    connections: dict[int, ConnectionState] = field(default_factory=dict)  # open, by id
    total_connections: int = 0
    command_counts: Counter[str] = field(default_factory=Counter)
    command_failures: Counter[str] = field(default_factory=Counter)
    opcounters: Counter[str] = field(default_factory=Counter)
    port: int = 0
    # configureFailPoint's fail points, and each session's retryable writes.
    failpoints: FailPoints = field(default_factory=FailPoints)
    retryable_writes: RetryableWrites = field(default_factory=RetryableWrites)
    # This server's place in a FakeMongoReplicaSet; None for a standalone.
    replication: Member | None = None

    @property
    def auth_required(self) -> bool:
        # Like mongod --auth, decided when the server starts: configured with
        # users, it requires authentication even after every user is dropped;
        # started without, it never does, even after createUser (mongod
        # without --auth lets anyone in and still lets users authenticate).
        return bool(self.options.users)

    @property
    def current_connections(self) -> int:
        return len(self.connections)

    def new_connection(self, peer: str) -> ConnectionState:
        conn = ConnectionState(self.next_connection_id, peer)
        self.next_connection_id += 1
        self.connections[conn.connection_id] = conn
        self.total_connections += 1
        return conn

    def close_connection(self, conn: ConnectionState) -> None:
        self.connections.pop(conn.connection_id, None)

    def count_command(self, name: str) -> None:
        self.command_counts[name] += 1
        if name not in _WRITE_COMMANDS:
            self.opcounters[_OPCOUNTER_OF.get(name, "command")] += 1

    def uptime(self) -> float:
        return time.monotonic() - self.started_at


# serverStatus.opcounters (manual: serverStatus, opcounters): find and
# aggregate count as queries, getMore as getmores, and every other command as
# a "command" except the write commands: insert, update and delete count
# their documents and statements in their handlers, not here.
_WRITE_COMMANDS = frozenset({"insert", "update", "delete"})
_OPCOUNTER_OF = {
    "find": "query",
    "aggregate": "query",
    "getMore": "getmore",
}
