"""The connection handshake (MongoDB Handshake spec), decided purely.

:func:`hello_command` builds the first command on every new connection: the
legacy hello (``isMaster``) with ``helloOk: true``, sent as OP_MSG (the spec
since 2026: OP_MSG for every handshake; ``hello`` itself only with a Stable API
version or load balancing, neither of which mongotor offers), with the client
metadata, the compressors to negotiate, ``saslSupportedMechs`` when the
credential names no mechanism, and ``speculativeAuthenticate``.
:func:`parse_handshake` reads the reply into a :class:`HandshakeResult`.

:func:`client_metadata` is the ``client`` document: driver name and version,
the operating system, the Python implementation, and the application name,
kept within the 512 bytes the server accepts (spec, "Limitations").
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Final

import bson

from ._credentials import Credential
from ._hello import parse_hello
from ._server_description import ServerDescription

__all__ = [
    "DRIVER_NAME",
    "MAX_METADATA_SIZE",
    "HandshakeResult",
    "client_metadata",
    "driver_version",
    "hello_command",
    "parse_handshake",
]

#: client.driver.name.
DRIVER_NAME: Final = "mongotor"
#: Handshake spec, "Limitations": the whole ``client`` document, BSON overhead included.
MAX_METADATA_SIZE: Final = 512
# The limits a hello reply announces, and the values before MongoDB announced them.
_DEFAULT_MAX_BSON_OBJECT_SIZE: Final = 16 * 1024 * 1024
_DEFAULT_MAX_MESSAGE_SIZE: Final = 48_000_000
_DEFAULT_MAX_WRITE_BATCH_SIZE: Final = 100_000


def driver_version() -> str:
    """client.driver.version: the installed mongotor-pool's version."""
    try:
        return metadata.version("mongotor-pool")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


@functools.cache
def _os_document() -> dict[str, str]:
    # client.os: type is REQUIRED ("unknown" when it cannot be told); name,
    # architecture and version are recommended.
    system = platform.system()
    document = {"type": system or "unknown", "name": system or "unknown"}
    if system == "Linux":
        try:
            release = platform.freedesktop_os_release()
        except OSError:
            release = {}
        document["name"] = release.get("PRETTY_NAME", system)
    if machine := platform.machine():
        document["architecture"] = machine
    if version := platform.release():
        document["version"] = version
    return document


def _platform() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}"


def client_metadata(app_name: str | None = None) -> dict[str, Any]:
    """The handshake's ``client`` document.

    When it would exceed :data:`MAX_METADATA_SIZE`, the spec's order of
    reductions applies: the ``os`` fields other than ``type`` go, then
    ``platform`` is truncated (and finally dropped). ``app_name`` is at most 128
    bytes (the connection-string parser enforces it).
    """
    document: dict[str, Any] = {}
    if app_name is not None:
        document["application"] = {"name": app_name}
    document["driver"] = {"name": DRIVER_NAME, "version": driver_version()}
    document["os"] = dict(_os_document())
    document["platform"] = _platform()
    return _fit(document)


def _size(document: Mapping[str, Any]) -> int:
    return len(bson.encode(document))


def _fit(document: dict[str, Any]) -> dict[str, Any]:
    if _size(document) <= MAX_METADATA_SIZE:
        return document
    document["os"] = {"type": document["os"]["type"]}
    excess = _size(document) - MAX_METADATA_SIZE
    if excess > 0:
        # A BSON string costs its UTF-8 bytes plus a fixed overhead: cutting
        # ``excess`` bytes is enough (a split character is dropped whole).
        encoded = document["platform"].encode()
        keep = len(encoded) - excess
        if keep > 0:
            document["platform"] = encoded[:keep].decode("utf-8", "ignore")
        else:
            del document["platform"]
    return document


def hello_command(
    metadata_document: Mapping[str, Any],
    *,
    compressors: Sequence[str] = (),
    credential: Credential | None = None,
    speculative_authenticate: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The first command of a connection (sent to ``admin``).

    ``saslSupportedMechs`` asks which SCRAM mechanisms the user has when the
    credential names none (Auth spec, "Mechanism Negotiation via Handshake"; the
    user name goes as given, not SASLprepped). ``speculative_authenticate`` is
    the first authentication command to piggyback (Handshake spec).
    """
    command: dict[str, Any] = {"isMaster": 1, "helloOk": True, "client": metadata_document}
    if compressors:
        command["compression"] = list(compressors)
    if credential is not None and credential.mechanism is None:
        command["saslSupportedMechs"] = f"{credential.source}.{credential.username}"
    if speculative_authenticate is not None:
        command["speculativeAuthenticate"] = speculative_authenticate
    return command


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    """What the handshake reply says about the server and this connection.

    ``description`` is the server as SDAM sees it; ``compressor`` the
    compressor both sides agreed on (``None``: none); the size limits are the
    server's or their historical defaults; ``server_connection_id`` is the
    server's id for this connection; ``sasl_supported_mechs`` answers
    ``saslSupportedMechs`` (``None`` when the reply has no such field);
    ``speculative_authenticate`` is the server's answer to the piggybacked
    authentication command.
    """

    description: ServerDescription
    compressor: str | None
    max_wire_version: int
    max_bson_object_size: int
    max_message_size: int
    max_write_batch_size: int
    server_connection_id: int | None
    hello_ok: bool
    sasl_supported_mechs: tuple[str, ...] | None
    speculative_authenticate: Mapping[str, Any] | None
    reply: Mapping[str, Any] = field(repr=False)


def parse_handshake(
    address: str,
    reply: Mapping[str, Any],
    *,
    requested_compressors: Sequence[str],
    round_trip_time_ms: float,
    now_ms: float,
) -> HandshakeResult:
    """Read a successful (``ok: 1``) handshake reply.

    The compressor is the first of ``requested_compressors`` the server also
    lists (OP_COMPRESSED spec, "Compressors").
    """
    offered = reply.get("compression")
    server_compressors = set(offered) if isinstance(offered, list) else set()
    compressor = next((name for name in requested_compressors if name in server_compressors), None)
    mechanisms = reply.get("saslSupportedMechs")
    speculative = reply.get("speculativeAuthenticate")
    connection_id = _int(reply.get("connectionId"))
    return HandshakeResult(
        description=parse_hello(
            address, reply, round_trip_time_ms=round_trip_time_ms, last_update_time_ms=now_ms
        ),
        compressor=compressor,
        max_wire_version=_int(reply.get("maxWireVersion")) or 0,
        max_bson_object_size=_int(reply.get("maxBsonObjectSize")) or _DEFAULT_MAX_BSON_OBJECT_SIZE,
        max_message_size=_int(reply.get("maxMessageSizeBytes")) or _DEFAULT_MAX_MESSAGE_SIZE,
        max_write_batch_size=_int(reply.get("maxWriteBatchSize")) or _DEFAULT_MAX_WRITE_BATCH_SIZE,
        server_connection_id=connection_id,
        hello_ok=reply.get("helloOk") is True,
        sasl_supported_mechs=tuple(str(name) for name in mechanisms)
        if isinstance(mechanisms, list)
        else None,
        speculative_authenticate=speculative if isinstance(speculative, Mapping) else None,
        reply=reply,
    )


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return None
