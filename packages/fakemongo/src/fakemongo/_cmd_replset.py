"""replSetGetStatus, replSetGetConfig, replSetStepDown, replSetFreeze and
replSetStepUp (manual: the pages of those names).

On a standalone they answer as mongod without --replSet does: 76
NoReplicationEnabled.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from bson import Int64

from ._args import check_fields, get_bool, get_int
from ._dispatch import Context, command
from ._errors import CommandError, ErrorCode
from ._member import MemberState, majority_optime, write_majority_count

if TYPE_CHECKING:
    from ._replmember import Member

__all__: list[str] = []

_STATE_STR = {
    MemberState.PRIMARY: "PRIMARY",
    MemberState.SECONDARY: "SECONDARY",
    MemberState.ARBITER: "ARBITER",
    MemberState.DOWN: "(not reachable/healthy)",
}


def _member(ctx: Context) -> Member:
    member = ctx.server.replication
    if member is None:
        raise CommandError(ErrorCode.NoReplicationEnabled, "not running with --replSet")
    return member


def _date(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


@command("replSetGetStatus", admin_only=True)
def repl_set_get_status(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The set's state as this member sees it (manual: replSetGetStatus, Output)."""
    check_fields("replSetGetStatus", body, ("initialSync",))
    me = _member(ctx)
    rs = me.replset
    views = rs.views()
    primary = rs.primary
    committed = majority_optime(views)
    voters = [v for v in views if v.options.votes]
    members = []
    for member in rs.members:
        alive = member.state is not MemberState.DOWN
        entry: dict[str, Any] = {
            "_id": member.id,
            "name": member.host,
            "health": 1.0 if alive else 0.0,
            "state": int(member.state),
            "stateStr": _STATE_STR[member.state],
            "uptime": int(member.server.state.uptime()) if alive else 0,
        }
        if not member.options.arbiter:
            entry["optime"] = member.optime.document()
            entry["optimeDate"] = _date(member.optime.ts.time)
        if member.state is MemberState.SECONDARY and primary is not None:
            entry["syncSourceHost"] = primary.host
            entry["syncSourceId"] = primary.id
        else:
            entry["syncSourceHost"] = ""
            entry["syncSourceId"] = -1
        if member.state is MemberState.PRIMARY:
            entry["electionTime"] = member.oplog[-1].optime.ts if member.oplog else None
            entry["electionDate"] = rs.election_time
        entry["configVersion"] = rs.set_version
        entry["configTerm"] = rs.term
        if member is me:
            entry["self"] = True
        members.append(entry)
    return {
        "set": rs.name,
        "date": datetime.datetime.now(datetime.UTC),
        "myState": int(me.state),
        "term": Int64(rs.term),
        "syncSourceHost": primary.host if primary is not None and primary is not me else "",
        "heartbeatIntervalMillis": Int64(2000),
        "majorityVoteCount": len(voters) // 2 + 1,
        "writeMajorityCount": write_majority_count(views),
        "votingMembersCount": len(voters),
        "writableVotingMembersCount": sum(1 for v in voters if v.data_bearing),
        "optimes": {
            "lastCommittedOpTime": committed.document(),
            "appliedOpTime": me.optime.document(),
            "durableOpTime": me.optime.document(),
        },
        "members": members,
    }


@command("replSetGetConfig", admin_only=True)
def repl_set_get_config(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The set's configuration document (manual: "Replica Set Configuration")."""
    check_fields("replSetGetConfig", body, ("commitmentStatus", "includeNewlyAdded"))
    rs = _member(ctx).replset
    members = [
        {
            "_id": member.id,
            "host": member.host,
            "arbiterOnly": member.options.arbiter,
            "buildIndexes": True,
            "hidden": member.options.hidden,
            "priority": member.options.priority,
            "tags": dict(member.options.tags),
            "secondaryDelaySecs": Int64(0),
            "votes": member.options.votes,
        }
        for member in rs.members
    ]
    return {
        "config": {
            "_id": rs.name,
            "version": rs.set_version,
            "term": rs.term,
            "members": members,
            "protocolVersion": Int64(1),
            "writeConcernMajorityJournalDefault": True,
            "settings": {
                "chainingAllowed": True,
                "heartbeatIntervalMillis": 2000,
                "heartbeatTimeoutSecs": 10,
                "electionTimeoutMillis": int(rs.election_timeout * 1000),
                "catchUpTimeoutMillis": -1,
                "getLastErrorModes": {},
                "getLastErrorDefaults": {"w": 1, "wtimeout": 0},
                "replicaSetId": rs.replica_set_id,
            },
        }
    }


@command("replSetStepDown", admin_only=True)
async def repl_set_step_down(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Step the primary down for N seconds (default 60) once an electable
    secondary has caught up (within secondaryCatchUpPeriodSecs, default 10)."""
    check_fields("replSetStepDown", body, ("secondaryCatchUpPeriodSecs", "force"))
    me = _member(ctx)
    seconds = get_int("replSetStepDown", body, "replSetStepDown", 60)
    catch_up = get_int("replSetStepDown", body, "secondaryCatchUpPeriodSecs", 10)
    force = get_bool("replSetStepDown", body, "force")
    assert seconds is not None
    assert catch_up is not None
    if me.state is not MemberState.PRIMARY:
        raise CommandError(ErrorCode.NotWritablePrimary, "not primary so can't step down")
    if seconds < catch_up:
        raise CommandError(
            ErrorCode.BadValue, "stepdown period must be longer than secondaryCatchUpPeriodSecs"
        )
    await me.step_down(seconds, catch_up, force=force)
    return {}


@command("replSetFreeze", admin_only=True)
def repl_set_freeze(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Keep this member from seeking election for N seconds; 0 unfreezes."""
    check_fields("replSetFreeze", body, ())
    me = _member(ctx)
    seconds = get_int("replSetFreeze", body, "replSetFreeze", 0)
    assert seconds is not None
    if me.state is MemberState.PRIMARY:
        raise CommandError(
            ErrorCode.NotSecondary,
            "cannot freeze node when primary or running for election. state: Primary",
        )
    rs = me.replset
    me.electable_after = rs.now() + seconds if seconds > 0 else 0.0
    return {"info": "unfreezing"} if seconds <= 0 else {}


@command("replSetStepUp", admin_only=True)
def repl_set_step_up(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Make this member primary now (an election it wins at once)."""
    check_fields("replSetStepUp", body, ("skipDryRun",))
    me = _member(ctx)
    if me.state is MemberState.PRIMARY:
        return {"info": "already primary"}
    try:
        me.replset.elect(me.id)
    except ValueError as exc:
        raise CommandError(ErrorCode.CommandFailed, "Election failed.") from exc
    return {}
