"""Automatic reconnection, end to end against fakemongo: the topology, its
monitor and pool on real sockets; the server stopped under load and started
again on the same port. Every wait is on an event or a condition, bounded."""

from __future__ import annotations

import asyncio
import random
from types import ModuleType
from typing import Any

import pytest

from fakemongo import FakeMongo
from mongotor.pool import (
    Connection,
    ConnectionFailure,
    MonitorSettings,
    NetworkError,
    PoolCleared,
    PoolClearedError,
    PoolReady,
    ServerDescriptionChanged,
    ServerHeartbeatSucceeded,
    ServerSelectionError,
    ServerType,
    Topology,
    create_topology,
)

# Small heartbeats; the floor between requested checks lowered as the specs'
# test runners may.
MONITORING = MonitorSettings(
    heartbeat_frequency_ms=500, min_heartbeat_frequency_ms=10, connect_timeout_ms=2000
)


def held_hello(connection: Connection, wait_ms: int) -> dict[str, Any]:
    """An awaitable hello: fakemongo holds the reply, so it stays in flight."""
    assert connection.handshake is not None
    return {
        "hello": 1,
        "topologyVersion": connection.handshake.reply["topologyVersion"],
        "maxAwaitTimeMS": wait_ms,
    }


async def ping(topology: Topology[Connection]) -> None:
    async with topology.checkout("read") as (_, connection):
        await connection.command("admin", {"ping": 1}, check=True)


def became(kind: ServerType) -> Any:
    def predicate(events: list[Any]) -> bool:
        return any(
            isinstance(e, ServerDescriptionChanged) and e.new_description.type is kind
            for e in events
        )

    return predicate


@pytest.mark.asyncio
async def test_a_restarted_server_is_rediscovered_under_load(sdam: ModuleType) -> None:
    server = await FakeMongo().start()
    port = server.port
    log = sdam.EventLog()
    topology = create_topology(
        f"mongodb://{server.address}/?serverSelectionTimeoutMS=20000",
        monitor_settings=MONITORING,
        listeners=[log],
    )
    restarted: FakeMongo | None = None
    failures: list[BaseException] = []
    resumed = asyncio.Event()
    stopping = False
    after_restart = 0

    async def worker() -> None:
        nonlocal after_restart
        while not stopping:
            try:
                await ping(topology)
            except (ConnectionFailure, ServerSelectionError) as exc:
                failures.append(exc)  # what a retrying client would retry
                continue
            if restarted is not None:
                after_restart += 1
                if after_restart >= 50:
                    resumed.set()

    try:
        async with topology.checkout("write") as (selected, connection):
            assert selected.type is ServerType.STANDALONE
            reply = await connection.command(
                "app", {"insert": "items", "documents": [{"n": 1}]}, check=True
            )
            assert reply["n"] == 1
        # An operation in flight when the server goes away.
        in_flight_started = asyncio.Event()

        async def held() -> None:
            async with topology.checkout("read") as (_, connection):
                in_flight_started.set()
                await connection.command("admin", held_hello(connection, 10_000), check=True)

        in_flight = asyncio.create_task(held())
        workers = [asyncio.create_task(worker()) for _ in range(10)]
        async with asyncio.timeout(10):
            await in_flight_started.wait()
        await log.wait_for(lambda events: len(events) > 200)  # the workers are busy
        await server.stop()
        # The in-flight operation fails with a typed, retryable connection error.
        with pytest.raises(NetworkError) as caught:
            await in_flight
        assert caught.value.retryable
        assert caught.value.address == server.address
        # The server is Unknown and its pool cleared: by the monitor or the errors.
        await log.wait_for(became(ServerType.UNKNOWN))
        await log.wait_for(lambda events: any(isinstance(e, PoolCleared) for e in events))
        mark = len(log.events)
        restarted = await FakeMongo(port=port).start()
        # The monitor finds it again, the pool is ready, the operations resume.
        await log.wait_for(lambda events: became(ServerType.STANDALONE)(events[mark:]))
        await log.wait_for(lambda events: any(isinstance(e, PoolReady) for e in events[mark:]))
        async with asyncio.timeout(10):
            await resumed.wait()
        stopping = True
        await asyncio.gather(*workers)
        assert failures, "the server stopped under load: some operations must have failed"
        for failure in failures:
            assert isinstance(failure, NetworkError | PoolClearedError), failure
            assert failure.retryable
        assert any(isinstance(e, ServerHeartbeatSucceeded) for e in log.events[mark:])
        # Nothing leaked: every connection is back, the server is usable.
        (stats,) = topology.statistics().servers
        assert stats.pool.active == 0
        assert stats.operations == 0
        await ping(topology)
    finally:
        await topology.close()
        await server.stop()
        if restarted is not None:
            await restarted.stop()


@pytest.mark.asyncio
async def test_operations_wait_for_a_server_that_comes_back(sdam: ModuleType) -> None:
    server = await FakeMongo().start()
    port = server.port
    await server.stop()
    log = sdam.EventLog()
    topology = create_topology(
        f"mongodb://{server.address}/?serverSelectionTimeoutMS=20000",
        monitor_settings=MONITORING,
        listeners=[log],
    )
    try:
        # Nobody listens yet: the operation waits in server selection.
        waiting = asyncio.create_task(ping(topology))
        await log.wait_for(lambda events: topology.statistics().waiting == 1)
        await log.wait_for(
            lambda events: len([e for e in events if "Failed" in type(e).__name__]) >= 2
        )
        restarted = await FakeMongo(port=port).start()
        try:
            async with asyncio.timeout(10):
                await waiting
        finally:
            await topology.close()
            await restarted.stop()
    finally:
        await topology.close()


@pytest.mark.asyncio
async def test_a_thousand_cancelled_operations_leave_nothing_behind(sdam: ModuleType) -> None:
    rng = random.Random(20120101)
    async with FakeMongo() as server:
        topology = create_topology(
            f"mongodb://{server.address}/?maxPoolSize=8", monitor_settings=MONITORING
        )

        async def operation() -> None:
            async with topology.checkout("read") as (_, connection):
                await connection.command("admin", held_hello(connection, 5))

        try:
            await ping(topology)
            tasks = [asyncio.ensure_future(operation()) for _ in range(1000)]
            for task in tasks:
                if rng.random() < 0.5:
                    for _ in range(rng.randrange(4)):
                        await asyncio.sleep(0)  # let it get somewhere first
                    task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(r is None or isinstance(r, asyncio.CancelledError) for r in results)
            assert any(isinstance(r, asyncio.CancelledError) for r in results)
            (stats,) = topology.statistics().servers
            assert stats.operations == 0
            pool = stats.pool
            assert (pool.active, pool.pending, pool.waiting) == (0, 0, 0)
            assert pool.total == pool.idle <= 8
            # A cancelled operation is no server error: the pool was never cleared.
            assert pool.generation == 0
            # No idle connection is half-read: each answers the next command.
            connections = topology.server(stats.address).pool
            held = [await connections.checkout() for _ in range(pool.idle)]
            for connection in held:
                assert await connection.command("admin", {"ping": 1}) == {"ok": 1.0}
                connections.checkin(connection)
        finally:
            await topology.close()
