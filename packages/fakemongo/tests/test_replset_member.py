"""Replica set decisions as pure functions: elections, write majorities,
hello fields and the secondary command gate (fakemongo._member)."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Timestamp

from fakemongo import CommandError, ErrorCode, MemberOptions
from fakemongo._member import (
    MemberState,
    MemberView,
    applied_count,
    choose_primary,
    command_gate,
    election_id,
    hello_fields,
    majority_optime,
    secondary_ok,
    write_majority_count,
    writes_through_pipeline,
)
from fakemongo._oplog import OpTime

P, S, A, D = MemberState.PRIMARY, MemberState.SECONDARY, MemberState.ARBITER, MemberState.DOWN


def t(term: int, inc: int) -> OpTime:
    return OpTime(term, Timestamp(1000, inc))


def view(
    index: int,
    state: MemberState = S,
    optime: OpTime | None = None,
    electable_after: float = 0.0,
    **options: Any,
) -> MemberView:
    return MemberView(
        index,
        f"h:{index}",
        MemberOptions(**options),
        state,
        optime or t(1, 1),
        electable_after,
    )


@pytest.mark.parametrize(
    "options",
    [
        {"votes": 2},
        {"priority": -1},
        {"priority": 1001},
        {"hidden": True},  # priority must be 0 (manual: "Hidden Replica Set Members")
        {"arbiter": True},
        {"votes": 0},  # a non-voting member must have priority 0
        {"priority": 0, "delay": -1},
    ],
)
def test_member_options_mongod_refuses(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must|cannot"):
        MemberOptions(**options)


def test_passive_is_visible_data_bearing_priority_zero() -> None:
    assert MemberOptions(priority=0).passive
    assert not MemberOptions(priority=0, hidden=True).passive
    assert not MemberOptions(priority=0, arbiter=True).passive
    assert not MemberOptions().passive


def test_election_prefers_priority_then_freshness() -> None:
    views = [view(0, optime=t(1, 5)), view(1, optime=t(1, 9)), view(2, optime=t(1, 9), priority=2)]
    assert choose_primary(views, now=0) == 2
    views = [view(0, optime=t(1, 5)), view(1, optime=t(1, 9)), view(2, optime=t(1, 9))]
    assert choose_primary(views, now=0) == 1


def test_a_stale_candidate_loses_the_votes_of_fresher_members() -> None:
    # Member 0 has the highest priority but an older oplog: members 1 and 2
    # refuse it their votes (manual: "Replica Set Elections", voters only
    # vote for a candidate at least as up to date), so 1 wins.
    views = [
        view(0, optime=t(1, 1), priority=5),
        view(1, optime=t(1, 9)),
        view(2, optime=t(1, 9)),
    ]
    assert choose_primary(views, now=0) == 1


def test_no_election_without_a_majority_of_voters() -> None:
    views = [view(0), view(1, state=D), view(2, state=D)]
    assert choose_primary(views, now=0) is None


def test_arbiters_vote_and_are_never_elected() -> None:
    views = [view(0), view(1, state=D), view(2, state=A, priority=0, arbiter=True)]
    assert choose_primary(views, now=0) == 0


def test_frozen_priority_zero_and_dead_members_are_not_candidates() -> None:
    views = [
        view(0, electable_after=10),
        view(1, priority=0),
        view(2, state=D),
    ]
    assert choose_primary(views, now=5) is None
    assert choose_primary(views, now=10) == 0


def test_write_majority_and_commit_point() -> None:
    views = [
        view(0, state=P, optime=t(1, 9)),
        view(1, optime=t(1, 7)),
        view(2, optime=t(1, 3)),
        view(3, state=A, priority=0, arbiter=True),
        view(4, optime=t(1, 9), priority=0, votes=0),
    ]
    # Four voters: a majority is 3, and there are 3 data-bearing voters.
    assert write_majority_count(views) == 3
    assert majority_optime(views) == t(1, 3)
    assert applied_count(views, t(1, 7), voters_only=True) == 2
    assert applied_count(views, t(1, 7), voters_only=False) == 3
    # Two data-bearing voters and an arbiter: majority 2 of 3 voters.
    small = [view(0, state=P, optime=t(1, 9)), view(1), view(2, state=A, priority=0, arbiter=True)]
    assert write_majority_count(small) == 2


def test_election_ids_grow_with_the_term() -> None:
    assert str(election_id(1)) == "7fffffff0000000000000001"
    assert election_id(2) > election_id(1)


def _hello(views: list[MemberView], me: int, primary: int | None = 0) -> dict[str, Any]:
    return hello_fields(views, me, set_name="rs", set_version=1, term=3, primary=primary)


def test_hello_fields_of_primary_secondary_and_others() -> None:
    views = [
        view(0, state=P, optime=t(3, 2)),
        view(1, optime=t(3, 1), tags={"dc": "east"}),
        view(2, priority=0),
        view(3, priority=0, hidden=True),
        view(4, state=A, priority=0, arbiter=True),
    ]
    primary = _hello(views, 0)
    assert list(primary) == [
        "hosts",
        "passives",
        "arbiters",
        "setName",
        "setVersion",
        "secondary",
        "primary",
        "me",
        "electionId",
        "lastWrite",
    ]
    assert primary["hosts"] == ["h:0", "h:1"]
    assert primary["passives"] == ["h:2"]  # the hidden member is listed nowhere
    assert primary["arbiters"] == ["h:4"]
    assert primary["secondary"] is False
    assert primary["electionId"] == election_id(3)
    assert primary["lastWrite"]["opTime"] == {"ts": Timestamp(1000, 2), "t": 3}
    # Majority: 3 of 5 voters, and at most 4 data-bearing voters -> 3 have t(1,1).
    assert primary["lastWrite"]["majorityOpTime"]["t"] == 1
    secondary = _hello(views, 1)
    assert secondary["secondary"] is True
    assert secondary["tags"] == {"dc": "east"}
    assert "electionId" not in secondary
    assert _hello(views, 2)["passive"] is True
    assert _hello(views, 3)["hidden"] is True
    arbiter = _hello(views, 4, primary=None)
    assert arbiter["arbiterOnly"] is True
    assert "lastWrite" not in arbiter
    assert "primary" not in arbiter


def test_hello_without_passives_or_arbiters_omits_them() -> None:
    fields = _hello([view(0, state=P), view(1)], 1)
    assert "passives" not in fields
    assert "arbiters" not in fields


def _gate(
    name: str, state: MemberState, body: dict[str, Any] | None = None, db: str = "test"
) -> CommandError | None:
    try:
        command_gate(name, db, {name: 1, **(body or {})}, state)
    except CommandError as exc:
        return exc
    return None


def test_secondary_gate() -> None:
    # Manual: "Read Preference": a secondary serves reads only to clients
    # that allow it; writes only a primary takes ("not primary").
    for state in (P, S):
        assert _gate("hello", state) is None
    assert _gate("insert", P) is None
    error = _gate("insert", S)
    assert error is not None
    assert (error.code, error.errmsg) == (ErrorCode.NotWritablePrimary, "not primary")
    error = _gate("find", S)
    assert error is not None
    assert error.code == ErrorCode.NotPrimaryNoSecondaryOk
    assert error.errmsg == "not primary and secondaryOk=false"
    assert _gate("find", S, {"$readPreference": {"mode": "secondaryPreferred"}}) is None
    error = _gate("find", S, {"$readPreference": {"mode": "primary"}})
    assert error is not None
    assert _gate("insert", S, db="local") is None  # local is each member's own
    error = _gate("find", A, {"$readPreference": {"mode": "secondary"}})
    assert error is not None
    assert error.code == ErrorCode.NotPrimaryOrSecondary
    out: dict[str, Any] = {"$readPreference": {"mode": "secondary"}, "pipeline": [{"$out": "x"}]}
    error = _gate("aggregate", S, out)
    assert error is not None
    assert error.code == ErrorCode.CommandNotSupported
    assert _gate("aggregate", S, {**out, "pipeline": [{"$match": {}}]}) is None


def test_user_commands_are_refused_on_a_replica_set() -> None:
    error = _gate("createUser", P)
    assert error is not None
    assert error.code == ErrorCode.CommandNotSupported


def test_secondary_ok_and_pipeline_writes() -> None:
    assert not secondary_ok({})
    assert not secondary_ok({"$readPreference": "secondary"})
    assert secondary_ok({"$readPreference": {"mode": "nearest"}})
    assert not writes_through_pipeline({})
    assert not writes_through_pipeline({"pipeline": []})
    assert not writes_through_pipeline({"pipeline": [1]})
    assert writes_through_pipeline({"pipeline": [{"$merge": {"into": "x"}}]})
