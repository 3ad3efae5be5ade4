"""The Server Selection and Max Staleness specifications' tests, over the pure core.

- server_selection/server_selection/**: a TopologyDescription and a read
  preference in, ``suitable_servers`` and ``in_latency_window`` out (with
  ``deprioritized_servers`` passed to every call); :func:`select_server` must
  then choose one of the window, or nothing when it is empty.
- max_staleness/**: the same, or ``error: true``, which must raise
  :class:`InvalidReadPreferenceError` from making the read preference or from
  selecting with it.
- server_selection/rtt/*: :func:`average_round_trip_time`.
- server_selection/in_window/*: ``iterations`` selections with the mocked
  operation counts; observed frequencies within ``tolerance``, exactly for 0 and
  1. The random source is a seeded ``random.Random``, so each run is the same.
- LoadBalanced/**: mongotor refuses load-balancer mode; the test asserts that
  neither the topology type nor the server type exists here.

A server given without ``maxWireVersion`` is taken to speak the newest wire
version mongotor supports (the selection tests are not about compatibility).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest
from bson import json_util

from mongotor.pool import (
    MAX_SUPPORTED_WIRE_VERSION,
    InvalidReadPreferenceError,
    Operation,
    ReadPreference,
    ReadPreferenceMode,
    ServerDescription,
    ServerType,
    TopologyDescription,
    TopologySettings,
    TopologyType,
    average_round_trip_time,
    latency_window,
    normalize_address,
    select_server,
    suitable_servers,
)

# Cases deliberately not passed: id -> the exact reason (strict expected failures).
KNOWN_GAPS: dict[str, str] = {}

_MODES = {mode.value.lower(): mode for mode in ReadPreferenceMode}


def _extended(document: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = json_util.loads(json.dumps(document))
    return decoded


def _server(spec: dict[str, Any]) -> ServerDescription:
    return ServerDescription(
        normalize_address(spec["address"]),
        type=ServerType(spec["type"]),
        round_trip_time_ms=spec.get("avg_rtt_ms"),
        last_update_time_ms=spec.get("lastUpdateTime"),
        last_write_date_ms=spec.get("lastWrite", {}).get("lastWriteDate"),
        max_wire_version=spec.get("maxWireVersion", MAX_SUPPORTED_WIRE_VERSION),
        tags=spec.get("tags", {}),
    )


def _topology(case: dict[str, Any]) -> TopologyDescription:
    described = case["topology_description"]
    servers = {server.address: server for server in map(_server, described["servers"])}
    settings = TopologySettings(
        seeds=tuple(servers) or ("a:27017",),
        heartbeat_frequency_ms=case.get("heartbeatFrequencyMS", 10_000),
    )
    return TopologyDescription(TopologyType(described["type"]), servers, settings)


def _read_preference(spec: dict[str, Any]) -> ReadPreference:
    return ReadPreference(
        _MODES[spec.get("mode", "primary").lower()],
        spec.get("tag_sets", [{}]),
        spec.get("maxStalenessSeconds"),
    )


def _addresses(servers: Any) -> list[str]:
    return sorted(
        server.address if isinstance(server, ServerDescription) else server["address"]
        for server in servers
    )


def _run_selection(raw: dict[str, Any]) -> None:
    case = _extended(raw)
    topology = _topology(case)
    operation = Operation(case.get("operation", "read"))
    if case.get("error"):
        with pytest.raises(InvalidReadPreferenceError):
            select_server(topology, operation, _read_preference(case["read_preference"]))
        return
    read_preference = _read_preference(case["read_preference"])
    deprioritized = {
        normalize_address(server["address"]) for server in case.get("deprioritized_servers", [])
    }
    suitable = suitable_servers(topology, operation, read_preference, deprioritized=deprioritized)
    assert _addresses(suitable) == _addresses(case["suitable_servers"])
    window = latency_window(suitable, topology.settings.local_threshold_ms)
    expected_window = _addresses(case["in_latency_window"])
    assert _addresses(window) == expected_window
    rng = random.Random(7)
    for _ in range(20):
        chosen = select_server(
            topology, operation, read_preference, deprioritized=deprioritized, rng=rng
        )
        if not expected_window:
            assert chosen is None
        else:
            assert chosen is not None
            assert chosen.address in expected_window


def test_server_selection(selection_case: dict[str, Any]) -> None:
    _run_selection(selection_case)


def test_max_staleness(max_staleness_case: dict[str, Any]) -> None:
    _run_selection(max_staleness_case)


def test_load_balanced_is_refused(selection_load_balanced_case: dict[str, Any]) -> None:
    described = selection_load_balanced_case["topology_description"]
    assert described["type"] == "LoadBalanced"
    with pytest.raises(ValueError, match="LoadBalanced"):
        TopologyType(described["type"])
    for server in described["servers"]:
        with pytest.raises(ValueError, match="LoadBalancer"):
            ServerType(server["type"])


def test_average_rtt(rtt_case: dict[str, Any]) -> None:
    previous = rtt_case["avg_rtt_ms"]
    average = average_round_trip_time(
        None if previous == "NULL" else previous, rtt_case["new_rtt_ms"]
    )
    assert average == pytest.approx(rtt_case["new_avg_rtt"], rel=1e-12, abs=1e-12)


def test_selection_within_window(in_window_case: dict[str, Any]) -> None:
    topology = _topology(in_window_case)
    counts = {
        normalize_address(state["address"]): state["operation_count"]
        for state in in_window_case["mocked_topology_state"]
    }
    nearest = ReadPreference(ReadPreferenceMode.NEAREST)
    rng = random.Random(2024)
    iterations = in_window_case["iterations"]
    tally: Counter[str] = Counter()
    for _ in range(iterations):
        chosen = select_server(topology, Operation.READ, nearest, operation_counts=counts, rng=rng)
        assert chosen is not None
        tally[chosen.address] += 1
    outcome = in_window_case["outcome"]
    for address, expected in outcome["expected_frequencies"].items():
        observed = tally[normalize_address(address)] / iterations
        if expected in (0, 1):
            assert observed == expected, address
        else:
            assert abs(observed - expected) <= outcome["tolerance"], (address, observed)
