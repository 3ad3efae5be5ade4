"""An event listener for the scenarios: it keeps every command, pool and SDAM
event mongotor publishes, and lets a test wait for a condition over them
(event-driven, bounded: no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from mongotor.client import CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent
from mongotor.pool import PoolCleared, ServerDescriptionChanged, ServerType

__all__ = ["Recorder"]

E = TypeVar("E")

#: Commands a test's own operations send; the monitors' hellos are not command events.
_BOOKKEEPING = frozenset({"endSessions", "killCursors"})


class Recorder:
    """Pass it to ``Database.connect(event_listeners=[recorder])``."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._changed: asyncio.Event | None = None

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        if self._changed is not None:
            self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]

    def started(self, command: str | None = None) -> list[CommandStartedEvent]:
        return [
            e
            for e in self.of(CommandStartedEvent)
            if (command is None and e.command_name not in _BOOKKEEPING) or e.command_name == command
        ]

    def outcomes(self, command: str) -> Iterator[CommandSucceededEvent | CommandFailedEvent]:
        for event in self.events:
            if (
                isinstance(event, CommandSucceededEvent | CommandFailedEvent)
                and event.command_name == command
            ):
                yield event

    def pool_cleared(self, address: str) -> list[PoolCleared]:
        return [e for e in self.of(PoolCleared) if e.address == address]

    def server_types(self, address: str) -> list[ServerType]:
        """The types ``address`` was given, in order (SDAM's ServerDescriptionChanged)."""
        return [
            e.new_description.type
            for e in self.of(ServerDescriptionChanged)
            if e.address == address
        ]

    def clear(self) -> None:
        self.events.clear()

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> None:
        """Return once ``predicate()`` holds, re-checked after each event;
        raise TimeoutError after ``within`` seconds."""
        self._changed = changed = asyncio.Event()
        try:
            async with asyncio.timeout(within):
                while not predicate():
                    await changed.wait()
                    changed.clear()
        finally:
            self._changed = None
