"""The backends every scenario runs against.

``deployment`` is parametrized: ``[fakemongo]`` is an in-process
:class:`fakemongo.FakeMongoReplicaSet` on the test's event loop (three tagged
members, 50 ms elections), always; ``[mongodb]`` is a real MongoDB 8.0 replica
set, MONGOTOR_TEST_URI's or a Docker one started once per session by
testcontainers, and skips with the reason when neither can be had.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from mongotor.database import Database

from ._deployment import Deployment, FakeDeployment, MongoDeployment
from ._docker import RealSet, Unavailable, real_replica_set

#: The client's heartbeatFrequencyMS in the scenarios (the spec's minimum is 500 ms).
HEARTBEAT_MS = 500

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def real_set() -> Iterator[RealSet | str]:
    """The real replica set, or why there is none (started on first use only)."""
    try:
        found = real_replica_set()
    except Unavailable as exc:
        yield str(exc)
        return
    try:
        yield found
    finally:
        if found.docker is not None:
            found.docker.stop()


@pytest_asyncio.fixture(params=["fakemongo", "mongodb"])
async def deployment(request: pytest.FixtureRequest) -> AsyncIterator[Deployment]:
    found: Deployment
    if request.param == "fakemongo":
        found = await FakeDeployment.start()
    else:
        real = request.getfixturevalue("real_set")
        if isinstance(real, str):
            pytest.skip(real)
        found = MongoDeployment(real.uri, real.hosts, real.election_time, real.docker)
    try:
        yield found
    finally:
        await found.close()


@pytest.fixture
def dbname(deployment: Deployment) -> str:
    """A database no other test uses (dropped at teardown on a real set)."""
    name = f"integ_{next(_numbers)}"
    deployment.databases.append(name)
    return name


@pytest_asyncio.fixture
async def connect(
    deployment: Deployment, dbname: str, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Database[dict[str, Any]]]]:
    """``connect(event_listeners=[...], **uri_options)``: a mongotor Database on the
    deployment, with its own appname (fail points match on it), closed at teardown."""
    opened: list[Database[dict[str, Any]]] = []
    appname = f"integ-{next(_numbers)}"

    def open_database(**options: Any) -> Database[dict[str, Any]]:
        options.setdefault("heartbeatFrequencyMS", HEARTBEAT_MS)
        options.setdefault("appname", appname)
        database = Database.connect(deployment.uri, dbname, **options)
        opened.append(database)
        return database

    open_database.appname = appname  # type: ignore[attr-defined]
    try:
        yield open_database
    finally:
        for database in opened:
            await database.close()
