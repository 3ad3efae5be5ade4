"""What mongod does around a command once it is found and authorized.

The dispatcher calls :func:`run_hooked` instead of running the handler
directly when a fail point is on or the command carries session transaction
fields. In the order of the server's ``ExecCommandDatabase`` (service_entry_point_common.cpp):

1. the failCommand fail point: wait, close the connection or fail;
2. ``validateSessionOptions``: a transaction number only on a retryable write;
3. the retryable write: a write already executed on this session and
   transaction number answers its recorded reply instead of running again;
4. the command itself (the dispatcher's ``execute``);
5. the fail point's ``writeConcernError``, on commands that take a write concern;
6. the error labels (``appendErrorLabelsAndTopologyVersion``), replaced by the
   fail point's ``errorLabels`` when it gave some.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from bson import Int64

from ._errors import CommandError
from ._failpoints import CommandTarget, command_names
from ._retryable import RetryableWrite, SessionOptions, check_session_options, error_labels

if TYPE_CHECKING:
    from ._dispatch import CommandSpec, Context, Reply

__all__ = ["add_topology_version", "command_target", "run_hooked", "supports_write_concern"]

log = logging.getLogger("fakemongo.commands")

Execute = Callable[
    ["Context", "CommandSpec", dict[str, Any], RetryableWrite | None], Awaitable["Reply"]
]

# Commands that take a write concern (mongod: Command::supportsWriteConcern),
# among those fakemongo implements; aggregate only with $out or $merge.
_WRITE_CONCERN_COMMANDS: Final = frozenset(
    {
        "insert",
        "update",
        "delete",
        "findAndModify",
        "findandmodify",
        "bulkWrite",
        "create",
        "drop",
        "dropDatabase",
        "createIndexes",
        "dropIndexes",
        "deleteIndexes",
        "renameCollection",
        "createUser",
        "dropUser",
        "updateUser",
        "collMod",
    }
)


# error_codes.yml, the NotPrimaryError category.
_NOT_PRIMARY_CODES: Final = frozenset({189, 10107, 11602, 13435, 13436})


def add_topology_version(ctx: Context, reply: Reply) -> None:
    """A replica set member's NotPrimaryError replies carry its topologyVersion
    (service_entry_point_common.cpp ``appendErrorLabelsAndTopologyVersion``),
    so that drivers can tell a stale error from a new one (the SDAM
    specification, "Error handling")."""
    member = ctx.server.replication
    if member is None or not member.streams:
        return
    code = reply.get("code") if reply.get("ok") == 0 else None
    concern = reply.get("writeConcernError")
    wc_code = concern.get("code") if isinstance(concern, Mapping) else None
    if code in _NOT_PRIMARY_CODES or wc_code in _NOT_PRIMARY_CODES:
        reply["topologyVersion"] = {
            "processId": ctx.server.process_id,
            "counter": Int64(member.topology_counter),
        }


def supports_write_concern(command: str, body: Mapping[str, Any]) -> bool:
    """Whether mongod waits for a write concern after this command."""
    if command == "aggregate":
        pipeline = body.get("pipeline")
        if not isinstance(pipeline, list) or not pipeline or not isinstance(pipeline[-1], Mapping):
            return False
        return "$out" in pipeline[-1] or "$merge" in pipeline[-1]
    return command in _WRITE_CONCERN_COMMANDS


def command_target(ctx: Context, body: Mapping[str, Any]) -> CommandTarget:
    """The command as failCommand's matching sees it."""
    sent = next(iter(body), "")
    first = body.get(sent)
    namespace = f"{ctx.db}.{first}" if isinstance(first, str) else ctx.db
    metadata: Mapping[str, Any] | None = ctx.conn.client_metadata
    if metadata is None and sent in ("hello", "isMaster", "ismaster"):
        # mongod reads a hello's client metadata before it evaluates the fail
        # point, so a connection's first hello already matches its appName.
        client = body.get("client")
        metadata = client if isinstance(client, Mapping) else None
    app_name = ""
    if metadata is not None:
        application = metadata.get("application")
        if isinstance(application, Mapping) and isinstance(application.get("name"), str):
            app_name = application["name"]
    return CommandTarget(command_names(sent), namespace, app_name, f"conn{ctx.conn.connection_id}")


def _close_connection(reason: str) -> Exception:
    # The connection layer ends the connection, without a reply, on this
    # exception (imported here: _connection imports the dispatcher).
    from ._connection import _CloseConnection  # noqa: PLC0415 - an import cycle

    return _CloseConnection(reason)


async def run_hooked(
    ctx: Context,
    spec: CommandSpec,
    body: dict[str, Any],
    options: SessionOptions | None,
    execute: Execute,
) -> Reply:
    """Run one command with fail points, retryable writes and error labels
    (steps 1 to 6 above). Never raises for a command's failure; raises the
    connection layer's close signal when the fail point closes the connection."""
    server = ctx.server
    override: tuple[str, ...] | None = None
    target = command_target(ctx, body) if server.failpoints.armed else None
    try:
        if target is not None:
            injection = server.failpoints.before_command(target)
            if injection is not None:
                override = injection.error_labels
                if injection.block_ms:
                    await asyncio.sleep(injection.block_ms / 1000)
                if injection.close_connection:
                    log.info("failCommand closes connection %d", ctx.conn.connection_id)
                    raise _close_connection("failCommand fail point: closeConnection")
                if injection.error is not None:
                    raise injection.error
        if options is not None:
            check_session_options(options, spec.name)
        reply = await _run_once(ctx, spec, body, options, execute)
    except CommandError as exc:
        log.debug("command %s on %s failed: %r", spec.name, ctx.db, exc)
        server.command_failures[spec.name] += 1
        reply = exc.to_document()
    if target is not None and supports_write_concern(spec.name, body):
        injected = server.failpoints.after_command(target, reply)
        if injected is not None:
            reply["writeConcernError"] = injected.write_concern_error
            if injected.error_labels is not None:
                override = injected.error_labels
    _label(reply, spec.name, body, options, override)
    add_topology_version(ctx, reply)
    return reply


async def _run_once(
    ctx: Context,
    spec: CommandSpec,
    body: dict[str, Any],
    options: SessionOptions | None,
    execute: Execute,
) -> Reply:
    if options is None or options.txn_number is None or options.session is None:
        return await execute(ctx, spec, body, None)
    write = RetryableWrite(ctx.server, options.session, options.txn_number, spec.name, body)
    return await execute(ctx, spec, body, write)


def _label(
    reply: Reply,
    command: str,
    body: Mapping[str, Any],
    options: SessionOptions | None,
    override: tuple[str, ...] | None,
) -> None:
    # getErrorLabels: the fail point's errorLabels, when given, replace the
    # server's own (an empty list removes them).
    if override is not None:
        labels = list(override)
    else:
        code = reply.get("code") if reply.get("ok") == 0 else None
        concern = reply.get("writeConcernError")
        wc_code = concern.get("code") if isinstance(concern, Mapping) else None
        labels = error_labels(command, body, options, code, wc_code)
    if labels:
        reply["errorLabels"] = labels
