"""Command registry and dispatch: one place that turns a request into a reply.

A handler is a plain function ``(ctx, body) -> reply``. Handlers are
synchronous on purpose: the event loop runs one at a time, so every command is
atomic with respect to the others without a lock. A handler that must wait
(awaitData getMore, fail-point delays) returns an awaitable instead, and must
re-check state after each await.

The dispatcher owns what every command shares: finding the handler (59
CommandNotFound otherwise, worded as mongod words it), the authentication
gate (13 Unauthorized), ``ok: 1.0`` on success, and the reply shape of a
:class:`CommandError`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from ._errors import CommandError, ErrorCode

if TYPE_CHECKING:
    from ._state import ConnectionState, ServerState

__all__ = ["COMMANDS", "CommandSpec", "Context", "Handler", "command", "run_command"]

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
    that must run against the admin database."""

    name: str
    handler: Handler
    requires_auth: bool = True
    admin_only: bool = False
    help: str = ""


#: Every command by name and alias, exactly as a client spells it.
COMMANDS: dict[str, CommandSpec] = {}


def command(
    name: str,
    *aliases: str,
    requires_auth: bool = True,
    admin_only: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a handler under ``name`` and its ``aliases``."""

    def register(handler: Handler) -> Handler:
        doc = inspect.getdoc(handler) or ""
        spec = CommandSpec(name, handler, requires_auth, admin_only, doc.split("\n")[0])
        keys = (name, *aliases)
        taken = [key for key in keys if key in COMMANDS]
        if taken:
            raise RuntimeError(f"command {taken[0]!r} registered twice")
        COMMANDS.update(dict.fromkeys(keys, spec))
        return handler

    return register


async def run_command(ctx: Context, body: dict[str, Any]) -> Reply:
    """Run one command and return its reply document (``ok`` always set).

    Never raises for a command's failure: a :class:`CommandError` becomes its
    error reply, and any other exception becomes 1 InternalError for this
    request only, logged with its traceback.
    """
    name = next(iter(body), "")
    spec = COMMANDS.get(name)
    try:
        if spec is None:
            raise CommandError(ErrorCode.CommandNotFound, f"no such command: '{name}'")
        _check_access(ctx, spec)
        _check_transaction(body)
    except CommandError as exc:
        log.debug("command %s on %s refused: %r", name, ctx.db, exc)
        return exc.to_document()
    ctx.server.count_command(spec.name)
    try:
        reply = spec.handler(ctx, body)
        if inspect.isawaitable(reply):
            reply = await reply
    except CommandError as exc:
        log.debug("command %s on %s failed: %r", name, ctx.db, exc)
        ctx.server.command_failures[spec.name] += 1
        return exc.to_document()
    except Exception:
        log.exception("internal error running command %r on database %r", name, ctx.db)
        ctx.server.command_failures[spec.name] += 1
        return CommandError(
            ErrorCode.InternalError, f"internal error in fakemongo while running {name}"
        ).to_document()
    reply.setdefault("ok", 1.0)
    return reply


def _check_transaction(body: Mapping[str, Any]) -> None:
    # A standalone mongod has no transactions and no retryable writes: a
    # transaction number is refused (manual: "Transactions", which need a
    # replica set or a sharded cluster).
    if "txnNumber" in body or "startTransaction" in body or "autocommit" in body:
        raise CommandError(
            ErrorCode.IllegalOperation,
            "Transaction numbers are only allowed on a replica set member or mongos",
        )


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
