"""The topology shell with fake monitors and pools of fake connections, on the
virtual clock: the test scripts each hello reply, so discovery, elections,
errors and waiting selections are deterministic and take no real time."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any

import pytest
from bson import ObjectId

from mongotor.pool import (
    CommandError,
    ConnectionSettings,
    EventLoopMismatchError,
    MonitorSettings,
    NetworkError,
    NetworkTimeout,
    Operation,
    PoolCleared,
    PoolOptions,
    PoolReady,
    PoolState,
    ReadPreference,
    ReadPreferenceMode,
    ServerClosed,
    ServerDescriptionChanged,
    ServerOpening,
    ServerSelectionError,
    ServerType,
    TooManyConnections,
    Topology,
    TopologyClosed,
    TopologyClosedError,
    TopologyDescriptionChanged,
    TopologyOpening,
    TopologyState,
    TopologyType,
    UnsupportedOptionError,
    create_topology,
    parse_uri,
)

Run = Callable[[Coroutine[Any, Any, Any]], Any]


class Harness:
    """A topology of fake monitors and pools, with its event log."""

    def __init__(self, sdam: ModuleType, uri: str, **options: Any) -> None:
        self.sdam = sdam
        self.monitors = sdam.FakeMonitors()
        self.pools = sdam.FakePools()
        self.log = sdam.EventLog()
        self.topology = Topology(
            parse_uri(uri),
            pool_factory=self.pools,
            monitor_factory=self.monitors,
            listeners=[self.log],
            rng=random.Random(7),
            **options,
        )

    def reply(self, address: str, **fields: Any) -> None:
        self.monitors[address].reply(self.sdam.hello_reply(**fields))

    def member(self, address: str, hosts: list[str], **fields: Any) -> None:
        self.monitors[address].reply(self.sdam.member(address, hosts, **fields))


@pytest.fixture
def harness(sdam: ModuleType) -> Callable[..., Harness]:
    return lambda uri, **options: Harness(sdam, uri, **options)


async def running(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coroutine)
    for _ in range(10):  # the opening task, then the selection, each take a few steps
        await asyncio.sleep(0)
    return task


HOSTS = ["a:27017", "b:27017", "c:27017"]


def test_nothing_happens_before_first_use(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a,b/?replicaSet=rs")
    assert h.topology.state is TopologyState.INITIAL
    assert h.monitors.made == []
    assert h.log.events == []
    assert h.topology.description is not None
    assert h.topology.description.type is TopologyType.REPLICA_SET_NO_PRIMARY
    assert repr(h.topology) == (
        "<Topology ReplicaSetNoPrimary set=rs initial servers=[a:27017 Unknown, b:27017 Unknown] "
        "waiting=0>"
    )
    assert h.topology.statistics().servers == ()

    async def main() -> None:
        await h.topology.close()  # closing what never opened publishes nothing

    run_virtual(main())
    assert h.log.events == []
    assert h.topology.state is TopologyState.CLOSED


def test_replica_set_discovery_primary_change_and_waiting_selection(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a/?serverSelectionTimeoutMS=5000")

    async def main() -> None:
        topology = h.topology
        writing = await running(topology.select_server("write"))
        assert not writing.done()
        assert topology.statistics().waiting == 1
        a = h.monitors["a:27017"]
        assert a.started
        assert a.requests >= 1  # a waiting selection asks for an immediate check
        # a is a secondary that knows the whole set and names b as primary.
        h.member("a:27017", HOSTS, secondary=True, primary="b:27017")
        assert topology.description is not None
        assert topology.description.type is TopologyType.REPLICA_SET_NO_PRIMARY
        assert sorted(topology.description.servers) == HOSTS
        assert [e.address for e in h.log.of(ServerOpening)] == HOSTS
        assert topology.description.servers["b:27017"].type is ServerType.POSSIBLE_PRIMARY
        # Only the checked server's change is published (SDAM monitoring tests).
        assert [e.address for e in h.log.of(ServerDescriptionChanged)] == ["a:27017"]
        # A secondary read may proceed already; the write still waits.
        read = await topology.select_server(
            "read", ReadPreference(ReadPreferenceMode.SECONDARY_PREFERRED)
        )
        assert read.address == "a:27017"
        await asyncio.sleep(0)
        assert not writing.done()
        assert h.pools.pools["a:27017"].state is PoolState.READY
        assert h.pools.pools["b:27017"].state is PoolState.PAUSED
        election = ObjectId()
        h.member("b:27017", HOSTS, isWritablePrimary=True, electionId=election)
        primary = await writing
        assert primary.address == "b:27017"
        assert topology.statistics().waiting == 0
        assert topology.description.type is TopologyType.REPLICA_SET_WITH_PRIMARY
        # c wins a later election: b becomes Unknown, and is checked at once.
        requests = h.monitors["b:27017"].requests
        h.member("c:27017", HOSTS, isWritablePrimary=True, electionId=ObjectId())
        assert topology.description.servers["b:27017"].type is ServerType.UNKNOWN
        assert h.monitors["b:27017"].requests == requests + 1
        assert (await topology.select_server("write")).address == "c:27017"
        # The old primary's pool is kept (SDAM forbids clearing it).
        assert h.pools.pools["b:27017"].generation == 0
        # The primary drops a member: it is removed, its monitor and pool closed.
        h.member("c:27017", HOSTS[1:], isWritablePrimary=True, electionId=ObjectId())
        assert sorted(topology.description.servers) == HOSTS[1:]
        assert [e.address for e in h.log.of(ServerClosed)] == ["a:27017"]
        await topology.close()
        assert h.monitors["a:27017"].closed
        assert h.pools.pools["a:27017"].state is PoolState.CLOSED

    run_virtual(main())
    names = h.log.names(TopologyOpening, TopologyDescriptionChanged, TopologyClosed)
    assert names[0] == "TopologyOpening"
    assert names[-2:] == ["TopologyDescriptionChanged", "TopologyClosed"]
    closing = h.log.of(TopologyDescriptionChanged)[-1]
    assert closing.previous_description.type is TopologyType.REPLICA_SET_WITH_PRIMARY
    assert closing.new_description.type is TopologyType.UNKNOWN
    assert dict(closing.new_description.servers) == {}


def test_selection_times_out_describing_the_topology(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a,b/?replicaSet=rs&serverSelectionTimeoutMS=2000")

    async def main() -> None:
        await h.topology.open()
        h.monitors["a:27017"].fail(NetworkError("connection refused", address="a:27017"))
        h.member("b:27017", ["a:27017", "b:27017"], secondary=True)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ServerSelectionError) as caught:
            await h.topology.select_server(Operation.WRITE)
        assert loop.time() - started == pytest.approx(2.0)
        error = caught.value
        assert error.timeout_ms == 2000
        assert error.retryable
        assert str(error) == (
            "server selection timed out after 2000 ms: no server is suitable for write "
            "[topology ReplicaSetNoPrimary: a:27017 (Unknown), b:27017 (RSSecondary)]"
        )
        # A deadline sooner than serverSelectionTimeoutMS bounds the wait.
        with pytest.raises(ServerSelectionError) as caught:
            await h.topology.select_server("write", deadline=loop.time() + 0.5)
        assert caught.value.timeout_ms == pytest.approx(500)
        with pytest.raises(ValueError, match="'delete'"):
            await h.topology.select_server("delete")
        await h.topology.close()

    run_virtual(main())


def test_deprioritized_servers_and_operation_counts(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a,b/")

    async def main() -> None:
        topology = h.topology
        await topology.open()
        for address in ("a:27017", "b:27017"):
            h.reply(address, msg="isdbgrid")
        assert topology.description is not None
        assert topology.description.type is TopologyType.SHARDED
        # A retry avoids the server that failed, unless nothing else suits.
        avoided = await topology.select_server("write", deprioritized={"a:27017"})
        assert avoided.address == "b:27017"
        h.monitors["b:27017"].fail(NetworkError("gone", address="b:27017"))
        fallback = await topology.select_server("write", deprioritized={"a:27017"})
        assert fallback.address == "a:27017"
        h.reply("b:27017", msg="isdbgrid")
        # operationCount: with a's operation in flight, the two picks favour b.
        async with topology.checkout("write", deprioritized={"b:27017"}) as (server, _):
            assert server.address == "a:27017"
            assert topology.server("a:27017").operations == 1
            stats = {s.address: s.operations for s in topology.statistics().servers}
            assert stats == {"a:27017": 1, "b:27017": 0}
            assert dict(topology.operation_counts) == stats
            assert len(topology.operation_counts) == 2
            chosen = {(await topology.select_server("write")).address for _ in range(20)}
            assert chosen == {"b:27017"}
        assert topology.server("a:27017").operations == 0
        await topology.close()

    run_virtual(main())


def test_checkout_routes_errors_through_sdam(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a/?directConnection=true")

    async def main() -> None:
        topology = h.topology
        await topology.open()
        h.reply("a:27017", isWritablePrimary=True)
        pool = h.pools.pools["a:27017"]
        monitor = h.monitors["a:27017"]
        async with topology.checkout("write") as (server, connection):
            assert server.type is ServerType.STANDALONE
            assert connection.id == 1
        assert pool.statistics().idle == 1
        # A command error that says nothing about the server changes nothing.
        with pytest.raises(CommandError):
            async with topology.checkout() as (_, connection):
                raise CommandError("duplicate key", address="a:27017", code=11000)
        assert pool.generation == 0
        # "not writable primary": Unknown, a check requested, the pool kept (4.2+).
        requests = monitor.requests
        with pytest.raises(CommandError):
            async with topology.checkout() as (_, connection):
                raise CommandError(
                    "not primary", address="a:27017", code=10107, max_wire_version=25
                )
        assert topology.description is not None
        assert topology.description.servers["a:27017"].type is ServerType.UNKNOWN
        assert monitor.requests == requests + 1
        assert pool.generation == 0
        changed = h.log.of(ServerDescriptionChanged)[-1]
        assert changed.new_description.error == "command error: not primary (code 10107)"
        h.reply("a:27017", isWritablePrimary=True)
        # A network error after the handshake: Unknown, pool cleared, check cancelled.
        with pytest.raises(NetworkError):
            async with topology.checkout() as (_, connection):
                raise NetworkError(
                    "reset", address="a:27017", established=True, generation=connection.generation
                )
        assert topology.description.servers["a:27017"].type is ServerType.UNKNOWN
        assert pool.generation == 1
        assert pool.state is PoolState.PAUSED
        assert monitor.cancels == 1
        assert h.log.of(PoolCleared)[-1].interrupt_in_use_connections is False
        # An error of another address, or of no server at all, is not ours.
        assert topology.handle_error(NetworkError("x", address="z:1")) is None
        assert topology.handle_error(ValueError("x")) is None
        await topology.close()
        assert topology.handle_error(NetworkError("x", address="a:27017")) is None

    run_virtual(main())


def test_checkout_failures_are_handled_and_uncounted(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a/?directConnection=true&maxPoolSize=1&waitQueueTimeoutMS=100")

    async def main() -> None:
        topology = h.topology
        await topology.open()
        h.reply("a:27017", isWritablePrimary=True)
        factory = h.pools.factories["a:27017"]
        # A handshake that fails with a state change error clears the pool.
        factory.errors.append(
            CommandError("shutting down", address="a:27017", code=91, established=False)
        )
        with pytest.raises(CommandError):
            async with topology.checkout():
                pass
        assert topology.server("a:27017").operations == 0
        assert h.pools.pools["a:27017"].generation == 1
        h.reply("a:27017", isWritablePrimary=True)
        # TooManyConnections is a pool error: it never marks the server Unknown.
        async with topology.checkout():
            with pytest.raises(TooManyConnections):
                async with topology.checkout():
                    pass
            assert topology.description is not None
            assert topology.description.servers["a:27017"].type is ServerType.STANDALONE
        await topology.close()

    run_virtual(main())


def test_monitor_outcomes_ready_and_clear_the_pool(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a,b/?replicaSet=rs")

    async def main() -> None:
        topology = h.topology
        await topology.open()
        h.member("a:27017", ["a:27017", "b:27017"], isWritablePrimary=True)
        pool = h.pools.pools["a:27017"]
        assert pool.state is PoolState.READY
        # The ready event follows the description change in the same step.
        names = h.log.names(ServerDescriptionChanged, PoolReady)
        assert names[-2:] == ["ServerDescriptionChanged", "PoolReady"]
        # A heartbeat timeout clears the pool and interrupts in-use connections.
        h.monitors["a:27017"].fail(NetworkTimeout("slow", address="a:27017", timeout_ms=10.0))
        assert pool.state is PoolState.PAUSED
        assert h.log.of(PoolCleared)[-1].interrupt_in_use_connections is True
        # An arbiter's pool stays paused: it is not data-bearing.
        h.member("b:27017", ["a:27017", "b:27017"], arbiterOnly=True)
        assert h.pools.pools["b:27017"].state is PoolState.PAUSED
        # A reply older than the server's topologyVersion is ignored.
        process = ObjectId()
        h.member(
            "a:27017",
            ["a:27017", "b:27017"],
            isWritablePrimary=True,
            topologyVersion={"processId": process, "counter": 5},
        )
        events = len(h.log.events)
        h.member(
            "a:27017",
            ["a:27017", "b:27017"],
            secondary=True,
            topologyVersion={"processId": process, "counter": 4},
        )
        assert topology.description is not None
        assert topology.description.servers["a:27017"].type is ServerType.RS_PRIMARY
        assert len(h.log.events) == events
        # A server of another set is removed by its own check.
        old_b = h.monitors["b:27017"]
        old_b.reply(h.sdam.hello_reply(setName="other", hosts=["b:27017"], secondary=True))
        assert "b:27017" not in topology.description.servers
        # Its monitor's late reports are ignored, even once b is back.
        h.member(
            "a:27017",
            ["a:27017", "b:27017"],
            isWritablePrimary=True,
            topologyVersion={"processId": process, "counter": 6},
        )
        assert h.monitors["b:27017"] is not old_b
        old_b.fail(NetworkError("late", address="b:27017"))
        assert topology.description.servers["b:27017"].error is None
        await topology.close()
        old_b.fail(NetworkError("after close", address="b:27017"))

    run_virtual(main())


def test_statistics_and_repr(harness: Callable[..., Harness], run_virtual: Run) -> None:
    h = harness("mongodb://a/")

    async def main() -> None:
        topology = h.topology
        async with topology:
            h.reply("a:27017", isWritablePrimary=True, setName="rs", hosts=["a:27017"])
            stats = topology.statistics()
            assert stats.state is TopologyState.OPEN
            assert stats.type is TopologyType.REPLICA_SET_WITH_PRIMARY
            assert stats.set_name == "rs"
            (server,) = stats.servers
            assert server.type is ServerType.RS_PRIMARY
            assert server.round_trip_time_ms == 1.0
            assert server.pool.state is PoolState.READY
            assert repr(topology) == (
                "<Topology ReplicaSetWithPrimary set=rs open servers=[a:27017 RSPrimary] waiting=0>"
            )
            server_repr = repr(topology.server("a:27017"))
            assert server_repr.startswith("<Server a:27017 operations=0 pool=<Pool a:27017 ready")
            assert "monitor=<" in server_repr
        assert topology.state is TopologyState.CLOSED
        assert repr(topology) == "<Topology Unknown closed servers=[] waiting=0>"

    run_virtual(main())


def test_closing_fails_waiting_selections(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a/")

    async def main() -> None:
        waiting = await running(h.topology.select_server())
        await h.topology.close()
        with pytest.raises(TopologyClosedError):
            await waiting
        with pytest.raises(TopologyClosedError):
            await h.topology.open()
        with pytest.raises(TopologyClosedError):
            async with h.topology.checkout():
                pass
        await h.topology.close()  # idempotent

    run_virtual(main())
    assert h.log.names(TopologyClosed) == ["TopologyClosed"]


def test_a_topology_is_bound_to_one_loop(harness: Callable[..., Harness]) -> None:
    h = harness("mongodb://a/")
    with asyncio.Runner() as first:
        first.run(h.topology.open())
        with asyncio.Runner() as second:
            with pytest.raises(EventLoopMismatchError) as caught:
                second.run(h.topology.select_server())
            assert "another event loop" in str(caught.value)
            assert caught.value.owner == repr(h.topology)
            assert not caught.value.retryable
            with pytest.raises(EventLoopMismatchError):
                second.run(h.topology.close())
        first.run(h.topology.close())


def test_load_balanced_is_refused_clearly(sdam: ModuleType) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        create_topology("mongodb://a/?loadBalanced=true")
    assert caught.value.option == "loadBalanced"
    assert "loadBalanced=true is not supported" in str(caught.value)


def test_settings_come_from_the_options_unless_given(sdam: ModuleType) -> None:
    topology = create_topology(
        "mongodb://a/?heartbeatFrequencyMS=2000&connectTimeoutMS=0&maxPoolSize=5"
        "&serverMonitoringMode=poll&serverSelectionTimeoutMS=1234"
    )
    assert topology.monitor_settings == MonitorSettings(
        heartbeat_frequency_ms=2000, connect_timeout_ms=None, mode="poll"
    )
    assert topology.pool_options.max_pool_size == 5
    assert topology.server_selection_timeout_ms == 1234
    given = MonitorSettings(heartbeat_frequency_ms=50, min_heartbeat_frequency_ms=5)
    topology = create_topology(
        parse_uri("mongodb://a/"),
        connection_settings=ConnectionSettings(connect_timeout_ms=7),
        pool_options=PoolOptions(max_pool_size=3),
        monitor_settings=given,
    )
    assert topology.monitor_settings is given
    assert topology.connection_settings.connect_timeout_ms == 7
    assert topology.pool_options.max_pool_size == 3
    assert topology.server_selection_timeout_ms == 30_000


def test_the_first_description_change_starts_from_nothing(
    harness: Callable[..., Harness], run_virtual: Run
) -> None:
    h = harness("mongodb://a/?directConnection=true")

    async def main() -> None:
        # Two openers share one opening.
        await asyncio.gather(h.topology.open(), h.topology.open())
        await h.topology.open()
        await h.topology.close()

    run_virtual(main())
    first = h.log.of(TopologyDescriptionChanged)[0]
    assert first.previous_description.type is TopologyType.UNKNOWN
    assert dict(first.previous_description.servers) == {}
    assert first.new_description.type is TopologyType.SINGLE
    assert h.log.names()[:3] == ["TopologyOpening", "TopologyDescriptionChanged", "ServerOpening"]
    assert len(h.monitors.made) == 1


def test_listener_and_close_failures_are_logged(
    sdam: ModuleType, run_virtual: Run, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(sdam.FakeMonitor):  # type: ignore[misc, name-defined]
        async def close(self) -> None:
            raise RuntimeError("monitor would not stop")

    def broken_listener(event: Any) -> None:
        raise RuntimeError("listener bug")

    log = sdam.EventLog()
    topology = Topology(
        parse_uri("mongodb://a/"),
        pool_factory=sdam.FakePools(),
        monitor_factory=Broken,
        listeners=[broken_listener, log],
    )

    async def main() -> None:
        await topology.open()
        await topology.close()

    with caplog.at_level(logging.DEBUG, logger="mongotor.pool"):
        run_virtual(main())
    # The listener's errors are logged; the other listeners still hear everything.
    assert "SDAM event listener" in caplog.text
    assert log.names(TopologyClosed) == ["TopologyClosed"]
    assert "monitor would not stop" in caplog.text
    assert "TopologyOpening(topology_id=" in caplog.text  # events are logged at DEBUG
