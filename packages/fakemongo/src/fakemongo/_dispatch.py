"""Command registry and dispatch: one place that turns a request into a reply.

A handler is a plain function ``(ctx, body) -> reply``. Handlers are
synchronous on purpose: the event loop runs one at a time, so every command is
atomic with respect to the others without a lock. A handler that must wait
(awaitData getMore, fail-point delays) returns an awaitable instead, and must
re-check state after each await.

The dispatcher owns what every command shares: finding the handler (59
CommandNotFound otherwise, worded as mongod words it; test commands exist only
with ``enable_test_commands``), the authentication gate (13 Unauthorized), the
session fields, ``ok: 1.0`` on success, and the reply shape of a
:class:`CommandError`. Fail points, retryable writes and error labels
(:mod:`fakemongo._hooks`) wrap a command only when a fail point is on or the
command carries a transaction number.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from ._errors import CommandError, ErrorCode
from ._hooks import add_topology_version, run_hooked
from ._retryable import session_options

if TYPE_CHECKING:
    from ._retryable import RetryableWrite
    from ._state import ConnectionState, ServerState

__all__ = [
    "COMMANDS",
    "CommandSpec",
    "Context",
    "Handler",
    "command",
    "dispatch",
    "run_command",
]

log = logging.getLogger("fakemongo.commands")

Reply: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler may touch: the server, the connection and the database."""

    server: ServerState
    conn: ConnectionState
    db: str


Handler: TypeAlias = Callable[[Context, dict[str, Any]], Reply | Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A registered command. ``requires_auth=False`` for the handshake and auth
    commands mongod answers before authentication; ``admin_only`` for those
    that must run against the admin database; ``test_only`` for those mongod
    registers only with enableTestCommands."""

    name: str
    handler: Handler
    requires_auth: bool = True
    admin_only: bool = False
    help: str = ""
    test_only: bool = False


#: Every command by name and alias, exactly as a client spells it.
COMMANDS: dict[str, CommandSpec] = {}


def command(
    name: str,
    *aliases: str,
    requires_auth: bool = True,
    admin_only: bool = False,
    test_only: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a handler under ``name`` and its ``aliases``."""

    def register(handler: Handler) -> Handler:
        doc = inspect.getdoc(handler) or ""
        spec = CommandSpec(name, handler, requires_auth, admin_only, doc.split("\n")[0], test_only)
        keys = (name, *aliases)
        taken = [key for key in keys if key in COMMANDS]
        if taken:
            raise RuntimeError(f"command {taken[0]!r} registered twice")
        COMMANDS.update(dict.fromkeys(keys, spec))
        return handler

    return register


def dispatch(ctx: Context, body: dict[str, Any]) -> Reply | Coroutine[Any, Any, Reply]:
    """Run one command as far as it goes without waiting: its reply document
    (``ok`` always set), or, for a command that waits or that hooks wrap, a
    coroutine that runs it and returns its reply.

    Most commands never wait, and the connection answers them in its read
    callback: returning their reply here spares each a coroutine (made,
    started and finished through StopIteration) that would only be run to
    its end at once. Never raises for a command's failure: a
    :class:`CommandError` becomes its error reply, and any other exception
    becomes 1 InternalError for this request only, logged with its traceback.
    """
    name = next(iter(body), "")
    server = ctx.server
    spec = COMMANDS.get(name)
    if spec is not None and spec.test_only and not server.options.enable_test_commands:
        spec = None  # mongod without enableTestCommands never registers it
    try:
        if spec is None:
            raise CommandError(ErrorCode.CommandNotFound, f"no such command: '{name}'")
        if spec.admin_only or (spec.requires_auth and server.auth_required):
            _check_access(ctx, spec)
        session = None
        # session_options' own first test, without the call: nearly every
        # command has an lsid alone, which asks nothing of the server.
        if "txnNumber" in body or "autocommit" in body or "startTransaction" in body:
            session = session_options(ctx, body, requires_auth=spec.requires_auth)
    except CommandError as exc:
        log.debug("command %s on %s refused: %r", name, ctx.db, exc)
        return exc.to_document()
    server.count_command(spec.name)
    if session is not None or server.failpoints.armed:
        return run_hooked(ctx, spec, body, session, _execute)
    if server.replication is not None:
        return _execute(ctx, spec, body)
    # What _execute does for a standalone's command outside any retryable
    # write, inline.
    try:
        reply = spec.handler(ctx, body)
    except Exception as exc:  # a CommandError, or a bug of ours: see _failure
        return _failure(ctx, spec, name, exc)
    # A dict first: inspect.isawaitable is slow to say no to one.
    if type(reply) is not dict and inspect.isawaitable(reply):
        return _finish_waiting(ctx, spec, name, reply)
    reply.setdefault("ok", 1.0)
    return reply


async def run_command(ctx: Context, body: dict[str, Any]) -> Reply:
    """Run one command and return its reply document (``ok`` always set);
    :func:`dispatch`, awaited to the end."""
    outcome = dispatch(ctx, body)
    if type(outcome) is dict:
        return outcome
    return await cast("Coroutine[Any, Any, Reply]", outcome)


async def _finish_waiting(
    ctx: Context, spec: CommandSpec, name: str, awaitable: Awaitable[Reply]
) -> Reply:
    """The rest of a standalone's command whose handler returned an awaitable."""
    try:
        reply = await _in_a_task(awaitable)
    except Exception as exc:  # a CommandError, or a bug of ours: see _failure
        return _failure(ctx, spec, name, exc)
    reply.setdefault("ok", 1.0)
    return reply


async def _execute(
    ctx: Context, spec: CommandSpec, body: dict[str, Any], write: RetryableWrite | None = None
) -> Reply:
    """Run the handler: its reply with ``ok`` set, or its error's reply.
    A retryable ``write`` already executed answers its recorded reply instead;
    one that runs is recorded before its write concern is waited for (the
    record replicates with the write)."""
    name = next(iter(body), "")
    member = ctx.server.replication
    concern = None
    try:
        if member is not None:  # a replica set member: its state may refuse the command
            body, concern = member.admit(spec.name, ctx.db, body)
        replayed = None if write is None else write.begin()
        if replayed is None:
            reply = spec.handler(ctx, body)
            # A dict first: inspect.isawaitable is slow to say no to one.
            if type(reply) is not dict and inspect.isawaitable(reply):
                reply = await _in_a_task(reply)
            if write is not None:
                write.executed(reply)
        else:
            reply = replayed
    except Exception as exc:  # a CommandError, or a bug of ours: see _failure
        return _failure(ctx, spec, name, exc)
    reply.setdefault("ok", 1.0)
    if concern is not None:
        assert member is not None
        # Into a task before the coroutine exists: if the connection is
        # closed first, there is no unawaited acknowledge left behind.
        await _enter_a_task()
        reply = await member.acknowledge(reply, concern)
    return reply


def _failure(ctx: Context, spec: CommandSpec, name: str, exc: Exception) -> Reply:
    """The reply of a command that raised: its error's, or 1 InternalError
    (logged with its traceback) for anything but a CommandError."""
    ctx.server.command_failures[spec.name] += 1
    if isinstance(exc, CommandError):
        log.debug("command %s on %s failed: %r", name, ctx.db, exc)
        failed = exc.to_document()
        add_topology_version(ctx, failed)
        return failed
    log.error("internal error running command %r on database %r", name, ctx.db, exc_info=exc)
    return CommandError(
        ErrorCode.InternalError, f"internal error in fakemongo while running {name}"
    ).to_document()


async def _in_a_task(awaitable: Awaitable[Reply]) -> Reply:
    """Await a handler's awaitable inside a task. The connection runs a
    command's first step in its read callback, outside any task, so that a
    command that does not wait needs none; one that waits moves into a task
    here, before what it awaits starts (``asyncio.timeout`` needs a task)."""
    try:
        await _enter_a_task()
    except BaseException:
        # The connection ended before the task ran: what the handler
        # returned will never be awaited.
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        raise
    return await awaitable


async def _enter_a_task() -> None:
    if asyncio.current_task() is None:
        await asyncio.sleep(0)  # suspends: the connection goes on in a task


def _check_access(ctx: Context, spec: CommandSpec) -> None:
    # mongod's checkAuthorizationImplPreParse: the admin-only check comes
    # first, then authentication.
    if spec.admin_only and ctx.db != "admin":
        raise CommandError(
            ErrorCode.Unauthorized, f"{spec.name} may only be run against the admin database."
        )
    server = ctx.server
    if (
        spec.requires_auth
        and server.auth_required
        and server.users.authenticated_user(ctx.conn) is None
    ):
        raise CommandError(ErrorCode.Unauthorized, f"Command {spec.name} requires authentication")
