"""The fakemongo pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:

``fakemongo_server``
    One server per test session, served from a background thread, so sync
    and async tests (any event loop) can use it. Has ``.uri``, ``.address``.
``fakemongo_uri``
    A connection string naming a fresh database for this test
    (``mongodb://127.0.0.1:PORT/test_<n>``); the database is dropped after
    the test. Drivers use the path as the default database
    (``MongoClient(uri).get_default_database()``).
``fakemongo_database``
    Just that database's name.
``fakemongo_replset``
    A fresh replica set for this test (a :class:`FakeMongoReplicaSetThread`,
    three members unless the test is marked
    ``@pytest.mark.fakemongo_replset(members=5, arbiters=1, ...)`` with
    FakeMongoReplicaSet's arguments). Has ``.uri`` (``replicaSet=`` set),
    ``.hosts`` and ``.replset`` to drive (``call(replset.kill, 0)``).

fakemongo is imported only when a fixture is used, so merely having the
plugin installed costs a test run nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._server import FakeMongo
    from ._threaded import FakeMongoReplicaSetThread, FakeMongoThread

__all__ = [
    "fakemongo_database",
    "fakemongo_replset",
    "fakemongo_server",
    "fakemongo_uri",
    "pytest_configure",
]

_database_numbers = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fakemongo_replset(**kwargs): FakeMongoReplicaSet arguments for the fakemongo_replset fixture",
    )


@pytest.fixture(scope="session")
def fakemongo_server() -> Iterator[FakeMongoThread]:
    """A fakemongo server for the whole session, on a free port."""
    from ._threaded import FakeMongoThread  # noqa: PLC0415 - imported on first use only

    with FakeMongoThread() as server:
        yield server


@pytest.fixture
def fakemongo_database(fakemongo_server: FakeMongoThread) -> Iterator[str]:
    """A database name no other test uses; dropped when the test ends."""
    name = f"test_{next(_database_numbers)}"
    yield name
    fakemongo_server.call(_drop_database, fakemongo_server.server, name)


def _drop_database(server: FakeMongo, name: str) -> None:
    # As dropDatabase does: the database's open cursors go with it.
    cursors = server.state.cursors
    for cursor_id, cursor in list(cursors.cursors.items()):
        if cursor.namespace.startswith(f"{name}."):
            cursors.kill(cursor_id)
    server.state.storage.drop_database(name)


@pytest.fixture
def fakemongo_uri(fakemongo_server: FakeMongoThread, fakemongo_database: str) -> str:
    """A connection string to the session's server, defaulting to a fresh database."""
    return f"mongodb://{fakemongo_server.address}/{fakemongo_database}"


@pytest.fixture
def fakemongo_replset(request: pytest.FixtureRequest) -> Iterator[FakeMongoReplicaSetThread]:
    """A replica set of its own for this test, stopped when the test ends."""
    from ._threaded import FakeMongoReplicaSetThread  # noqa: PLC0415 - imported on first use only

    marker = request.node.get_closest_marker("fakemongo_replset")
    kwargs = {} if marker is None else dict(marker.kwargs)
    with FakeMongoReplicaSetThread(**kwargs) as replset:
        yield replset
