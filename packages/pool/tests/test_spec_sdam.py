"""The SDAM specification's phase tests, run over the pure decision core.

discovery_and_monitoring/{rs,sharded,single,errors}/*.json, per the spec's
tests/README ("Use as unittests"): a topology made from the file's ``uri``; each
phase feeds its hello ``responses`` (``{}`` is a network error) through
:func:`parse_hello` and :func:`update_topology`, and its ``applicationErrors``
through :func:`handle_application_error`; then the ``outcome`` is compared. The
pool generations live where the async shell will keep them: a counter per
server, bumped when an outcome says ``clear_pool``, created and dropped as
:func:`topology_changes` reports servers added and removed.

A ``beforeHandshakeCompletes`` network error or timeout carries the labels the
pool adds to errors while connecting (:func:`establishment_error_labels`, CMAP
backpressure), as PyMongo's runner does.

Fields the README marks optional (``logicalSessionTimeoutMinutes``,
``topologyVersion``, ``minWireVersion``...) are compared when present. Like
PyMongo's runner, ``setName``, ``setVersion``, ``electionId``, ``maxSetVersion``
and ``maxElectionId`` absent mean null, and ``compatible`` absent means true.

load-balanced/*.json: mongotor refuses ``loadBalanced=true``; the test asserts
the refusal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import json_util

from mongotor.pool import (
    ApplicationError,
    ErrorKind,
    IncompatibleServerError,
    TopologyDescription,
    TopologySettings,
    UnsupportedOptionError,
    average_round_trip_time,
    establishment_error_labels,
    handle_application_error,
    initial_topology,
    normalize_address,
    parse_hello,
    parse_topology_version,
    parse_uri,
    topology_changes,
    unknown_server,
    update_topology,
)

# Cases deliberately not passed: id -> the exact reason (strict expected failures).
KNOWN_GAPS: dict[str, str] = {}


def _extended(document: dict[str, Any]) -> dict[str, Any]:
    """The file's extended JSON as BSON values ($oid -> ObjectId, $numberLong -> Int64)."""
    decoded: dict[str, Any] = json_util.loads(json.dumps(document))
    return decoded


class _Client:
    """The state the async shell keeps: the description and one pool generation per server."""

    def __init__(self, uri: str) -> None:
        self.topology = initial_topology(TopologySettings.from_options(parse_uri(uri)))
        self.generations = dict.fromkeys(self.topology.servers, 0)
        self.clock_ms = 0.0

    def swap(self, topology: TopologyDescription) -> None:
        changes = topology_changes(self.topology, topology)
        for address in changes.removed:
            del self.generations[address]
        for address in changes.added:
            self.generations[address] = 0
        self.topology = topology

    def hello(self, address: str, reply: dict[str, Any]) -> None:
        address = normalize_address(address)
        self.clock_ms += 1000
        current = self.topology.servers.get(address)
        if not reply:
            server = unknown_server(address, error="network error: connection closed")
        else:
            previous = current.round_trip_time_ms if current and current.is_available else None
            server = parse_hello(
                address,
                reply,
                round_trip_time_ms=average_round_trip_time(previous, 1.0),
                last_update_time_ms=self.clock_ms,
            )
        self.swap(update_topology(self.topology, server))

    def application_error(self, spec: dict[str, Any]) -> None:
        address = normalize_address(spec["address"])
        generation = spec.get("generation", self.generations[address])
        completed = spec["when"] == "afterHandshakeCompletes"
        assert completed or spec["when"] == "beforeHandshakeCompletes"
        kind = ErrorKind(spec["type"])
        error: ApplicationError | None
        if kind is ErrorKind.COMMAND:
            error = ApplicationError.from_reply(
                address,
                spec["response"],
                generation=generation,
                completed_handshake=completed,
                max_wire_version=spec["maxWireVersion"],
            )
            if error is None:
                # Nothing SDAM looks at (e.g. only writeErrors): nothing to handle.
                return
        else:
            error = ApplicationError(
                address,
                kind,
                generation=generation,
                completed_handshake=completed,
                max_wire_version=spec["maxWireVersion"],
                message="mock error",
                labels=frozenset() if completed else establishment_error_labels(kind),
            )
        outcome = handle_application_error(
            self.topology, error, pool_generation=self.generations[address]
        )
        if outcome.clear_pool:
            self.generations[address] += 1
        self.swap(outcome.topology)


def _check(client: _Client, outcome: dict[str, Any]) -> None:
    topology = client.topology
    assert topology.type.value == outcome["topologyType"]
    assert topology.set_name == outcome["setName"]
    if "logicalSessionTimeoutMinutes" in outcome:
        assert topology.logical_session_timeout_minutes == outcome["logicalSessionTimeoutMinutes"]
    assert topology.max_set_version == outcome.get("maxSetVersion")
    assert topology.max_election_id == outcome.get("maxElectionId")
    compatible = outcome.get("compatible", True)
    assert topology.compatible is compatible
    if compatible:
        topology.check_compatible()
    else:
        with pytest.raises(IncompatibleServerError):
            topology.check_compatible()
    assert sorted(topology.servers) == sorted(outcome["servers"])
    for address, expected in outcome["servers"].items():
        server = topology.servers[address]
        assert server.type.value == expected["type"], address
        assert server.set_name == expected.get("setName"), address
        assert server.set_version == expected.get("setVersion"), address
        assert server.election_id == expected.get("electionId"), address
        for key, attribute in (
            ("logicalSessionTimeoutMinutes", "logical_session_timeout_minutes"),
            ("minWireVersion", "min_wire_version"),
            ("maxWireVersion", "max_wire_version"),
        ):
            if key in expected:
                assert getattr(server, attribute) == expected[key], (address, key)
        if "topologyVersion" in expected:
            wanted = parse_topology_version({"topologyVersion": expected["topologyVersion"]})
            assert server.topology_version == wanted, address
        if "error" in expected:
            assert expected["error"] in (server.error or ""), address
        if "pool" in expected:
            assert client.generations[address] == expected["pool"]["generation"], address


def test_sdam(sdam_case: dict[str, Any]) -> None:
    case = _extended(sdam_case)
    client = _Client(case["uri"])
    for number, phase in enumerate(case["phases"]):
        for address, reply in phase.get("responses", []):
            client.hello(address, reply)
        for error in phase.get("applicationErrors", []):
            client.application_error(error)
        try:
            _check(client, phase["outcome"])
        except AssertionError as failure:
            failure.add_note(f"phase {number}: {phase.get('description', '')}")
            raise


def test_load_balanced_is_refused(sdam_load_balanced_case: dict[str, Any]) -> None:
    # mongotor does not implement load-balancer mode: making the topology refuses it.
    options = parse_uri(sdam_load_balanced_case["uri"])
    assert options.load_balanced is True
    with pytest.raises(UnsupportedOptionError) as refused:
        TopologySettings.from_options(options)
    assert refused.value.option == "loadBalanced"
