"""An emulated replica set: N fakemongo servers, one primary, an oplog.

Each member is a whole :class:`~fakemongo.FakeMongo` server on its own port
with its own storage. The primary's storage reports every change to an
:class:`~fakemongo._oplog.OplogRecorder`; the entry goes into the primary's
oplog, and each secondary applies it to its own storage on the event loop,
after its configured delay (no threads). Elections, step-downs, kills and
restarts change member states; every state change moves each live member's
topologyVersion, which wakes the awaitable hellos drivers stream. A member
that rejoins with oplog entries its sync source lacks rolls them back: its
oplog is cut to the common point and its data rebuilt from what remains.

Decisions (who wins, what hello says, what a write concern needs) are the
pure functions of :mod:`fakemongo._member`; this module acts on them.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Sequence
from typing import Any, Self

from bson import ObjectId, Timestamp

from ._member import MemberOptions, MemberState, MemberView, choose_primary
from ._oplog import OplogEntry, OplogRecorder, OpTime, apply_entry, rebuild_storage
from ._replmember import Member
from ._retryable import SESSIONS_NAMESPACE
from ._server import FakeMongo, Monitor
from ._state import ServerOptions

__all__ = ["FakeMongoReplicaSet"]

log = logging.getLogger("fakemongo.replset")

#: Elections in a test suite should not take mongod's 10 s (electionTimeoutMillis).
DEFAULT_ELECTION_TIMEOUT = 0.05


def _wall() -> datetime.datetime:
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class FakeMongoReplicaSet:
    """A replica set of fakemongo servers on 127.0.0.1 (``async with``).

    ``members`` is a count of ordinary members or a list of
    :class:`MemberOptions` (priority, votes, hidden, tags, delay);
    ``arbiters`` adds that many arbiters. ``election_timeout`` (seconds) is
    how long the set goes without a primary before electing one;
    ``topology_version=False`` makes hello carry no topologyVersion (so
    drivers poll instead of streaming). Other keywords are
    :class:`ServerOptions` for every member (``users``, TLS...); ``ports``
    fixes each member's port (otherwise ``port`` + i, or free ones).
    """

    def __init__(
        self,
        name: str = "rs0",
        members: int | Sequence[MemberOptions] = 3,
        arbiters: int = 0,
        *,
        election_timeout: float = DEFAULT_ELECTION_TIMEOUT,
        topology_version: bool = True,
        ports: Sequence[int] | None = None,
        options: ServerOptions | None = None,
        **kwargs: Any,
    ) -> None:
        configs = (
            [MemberOptions() for _ in range(members)] if isinstance(members, int) else list(members)
        )
        configs += [MemberOptions(priority=0, arbiter=True) for _ in range(arbiters)]
        if not any(c.votes and not c.arbiter for c in configs):
            raise ValueError("a replica set needs at least one voting data-bearing member")
        if ports is not None and len(ports) != len(configs):
            raise ValueError(f"{len(configs)} members but {len(ports)} ports")
        self.name = name
        self.election_timeout = election_timeout
        self.topology_version = topology_version
        self.set_version = 1
        self.replica_set_id = ObjectId()
        self.term = 0
        base = FakeMongo(options, **kwargs).options
        self.members: list[Member] = []
        for index, config in enumerate(configs):
            port = ports[index] if ports is not None else (base.port + index if base.port else 0)
            server = FakeMongo(base, port=port, replica_set_name=name)
            member = Member(self, index, config, server)
            server.state.replication = member
            # Only the primary's TTL monitor deletes; the deletes replicate
            # (manual: "TTL Indexes", replica sets).
            server.ttl_monitor = Monitor("TTL monitor", member.ttl_interval, member.expire_ttl)
            self.members.append(member)
        self._ts = (0, 0)
        self._election: asyncio.TimerHandle | None = None
        self._quorum: asyncio.TimerHandle | None = None
        self._progress_waiters: list[asyncio.Future[None]] = []
        self._running = False
        self.election_time: datetime.datetime | None = None

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> Self:
        """Start every member, then elect the first primary at once."""
        if self._running:
            raise RuntimeError("fakemongo replica set already started")
        started: list[Member] = []
        try:
            for member in self.members:
                await member.server.start()
                started.append(member)
                member.pin_port()
        except BaseException:
            for member in started:
                await member.server.stop()
            raise
        self._running = True
        initiate = self._entry("n", "", {"msg": "initiating set"})
        for member in self.members:
            member.state = MemberState.ARBITER if member.options.arbiter else MemberState.SECONDARY
            if not member.options.arbiter:
                member.oplog.append(initiate)
        self._hold_election()
        log.info("fakemongo replica set %s started: %s", self.name, self.uri)
        return self

    async def stop(self) -> None:
        """Stop every member and every timer (idempotent)."""
        if not self._running:
            return
        self._running = False
        for timer in (self._election, self._quorum):
            if timer is not None:
                timer.cancel()
        self._election = self._quorum = None
        for member in self.members:
            member.cancel_pull()
            await member.server.stop()
        log.info("fakemongo replica set %s stopped", self.name)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._running

    # -- addresses and roles -------------------------------------------------

    @property
    def hosts(self) -> list[str]:
        """Every member's ``host:port``, in member order."""
        return [member.host for member in self.members]

    @property
    def uri(self) -> str:
        """A connection string naming every member and the set."""
        tls = "&tls=true" if self.members[0].server.options.tls_certfile else ""
        return f"mongodb://{','.join(self.hosts)}/?replicaSet={self.name}{tls}"

    @property
    def primary(self) -> Member | None:
        """The primary, or None during an election."""
        return next((m for m in self.members if m.state is MemberState.PRIMARY), None)

    @property
    def secondaries(self) -> list[Member]:
        return [m for m in self.members if m.state is MemberState.SECONDARY]

    def views(self) -> list[MemberView]:
        return [member.view() for member in self.members]

    def now(self) -> float:
        """The set's clock (the event loop's)."""
        return asyncio.get_running_loop().time()

    # -- the oplog -------------------------------------------------------------

    def _entry(self, op: str, ns: str, o: dict[str, Any]) -> OplogEntry:
        # Timestamps are (seconds, increment), unique and increasing across
        # the whole set (manual: "Replica Set Oplog", ts).
        seconds = int(time.time())
        last_seconds, inc = self._ts
        self._ts = (seconds, 1) if seconds > last_seconds else (last_seconds, inc + 1)
        optime = OpTime(self.term, Timestamp(*self._ts))
        return OplogEntry(optime, _wall(), op, ns, o, created=self.now())

    def _write(self, member: Member, op: str, ns: str, o: dict[str, Any]) -> None:
        member.oplog.append(self._entry(op, ns, o))
        for other in self.members:
            self._schedule_pull(other)
        self._progress()

    def _schedule_pull(self, member: Member) -> None:
        source = self.primary
        if (
            source is None
            or member.state is not MemberState.SECONDARY
            or member.pull is not None
            or member.caught_up(source)
        ):
            return
        # Apply the next entry once this member's delay has passed since it
        # was written; a diverged oplog (rollback) is dealt with at once.
        applied = len(member.oplog)
        due = self.now()
        if applied < len(source.oplog) and member.oplog[-1] is source.oplog[applied - 1]:
            due = source.oplog[applied].created + member.options.delay
        member.pull = asyncio.get_running_loop().call_later(
            max(0.0, due - self.now()), self._pull, member
        )

    def _pull(self, member: Member) -> None:
        member.pull = None
        source = self.primary
        if source is None:  # the primary went away since; the next one reschedules
            return
        self._roll_back_if_diverged(member, source)
        now = self.now()
        oplog = source.oplog
        storage = member.server.state.storage
        while len(member.oplog) < len(oplog):
            entry = oplog[len(member.oplog)]
            # A retryable write's session record is applied with the write
            # before it, as mongod applies the session update with the write's
            # own entry (which carries lsid and txnNumber): split apart, a
            # member elected in between would run the driver's retry again.
            if entry.created + member.options.delay > now and entry.ns != SESSIONS_NAMESPACE:
                break
            apply_entry(storage, entry)
            member.oplog.append(entry)
        self._progress()
        self._schedule_pull(member)

    def _roll_back_if_diverged(self, member: Member, source: Member) -> None:
        mine, theirs = member.oplog, source.oplog
        common = min(len(mine), len(theirs))
        while common and mine[common - 1] is not theirs[common - 1]:
            common -= 1
        if common == len(mine):
            return
        # Manual: "Rollbacks During Replica Set Failover": writes the rest of
        # the set never saw are undone when the old primary rejoins.
        undone = len(mine) - common
        log.warning(
            "member %s rolls back %d oplog entries to rejoin %s", member.host, undone, source.host
        )
        del mine[common:]
        member.rolled_back += undone
        member.server.state.cursors.cursors.clear()
        rebuild_storage(member.server.state.storage, mine)

    def _progress(self) -> None:
        waiters, self._progress_waiters = self._progress_waiters, []
        for waiter in waiters:
            waiter.set_result(None)

    async def wait_progress(self, limit: float | None) -> None:
        """Wait until some member applies an entry or changes state, or
        ``limit`` seconds (None: no limit)."""
        waiter = asyncio.get_running_loop().create_future()
        self._progress_waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=limit)
        finally:
            if not waiter.done():  # timed out or cancelled: nobody waits on it now
                self._progress_waiters.remove(waiter)

    # -- elections -------------------------------------------------------------

    def _schedule_election(self, delay: float | None = None) -> None:
        if self._election is not None or self.primary is not None:
            return
        wait = self.election_timeout if delay is None else delay
        self._election = asyncio.get_running_loop().call_later(wait, self._hold_election)

    def _hold_election(self) -> None:
        self._election = None
        winner = choose_primary(self.views(), self.now())
        if winner is None:
            self._schedule_election()  # try again: a member may come back or thaw
            return
        self._promote(self.members[winner])

    def _promote(self, member: Member) -> None:
        self.term += 1
        self.election_time = _wall()
        member.state = MemberState.PRIMARY
        member.cancel_pull()
        member.server.state.storage.observer = OplogRecorder(
            lambda op, ns, o: self._write(member, op, ns, o)
        )
        log.info("member %s is primary in term %d", member.host, self.term)
        # A new primary writes a no-op in its term first, as mongod does.
        self._write(member, "n", "", {"msg": "new primary"})
        self._changed()

    def _demote(self, member: Member, electable_after: float) -> None:
        member.state = MemberState.SECONDARY
        member.server.state.storage.observer = None
        member.electable_after = electable_after
        log.info("member %s stepped down", member.host)
        self._changed()

    def _changed(self) -> None:
        for member in self.members:
            if member.state is not MemberState.DOWN:
                member.bump_topology()
        for member in self.members:
            self._schedule_pull(member)
        self._progress()
        self._schedule_election()
        self._check_quorum()

    def _check_quorum(self) -> None:
        # Manual: "Replica Set Elections": a primary that cannot see a
        # majority of the voting members steps down (after the election
        # timeout), so a minority side never keeps taking writes.
        primary = self.primary
        voters = [m for m in self.members if m.options.votes]
        alive = sum(1 for m in voters if m.state is not MemberState.DOWN)
        if primary is None or alive >= len(voters) // 2 + 1:
            if self._quorum is not None:
                self._quorum.cancel()
                self._quorum = None
        elif self._quorum is None:
            self._quorum = asyncio.get_running_loop().call_later(
                self.election_timeout, self._lose_majority
            )

    def _lose_majority(self) -> None:
        self._quorum = None
        primary = self.primary
        assert primary is not None  # a change of primary would have cancelled this
        log.warning("primary %s cannot see a majority: stepping down", primary.host)
        self._demote(primary, self.now())

    def elect(self, index: int) -> None:
        """Make member ``index`` primary now (as replSetStepUp does), stepping
        the current primary down. Raises ValueError if it cannot be primary:
        down, an arbiter, or priority 0."""
        member = self.members[index]
        if (
            member.state is MemberState.DOWN
            or member.options.arbiter
            or not member.options.priority
        ):
            raise ValueError(f"member {index} cannot become primary")
        if member.state is MemberState.PRIMARY:
            return
        current = self.primary
        if current is not None:
            self._demote(current, self.now())
        self._cancel_election()
        member.electable_after = 0.0
        self._promote(member)

    def _cancel_election(self) -> None:
        # A running set without a primary always has an election pending.
        assert self._election is not None
        self._election.cancel()
        self._election = None

    async def step_down(
        self, seconds: float = 60.0, catch_up: float = 10.0, *, force: bool = False
    ) -> None:
        """What replSetStepDown does to the current primary (see its docstring)."""
        primary = self.primary
        if primary is None:
            raise RuntimeError("the replica set has no primary")
        await primary.step_down(seconds, catch_up, force=force)

    def demote_now(self, member: Member, seconds: float) -> None:
        """Step ``member`` down now; an election follows at once."""
        self._demote(member, self.now() + seconds)
        # The demotion scheduled an election after the timeout; a stepped
        # down primary calls one at once instead (mongod 4.0+ hands over).
        self._cancel_election()
        self._schedule_election(0.0)

    # -- faults ------------------------------------------------------------------

    async def kill(self, index: int) -> None:
        """Stop member ``index`` as if its process died: its listener and
        connections close; its data and oplog stay for :meth:`restart`."""
        member = self.members[index]
        if member.state is MemberState.DOWN:
            return
        member.state = MemberState.DOWN
        member.server.state.storage.observer = None
        member.cancel_pull()
        await member.server.stop()
        log.info("member %s killed", member.host)
        self._changed()

    async def restart(self, index: int) -> None:
        """Bring a killed member back on its port, as a secondary that
        catches up (rolling back what the set never saw)."""
        member = self.members[index]
        if not self._running:
            raise RuntimeError("the replica set is stopped")
        if member.state is not MemberState.DOWN:
            raise RuntimeError(f"member {index} is running")
        state = member.server.state
        state.process_id = ObjectId()  # a new process
        state.cursors.cursors.clear()
        member.topology_counter = 0
        member.electable_after = 0.0
        await member.server.start()
        member.state = MemberState.ARBITER if member.options.arbiter else MemberState.SECONDARY
        log.info("member %s restarted", member.host)
        self._changed()

    # -- waiting, for tests ----------------------------------------------------

    async def wait_for_primary(self) -> Member:
        """The primary, once there is one (bound it with ``asyncio.timeout``)."""
        while self.primary is None:
            await self.wait_progress(None)
        primary = self.primary
        assert primary is not None
        return primary

    async def wait_replicated(self) -> None:
        """Return once every live secondary has applied the primary's whole
        oplog (bound it with ``asyncio.timeout``)."""
        while True:
            primary = self.primary
            if primary is not None and all(m.caught_up(primary) for m in self.secondaries):
                return
            await self.wait_progress(None)

    def statistics(self) -> dict[str, Any]:
        """The set at a glance: term, primary, and per member its state and oplog length."""
        primary = self.primary
        return {
            "term": self.term,
            "primary": None if primary is None else primary.host,
            "members": [member.statistics() for member in self.members],
        }

    def __repr__(self) -> str:
        if not self._running:
            return f"<FakeMongoReplicaSet {self.name} stopped>"
        primary = self.primary
        shown = "no primary" if primary is None else f"primary {primary.host}"
        return f"<FakeMongoReplicaSet {self.name} term={self.term} {shown} members={len(self.members)}>"
