"""Discovery beyond the specification's JSON: hello parsing, descriptions, settings,
the topology diff and the decisions for application errors, case by case."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from bson import Int64, ObjectId
from bson.datetime_ms import DatetimeMS

from mongotor.pool import (
    BACKPRESSURE_LABELS,
    ApplicationError,
    ConfigurationError,
    ConflictingOptionsError,
    ErrorKind,
    ErrorOutcome,
    IncompatibleServerError,
    ServerDescription,
    ServerType,
    StateChangeCode,
    TopologyDescription,
    TopologySettings,
    TopologyType,
    TopologyVersion,
    average_round_trip_time,
    compare_topology_versions,
    establishment_error_labels,
    handle_application_error,
    initial_topology,
    is_not_writable_primary,
    is_recovering,
    is_shutting_down,
    is_state_change_error,
    normalize_address,
    parse_hello,
    parse_uri,
    pool_ready,
    topology_changes,
    unknown_server,
    update_topology,
)

PROCESS = ObjectId("000000000000000000000001")
OTHER_PROCESS = ObjectId("000000000000000000000002")


def _hello(**fields: Any) -> dict[str, Any]:
    return {"ok": 1, "minWireVersion": 0, "maxWireVersion": 25, **fields}


def _parse(reply: dict[str, Any], address: str = "a:27017") -> ServerDescription:
    return parse_hello(address, reply, round_trip_time_ms=3.0, last_update_time_ms=100.0)


def _rs(*addresses: str, replica_set: str = "rs") -> TopologyDescription:
    return initial_topology(TopologySettings(seeds=addresses, replica_set=replica_set))


# ---------------------------------------------------------------- parsing hello


@pytest.mark.parametrize(
    ("address", "normalized"),
    [
        ("A", "a:27017"),
        ("Db.Example.COM:27018", "db.example.com:27018"),
        ("[::1]", "[::1]:27017"),
        ("[FE80::1]:27019", "[fe80::1]:27019"),
        ("/tmp/Mongo.sock", "/tmp/Mongo.sock"),
    ],
)
def test_normalize_address(address: str, normalized: str) -> None:
    assert normalize_address(address) == normalized


@pytest.mark.parametrize(
    ("reply", "server_type"),
    [
        (_hello(isWritablePrimary=True), ServerType.STANDALONE),
        (_hello(ismaster=True, msg="isdbgrid"), ServerType.MONGOS),
        (_hello(isreplicaset=True, setName="rs"), ServerType.RS_GHOST),
        (_hello(setName="rs", isWritablePrimary=True), ServerType.RS_PRIMARY),
        (_hello(setName="rs", ismaster=True), ServerType.RS_PRIMARY),
        # isWritablePrimary wins over the legacy field when both are present.
        (_hello(setName="rs", isWritablePrimary=False, ismaster=True), ServerType.RS_OTHER),
        (_hello(setName="rs", secondary=True), ServerType.RS_SECONDARY),
        (_hello(setName="rs", secondary=True, hidden=True), ServerType.RS_OTHER),
        (_hello(setName="rs", arbiterOnly=True), ServerType.RS_ARBITER),
        (_hello(setName="rs"), ServerType.RS_OTHER),
        (_hello(ok=0.0, setName="rs", secondary=True), ServerType.UNKNOWN),
        ({}, ServerType.UNKNOWN),
    ],
)
def test_server_type_of_reply(reply: dict[str, Any], server_type: ServerType) -> None:
    assert _parse(reply).type is server_type


def test_failed_hello_is_unknown_with_why_and_no_rtt() -> None:
    reply = {
        "ok": 0,
        "errmsg": "not authorized",
        "code": 13,
        "topologyVersion": {"processId": PROCESS, "counter": Int64(4)},
    }
    server = _parse(reply)
    assert server.type is ServerType.UNKNOWN
    assert server.error == "hello failed: not authorized (code 13)"
    assert server.round_trip_time_ms is None
    assert server.topology_version == TopologyVersion(PROCESS, 4)
    assert _parse({"ok": 0}).error == "hello failed: no error message"


def test_hello_fields_are_parsed_and_normalized() -> None:
    election = ObjectId("7fffffff0000000000000003")
    server = _parse(
        _hello(
            setName="rs",
            secondary=True,
            me="A:27017",
            primary="B",
            hosts=["A:27017", "B"],
            passives=["C:27017"],
            arbiters=["D:27017", 7],
            tags={"dc": "ny", "rack": 2},
            setVersion=Int64(3),
            electionId=election,
            logicalSessionTimeoutMinutes=30,
            topologyVersion={"processId": PROCESS, "counter": 2},
            iscryptd=True,
            lastWrite={"lastWriteDate": datetime.datetime(1970, 1, 1, 0, 0, 1)},
        )
    )
    assert server.me == "a:27017"
    assert server.primary == "b:27017"
    assert server.members == ("a:27017", "b:27017", "c:27017", "d:27017")
    assert dict(server.tags) == {"dc": "ny", "rack": "2"}
    assert (server.set_name, server.set_version, server.election_id) == ("rs", 3, election)
    assert server.logical_session_timeout_minutes == 30
    assert server.topology_version == TopologyVersion(PROCESS, 2)
    assert server.iscryptd is True
    assert server.last_write_date_ms == 1000
    assert (server.round_trip_time_ms, server.last_update_time_ms) == (3.0, 100.0)
    assert (server.min_wire_version, server.max_wire_version) == (0, 25)


@pytest.mark.parametrize(
    ("last_write", "expected"),
    [
        ({"lastWriteDate": datetime.datetime(1970, 1, 1, 0, 0, 2, tzinfo=datetime.UTC)}, 2000),
        ({"lastWriteDate": DatetimeMS(1500)}, 1500),
        ({"lastWriteDate": Int64(7)}, 7),
        ({"lastWriteDate": "yesterday"}, None),
        ({}, None),
        ("not a document", None),
    ],
)
def test_last_write_date(last_write: object, expected: int | None) -> None:
    assert _parse(_hello(setName="rs", lastWrite=last_write)).last_write_date_ms == expected


def test_wrongly_typed_fields_count_as_absent() -> None:
    server = _parse(
        _hello(
            setName="rs",
            maxWireVersion=True,
            hosts="a:27017",
            tags=["dc"],
            electionId="7fffffff0000000000000003",
            topologyVersion={"processId": "p", "counter": 1},
            me=3,
        )
    )
    assert server.max_wire_version == 0
    assert server.hosts == ()
    assert dict(server.tags) == {}
    assert server.election_id is None
    assert server.topology_version is None
    assert server.me is None
    assert _parse(_hello(topologyVersion="tv")).topology_version is None


# ---------------------------------------------------------------- descriptions


def test_server_description_defaults_and_immutability() -> None:
    server = ServerDescription("a:27017", tags={"dc": "ny"})
    assert server.type is ServerType.UNKNOWN
    assert not server.is_available
    assert dict(server.tags) == {"dc": "ny"}
    assert hash(server.tags) == hash(ServerDescription("a:27017", tags={"dc": "ny"}).tags)
    with pytest.raises(AttributeError):
        server.type = ServerType.STANDALONE  # type: ignore[misc]


def test_sdam_equality_ignores_times_and_member_order() -> None:
    one = _parse(_hello(setName="rs", secondary=True, hosts=["a", "b"]))
    two = parse_hello(
        "a:27017",
        _hello(setName="rs", secondary=True, hosts=["b", "a"]),
        round_trip_time_ms=50.0,
        last_update_time_ms=900.0,
    )
    assert one.sdam_equal(two)
    assert one != two
    assert not one.sdam_equal(unknown_server("a:27017"))
    assert not unknown_server("a:27017", error="x").sdam_equal(unknown_server("a:27017"))


def test_average_round_trip_time() -> None:
    assert average_round_trip_time(None, 10.0) == 10.0
    assert average_round_trip_time(10.0, 20.0) == pytest.approx(12.0)
    with pytest.raises(ValueError, match="negative"):
        average_round_trip_time(10.0, -1.0)


def test_compare_topology_versions() -> None:
    one, two = TopologyVersion(PROCESS, 1), TopologyVersion(PROCESS, 2)
    assert compare_topology_versions(one, two) == -1
    assert compare_topology_versions(two, one) == 1
    assert compare_topology_versions(two, TopologyVersion(PROCESS, 2)) == 0
    # A missing version or another process: the incoming one counts as newer.
    assert compare_topology_versions(None, one) == -1
    assert compare_topology_versions(two, None) == -1
    assert compare_topology_versions(two, TopologyVersion(OTHER_PROCESS, 0)) == -1


# ---------------------------------------------------------------- settings and topology


def test_settings_validation() -> None:
    with pytest.raises(ConfigurationError, match="seed"):
        TopologySettings(seeds=())
    with pytest.raises(ConflictingOptionsError) as conflict:
        TopologySettings(seeds=("a:27017", "b:27017"), direct_connection=True)
    assert conflict.value.option == "directConnection"
    with pytest.raises(ValueError, match="heartbeatFrequencyMS"):
        TopologySettings(seeds=("a:27017",), heartbeat_frequency_ms=499)
    with pytest.raises(ValueError, match="localThresholdMS"):
        TopologySettings(seeds=("a:27017",), local_threshold_ms=-1)


def test_settings_from_options() -> None:
    settings = TopologySettings.from_options(
        parse_uri("mongodb://A,b:27018/?replicaSet=rs&heartbeatFrequencyMS=600&localThresholdMS=0")
    )
    assert settings == TopologySettings(
        seeds=("a:27017", "b:27018"),
        replica_set="rs",
        heartbeat_frequency_ms=600,
        local_threshold_ms=0,
    )
    defaults = TopologySettings.from_options(parse_uri("mongodb://a/?directConnection=true"))
    assert (defaults.heartbeat_frequency_ms, defaults.local_threshold_ms) == (10_000, 15)
    assert defaults.direct_connection is True
    with pytest.raises(ConfigurationError, match="seed"):
        TopologySettings.from_options(parse_uri("mongodb+srv://cluster.example.com"))


def test_initial_topology_types() -> None:
    single = initial_topology(TopologySettings(seeds=("a:27017",), direct_connection=True))
    assert single.type is TopologyType.SINGLE
    assert _rs("a:27017").type is TopologyType.REPLICA_SET_NO_PRIMARY
    assert _rs("a:27017").set_name == "rs"
    unknown = initial_topology(TopologySettings(seeds=("a:27017", "b:27017")))
    assert unknown.type is TopologyType.UNKNOWN
    assert [server.type for server in unknown.servers.values()] == [ServerType.UNKNOWN] * 2


def test_topology_description_invariants() -> None:
    settings = TopologySettings(seeds=("a:27017",))
    with pytest.raises(ValueError, match="describes"):
        TopologyDescription(TopologyType.UNKNOWN, {"a:27017": unknown_server("b:27017")}, settings)
    topology = initial_topology(settings)
    with pytest.raises(TypeError):
        topology.servers["b:27017"] = unknown_server("b:27017")  # type: ignore[index]
    same = initial_topology(settings)
    assert same == topology
    assert hash(same) == hash(topology)
    assert update_topology(topology, _parse(_hello())) != topology


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (
            {"minWireVersion": 26, "maxWireVersion": 30},
            "Server at a:27017 requires wire version 26, but this version of mongotor only "
            "supports up to 25.",
        ),
        (
            {"minWireVersion": 0, "maxWireVersion": 7},
            "Server at a:27017 reports wire version 7, but this version of mongotor requires "
            "at least 8 (MongoDB 4.2).",
        ),
    ],
)
def test_incompatible_server(wire: dict[str, int], message: str) -> None:
    topology = initial_topology(TopologySettings(seeds=("a:27017",)))
    topology = update_topology(topology, _parse({"ok": 1, **wire}))
    assert topology.compatibility_error == message
    with pytest.raises(IncompatibleServerError) as raised:
        topology.check_compatible()
    assert str(raised.value) == message
    assert raised.value.address == "a:27017"
    assert (raised.value.min_wire_version, raised.value.max_wire_version) == (
        wire["minWireVersion"],
        wire["maxWireVersion"],
    )
    assert (raised.value.remote, raised.value.retryable) == (True, False)


def test_outcomes_to_ignore_return_the_same_description() -> None:
    topology = _rs("a:27017")
    # A server the topology no longer has (SDAM, "Other TopologyTypes").
    assert update_topology(topology, _parse(_hello(setName="rs"), "z:27017")) is topology
    five = {"processId": PROCESS, "counter": 5}
    topology = update_topology(
        topology, _parse(_hello(setName="rs", secondary=True, topologyVersion=five))
    )
    assert topology.servers["a:27017"].topology_version == TopologyVersion(PROCESS, 5)
    # An older topologyVersion is ignored; an equal one replaces the description.
    four = {"processId": PROCESS, "counter": 4}
    assert update_topology(topology, _parse(_hello(setName="rs", topologyVersion=four))) is (
        topology
    )
    again = update_topology(topology, _parse(_hello(setName="rs", topologyVersion=five)))
    assert again.servers["a:27017"].type is ServerType.RS_OTHER


def test_single_with_replica_set_name() -> None:
    settings = TopologySettings(seeds=("a:27017",), replica_set="rs", direct_connection=True)
    topology = initial_topology(settings)
    ghost = update_topology(topology, _parse(_hello(isreplicaset=True)))
    assert ghost.servers["a:27017"].type is ServerType.UNKNOWN
    assert "reports no replica set" in (ghost.servers["a:27017"].error or "")
    other = update_topology(topology, _parse(_hello(setName="other", secondary=True)))
    assert "reports 'other'" in (other.servers["a:27017"].error or "")
    down = update_topology(topology, unknown_server("a:27017", error="connection refused"))
    assert down.servers["a:27017"].error == "connection refused"
    assert ghost.type is other.type is down.type is TopologyType.SINGLE


def test_former_primary_names_the_next_one() -> None:
    topology = _rs("a:27017", "b:27017")
    topology = update_topology(
        topology, _parse(_hello(setName="rs", isWritablePrimary=True, hosts=["a", "b"]))
    )
    assert topology.type is TopologyType.REPLICA_SET_WITH_PRIMARY
    stepped_down = _hello(setName="rs", secondary=True, hosts=["a", "b"], primary="b")
    topology = update_topology(topology, _parse(stepped_down))
    assert topology.type is TopologyType.REPLICA_SET_NO_PRIMARY
    assert topology.servers["b:27017"].type is ServerType.POSSIBLE_PRIMARY
    assert topology.primary is None


# ---------------------------------------------------------------- changes for the shell


def test_topology_changes() -> None:
    start = _rs("a:27017", "b:27017")
    primary_c = _hello(
        setName="rs",
        isWritablePrimary=True,
        hosts=["a", "c"],
        electionId=ObjectId("7fffffff0000000000000002"),
    )
    # c is not a member yet: its outcome is ignored.
    assert update_topology(start, _parse(primary_c, "c:27017")) is start
    primary_a = _hello(
        setName="rs",
        isWritablePrimary=True,
        hosts=["a", "b", "c"],
        electionId=ObjectId("7fffffff0000000000000001"),
    )
    with_a = update_topology(start, _parse(primary_a))
    changes = topology_changes(start, with_a)
    assert (changes.added, changes.removed, changes.changed) == (("c:27017",), (), ("a:27017",))
    assert changes.check_now == ()
    assert changes
    with_c = update_topology(with_a, _parse(primary_c, "c:27017"))
    changes = topology_changes(with_a, with_c)
    assert changes.added == ()
    assert changes.removed == ("b:27017",)
    assert changes.changed == ("a:27017", "c:27017")
    # The displaced primary: check it now, keep its pool.
    assert changes.check_now == ("a:27017",)
    assert not topology_changes(with_c, with_c)


def test_pool_ready() -> None:
    single = initial_topology(TopologySettings(seeds=("a:27017",), direct_connection=True))
    arbiter = _parse(_hello(setName="rs", arbiterOnly=True))
    assert pool_ready(single, arbiter)
    assert not pool_ready(single, unknown_server("a:27017"))
    assert not pool_ready(_rs("a:27017"), arbiter)
    assert pool_ready(_rs("a:27017"), _parse(_hello(setName="rs", secondary=True)))


# ---------------------------------------------------------------- application errors


def _primary_topology(**fields: Any) -> TopologyDescription:
    reply = _hello(setName="rs", isWritablePrimary=True, hosts=["a"], **fields)
    return update_topology(_rs("a:27017"), _parse(reply))


def _actions(outcome: ErrorOutcome) -> tuple[bool, bool, bool, bool]:
    """(marked_unknown, clear_pool, request_check, cancel_check)."""
    return (
        outcome.marked_unknown,
        outcome.clear_pool,
        outcome.request_check,
        outcome.cancel_check,
    )


def _error(reply: dict[str, Any], **context: Any) -> ApplicationError:
    arguments: dict[str, Any] = {
        "generation": 0,
        "completed_handshake": True,
        "max_wire_version": 25,
        **context,
    }
    error = ApplicationError.from_reply("a:27017", reply, **arguments)
    assert error is not None
    return error


def test_state_change_classification() -> None:
    assert is_recovering(None, "node is recovering")
    assert is_recovering(None, "not master or secondary; cannot read")
    assert not is_recovering(1, "node is recovering")
    assert is_not_writable_primary(None, "not master")
    assert not is_not_writable_primary(None, "not master or secondary")
    assert not is_not_writable_primary(None, "something else")
    assert is_not_writable_primary(StateChangeCode.LEGACY_NOT_PRIMARY, "")
    assert is_state_change_error(None, "not master and secondaryOk=false")
    assert not is_state_change_error(11000, "E11000 duplicate key")
    assert is_shutting_down(91)
    assert not is_shutting_down(189)
    assert not is_shutting_down(None)


def test_error_from_reply() -> None:
    assert (
        ApplicationError.from_reply(
            "a:27017", {"ok": 1}, generation=0, completed_handshake=True, max_wire_version=25
        )
        is None
    )
    concern = _error(
        {
            "ok": 1,
            "writeConcernError": {"code": 91, "errmsg": "Replication is being shut down"},
            "errorLabels": ["RetryableWriteError", 3],
        }
    )
    assert (concern.code, concern.message) == (91, "Replication is being shut down")
    assert concern.labels == frozenset({"RetryableWriteError"})
    failed = _error({"ok": 0, "errmsg": "not primary", "code": True, "errorLabels": "x"})
    assert failed.code is None
    assert failed.labels == frozenset()
    assert failed.describe() == "command error: not primary"
    assert _error({"ok": 0, "code": 13}).describe() == "command error: no error message (code 13)"
    network = ApplicationError(
        "a:27017", ErrorKind.NETWORK, generation=0, completed_handshake=True, max_wire_version=25
    )
    assert network.describe() == "network error: connection failed"


def test_write_concern_shutdown_marks_unknown_and_clears() -> None:
    topology = _primary_topology()
    error = _error({"ok": 1, "writeConcernError": {"code": 91, "errmsg": "shutting down"}})
    outcome = handle_application_error(topology, error, pool_generation=0)
    assert _actions(outcome) == (True, True, True, False)
    assert outcome.topology.type is TopologyType.REPLICA_SET_NO_PRIMARY
    assert outcome.topology.servers["a:27017"].error == "command error: shutting down (code 91)"


def test_state_change_during_handshake_clears_the_pool() -> None:
    error = _error({"ok": 0, "code": 10107, "errmsg": "not primary"}, completed_handshake=False)
    outcome = handle_application_error(_primary_topology(), error, pool_generation=0)
    assert _actions(outcome) == (True, True, True, False)


def test_handshake_command_error_marks_unknown() -> None:
    # SDAM, "MongoDB Handshake errors": e.g. authentication failed (code 18).
    error = _error({"ok": 0, "code": 18, "errmsg": "auth failed"}, completed_handshake=False)
    outcome = handle_application_error(_primary_topology(), error, pool_generation=0)
    assert _actions(outcome) == (True, True, False, True)
    after = handle_application_error(
        _primary_topology(), _error({"ok": 0, "code": 18}), pool_generation=0
    )
    assert _actions(after) == (False, False, False, False)
    assert after.reason == "command error after the handshake"


def test_errors_that_change_nothing() -> None:
    topology = _primary_topology()
    gone = ApplicationError(
        "z:27017", ErrorKind.NETWORK, generation=0, completed_handshake=True, max_wire_version=25
    )
    outcome = handle_application_error(topology, gone, pool_generation=0)
    assert outcome.topology is topology
    assert _actions(outcome) == (False, False, False, False)
    assert outcome.reason == "the server is no longer in the topology"
    overloaded = ApplicationError(
        "a:27017",
        ErrorKind.TIMEOUT,
        generation=0,
        completed_handshake=False,
        max_wire_version=25,
        labels=establishment_error_labels(ErrorKind.TIMEOUT),
    )
    assert establishment_error_labels(ErrorKind.TIMEOUT) == BACKPRESSURE_LABELS
    assert establishment_error_labels(ErrorKind.COMMAND) == frozenset()
    outcome = handle_application_error(topology, overloaded, pool_generation=0)
    assert outcome.topology is topology
    assert "SystemOverloadedError" in outcome.reason
