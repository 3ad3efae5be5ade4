"""Parsing a ``hello`` (or legacy hello) reply into a :class:`ServerDescription`.

SDAM, "Parsing a hello or legacy hello response". The reply is a decoded BSON
document; the monitor measures the round trip and reads its monotonic clock, and
passes both in, so parsing stays pure. Fields of the wrong BSON type are treated
as absent: a description is the client's opinion and must always be buildable.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Final

from bson import ObjectId
from bson.datetime_ms import DatetimeMS

from ._options import DEFAULT_PORT, FrozenMap
from ._server_description import (
    ServerDescription,
    ServerType,
    TopologyVersion,
    unknown_server,
)

__all__ = ["normalize_address", "parse_hello", "parse_topology_version", "server_type_of"]

# SDAM, "type": a mongos answers hello with msg "isdbgrid".
_MONGOS_MSG: Final = "isdbgrid"
_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MILLISECOND: Final = datetime.timedelta(milliseconds=1)


def normalize_address(address: str) -> str:
    """``address`` as SDAM compares addresses: ``host:port``, lowercased, with the
    default port added when none is written (``"A"`` -> ``"a:27017"``,
    ``"[::1]"`` -> ``"[::1]:27017"``). A UNIX socket path is kept as written.

    SDAM, "Hostnames are normalized to lower-case": DNS names are case-insensitive.
    """
    if address.endswith(".sock"):
        return address
    text = address.lower()
    if text.startswith("["):
        # An IPv6 literal: the port, if any, follows the closing bracket.
        return text if "]:" in text else f"{text}:{DEFAULT_PORT}"
    return text if ":" in text else f"{text}:{DEFAULT_PORT}"


def server_type_of(reply: Mapping[str, Any]) -> ServerType:
    """The ServerType a hello reply shows (SDAM, "type", the table of symptoms).

    ``isWritablePrimary`` is consulted first and the legacy ``ismaster`` only when
    it is absent (SDAM, "Parsing a hello or legacy hello response").
    """
    if reply.get("ok") != 1:
        return ServerType.UNKNOWN
    if reply.get("isreplicaset") is True:
        return ServerType.RS_GHOST
    if isinstance(reply.get("setName"), str):
        if reply.get("hidden") is True:
            return ServerType.RS_OTHER
        writable = reply.get("isWritablePrimary", reply.get("ismaster"))
        if writable is True:
            return ServerType.RS_PRIMARY
        if reply.get("secondary") is True:
            return ServerType.RS_SECONDARY
        if reply.get("arbiterOnly") is True:
            return ServerType.RS_ARBITER
        return ServerType.RS_OTHER
    if reply.get("msg") == _MONGOS_MSG:
        return ServerType.MONGOS
    return ServerType.STANDALONE


def parse_topology_version(document: Mapping[str, Any]) -> TopologyVersion | None:
    """The ``topologyVersion`` of a hello reply or of a State Change Error, or
    ``None`` when there is none (servers before 4.4) or it is malformed."""
    value = document.get("topologyVersion")
    if not isinstance(value, Mapping):
        return None
    process_id = value.get("processId")
    counter = _int(value.get("counter"))
    if not isinstance(process_id, ObjectId) or counter is None:
        return None
    return TopologyVersion(process_id, counter)


def parse_hello(
    address: str,
    reply: Mapping[str, Any],
    *,
    round_trip_time_ms: float | None,
    last_update_time_ms: float,
    min_round_trip_time_ms: float | None = None,
) -> ServerDescription:
    """The description of the server at ``address`` (already normalized) that the
    hello ``reply`` shows.

    ``round_trip_time_ms`` is the server's new *average* RTT (see
    :func:`~mongotor.pool.average_round_trip_time`); it is dropped when the reply
    makes the server Unknown (``ok`` is not 1), as SDAM's "roundTripTime" demands.
    ``last_update_time_ms`` is the monitor's monotonic clock at the end of the check.
    Never raises for the reply's content.
    """
    server_type = server_type_of(reply)
    topology_version = parse_topology_version(reply)
    if server_type is ServerType.UNKNOWN:
        return unknown_server(
            address, error=_hello_failure(reply), topology_version=topology_version
        )
    tags = reply.get("tags")
    return ServerDescription(
        address,
        type=server_type,
        round_trip_time_ms=round_trip_time_ms,
        min_round_trip_time_ms=min_round_trip_time_ms,
        last_update_time_ms=last_update_time_ms,
        last_write_date_ms=_last_write_date_ms(reply),
        min_wire_version=_int(reply.get("minWireVersion")) or 0,
        max_wire_version=_int(reply.get("maxWireVersion")) or 0,
        me=_address(reply.get("me")),
        hosts=_addresses(reply.get("hosts")),
        passives=_addresses(reply.get("passives")),
        arbiters=_addresses(reply.get("arbiters")),
        tags=FrozenMap(
            {str(key): str(value) for key, value in tags.items()}
            if isinstance(tags, Mapping)
            else None
        ),
        set_name=_str(reply.get("setName")),
        set_version=_int(reply.get("setVersion")),
        election_id=_object_id(reply.get("electionId")),
        primary=_address(reply.get("primary")),
        logical_session_timeout_minutes=_int(reply.get("logicalSessionTimeoutMinutes")),
        topology_version=topology_version,
        iscryptd=reply.get("iscryptd") is True,
    )


def _hello_failure(reply: Mapping[str, Any]) -> str:
    message = _str(reply.get("errmsg")) or "no error message"
    code = _int(reply.get("code"))
    suffix = f" (code {code})" if code is not None else ""
    return f"hello failed: {message}{suffix}"


def _int(value: object) -> int | None:
    # BSON int32/int64 decode as int (bson.Int64 subclasses it); bool is not a number here.
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _object_id(value: object) -> ObjectId | None:
    return value if isinstance(value, ObjectId) else None


def _address(value: object) -> str | None:
    return normalize_address(value) if isinstance(value, str) else None


def _addresses(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(normalize_address(item) for item in value if isinstance(item, str))


def _last_write_date_ms(reply: Mapping[str, Any]) -> int | None:
    # SDAM, "lastWriteDate and opTime": from the lastWrite subdocument, else null.
    last_write = reply.get("lastWrite")
    if not isinstance(last_write, Mapping):
        return None
    value = last_write.get("lastWriteDate")
    if isinstance(value, datetime.datetime):
        # bson decodes datetimes as naive UTC unless told to attach a timezone.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return (aware - _EPOCH) // _MILLISECOND
    if isinstance(value, DatetimeMS):
        return int(value)
    return _int(value)
