"""fakemongo: an in-process MongoDB 8.0 server that speaks the real wire protocol.

Point any driver at it (PyMongo, Motor, mongotor, the shell) for hermetic
tests and local development::

    async with FakeMongo() as server:
        client = AsyncMongoClient(server.uri)

    with FakeMongoThread() as server:      # for synchronous code
        client = MongoClient(server.uri)

What it does not implement it refuses with MongoDB's own error shape
(115 CommandNotSupported, 59 CommandNotFound, 2 BadValue), never a fake ok.

The names below load on first use, so that importing the pytest plugin (which
every pytest run in an environment with fakemongo does) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._errors import CommandError as CommandError
    from ._errors import ErrorCode as ErrorCode
    from ._member import MemberOptions as MemberOptions
    from ._replset import FakeMongoReplicaSet as FakeMongoReplicaSet
    from ._server import FakeMongo as FakeMongo
    from ._state import ServerOptions as ServerOptions
    from ._threaded import FakeMongoReplicaSetThread as FakeMongoReplicaSetThread
    from ._threaded import FakeMongoThread as FakeMongoThread

__all__ = [
    "CommandError",
    "ErrorCode",
    "FakeMongo",
    "FakeMongoReplicaSet",
    "FakeMongoReplicaSetThread",
    "FakeMongoThread",
    "MemberOptions",
    "ServerOptions",
]

_HOMES = {
    "CommandError": "._errors",
    "ErrorCode": "._errors",
    "FakeMongo": "._server",
    "ServerOptions": "._state",
    "FakeMongoThread": "._threaded",
    "FakeMongoReplicaSet": "._replset",
    "FakeMongoReplicaSetThread": "._threaded",
    "MemberOptions": "._member",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'fakemongo' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
