"""The SDAM monitoring specification tests, run over the topology's events.

sdam_monitoring/*.json: a :class:`Topology` made from the file's ``uri`` with
fake monitors (the topology shell is real; only the hello replies are the
file's); each phase feeds its ``responses`` through the monitor of each
address and compares the topology and server events published since the last
phase with the ``outcome``'s, in order. Heartbeat and pool events are not
part of these tests and are left out. ``topologyId`` is compared as "the same
id on every event". The load-balancer file asserts that mongotor refuses
``loadBalanced=true``.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from bson import json_util

from mongotor.pool import (
    ServerClosed,
    ServerDescription,
    ServerDescriptionChanged,
    ServerOpening,
    Topology,
    TopologyDescription,
    TopologyDescriptionChanged,
    TopologyOpening,
    UnsupportedOptionError,
    normalize_address,
    parse_uri,
)

_EVENTS = (
    TopologyOpening,
    TopologyDescriptionChanged,
    ServerOpening,
    ServerDescriptionChanged,
    ServerClosed,
)
_NAMES = {
    TopologyOpening: "topology_opening_event",
    TopologyDescriptionChanged: "topology_description_changed_event",
    ServerOpening: "server_opening_event",
    ServerDescriptionChanged: "server_description_changed_event",
    ServerClosed: "server_closed_event",
}


def _server(ours: ServerDescription, expected: dict[str, Any]) -> None:
    assert ours.address == expected["address"]
    assert ours.type.value == expected["type"], ours.address
    for key, value in (
        ("hosts", ours.hosts),
        ("passives", ours.passives),
        ("arbiters", ours.arbiters),
    ):
        assert sorted(value) == sorted(expected[key]), (ours.address, key)
    assert ours.primary == expected.get("primary"), ours.address
    assert ours.set_name == expected.get("setName"), ours.address


def _topology(ours: TopologyDescription, expected: dict[str, Any]) -> None:
    assert ours.type.value == expected["topologyType"]
    assert ours.set_name == expected.get("setName")
    servers = sorted(expected["servers"], key=lambda server: server["address"])
    assert sorted(ours.servers) == [server["address"] for server in servers]
    for server in servers:
        _server(ours.servers[server["address"]], server)


def _compare(event: Any, expected: dict[str, Any], topology_id: Any) -> None:
    (name, fields), *_ = expected.items()
    assert _NAMES[type(event)] == name, (event, name)
    assert event.topology_id == topology_id
    if "address" in fields:
        assert event.address == fields["address"]
    if isinstance(event, TopologyDescriptionChanged):
        _topology(event.previous_description, fields["previousDescription"])
        _topology(event.new_description, fields["newDescription"])
    elif isinstance(event, ServerDescriptionChanged):
        _server(event.previous_description, fields["previousDescription"])
        _server(event.new_description, fields["newDescription"])


def test_sdam_monitoring(
    sdam_monitoring_case: dict[str, Any], sdam: ModuleType, run_virtual: Any
) -> None:
    case: dict[str, Any] = json_util.loads(json.dumps(sdam_monitoring_case))
    options = parse_uri(case["uri"])
    monitors, log = sdam.FakeMonitors(), sdam.EventLog()
    if options.load_balanced:
        with pytest.raises(UnsupportedOptionError):
            Topology(options, pool_factory=sdam.FakePools(), monitor_factory=monitors)
        return
    topology = Topology(
        options, pool_factory=sdam.FakePools(), monitor_factory=monitors, listeners=[log]
    )

    async def main() -> None:
        await topology.open()
        seen = 0
        for number, phase in enumerate(case["phases"]):
            for address, reply in phase.get("responses", []):
                monitors[normalize_address(address)].reply(reply)
            events = log.of(*_EVENTS)[seen:]
            seen += len(events)
            expected = phase["outcome"]["events"]
            try:
                assert len(events) == len(expected), [type(e).__name__ for e in events]
                for event, wanted in zip(events, expected, strict=True):
                    _compare(event, wanted, topology.topology_id)
            except AssertionError as failure:
                failure.add_note(f"phase {number}")
                raise
        await topology.close()

    run_virtual(main())
