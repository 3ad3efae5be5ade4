"""One replica set member at run time: its server, state, oplog and the
hooks its server's dispatcher and hello call.

A member's :class:`~fakemongo._state.ServerState` points here
(``state.replication``). The dispatcher asks :meth:`Member.admit` whether a
command may run in the member's state (and what write concern it must wait
for), then :meth:`Member.acknowledge` waits for that write concern against
the members' applied oplogs; hello asks :meth:`Member.hello` for the replica
set fields and :meth:`Member.topology_changed` to stream.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bson import Int64, Timestamp

from ._errors import CommandError, ErrorCode
from ._member import (
    WRITE_COMMANDS,
    MemberOptions,
    MemberState,
    MemberView,
    applied_count,
    command_gate,
    hello_fields,
    write_majority_count,
    writes_through_pipeline,
)
from ._oplog import OplogEntry, OpTime
from ._ttl import expire_documents

if TYPE_CHECKING:
    from ._replset import FakeMongoReplicaSet
    from ._server import FakeMongo

__all__ = ["Member", "WriteConcern"]

_ZERO_TS = Timestamp(0, 0)

# The hello fields a member writes over a standalone's reply.
_HELLO_KEYS = frozenset(
    {
        "isWritablePrimary",
        "ismaster",
        "topologyVersion",
        "hosts",
        "passives",
        "arbiters",
        "setName",
        "setVersion",
        "secondary",
        "arbiterOnly",
        "passive",
        "hidden",
        "primary",
        "me",
        "electionId",
        "lastWrite",
        "tags",
    }
)


@dataclass(frozen=True, slots=True)
class WriteConcern:
    """What a write on the primary waits for: ``w`` members (or "majority")
    within ``wtimeout`` seconds (0: no limit)."""

    w: int | str
    wtimeout: float
    document: dict[str, Any]


class Member:
    """A member of a :class:`~fakemongo.FakeMongoReplicaSet`."""

    def __init__(
        self, replset: FakeMongoReplicaSet, index: int, options: MemberOptions, server: FakeMongo
    ) -> None:
        self.replset = replset
        self.id = index
        self.options = options
        self.server = server
        self.state = MemberState.DOWN  # until the set starts
        self.oplog: list[OplogEntry] = []
        self.topology_counter = 0
        self.electable_after = 0.0
        self.rolled_back = 0
        self.pull: asyncio.TimerHandle | None = None
        #: replSetStepDown attempts under way: while any waits for a
        #: secondary to catch up, this primary takes no writes.
        self.stepping_down = 0
        self._topology_waiters: list[asyncio.Future[None]] = []

    # -- identity ------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.server.address

    @property
    def optime(self) -> OpTime:
        """The last applied entry's optime (arbiters hold no oplog)."""
        return self.oplog[-1].optime if self.oplog else OpTime(-1, _ZERO_TS)

    def view(self) -> MemberView:
        return MemberView(
            self.id, self.host, self.options, self.state, self.optime, self.electable_after
        )

    def caught_up(self, source: Member) -> bool:
        """Whether this member has applied all of ``source``'s oplog (and no more)."""
        mine, theirs = self.oplog, source.oplog
        return len(mine) == len(theirs) and mine[-1] is theirs[-1]

    def pin_port(self) -> None:
        # Started on port 0, a member must come back on the port it got.
        options = replace(self.server.options, port=self.server.port)
        self.server.options = self.server.state.options = options

    def ttl_interval(self) -> float:
        return self.server.options.ttl_monitor_seconds

    def expire_ttl(self) -> int:
        """One TTL monitor pass: on the primary only."""
        if self.state is not MemberState.PRIMARY:
            return 0
        return expire_documents(self.server.state.storage)

    def cancel_pull(self) -> None:
        if self.pull is not None:
            self.pull.cancel()
            self.pull = None

    # -- hello -----------------------------------------------------------------

    def bump_topology(self) -> None:
        """The member's view changed: move topologyVersion and wake streaming hellos."""
        self.topology_counter += 1
        waiters, self._topology_waiters = self._topology_waiters, []
        for waiter in waiters:
            waiter.set_result(None)

    @property
    def streams(self) -> bool:
        """Whether hello carries a topologyVersion (and so can be awaited)."""
        return self.replset.topology_version

    async def topology_changed(self, wait: float) -> None:
        """Return when topologyVersion moves, or after ``wait`` seconds."""
        waiter = asyncio.get_running_loop().create_future()
        self._topology_waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=wait)
        finally:
            if not waiter.done():  # timed out or cancelled: nobody waits on it now
                self._topology_waiters.remove(waiter)

    def hello(self, reply: dict[str, Any]) -> dict[str, Any]:
        """``reply`` (a standalone's hello) as this member answers it."""
        rs = self.replset
        first = "isWritablePrimary" if "isWritablePrimary" in reply else "ismaster"
        # A primary attempting to step down says it takes no writes (mongod's
        # TopologyCoordinator: primary and not stepping down), still names
        # itself primary, and is not a secondary yet.
        writable = self.state is MemberState.PRIMARY and not self.stepping_down
        out: dict[str, Any] = {first: writable}
        if rs.topology_version:
            out["topologyVersion"] = {
                "processId": self.server.state.process_id,
                "counter": Int64(self.topology_counter),
            }
        primary = rs.primary
        out.update(
            hello_fields(
                rs.views(),
                self.id,
                set_name=rs.name,
                set_version=rs.set_version,
                term=rs.term,
                primary=None if primary is None else primary.id,
            )
        )
        out.update((k, v) for k, v in reply.items() if k not in _HELLO_KEYS)
        return out

    # -- commands ----------------------------------------------------------------

    def admit(
        self, name: str, db: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], WriteConcern | None]:
        """Refuse what this member's state refuses; for a write on the
        primary, the write concern to wait for, and the body its handler
        should see (a w the standalone check would refuse, made 1)."""
        command_gate(name, db, body, self.state)
        writes = name in WRITE_COMMANDS or (name == "aggregate" and writes_through_pipeline(body))
        if self.state is not MemberState.PRIMARY or db == "local" or not writes:
            return body, None
        if self.stepping_down:
            # Manual, replSetStepDown "Behavior": the primary stops accepting
            # writes while it waits for a secondary to catch up (mongod's
            # stepdown attempt leaves it unable to accept writes: 10107).
            raise CommandError(ErrorCode.NotWritablePrimary, "not primary")
        given = body.get("writeConcern")
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            return body, None  # the handler refuses it
        w = given.get("w", self._default_w())
        wtimeout = given.get("wtimeout", 0)
        if not isinstance(wtimeout, int | float) or isinstance(wtimeout, bool):
            wtimeout = 0
        if isinstance(w, bool) or not isinstance(w, int | float | str):
            return body, None  # the handler refuses it
        if isinstance(w, str):
            if w != "majority":
                return body, None  # 79 UnknownReplWriteConcern, from the handler
        elif w > 1:
            body = {**body, "writeConcern": {**given, "w": 1}}
            w = int(w)
        elif w < 0:
            return body, None  # the handler refuses it
        document = {"w": w, "wtimeout": int(wtimeout)}
        return body, WriteConcern(w, wtimeout / 1000, document)

    def _default_w(self) -> int | str:
        # Manual: "Implicit Default Write Concern": majority, unless arbiters
        # leave too few data-bearing voters to make one.
        views = self.replset.views()
        voters = [v for v in views if v.options.votes]
        arbiters = sum(1 for v in voters if v.options.arbiter)
        data_voters = len(voters) - arbiters
        if arbiters and data_voters <= len(voters) // 2 + 1:
            return 1
        return "majority"

    async def acknowledge(self, reply: dict[str, Any], concern: WriteConcern) -> dict[str, Any]:
        """Wait until ``concern`` holds for everything this primary has
        written, then return ``reply``, with a writeConcernError if it timed
        out, could never be met, or the member stopped being primary."""
        if concern.w == 0:
            return reply
        rs = self.replset
        target = self.optime
        deadline = rs.now() + concern.wtimeout if concern.wtimeout else None
        while True:
            if self.state is not MemberState.PRIMARY:
                reply["writeConcernError"] = _concern_error(
                    ErrorCode.PrimarySteppedDown,
                    "Primary stepped down while waiting for replication",
                )
                return reply
            views = rs.views()
            if concern.w == "majority":
                satisfied = applied_count(views, target, voters_only=True) >= write_majority_count(
                    views
                )
            else:
                assert isinstance(concern.w, int)
                if concern.w > sum(1 for v in views if v.data_bearing):
                    reply["writeConcernError"] = _concern_error(
                        ErrorCode.UnsatisfiableWriteConcern, "Not enough data-bearing nodes"
                    )
                    return reply
                satisfied = applied_count(views, target, voters_only=False) >= concern.w
            if satisfied:
                return reply
            remaining = None if deadline is None else deadline - rs.now()
            if remaining is not None and remaining <= 0:
                error = _concern_error(
                    ErrorCode.WriteConcernFailed, "waiting for replication timed out"
                )
                error["errInfo"] = {
                    "wtimeout": True,
                    "writeConcern": {**concern.document, "provenance": "clientSupplied"},
                }
                reply["writeConcernError"] = error
                return reply
            await rs.wait_progress(remaining)

    async def step_down(self, seconds: float, catch_up: float, *, force: bool) -> None:
        """replSetStepDown: wait up to ``catch_up`` seconds for an electable
        secondary to have all of this primary's oplog, then step down for
        ``seconds`` (manual: replSetStepDown). Raises 262 ExceededTimeLimit
        when none caught up, unless ``force``."""
        rs = self.replset
        deadline = rs.now() + catch_up
        self.stepping_down += 1  # no more writes: the secondaries can catch up
        # Its hello changes (not writable): clients see a newer topologyVersion,
        # in streaming hellos and in the 10107 errors of refused writes, and
        # wait for the next primary instead of retrying on this one.
        self.bump_topology()
        try:
            while self.state is MemberState.PRIMARY and not self._electable_caught_up():
                remaining = deadline - rs.now()
                if remaining <= 0:
                    if force:
                        break
                    raise CommandError(
                        ErrorCode.ExceededTimeLimit,
                        f"No electable secondaries caught up as of {_wall_text()}. Please use "
                        "the replSetStepDown command with the argument {force: true} to force "
                        "node to step down.",
                    )
                await rs.wait_progress(remaining)
        except BaseException:
            self.stepping_down -= 1  # writable again, if still primary
            self.bump_topology()
            raise
        self.stepping_down -= 1
        if self.state is MemberState.PRIMARY:
            rs.demote_now(self, seconds)

    def _electable_caught_up(self) -> bool:
        now = self.replset.now()
        return any(
            m.state is MemberState.SECONDARY
            and m.options.priority > 0
            and m.electable_after <= now
            and m.caught_up(self)
            for m in self.replset.members
        )

    def statistics(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "state": self.state.name,
            "oplog": len(self.oplog),
            "rolled_back": self.rolled_back,
            "topology_counter": self.topology_counter,
        }

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.host} {self.state.name} oplog={len(self.oplog)}>"


def _concern_error(code: ErrorCode, errmsg: str) -> dict[str, Any]:
    return {"code": int(code), "codeName": code.name, "errmsg": errmsg}


def _wall_text() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
