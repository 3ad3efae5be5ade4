"""A server that answers PyMongo with canned replies and keeps no data: the
ceiling for bench/fakemongo's round-trip rates on this machine.

    python -m bench._canned_server [uvloop|asyncio]   (prints its URI, serves until killed)

It frames each request with mongotor.wire and answers by the command's name
(hello / isMaster, find, insert, anything else ``{ok: 1}``) with bytes encoded
once at start-up, so its CPU per request is about the least any server spends:
one read, one decode, one write. What a client measures against it is the
cost of the client, the sockets and the scheduler. It is a measuring
instrument, not a database: it answers ok to everything and stores nothing.
"""

from __future__ import annotations

import asyncio
import datetime
import struct
import sys
from typing import cast

import bson
import uvloop
from bson import Int64

from mongotor.wire import NEED_DATA, Framer, OpMsg, OpQuery, encode_op_reply

_HELLO = {
    "helloOk": True,
    "isWritablePrimary": True,
    "ismaster": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48_000_000,
    "maxWriteBatchSize": 100_000,
    "localTime": datetime.datetime.now(tz=datetime.UTC),
    "logicalSessionTimeoutMinutes": 30,
    "connectionId": 1,
    "minWireVersion": 0,
    "maxWireVersion": 25,
    "readOnly": False,
    "ok": 1.0,
}
# The reply to bench/fakemongo's find_one: a one-document, exhausted cursor.
_FIND = bson.encode(
    {
        "cursor": {"firstBatch": [{"_id": 17, "k": "key17", "v": 17}], "id": Int64(0), "ns": "b.c"},
        "ok": 1.0,
    }
)
_INSERT = bson.encode({"n": 1, "ok": 1.0})
_OK = bson.encode({"ok": 1.0})
_BODIES = {"hello": bson.encode(_HELLO), "ismaster": bson.encode(_HELLO), "find": _FIND}
_BODIES["insert"] = _INSERT
# OP_MSG reply header (length, requestID, responseTo, opCode 2013) + flagBits 0 + kind 0.
_OP_MSG_PREFIX = struct.Struct("<iiiiIB")


class _Canned(asyncio.Protocol):
    def __init__(self) -> None:
        self._framer = Framer()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's: no subclass

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._framer.feed(data)
        while (message := self._framer.next_message()) is not NEED_DATA:
            if isinstance(message, OpQuery):  # PyMongo's first handshake
                reply = encode_op_reply(message.request_id, [_HELLO])
            else:
                assert isinstance(message, OpMsg)
                name = str(next(iter(message.body))).lower()
                body = _BODIES.get(name, _OK)
                prefix = _OP_MSG_PREFIX.pack(21 + len(body), 1, message.request_id, 2013, 0, 0)
                reply = prefix + body
            self._transport.write(reply)


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Canned, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"mongodb://127.0.0.1:{port}/?directConnection=true", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    factory = uvloop.new_event_loop if sys.argv[1:] == ["uvloop"] else None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve())
