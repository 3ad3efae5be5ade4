"""``mongodb+srv://`` topologies: DNS at first use, then SRV polling (Polling SRV
Records for mongos Discovery), with a scripted resolver, fake monitors and the
virtual clock."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Sequence
from types import ModuleType
from typing import Any

import dns.exception
import dns.rdata
import dns.resolver
import pytest

from mongotor.pool import (
    MonitorSettings,
    SeedlistDiscoveryError,
    ServerClosed,
    ServerOpening,
    SrvPoller,
    SrvRecord,
    Topology,
    TopologyClosedError,
    TopologyOpening,
    TopologySettings,
    TopologyType,
    UnsupportedOptionError,
    initial_topology,
    parse_uri,
    polled_addresses,
    srv_polling_update,
)

Run = Callable[[Coroutine[Any, Any, Any]], Any]
NAME = "_mongodb._tcp.cluster.example.com"


class Answer(list[Any]):
    """An SRV answer that, like dnspython's, may carry the records' TTL."""

    def __init__(self, records: Sequence[Any], ttl: int | None) -> None:
        super().__init__(records)
        if ttl is not None:
            self.rrset = type("RRset", (), {"ttl": ttl})()


class Resolver:
    """Answers from ``hosts`` (``host:port`` strings) and ``txt``; ``failure``
    makes the next SRV query fail; ``gate`` makes queries wait."""

    def __init__(self, hosts: Sequence[str], txt: str | None = None) -> None:
        self.hosts = list(hosts)
        self.txt = txt
        self.ttl: int | None = None
        self.failure: BaseException | None = None
        self.gate: asyncio.Event | None = None
        self.queries: list[str] = []

    async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
        self.queries.append(rdtype)
        if self.gate is not None:
            await self.gate.wait()
        if rdtype == "TXT":
            if self.txt is None:
                raise dns.resolver.NoAnswer
            return [dns.rdata.from_text("IN", "TXT", f'"{self.txt}"')]
        assert qname == NAME
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure
        records = [
            dns.rdata.from_text("IN", "SRV", f"0 5 {host.split(':')[1]} {host.split(':')[0]}.")
            for host in self.hosts
        ]
        return Answer(records, self.ttl)


def topology_of(
    sdam: ModuleType, resolver: Resolver, uri: str = "mongodb+srv://cluster.example.com/"
) -> tuple[Topology[Any], Any, Any]:
    monitors, log = sdam.FakeMonitors(), sdam.EventLog()
    topology = Topology(
        parse_uri(uri),
        pool_factory=sdam.FakePools(),
        monitor_factory=monitors,
        monitor_settings=MonitorSettings(heartbeat_frequency_ms=500, rescan_srv_interval_ms=1000),
        listeners=[log],
        resolver=resolver,
        rng=random.Random(3),
    )
    return topology, monitors, log


def servers(topology: Topology[Any]) -> list[str]:
    assert topology.description is not None
    return sorted(topology.description.servers)


def test_dns_at_first_use_then_polling(sdam: ModuleType, run_virtual: Run) -> None:
    resolver = Resolver(["a.example.com:27017", "b.example.com:27017"])
    topology, monitors, log = topology_of(sdam, resolver)
    assert resolver.queries == []  # nothing in the constructor
    assert topology.description is None
    assert repr(topology) == "<Topology cluster.example.com initial unresolved>"
    assert topology.statistics().type is None

    async def main() -> None:
        await topology.open()
        assert sorted(resolver.queries) == ["SRV", "TXT"]
        assert servers(topology) == ["a.example.com:27017", "b.example.com:27017"]
        for address in servers(topology):
            monitors[address].reply(sdam.hello_reply(msg="isdbgrid"))
        assert topology.description is not None
        assert topology.description.type is TopologyType.SHARDED
        # DNS now lists b and c: a goes, c comes, b is left alone.
        b = topology.description.servers["b.example.com:27017"]
        resolver.hosts = ["b.example.com:27017", "c.example.com:27017"]
        resolver.ttl = 120
        await asyncio.sleep(1.001)
        assert servers(topology) == ["b.example.com:27017", "c.example.com:27017"]
        assert topology.description.servers["b.example.com:27017"] is b
        assert [e.address for e in log.of(ServerClosed)] == ["a.example.com:27017"]
        assert log.of(ServerOpening)[-1].address == "c.example.com:27017"
        # The next rescan waits for the records' TTL (120 s), not the floor (1 s).
        resolver.hosts = ["c.example.com:27017"]
        await asyncio.sleep(60)
        assert len(servers(topology)) == 2
        await asyncio.sleep(61)
        assert servers(topology) == ["c.example.com:27017"]
        await topology.close()

    run_virtual(main())


def test_failed_rescans_change_nothing(
    sdam: ModuleType, run_virtual: Run, caplog: pytest.LogCaptureFixture
) -> None:
    resolver = Resolver(["a.example.com:27017"])
    topology, _, _ = topology_of(sdam, resolver)

    async def main() -> None:
        await topology.open()
        before = topology.description
        resolver.failure = dns.exception.Timeout()
        await asyncio.sleep(1.001)
        assert topology.description is before
        # After a failure the next rescan comes after heartbeatFrequencyMS.
        resolver.hosts = ["evil.example.org:27017"]
        await asyncio.sleep(0.501)
        assert topology.description is before
        resolver.hosts = ["a.example.com:27017"]  # the same set: nothing to do
        await asyncio.sleep(0.501)
        assert topology.description is before
        await topology.close()

    with caplog.at_level(logging.WARNING, logger="mongotor.pool._srv_polling"):
        run_virtual(main())
    assert "rescanning _mongodb._tcp.cluster.example.com failed" in caplog.text
    assert "for evil.example.org: not under its domain" in caplog.text
    assert "found no valid host" in caplog.text


def test_polling_stops_once_the_topology_is_a_replica_set(
    sdam: ModuleType, run_virtual: Run
) -> None:
    resolver = Resolver(["a.example.com:27017"])
    topology, monitors, _ = topology_of(sdam, resolver)

    async def main() -> None:
        await topology.open()
        poller = topology._srv_poller
        assert poller is not None
        assert "running" in repr(poller)
        monitors["a.example.com:27017"].reply(
            sdam.member("a.example.com:27017", ["a.example.com:27017"], isWritablePrimary=True)
        )
        queries = len(resolver.queries)
        await asyncio.sleep(1.001)
        assert len(resolver.queries) == queries  # "MUST NOT rescan" a replica set
        assert "stopped rescans=0" in repr(poller)
        # A late answer for a topology that stopped polling changes nothing.
        topology._srv_found(("z.example.com:27017",))
        assert servers(topology) == ["a.example.com:27017"]
        await topology.close()
        topology._srv_found(("z.example.com:27017",))

    run_virtual(main())


def test_a_replica_set_from_txt_is_never_polled(sdam: ModuleType, run_virtual: Run) -> None:
    resolver = Resolver(["a.example.com:27017"], txt="replicaSet=rs")
    topology, _, _ = topology_of(sdam, resolver)

    async def main() -> None:
        await topology.open()
        assert topology.description is not None
        assert topology.description.type is TopologyType.REPLICA_SET_NO_PRIMARY
        assert topology._srv_poller is None
        await topology.close()

    run_virtual(main())


def test_srv_max_hosts_when_polling(sdam: ModuleType, run_virtual: Run) -> None:
    hosts = [f"{name}.example.com:27017" for name in "abcd"]
    resolver = Resolver(hosts[:3])
    topology, monitors, _ = topology_of(
        sdam, resolver, "mongodb+srv://cluster.example.com/?srvMaxHosts=2"
    )

    async def main() -> None:
        await topology.open()
        first = servers(topology)
        assert len(first) == 2
        for address in first:
            monitors[address].reply(sdam.hello_reply(msg="isdbgrid"))
        # One chosen host leaves DNS; d arrives: one new host fills the gap.
        gone = first[0]
        resolver.hosts = [host for host in hosts if host != gone]
        await asyncio.sleep(1.001)
        now = servers(topology)
        assert len(now) == 2
        assert first[1] in now
        assert gone not in now
        await topology.close()

    run_virtual(main())


def test_dns_failures_and_refusals_at_first_use(sdam: ModuleType, run_virtual: Run) -> None:
    resolver = Resolver(["a.example.com:27017"], txt="loadBalanced=true")
    topology, _, log = topology_of(sdam, resolver)

    async def main() -> None:
        # A TXT record may still ask for load balancing: refused when applied.
        with pytest.raises(UnsupportedOptionError):
            await topology.select_server()
        resolver.txt = None
        resolver.failure = dns.exception.Timeout()
        with pytest.raises(SeedlistDiscoveryError) as caught:
            await topology.open()
        assert caught.value.retryable
        await topology.open()  # each use tries again
        assert servers(topology) == ["a.example.com:27017"]
        await topology.close()

    run_virtual(main())
    assert log.names(TopologyOpening) == ["TopologyOpening"]


def test_closing_while_resolving(sdam: ModuleType, run_virtual: Run) -> None:
    resolver = Resolver(["a.example.com:27017"])
    resolver.gate = asyncio.Event()
    topology, _, log = topology_of(sdam, resolver)

    async def main() -> None:
        opening = asyncio.ensure_future(topology.select_server())
        for _ in range(5):
            await asyncio.sleep(0)
        assert resolver.queries
        await topology.close()
        with pytest.raises(TopologyClosedError, match="while opening"):
            await opening

    run_virtual(main())
    assert log.events == []  # never opened: no SDAM events at all


def test_polled_addresses_and_update() -> None:
    options = parse_uri("mongodb+srv://cluster.example.com/")
    valid, rejected = polled_addresses(
        options,
        [
            SrvRecord("A.Example.com.", 27017),
            SrvRecord("a.example.com", 27017),
            SrvRecord("a.example.net", 27017),
        ],
    )
    assert valid == ("a.example.com:27017",)
    assert rejected == ("a.example.net",)
    topology = initial_topology(TopologySettings(seeds=("a:1", "b:1")))
    rng = random.Random(1)
    with pytest.raises(ValueError, match="no host"):
        srv_polling_update(topology, [], max_hosts=None, rng=rng)
    assert srv_polling_update(topology, ["b:1", "a:1"], max_hosts=None, rng=rng) is topology
    updated = srv_polling_update(topology, ["a:1", "c:1", "d:1"], max_hosts=None, rng=rng)
    assert list(updated.servers) == ["a:1", "c:1", "d:1"]
    full = srv_polling_update(topology, ["a:1", "b:1", "c:1"], max_hosts=2, rng=rng)
    assert full is topology  # no room for c
    fewer = srv_polling_update(topology, ["a:1", "c:1", "d:1"], max_hosts=2, rng=rng)
    assert len(fewer.servers) == 2
    assert "a:1" in fewer.servers
    roomy = srv_polling_update(topology, ["a:1", "c:1"], max_hosts=5, rng=rng)
    assert list(roomy.servers) == ["a:1", "c:1"]


def test_a_poller_never_started_closes(run_virtual: Run) -> None:
    poller = SrvPoller(
        parse_uri("mongodb+srv://cluster.example.com/"),
        MonitorSettings(),
        resolver=Resolver([]),
        topology_type=lambda: TopologyType.SHARDED,
        found=print,
    )
    assert repr(poller) == "<SrvPoller cluster.example.com stopped rescans=0>"
    run_virtual(poller.close())


def test_a_cancelled_opener_leaves_the_opening_to_others(
    sdam: ModuleType, run_virtual: Run
) -> None:
    resolver = Resolver(["a.example.com:27017"])
    resolver.gate = asyncio.Event()
    topology, _, _ = topology_of(sdam, resolver)

    async def main() -> None:
        first = asyncio.ensure_future(topology.open())
        second = asyncio.ensure_future(topology.open())
        for _ in range(5):
            await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert resolver.gate is not None
        resolver.gate.set()
        await second
        assert servers(topology) == ["a.example.com:27017"]
        await topology.close()

    run_virtual(main())
