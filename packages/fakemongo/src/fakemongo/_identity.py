"""One coherent MongoDB 8.0 identity, shared by every command that reports it.

hello, buildInfo, serverStatus, getParameter, getCmdLineOpts and hostInfo all
read these constants, so they agree with each other. Limits and fields follow
the manual's pages for those commands; the wire version of the 8.0 series is 25
(manual: "Wire Version" table in the driver compatibility notes / the server's
``WireVersion::WIRE_VERSION_80``).
"""

from __future__ import annotations

import datetime
import os
import platform
import socket
from typing import Any, Final

__all__ = [
    "GIT_VERSION",
    "LOGICAL_SESSION_TIMEOUT_MINUTES",
    "MAX_BSON_OBJECT_SIZE",
    "MAX_MESSAGE_SIZE_BYTES",
    "MAX_WIRE_VERSION",
    "MAX_WRITE_BATCH_SIZE",
    "MIN_WIRE_VERSION",
    "VERSION",
    "VERSION_ARRAY",
    "build_info",
    "host_info",
]

VERSION: Final = "8.0.4"
VERSION_ARRAY: Final = (8, 0, 4, 0)
# Not a real commit of the server: fakemongo says what it is in buildInfo's
# "fakemongo" field, and this marks the build as ours.
GIT_VERSION: Final = "fakemongo"
MIN_WIRE_VERSION: Final = 0
MAX_WIRE_VERSION: Final = 25
MAX_BSON_OBJECT_SIZE: Final = 16 * 1024 * 1024
MAX_MESSAGE_SIZE_BYTES: Final = 48_000_000
MAX_WRITE_BATCH_SIZE: Final = 100_000
LOGICAL_SESSION_TIMEOUT_MINUTES: Final = 30


def build_info(fakemongo_version: str) -> dict[str, Any]:
    """The buildInfo reply body (manual: buildInfo, Output)."""
    return {
        "version": VERSION,
        "gitVersion": GIT_VERSION,
        "modules": [],
        "allocator": "system",
        "javascriptEngine": "none",
        "sysInfo": "deprecated",
        "versionArray": list(VERSION_ARRAY),
        "bits": 64,
        "debug": False,
        "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE,
        "storageEngines": ["ephemeralForTest"],
        "buildEnvironment": {
            "target_os": platform.system().lower(),
            "target_arch": platform.machine(),
        },
        "fakemongo": {"version": fakemongo_version},
    }


def _now() -> datetime.datetime:
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON: milliseconds


def host_info() -> dict[str, Any]:
    """The hostInfo reply body (manual: hostInfo, Output)."""
    return {
        "system": {
            "currentTime": _now(),
            "hostname": socket.gethostname(),
            "cpuAddrSize": 64,
            "numCores": os.cpu_count() or 1,
            "cpuArch": platform.machine(),
        },
        "os": {
            "type": platform.system(),
            "name": platform.platform(),
            "version": platform.release(),
        },
        "extra": {"versionString": platform.version()},
    }
