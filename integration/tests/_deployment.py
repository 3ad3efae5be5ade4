"""The replica sets the scenarios run against, behind one interface.

:class:`Deployment` is what a test sees: the set's connection string and
hosts, who is primary, faults (step down, kill, restart), fail points, and
direct connections to each member for counting what it holds. The direct
connections are PyMongo's (an independent client, so a count never trusts the
client under test).

- :class:`FakeDeployment`: a :class:`fakemongo.FakeMongoReplicaSet` on the
  test's own event loop.
- :class:`MongoDeployment`: a real MongoDB replica set, started by
  testcontainers (:mod:`._docker`, which can stop and start members) or named
  by ``MONGOTOR_TEST_URI`` (no process control: those scenarios skip).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, Protocol

import pytest
from pymongo import AsyncMongoClient

from fakemongo import FakeMongoReplicaSet, MemberOptions

__all__ = [
    "MEMBER_TAGS",
    "Deployment",
    "FakeDeployment",
    "MongoDeployment",
    "ProcessControl",
]

#: Every member's tags, by member index; both our fakemongo set and our Docker
#: set are configured with them (manual: "Configure Replica Set Tag Sets").
MEMBER_TAGS: tuple[dict[str, str], ...] = (
    {"dc": "east", "member": "0"},
    {"dc": "east", "member": "1"},
    {"dc": "west", "member": "2"},
)

#: How long a direct connection waits for its one server (a killed member fails fast).
_DIRECT_TIMEOUT_MS = 2000


class ProcessControl(Protocol):
    """Stops and starts a real member's process (a Docker container)."""

    def kill(self, host: str) -> None: ...
    def start(self, host: str) -> None: ...


class Deployment(abc.ABC):
    """A running three-member replica set, for one test."""

    #: "fakemongo" or "mongodb" (the test id's suffix).
    kind: str
    #: ``mongodb://h1,h2,h3/?replicaSet=...`` (no database).
    uri: str
    hosts: list[str]
    #: Seconds a set takes to elect a primary once it has none: the configured
    #: election timeout (plus, on a real set, one member heartbeat interval).
    election_time: float

    def __init__(self) -> None:
        self._direct: dict[str, AsyncMongoClient[dict[str, Any]]] = {}
        #: The test's databases, dropped at teardown on a real set.
        self.databases: list[str] = []
        self._fail_points: set[str] = set()
        self._killed: set[str] = set()

    # -- direct connections --------------------------------------------------------

    def direct(self, host: str) -> AsyncMongoClient[dict[str, Any]]:
        """A PyMongo client connected to ``host`` alone (reads allowed on a secondary)."""
        client = self._direct.get(host)
        if client is None:
            client = self._direct[host] = AsyncMongoClient(
                host,
                directConnection=True,
                serverSelectionTimeoutMS=_DIRECT_TIMEOUT_MS,
                connectTimeoutMS=_DIRECT_TIMEOUT_MS,
                retryWrites=False,
                retryReads=False,
            )
        return client

    async def _forget(self, host: str) -> None:
        # Close the direct connection to a member about to die, so that no
        # client keeps reconnecting to it in the background.
        client = self._direct.pop(host, None)
        if client is not None:
            await client.close()

    @property
    def live_hosts(self) -> list[str]:
        return [host for host in self.hosts if host not in self._killed]

    async def primary(self) -> str:
        """The primary's address, as its own hello says (waits for one)."""
        return await asyncio.wait_for(self._wait_for_primary(), 60)

    @abc.abstractmethod
    async def _wait_for_primary(self) -> str: ...

    async def secondaries(self) -> list[str]:
        secondaries = []
        for host in self.live_hosts:
            hello = await self.direct(host).admin.command("hello")
            if hello.get("secondary"):
                secondaries.append(host)
        return secondaries

    # -- faults ------------------------------------------------------------------------

    @abc.abstractmethod
    async def step_down(self) -> str:
        """Step the primary down (replSetStepDown); return its address once it
        is a secondary."""

    async def kill_primary(self) -> str:
        """Kill the primary's process; return its address."""
        primary = await self.primary()
        await self.kill(primary)
        return primary

    @abc.abstractmethod
    async def kill(self, host: str) -> None:
        """Kill ``host``'s process (its connections drop, no reply is sent)."""

    @abc.abstractmethod
    async def restart(self, host: str) -> None:
        """Start a killed member again; it rejoins as a secondary."""

    async def configure_fail_point(
        self, host: str, mode: str | Mapping[str, int], data: Mapping[str, Any]
    ) -> None:
        """``configureFailPoint: failCommand`` on ``host`` (turned off at teardown).

        A server without test commands answers CommandNotFound: the test skips.
        """
        from pymongo.errors import OperationFailure

        try:
            await self.direct(host).admin.command(
                {"configureFailPoint": "failCommand", "mode": mode, "data": dict(data)}
            )
        except OperationFailure as exc:
            if exc.code == 59:  # CommandNotFound: the server runs without test commands
                pytest.skip(f"{host} has no test commands (enableTestCommands=1): {exc}")
            raise
        self._fail_points.add(host)

    # -- replication -------------------------------------------------------------------

    @abc.abstractmethod
    async def wait_replicated(self) -> None:
        """Return once every live secondary holds everything the primary has."""

    async def documents(self, host: str, db: str, collection: str) -> list[dict[str, Any]]:
        """Every document ``host`` holds in ``db.collection``."""
        cursor = self.direct(host)[db][collection].find({})
        return [document async for document in cursor]

    # -- teardown ----------------------------------------------------------------------

    async def close(self) -> None:
        """Undo what the test did: fail points off, killed members back, test
        databases dropped, direct connections closed."""
        for host in sorted(self._fail_points):
            with contextlib.suppress(Exception):
                await self.direct(host).admin.command(
                    {"configureFailPoint": "failCommand", "mode": "off"}
                )
        for host in sorted(self._killed):
            await self.restart(host)
        if self.databases:
            primary = await self.primary()
            for name in self.databases:
                await self.direct(primary).drop_database(name)
        for client in self._direct.values():
            await client.close()
        self._direct.clear()


class FakeDeployment(Deployment):
    """A fakemongo replica set on the test's event loop."""

    kind = "fakemongo"

    def __init__(self, replset: FakeMongoReplicaSet) -> None:
        super().__init__()
        self.replset = replset
        self.uri = replset.uri
        self.hosts = replset.hosts
        self.election_time = replset.election_timeout

    @classmethod
    async def start(cls, *, election_timeout: float = 0.05) -> FakeDeployment:
        members = [MemberOptions(tags=tags) for tags in MEMBER_TAGS]
        replset = FakeMongoReplicaSet(members=members, election_timeout=election_timeout)
        await replset.start()
        return cls(replset)

    async def _wait_for_primary(self) -> str:
        return (await self.replset.wait_for_primary()).host

    async def step_down(self) -> str:
        primary = await self.primary()
        # The member is ineligible for 60 s. Not forced: while the step-down
        # waits (up to 10 s) for a secondary to catch up, the primary takes no
        # writes (manual, replSetStepDown "Behavior"), so one catches up even
        # under the failover scenario's load.
        await self.replset.step_down(60.0)
        return primary

    async def kill(self, host: str) -> None:
        await self._forget(host)
        await self.replset.kill(self.hosts.index(host))
        self._killed.add(host)

    async def restart(self, host: str) -> None:
        await self.replset.restart(self.hosts.index(host))
        self._killed.discard(host)

    async def wait_replicated(self) -> None:
        await asyncio.wait_for(self.replset.wait_replicated(), 60)

    async def close(self) -> None:
        try:
            # The set goes away with the test: only the connections need closing.
            for client in self._direct.values():
                await client.close()
            self._direct.clear()
        finally:
            await self.replset.stop()


class MongoDeployment(Deployment):
    """A real MongoDB replica set: our Docker one (``control`` given) or
    MONGOTOR_TEST_URI's (``control`` None: faults that need a process skip)."""

    kind = "mongodb"

    def __init__(
        self, uri: str, hosts: list[str], election_time: float, control: ProcessControl | None
    ) -> None:
        super().__init__()
        self.uri = uri
        self.hosts = hosts
        self.election_time = election_time
        self.control = control

    async def _wait_for_primary(self) -> str:
        # A member reports the primary it knows; polling is all a real set offers
        # (its hellos are awaitable only for a topologyVersion change, which is
        # what we wait on here).
        while True:
            for host in self.live_hosts:
                with contextlib.suppress(Exception):
                    hello = await self.direct(host).admin.command("hello")
                    if hello.get("isWritablePrimary"):
                        return host
                    version = hello.get("topologyVersion")
                    if version is not None:
                        # Awaitable hello: returns when this member's view changes.
                        await self.direct(host).admin.command(
                            {"hello": 1, "topologyVersion": version, "maxAwaitTimeMS": 500}
                        )

    async def step_down(self) -> str:
        from pymongo.errors import AutoReconnect

        primary = await self.primary()
        # replSetStepDown closes no connection since 4.2, but the reply can be
        # lost when the member's state changes; its effect is what we check.
        with contextlib.suppress(AutoReconnect):
            await self.direct(primary).admin.command(
                {"replSetStepDown": 60, "secondaryCatchUpPeriodSecs": 10}
            )
        hello = await self.direct(primary).admin.command("hello")
        assert not hello.get("isWritablePrimary"), f"{primary} is still primary"
        return primary

    def _control(self) -> ProcessControl:
        if self.control is None:
            pytest.skip(
                "killing a member needs process control: MONGOTOR_TEST_URI names a set this "
                "suite did not start (unset it to use Docker)"
            )
        return self.control

    async def kill(self, host: str) -> None:
        control = self._control()
        await self._forget(host)
        await asyncio.to_thread(control.kill, host)
        self._killed.add(host)

    async def restart(self, host: str) -> None:
        await asyncio.to_thread(self._control().start, host)
        self._killed.discard(host)
        await self.wait_replicated()

    async def wait_replicated(self) -> None:
        # A write acknowledged by every live member (w: n waits on the server
        # for replication, no polling): everything before it has replicated too.
        primary = await self.primary()
        await self.direct(primary)["mongotor_integration"].command(
            {
                "insert": "marks",
                "documents": [{"mark": True}],
                "writeConcern": {"w": len(self.live_hosts), "wtimeout": 60_000},
            }
        )
