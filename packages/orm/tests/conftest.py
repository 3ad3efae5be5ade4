"""Shared fixtures: a fakemongo server per test, the default Database on it, a
recorder of the commands sent, and signal receivers put back after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from fakemongo import FakeMongo
from mongotor.client import CommandStartedEvent
from mongotor.database import Database
from mongotor.orm import signal

SIGNALS = [
    signal.pre_save,
    signal.post_save,
    signal.pre_update,
    signal.post_update,
    signal.pre_remove,
    signal.post_remove,
]


class Commands:
    """The commands the client sent, by name (handshakes and monitoring aside)."""

    def __init__(self) -> None:
        self.started: list[CommandStartedEvent] = []

    def __call__(self, event: Any) -> None:
        if isinstance(event, CommandStartedEvent):
            self.started.append(event)

    def named(self, *names: str) -> list[dict[str, Any]]:
        return [dict(e.command) for e in self.started if e.command_name in names]

    def clear(self) -> None:
        self.started.clear()

    def last(self, name: str) -> dict[str, Any]:
        return self.named(name)[-1]


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    """No default Database leaks between tests, nor signal receivers."""
    saved = [list(s._receivers) for s in SIGNALS]
    Database._default = None
    yield
    Database._default = None
    for s, receivers in zip(SIGNALS, saved, strict=True):
        s._receivers[:] = receivers


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeMongo]:
    async with FakeMongo() as running:
        yield running


@pytest.fixture
def commands() -> Commands:
    return Commands()


@pytest_asyncio.fixture
async def db(server: FakeMongo, commands: Commands) -> AsyncIterator[Database[Any]]:
    database = Database.connect(server.uri + "/orm_test", event_listeners=[commands])
    yield database
    await Database.disconnect()
