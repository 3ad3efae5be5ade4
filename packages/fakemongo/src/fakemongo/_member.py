"""Replica set decisions, as pure functions over immutable member views.

Who wins an election, what a member's hello says, how many members have a
write, whether a command may run on a member in its state: the set
(:mod:`fakemongo._replset`) gathers a :class:`MemberView` per member and asks
these functions, then acts. Rules follow the manual ("Replica Set
Elections", "Replica Set Members", "hello", "Write Concern") and the SDAM
specification's list of hello fields drivers read.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from bson import ObjectId

from ._errors import CommandError, ErrorCode
from ._oplog import OpTime

__all__ = [
    "MemberOptions",
    "MemberState",
    "MemberView",
    "applied_count",
    "choose_primary",
    "command_gate",
    "election_id",
    "hello_fields",
    "majority_optime",
    "secondary_ok",
    "write_majority_count",
]


class MemberState(IntEnum):
    """replSetGetStatus ``state`` numbers (manual: "Replica Set Member States")."""

    PRIMARY = 1
    SECONDARY = 2
    ARBITER = 7
    DOWN = 8


@dataclass(frozen=True, slots=True)
class MemberOptions:
    """One member's configuration (manual: "Replica Set Configuration", members[n]).

    ``delay`` is fakemongo's replication lag for this member in seconds: it
    applies each oplog entry that long after the primary wrote it (0: on the
    event loop's next turn). Raises ValueError for a configuration mongod's
    replSetInitiate refuses (a hidden or arbiter member with priority, a
    non-voting member with priority, votes other than 0 or 1).
    """

    priority: float = 1.0
    votes: int = 1
    hidden: bool = False
    arbiter: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.votes not in (0, 1):
            raise ValueError("a member's votes must be 0 or 1")
        if not 0 <= self.priority <= 1000:
            raise ValueError("a member's priority must be between 0 and 1000")
        if self.priority > 0 and (self.hidden or self.arbiter or self.votes == 0):
            raise ValueError("hidden, arbiter and non-voting members must have priority 0")
        if self.delay < 0:
            raise ValueError("a member's replication delay cannot be negative")

    @property
    def passive(self) -> bool:
        """Listed under hello's ``passives``: data-bearing, visible, never primary."""
        return self.priority == 0 and not self.hidden and not self.arbiter


@dataclass(frozen=True, slots=True)
class MemberView:
    """What a decision needs to know of one member, at one moment."""

    id: int
    host: str
    options: MemberOptions
    state: MemberState
    optime: OpTime
    electable_after: float = 0.0  # frozen or stepped down until then (the set's clock)

    @property
    def alive(self) -> bool:
        return self.state is not MemberState.DOWN

    @property
    def data_bearing(self) -> bool:
        return not self.options.arbiter


def election_id(term: int) -> ObjectId:
    """The electionId of a term, as mongod makes it (OID::fromTerm: the max
    timestamp, then the term), so a later term's id is always greater."""
    return ObjectId(b"\x7f\xff\xff\xff" + term.to_bytes(8, "big"))


def _voters(views: Sequence[MemberView]) -> list[MemberView]:
    return [v for v in views if v.options.votes]


def choose_primary(views: Sequence[MemberView], now: float) -> int | None:
    """The member an election makes primary, or None when none can win.

    Candidates are alive, data-bearing, priority above 0, not frozen nor
    within a step-down period; the highest priority goes first, then the
    freshest oplog. A candidate wins with the votes of a majority of the
    voting members: an alive voter votes for it unless its own oplog is
    fresher (arbiters, holding none, always vote).
    """
    voters = _voters(views)
    needed = len(voters) // 2 + 1
    candidates = sorted(
        (
            v
            for v in views
            if v.alive and v.data_bearing and v.options.priority > 0 and v.electable_after <= now
        ),
        key=lambda v: (-v.options.priority, _rank(v.optime), v.id),
    )
    for candidate in candidates:
        votes = sum(
            1
            for voter in voters
            if voter.alive and (not voter.data_bearing or voter.optime <= candidate.optime)
        )
        if votes >= needed:
            return candidate.id
    return None


def _rank(optime: OpTime) -> tuple[int, int, int]:
    # Sorts the freshest first.
    return (-optime.term, -optime.ts.time, -optime.ts.inc)


def write_majority_count(views: Sequence[MemberView]) -> int:
    """How many data-bearing voters a w: "majority" write needs (manual:
    "Write Concern", calculating majority: a majority of the voting members,
    at most the number of data-bearing voters)."""
    voters = _voters(views)
    return min(len(voters) // 2 + 1, sum(1 for v in voters if v.data_bearing))


def applied_count(views: Sequence[MemberView], optime: OpTime, *, voters_only: bool) -> int:
    """How many data-bearing members (voting ones, with ``voters_only``) have
    applied ``optime``."""
    return sum(
        1
        for v in views
        if v.data_bearing and v.optime >= optime and (v.options.votes or not voters_only)
    )


def majority_optime(views: Sequence[MemberView]) -> OpTime:
    """The newest optime a majority has applied: the majority commit point."""
    applied = sorted((v.optime for v in _voters(views) if v.data_bearing), reverse=True)
    return applied[write_majority_count(views) - 1]


def _date(optime: OpTime) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(optime.ts.time, datetime.UTC)


def hello_fields(
    views: Sequence[MemberView],
    me: int,
    *,
    set_name: str,
    set_version: int,
    term: int,
    primary: int | None,
) -> dict[str, Any]:
    """The replica set fields of member ``me``'s hello, in mongod's order
    (manual: "hello", replica set fields; SDAM: hosts, passives, arbiters)."""
    view = views[me]
    visible = [v for v in views if not v.options.hidden]
    fields: dict[str, Any] = {
        "hosts": [v.host for v in visible if v.data_bearing and not v.options.passive],
    }
    passives = [v.host for v in visible if v.options.passive]
    if passives:
        fields["passives"] = passives
    arbiters = [v.host for v in visible if v.options.arbiter]
    if arbiters:
        fields["arbiters"] = arbiters
    fields["setName"] = set_name
    fields["setVersion"] = set_version
    fields["secondary"] = view.state is MemberState.SECONDARY
    if view.options.arbiter:
        fields["arbiterOnly"] = True
    if view.options.passive:
        fields["passive"] = True
    if view.options.hidden:
        fields["hidden"] = True
    if primary is not None:
        fields["primary"] = views[primary].host
    fields["me"] = view.host
    if view.state is MemberState.PRIMARY:
        fields["electionId"] = election_id(term)
    if view.data_bearing:
        majority = majority_optime(views)
        fields["lastWrite"] = {
            "opTime": view.optime.document(),
            "lastWriteDate": _date(view.optime),
            "majorityOpTime": majority.document(),
            "majorityWriteDate": _date(majority),
        }
    if view.options.tags:
        fields["tags"] = dict(view.options.tags)
    return fields


# Which commands a member that is not primary runs (mongod's
# Command::secondaryAllowed: kAlways, kOptIn with secondaryOk, kNever).
_ALWAYS = frozenset(
    {
        "hello",
        "isMaster",
        "ismaster",
        "ping",
        "buildInfo",
        "buildinfo",
        "hostInfo",
        "whatsmyuri",
        "getCmdLineOpts",
        "getParameter",
        "serverStatus",
        "listCommands",
        "endSessions",
        "killSessions",
        "refreshSessions",
        "killAllSessions",
        "saslStart",
        "saslContinue",
        "logout",
        "connectionStatus",
        "getMore",
        "killCursors",
        "replSetGetStatus",
        "replSetGetConfig",
        "replSetStepDown",
        "replSetFreeze",
        "replSetStepUp",
        "configureFailPoint",
        "waitForFailPoint",
    }
)
_OPT_IN = frozenset(
    {
        "find",
        "aggregate",
        "count",
        "distinct",
        "explain",
        "listCollections",
        "listIndexes",
        "listDatabases",
        "collStats",
        "collstats",
        "dbStats",
        "dbstats",
        "usersInfo",
    }
)
#: Every command a secondary refuses with 10107 NotWritablePrimary.
WRITE_COMMANDS = frozenset(
    {
        "insert",
        "update",
        "delete",
        "findAndModify",
        "findandmodify",
        "create",
        "drop",
        "dropDatabase",
        "createIndexes",
        "dropIndexes",
        "deleteIndexes",
        "renameCollection",
        "createUser",
        "dropUser",
    }
)
# User documents live outside the replicated storage in fakemongo.
_UNREPLICATED = frozenset({"createUser", "dropUser"})
_WRITE_STAGES = ("$out", "$merge")


def secondary_ok(body: Mapping[str, Any]) -> bool:
    """Whether an OP_MSG request may read from a secondary: a $readPreference
    whose mode is not primary (OP_MSG spec, "Global Command Arguments")."""
    preference = body.get("$readPreference")
    return isinstance(preference, Mapping) and preference.get("mode", "primary") != "primary"


def writes_through_pipeline(body: Mapping[str, Any]) -> bool:
    """An aggregate whose last stage is $out or $merge."""
    pipeline = body.get("pipeline")
    if not isinstance(pipeline, list) or not pipeline or not isinstance(pipeline[-1], Mapping):
        return False
    return next(iter(pipeline[-1]), None) in _WRITE_STAGES


def command_gate(name: str, db: str, body: Mapping[str, Any], state: MemberState) -> None:
    """Raise the error a member in ``state`` answers ``name`` with, if any.

    The local database is this member's own and always open (mongod's
    canAcceptWritesForDatabase). Raises 115 for what fakemongo cannot
    replicate (user changes; $out/$merge from a secondary).
    """
    if name in _UNREPLICATED:
        raise CommandError(
            ErrorCode.CommandNotSupported,
            f"fakemongo does not replicate users: {name} is not supported on a replica set; "
            "give FakeMongoReplicaSet(users=...) instead",
        )
    if state is MemberState.PRIMARY or db == "local" or name in _ALWAYS:
        return
    if state is MemberState.ARBITER:
        raise CommandError(
            ErrorCode.NotPrimaryOrSecondary, "node is not in primary or recovering state"
        )
    if name in _OPT_IN:
        if not secondary_ok(body):
            raise CommandError(
                ErrorCode.NotPrimaryNoSecondaryOk, "not primary and secondaryOk=false"
            )
        if name == "aggregate" and writes_through_pipeline(body):
            raise CommandError(
                ErrorCode.CommandNotSupported,
                "fakemongo does not run $out or $merge on a secondary; send it to the primary",
            )
        return
    raise CommandError(ErrorCode.NotWritablePrimary, "not primary")
