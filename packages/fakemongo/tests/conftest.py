"""Shared fixtures: one threaded server per session for synchronous PyMongo tests,
a fresh database per test, and an in-loop server for asyncio tests.

A test module may define its own fixture of the same name (a server with
users, say); pytest then uses the module's.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from pymongo import MongoClient
from pymongo.database import Database

from fakemongo import FakeMongo, FakeMongoThread

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeMongoThread]:
    """One fakemongo server for the session, served from a background thread."""
    with FakeMongoThread() as running:
        yield running


@pytest.fixture(scope="session")
def client(fake_server: FakeMongoThread) -> Iterator[MongoClient[dict[str, Any]]]:
    """A PyMongo client to the session's server."""
    with MongoClient(fake_server.uri, serverSelectionTimeoutMS=10_000) as connected:
        yield connected


@pytest.fixture
def db(client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    """A database no other test uses, dropped after the test."""
    name = f"t{next(_database_numbers)}"
    yield client[name]
    client.drop_database(name)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeMongo]:
    """A server on this test's event loop."""
    async with FakeMongo() as running:
        yield running
