"""Implicit sessions (Driver Sessions spec, "Implicit sessions"; "Server Session Pool").

mongotor does not offer explicit sessions or transactions yet; every
acknowledged operation on a server that supports sessions carries an implicit
session's ``lsid``, and a cursor keeps one session from its first batch to its
last getMore. Server sessions are pooled: the most recently used first, and
one about to expire (within a minute of the server's
``logicalSessionTimeoutMinutes``) is discarded.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from typing import Any, Final

from bson import Binary

__all__ = ["ImplicitSession", "ServerSession", "SessionPool"]

# Driver Sessions spec: a session with less than a minute left is not reused.
_EXPIRY_MARGIN_S: Final = 60.0


class ServerSession:
    """One server session: its ``lsid`` document and its transaction numbers."""

    __slots__ = ("last_use", "lsid", "txn_number")

    def __init__(self) -> None:
        self.lsid: dict[str, Any] = {"id": Binary(uuid.uuid4().bytes, 4)}
        self.txn_number = 0
        self.last_use = time.monotonic()

    def next_txn_number(self) -> int:
        """The transaction number of the next retryable write."""
        self.txn_number += 1
        return self.txn_number

    def expires_within(self, timeout_minutes: int | None, now: float) -> bool:
        """Whether it has (nearly) expired on a server that times sessions out after
        ``timeout_minutes`` (``None``: the server has no sessions)."""
        if timeout_minutes is None:
            return True
        return now - self.last_use > timeout_minutes * 60 - _EXPIRY_MARGIN_S


class SessionPool:
    """Server sessions not in use, most recently used first."""

    def __init__(self) -> None:
        self._idle: deque[ServerSession] = deque()
        #: The server's logicalSessionTimeoutMinutes as last seen (``None``: unknown).
        self.timeout_minutes: int | None = 30

    def __len__(self) -> int:
        return len(self._idle)

    def checkout(self) -> ServerSession:
        """A pooled server session that has not (nearly) expired, or a new one."""
        now = time.monotonic()
        while self._idle:
            session = self._idle.popleft()
            if not session.expires_within(self.timeout_minutes, now):
                return session
        return ServerSession()

    def checkin(self, session: ServerSession) -> None:
        """Give a session back after use."""
        session.last_use = now = time.monotonic()
        while self._idle and self._idle[-1].expires_within(self.timeout_minutes, now):
            self._idle.pop()
        self._idle.appendleft(session)

    def drain(self) -> list[dict[str, Any]]:
        """Every pooled session's ``lsid`` (for ``endSessions``); the pool is emptied."""
        lsids = [session.lsid for session in self._idle]
        self._idle.clear()
        return lsids


class ImplicitSession:
    """A session an operation (or a cursor, across its getMores) holds. The
    executor binds a server session to it at first use; :meth:`release` gives
    it back. Without a server session (a server without sessions, an
    unacknowledged write) it carries nothing."""

    __slots__ = ("_pool", "server_session")

    def __init__(self) -> None:
        self.server_session: ServerSession | None = None
        self._pool: SessionPool | None = None

    def bind(self, pool: SessionPool) -> ServerSession:
        """The server session, taken from ``pool`` at the first call."""
        if self.server_session is None:
            self.server_session = pool.checkout()
            self._pool = pool
        return self.server_session

    def discard(self) -> None:
        """Forget the server session without pooling it (after a cancellation the
        server may still be using it)."""
        self.server_session = self._pool = None

    def release(self) -> None:
        """Return the server session to its pool. Idempotent."""
        session, pool = self.server_session, self._pool
        self.server_session = self._pool = None
        if session is not None and pool is not None:
            pool.checkin(session)
