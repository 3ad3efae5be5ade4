"""Read preferences and server selection beyond the specification's JSON: validation,
the ``$readPreference`` document, unknown staleness, custom selectors, the window
choice and the timeout error."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from mongotor.pool import (
    PRIMARY,
    IncompatibleServerError,
    InvalidReadPreferenceError,
    Operation,
    ReadPreference,
    ReadPreferenceMode,
    ServerDescription,
    ServerSelectionError,
    ServerType,
    TopologyDescription,
    TopologySettings,
    TopologyType,
    choose_server,
    parse_uri,
    select_server,
    selection_timeout_error,
    suitable_servers,
    unknown_server,
)

NEAREST = ReadPreferenceMode.NEAREST
SECONDARY = ReadPreferenceMode.SECONDARY


def _server(address: str, kind: ServerType, **fields: object) -> ServerDescription:
    values: dict[str, object] = {"round_trip_time_ms": 5.0, "max_wire_version": 25, **fields}
    return ServerDescription(address, type=kind, **values)  # type: ignore[arg-type]


def _topology(kind: TopologyType, *servers: ServerDescription) -> TopologyDescription:
    settings = TopologySettings(seeds=tuple(server.address for server in servers))
    return TopologyDescription(kind, {server.address: server for server in servers}, settings)


# ---------------------------------------------------------------- read preferences


def test_read_preference_defaults_and_normalization() -> None:
    assert ReadPreference() == PRIMARY
    assert PRIMARY.tag_sets == ({},)
    assert ReadPreference(NEAREST, max_staleness_seconds=-1).max_staleness_seconds is None
    tagged = ReadPreference(SECONDARY, [{"dc": "ny"}, {}], 120)
    assert tagged == ReadPreference(SECONDARY, ({"dc": "ny"}, {}), 120)
    assert hash(tagged) == hash(ReadPreference(SECONDARY, ({"dc": "ny"}, {}), 120))
    assert repr(PRIMARY) == "ReadPreference(mode='primary')"
    assert repr(tagged) == (
        "ReadPreference(mode='secondary', tag_sets=[{'dc': 'ny'}, {}], max_staleness_seconds=120)"
    )


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        ((NEAREST, ({},), 0), "maxStalenessSeconds"),
        ((NEAREST, ({},), -2), "maxStalenessSeconds"),
        ((NEAREST, ({},), True), "maxStalenessSeconds"),
        ((ReadPreferenceMode.PRIMARY, ({"dc": "ny"},), None), "readPreferenceTags"),
        ((ReadPreferenceMode.PRIMARY, ({},), 120), "maxStalenessSeconds"),
    ],
)
def test_invalid_read_preferences(arguments: tuple[object, ...], option: str) -> None:
    with pytest.raises(InvalidReadPreferenceError) as raised:
        ReadPreference(*arguments)  # type: ignore[arg-type]
    assert raised.value.option == option
    assert (raised.value.remote, raised.value.retryable) == (False, False)


def test_read_preference_from_options() -> None:
    options = parse_uri(
        "mongodb://a/?readPreference=secondaryPreferred&readPreferenceTags=dc:ny"
        "&readPreferenceTags=&maxStalenessSeconds=120"
    )
    assert ReadPreference.from_options(options) == ReadPreference(
        ReadPreferenceMode.SECONDARY_PREFERRED, ({"dc": "ny"}, {}), 120
    )
    assert ReadPreference.from_options(parse_uri("mongodb://a")) == PRIMARY


def test_read_preference_document() -> None:
    assert PRIMARY.to_document() == {"mode": "primary"}
    assert ReadPreference(ReadPreferenceMode.SECONDARY_PREFERRED).to_document() == {
        "mode": "secondaryPreferred"
    }
    assert ReadPreference(SECONDARY, (), None).to_document() == {"mode": "secondary"}
    assert ReadPreference(NEAREST, [{"dc": "ny"}, {}], 90).to_document() == {
        "mode": "nearest",
        "tags": [{"dc": "ny"}, {}],
        "maxStalenessSeconds": 90,
    }


def test_max_staleness_floor() -> None:
    ReadPreference(NEAREST, max_staleness_seconds=90).check_max_staleness(80_000)
    with pytest.raises(InvalidReadPreferenceError, match="at least 91 ") as raised:
        ReadPreference(NEAREST, max_staleness_seconds=90).check_max_staleness(80_001)
    assert raised.value.expected == "an integer of at least 91"
    with pytest.raises(InvalidReadPreferenceError, match="at least 90 "):
        ReadPreference(NEAREST, max_staleness_seconds=89).check_max_staleness(500)
    PRIMARY.check_max_staleness(500)


# ---------------------------------------------------------------- staleness edge cases


def test_unknown_staleness_is_not_eligible() -> None:
    nearest = ReadPreference(NEAREST, max_staleness_seconds=120)
    primary = _server("p:27017", ServerType.RS_PRIMARY, last_update_time_ms=0, last_write_date_ms=0)
    fresh = _server("f:27017", ServerType.RS_SECONDARY, last_update_time_ms=0, last_write_date_ms=0)
    unwritten = _server("w:27017", ServerType.RS_SECONDARY, last_update_time_ms=0)
    unchecked = _server("u:27017", ServerType.RS_SECONDARY, last_write_date_ms=0)
    with_primary = _topology(
        TopologyType.REPLICA_SET_WITH_PRIMARY, primary, fresh, unwritten, unchecked
    )
    found = suitable_servers(with_primary, Operation.READ, nearest)
    assert [server.address for server in found] == ["p:27017", "f:27017"]
    # Without the primary's lastWriteDate no secondary's staleness can be estimated.
    blind = _topology(
        TopologyType.REPLICA_SET_WITH_PRIMARY,
        _server("p:27017", ServerType.RS_PRIMARY, last_update_time_ms=0),
        fresh,
    )
    assert [s.address for s in suitable_servers(blind, Operation.READ, nearest)] == ["p:27017"]
    # Without a primary, only a lastWriteDate is needed.
    no_primary = _topology(TopologyType.REPLICA_SET_NO_PRIMARY, unwritten, unchecked)
    assert [s.address for s in suitable_servers(no_primary, Operation.READ, nearest)] == ["u:27017"]


def test_empty_tag_set_list_matches_everything() -> None:
    topology = _topology(
        TopologyType.REPLICA_SET_NO_PRIMARY,
        _server("a:27017", ServerType.RS_SECONDARY, tags={"dc": "ny"}),
        _server("b:27017", ServerType.RS_SECONDARY),
    )
    found = suitable_servers(topology, Operation.READ, ReadPreference(SECONDARY, ()))
    assert len(found) == 2
    none = suitable_servers(topology, Operation.READ, ReadPreference(SECONDARY, [{"dc": "sf"}]))
    assert none == ()


# ---------------------------------------------------------------- choosing


def test_choose_server() -> None:
    only = _server("a:27017", ServerType.MONGOS)
    assert choose_server([only], rng=random.Random(1)) is only
    with pytest.raises(ValueError, match="empty"):
        choose_server([], rng=random.Random(1))
    busy, idle = only, _server("b:27017", ServerType.MONGOS)
    rng = random.Random(3)
    picks = {
        choose_server([busy, idle], rng=rng, operation_counts={"a:27017": 1}).address
        for _ in range(20)
    }
    assert picks == {"b:27017"}
    # Equal counts: the first random pick, so both servers come up.
    picks = {choose_server([busy, idle], rng=rng).address for _ in range(50)}
    assert picks == {"a:27017", "b:27017"}


def test_server_selector_filters_before_the_window() -> None:
    topology = _topology(
        TopologyType.SHARDED,
        _server("a:27017", ServerType.MONGOS, round_trip_time_ms=1.0),
        _server("b:27018", ServerType.MONGOS, round_trip_time_ms=100.0),
    )
    calls: list[int] = []

    def highest_port(servers: Sequence[ServerDescription]) -> Sequence[ServerDescription]:
        calls.append(len(servers))
        return [max(servers, key=lambda server: server.address.rsplit(":", 1)[1])]

    chosen = select_server(topology, Operation.WRITE, server_selector=highest_port)
    assert chosen is not None
    assert chosen.address == "b:27018"
    assert select_server(topology, Operation.READ, server_selector=lambda servers: ()) is None
    # Not called when nothing is suitable.
    unknown = _topology(TopologyType.UNKNOWN, _server("a:27017", ServerType.MONGOS))
    assert select_server(unknown, Operation.READ, server_selector=highest_port) is None
    assert calls == [2]


def test_unmeasured_servers_are_the_slowest() -> None:
    measured = _server("a:27017", ServerType.MONGOS, round_trip_time_ms=500.0)
    unmeasured = _server("b:27017", ServerType.MONGOS, round_trip_time_ms=None)
    topology = _topology(TopologyType.SHARDED, measured, unmeasured)
    for _ in range(10):
        assert select_server(topology, Operation.WRITE) == measured
    alone = _topology(TopologyType.SHARDED, unmeasured)
    assert select_server(alone, Operation.WRITE) == unmeasured


def test_incompatible_topology_refuses_selection() -> None:
    topology = _topology(
        TopologyType.SINGLE, _server("a:27017", ServerType.STANDALONE, max_wire_version=6)
    )
    with pytest.raises(IncompatibleServerError, match="requires at least 8"):
        select_server(topology, Operation.READ)


# ---------------------------------------------------------------- the timeout error


def test_timeout_error_when_servers_are_available() -> None:
    topology = _topology(
        TopologyType.REPLICA_SET_NO_PRIMARY, _server("a:27017", ServerType.RS_SECONDARY)
    )
    error = selection_timeout_error(topology, Operation.WRITE, timeout_ms=30_000)
    assert isinstance(error, ServerSelectionError)
    assert str(error) == (
        "server selection timed out after 30000 ms: no server is suitable for write "
        "[topology ReplicaSetNoPrimary: a:27017 (RSSecondary)]"
    )
    assert (error.criteria, error.topology, error.timeout_ms) == ("write", topology, 30_000)
    assert (error.remote, error.retryable) == (True, True)
    read = selection_timeout_error(
        topology, Operation.READ, ReadPreference(SECONDARY, [{"dc": "ny"}]), timeout_ms=5.5
    )
    assert read.criteria == "read with ReadPreference(mode='secondary', tag_sets=[{'dc': 'ny'}])"
    assert "after 5.5 ms" in str(read)


def test_timeout_error_shows_the_servers_errors() -> None:
    topology = _topology(
        TopologyType.UNKNOWN,
        unknown_server("a:27017", error="connection refused"),
        unknown_server("b:27017", error="connection refused"),
        unknown_server("c:27017", error="timed out"),
        unknown_server("d:27017"),
    )
    error = selection_timeout_error(topology, Operation.READ, timeout_ms=10)
    assert "after 10 ms: connection refused; timed out [topology Unknown:" in str(error)
    fresh = _topology(TopologyType.UNKNOWN, unknown_server("a:27017"))
    assert "no server has answered a check yet" in str(
        selection_timeout_error(fresh, Operation.READ, timeout_ms=10)
    )
