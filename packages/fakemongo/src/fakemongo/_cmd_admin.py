"""Handshake, diagnostics and server-wide commands.

hello / isMaster (manual: "hello", and the SDAM spec's list of fields drivers
read), buildInfo, ping, serverStatus, getParameter, getCmdLineOpts, hostInfo,
whatsmyuri, listCommands, endSessions / refreshSessions / killSessions. All of
them describe one server: the constants in :mod:`fakemongo._identity`.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
from collections.abc import Mapping
from typing import Any

from bson import Int64

from mongotor.wire import available_compressors, negotiate_compressors

from ._args import check_fields, get_int
from ._bsonorder import type_alias
from ._dispatch import COMMANDS, Context, command
from ._errors import CommandError, ErrorCode
from ._identity import (
    LOGICAL_SESSION_TIMEOUT_MINUTES,
    MAX_BSON_OBJECT_SIZE,
    MAX_MESSAGE_SIZE_BYTES,
    MAX_WIRE_VERSION,
    MAX_WRITE_BATCH_SIZE,
    MIN_WIRE_VERSION,
    VERSION,
    build_info,
    host_info,
)

__all__: list[str] = []

# The SDAM spec's awaitable hello: a client that passes the server's current
# topologyVersion and maxAwaitTimeMS is answered when the topology changes or
# when maxAwaitTimeMS has passed. A standalone's topology never changes, so
# mongod just waits (repl/replication_info.cpp, appendReplicationInfo).


def _now() -> datetime.datetime:
    # BSON dates have millisecond precision; so does what mongod reports.
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@command("hello", "isMaster", "ismaster", requires_auth=False)
def hello(ctx: Context, body: dict[str, Any]) -> Any:
    """Describe this server for the handshake and monitoring."""
    conn = ctx.conn
    if "client" in body:
        # Manual, "hello": client metadata may only be sent in the first
        # hello of a connection (mongod: ClientMetadata::setFromMetadata).
        if conn.handshake_done:
            raise CommandError(
                ErrorCode.ClientMetadataCannotBeMutated,
                "The client metadata document may only be sent in the first hello",
            )
        if not isinstance(body["client"], Mapping):
            raise CommandError(
                ErrorCode.TypeMismatch, "The client metadata document must be a document"
            )
        conn.client_metadata = dict(body["client"])
    conn.handshake_done = True
    wait = _await_time(ctx, body)
    if "compression" in body:
        _negotiate_compression(ctx, body["compression"])
    reply = _hello_reply(ctx, body)
    if wait is None:
        return reply
    return _awaitable(ctx, wait, reply)


def _negotiate_compression(ctx: Context, requested: Any) -> None:
    # Every hello that lists compressors renegotiates; one that does not is
    # told the current choice (mongod: MessageCompressorManager::serverNegotiate).
    if not isinstance(requested, list):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field 'hello.compression' is the wrong type '{type_alias(requested)}', "
            "expected type 'array'",
        )
    for name in requested:
        if not isinstance(name, str):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"BSON field 'hello.compression' contains a value of the wrong type "
                f"'{type_alias(name)}', expected type 'string'",
            )
    offered = [c for c in ctx.server.options.compressors if c in available_compressors()]
    ctx.conn.compressors = negotiate_compressors(requested, offered)


def _hello_reply(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    # Field order as mongod's hello writes them (repl/hello.cpp).
    reply: dict[str, Any] = {}
    if next(iter(body)) == "hello":
        reply["isWritablePrimary"] = True
    else:
        reply["ismaster"] = True
    reply["topologyVersion"] = {"processId": ctx.server.process_id, "counter": Int64(0)}
    if "helloOk" in body:
        # Sent at all, helloOk is answered true: this server knows hello.
        reply["helloOk"] = True
    reply.update(
        maxBsonObjectSize=MAX_BSON_OBJECT_SIZE,
        maxMessageSizeBytes=MAX_MESSAGE_SIZE_BYTES,
        maxWriteBatchSize=MAX_WRITE_BATCH_SIZE,
        localTime=_now(),
        logicalSessionTimeoutMinutes=LOGICAL_SESSION_TIMEOUT_MINUTES,
        connectionId=ctx.conn.connection_id,
        minWireVersion=MIN_WIRE_VERSION,
        maxWireVersion=MAX_WIRE_VERSION,
        readOnly=False,
    )
    if ctx.conn.compressors:
        reply["compression"] = list(ctx.conn.compressors)
    from ._cmd_auth import sasl_supported_mechs, speculative_authenticate  # noqa: PLC0415 - optional hooks

    if "saslSupportedMechs" in body:
        mechanisms = sasl_supported_mechs(ctx.server, body["saslSupportedMechs"])
        if mechanisms is not None:
            reply["saslSupportedMechs"] = mechanisms
    if "speculativeAuthenticate" in body:
        speculative = speculative_authenticate(ctx, body["speculativeAuthenticate"])
        if speculative is not None:
            reply["speculativeAuthenticate"] = speculative
    member = ctx.server.replication
    return reply if member is None else member.hello(reply)


def _await_time(ctx: Context, body: dict[str, Any]) -> float | None:
    """Seconds an awaitable hello waits, or None to answer now (mongod's hello.cpp)."""
    version = body.get("topologyVersion")
    max_await = get_int("hello", body, "maxAwaitTimeMS")
    if version is None or max_await is None:
        if version is not None:
            raise CommandError(
                ErrorCode.Location51760,
                "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'",
            )
        if max_await is not None:
            raise CommandError(
                ErrorCode.Location51760,
                "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'",
            )
        return None
    if not isinstance(version, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field 'hello.topologyVersion' is the wrong type '{type_alias(version)}', "
            "expected type 'object'",
        )
    for field in ("processId", "counter"):
        if field not in version:
            raise CommandError(
                ErrorCode.Location40414,
                f"BSON field 'hello.topologyVersion.{field}' is missing but a required field",
            )
    counter = get_int("hello.topologyVersion", version, "counter")
    assert counter is not None
    if counter < 0:
        raise CommandError(
            ErrorCode.Location51758, "topologyVersion must have a non-negative counter"
        )
    if max_await < 0:
        raise CommandError(ErrorCode.Location51759, "maxAwaitTimeMS must be a non-negative integer")
    member = ctx.server.replication
    if member is not None and not member.streams:
        return None  # a member configured without topologyVersion answers at once
    current = 0 if member is None else member.topology_counter
    if version["processId"] != ctx.server.process_id or counter < current:
        return None  # another process, or the client's view is stale: answer now
    if counter > current:
        raise CommandError(
            ErrorCode.Location51764,
            f"Received a topology version with counter: {counter} which is greater than the server "
            f"topology version counter: {current}",
        )
    return max_await / 1000


async def _awaitable(ctx: Context, wait: float, reply: dict[str, Any]) -> dict[str, Any]:
    member = ctx.server.replication
    if member is None:
        # A standalone's topology never changes, so the wait always runs out.
        await asyncio.sleep(wait)
    else:
        # A member answers as soon as its topologyVersion moves.
        await member.topology_changed(wait)
        reply = member.hello(reply)
    reply["localTime"] = _now()
    return reply


@command("ping", requires_auth=False)
def ping(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Answer ok: a liveness check."""
    return {}


@command("buildInfo", "buildinfo", requires_auth=False)
def build_info_command(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The server's version and build."""
    from ._server import FakeMongo  # noqa: PLC0415 - the version lives with the server

    return build_info(FakeMongo.version)


@command("hostInfo")
def host_info_command(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The host system this server runs on."""
    return host_info()


@command("whatsmyuri", requires_auth=False)
def whatsmyuri(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The client's address as the server sees it."""
    return {"you": ctx.conn.peer}


def _argv(ctx: Context) -> list[str]:
    options = ctx.server.options
    argv = ["fakemongo", "--bind_ip", options.host, "--port", str(ctx.server.port)]
    if ctx.server.auth_required:
        argv.append("--auth")
    if options.tls_certfile:
        argv += ["--tlsMode", "requireTLS", "--tlsCertificateKeyFile", options.tls_certfile]
    if options.tls_ca_file:
        argv += ["--tlsCAFile", options.tls_ca_file]
    return argv


@command("getCmdLineOpts", admin_only=True)
def get_cmd_line_opts(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The options this server was started with (manual: getCmdLineOpts)."""
    options = ctx.server.options
    parsed: dict[str, Any] = {"net": {"bindIp": options.host, "port": ctx.server.port}}
    if ctx.server.auth_required:
        parsed["security"] = {"authorization": "enabled"}
    if options.tls_certfile:
        tls = {"mode": "requireTLS", "certificateKeyFile": options.tls_certfile}
        if options.tls_ca_file:
            tls["CAFile"] = options.tls_ca_file
        parsed["net"]["tls"] = tls
    return {"argv": _argv(ctx), "parsed": parsed}


def _seconds(value: float) -> int | float:
    # mongod's *Secs parameters are whole numbers; fakemongo's may be finer.
    return int(value) if value == int(value) else value


def _parameters(ctx: Context) -> dict[str, Any]:
    options = ctx.server.options
    return {
        "authenticationMechanisms": ["SCRAM-SHA-1", "SCRAM-SHA-256"],
        "clientCursorMonitorFrequencySecs": _seconds(options.cursor_monitor_seconds),
        "cursorTimeoutMillis": Int64(options.cursor_timeout_ms),
        "enableTestCommands": options.enable_test_commands,
        "featureCompatibilityVersion": {"version": ".".join(VERSION.split(".")[:2])},
        "logLevel": 0,
        "maxBSONObjectSize": MAX_BSON_OBJECT_SIZE,
        "transactionLifetimeLimitSeconds": 60,
        "ttlMonitorEnabled": True,
        "ttlMonitorSleepSecs": _seconds(options.ttl_monitor_seconds),
    }


@command("getParameter", admin_only=True)
def get_parameter(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Server parameters: ``{getParameter: "*"}`` or ``{getParameter: 1, name: 1}``."""
    known = _parameters(ctx)
    selector = body["getParameter"]
    if selector == "*" or (isinstance(selector, Mapping) and selector.get("allParameters")):
        return dict(known)
    wanted = [
        name
        for name in body
        if name != "getParameter" and not name.startswith("$") and name in known
    ]
    if not wanted:
        # mongod: uassert(InvalidOptions, "no option found to get").
        raise CommandError(ErrorCode.InvalidOptions, "no option found to get")
    return {name: known[name] for name in wanted}


@command("serverStatus")
def server_status(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Counters for connections, operations and cursors (manual: serverStatus)."""
    state = ctx.server
    uptime = state.uptime()
    counters = state.opcounters
    return {
        "host": f"{state.options.host}:{state.port}",
        "version": VERSION,
        "process": "mongod",
        "pid": Int64(os.getpid()),
        "uptime": float(int(uptime)),
        "uptimeMillis": Int64(int(uptime * 1000)),
        "uptimeEstimate": Int64(int(uptime)),
        "localTime": _now(),
        "connections": {
            "current": state.current_connections,
            "available": 1_000_000 - state.current_connections,
            "totalCreated": state.total_connections,
            "active": state.current_connections,
        },
        "opcounters": {
            name: Int64(counters[name])
            for name in ("insert", "query", "update", "delete", "getmore", "command")
        },
        "metrics": {
            "cursor": {
                "timedOut": Int64(state.cursors.timed_out_total),
                "open": {
                    "total": Int64(len(state.cursors)),
                    "noTimeout": Int64(
                        sum(1 for c in state.cursors.cursors.values() if c.no_timeout)
                    ),
                },
            },
            "commands": {
                name: {"total": Int64(n), "failed": Int64(state.command_failures[name])}
                for name, n in state.command_counts.items()
            },
        },
        "storageEngine": {
            "name": "ephemeralForTest",
            "supportsCommittedReads": False,
            "persistent": False,
        },
        "fakemongo": {"python": sys.version.split()[0], "process_id": str(state.process_id)},
    }


@command("listCommands", requires_auth=False)
def list_commands(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Every command this server implements, with whether it requires auth."""
    commands: dict[str, Any] = {}
    for name, spec in sorted(COMMANDS.items()):
        if spec.test_only and not ctx.server.options.enable_test_commands:
            continue  # mongod registers test commands only with enableTestCommands
        commands[name] = {
            "help": spec.help,
            "requiresAuth": spec.requires_auth,
            "adminOnly": spec.admin_only,
        }
    return {"commands": commands}


@command("endSessions", "killSessions", "refreshSessions", "killAllSessions")
def end_sessions(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Forget sessions. A standalone without transactions keeps no session state,
    so there is nothing to end; unknown sessions are not an error (manual:
    endSessions)."""
    sessions = body[next(iter(body))]
    if not isinstance(sessions, list) or not all(isinstance(s, Mapping) for s in sessions):
        raise CommandError(ErrorCode.TypeMismatch, "sessions must be an array of documents")
    check_fields(next(iter(body)), body, ())
    return {}
