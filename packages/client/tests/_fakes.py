"""Test doubles: an executor that records requests and answers from a script."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from mongotor.client import DEFAULT_LIMITS, Database, Reply, Request, ServerLimits
from mongotor.client._errors_from import command_error

ADDRESS = "fake:27017"

Handler = Callable[[Request], Mapping[str, Any]]


class FakeExecutor:
    """Records every request; answers with the next scripted reply (a document,
    or an exception to raise), else with ``handler(request)``, else ``{"ok": 1}``.
    As the Executor protocol requires, an ``ok: 0`` reply is raised as its error."""

    def __init__(self, handler: Handler | None = None, limits: ServerLimits = DEFAULT_LIMITS):
        self.requests: list[Request] = []
        self.script: deque[Mapping[str, Any] | BaseException] = deque()
        self.handler = handler
        self.limits = limits
        self.closed = False

    def answer(self, *replies: Mapping[str, Any] | BaseException) -> FakeExecutor:
        self.script.extend(replies)
        return self

    async def execute(self, request: Request) -> Reply:
        self.requests.append(request)
        if self.script:
            item = self.script.popleft()
            if isinstance(item, BaseException):
                raise item
            document = item
        elif self.handler is not None:
            document = self.handler(request)
        else:
            document = {"ok": 1}
        if document.get("ok") == 0:
            raise command_error(document, ADDRESS)
        return Reply(document, ADDRESS)

    async def close(self) -> None:
        self.closed = True

    @property
    def commands(self) -> list[dict[str, Any]]:
        return [dict(request.command) for request in self.requests]

    @property
    def names(self) -> list[str]:
        return [request.name for request in self.requests]


def fake_database(executor: FakeExecutor | None = None, name: str = "app") -> Database[Any]:
    return Database(name, executor or FakeExecutor())


def cursor_reply(
    batch: list[dict[str, Any]], cursor_id: int = 0, *, first: bool = True, ns: str | None = None
) -> dict[str, Any]:
    field = "firstBatch" if first else "nextBatch"
    cursor: dict[str, Any] = {"id": cursor_id, field: batch}
    if ns is not None:
        cursor["ns"] = ns
    return {"cursor": cursor, "ok": 1}
