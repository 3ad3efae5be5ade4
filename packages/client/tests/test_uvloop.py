"""The client and fakemongo on uvloop's event loop, which Tornado and ASGI
services often run on. Its transports implement asyncio.Transport without
subclassing it, so nothing on the connection path may rely on asyncio's own
classes; these tests run the whole path there: fakemongo serving in-process,
the pool's connections, cursors with getMore over multi-chunk replies, a
cancelled operation, and TLS."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

from fakemongo import FakeMongo
from mongotor.database import Database

uvloop = pytest.importorskip("uvloop", reason="uvloop has no Windows build")


def run_on_uvloop(main: Callable[[], Awaitable[None]]) -> None:
    async def checked() -> None:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        await main()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(checked())


def test_crud_and_cursors_on_uvloop() -> None:
    async def main() -> None:
        async with FakeMongo() as server:
            db: Database[dict[str, Any]] = Database.connect(server.uri, "uv")
            try:
                # ~3 MB of documents: replies span many reads, and the
                # cursor needs getMore after its first batch of 101.
                pad = "x" * 1000
                await db.docs.insert_many([{"_id": i, "pad": pad} for i in range(3000)])
                found = await db.docs.find({}, sort=[("_id", 1)])
                assert [d["_id"] for d in found] == list(range(3000))
                assert await db.docs.find_one({"_id": 7}) == {"_id": 7, "pad": pad}
                result = await db.docs.update_one({"_id": 7}, {"$set": {"pad": "y"}})
                assert result.modified_count == 1
                assert await db.docs.count_documents({"pad": "y"}) == 1
                assert (await db.docs.delete_many({"_id": {"$gte": 100}})).deleted_count == 2900
                assert await db.docs.estimated_document_count() == 100
            finally:
                await db.close()

    run_on_uvloop(main)


def test_cancelled_operation_leaves_the_client_usable_on_uvloop() -> None:
    async def main() -> None:
        async with FakeMongo() as server:
            db: Database[dict[str, Any]] = Database.connect(server.uri, "uv")
            try:
                await db.docs.insert_one({"_id": 1})
                # Cancelled once its request is written and before the reply is
                # read (the in-process server answers only when the loop runs):
                # that connection is discarded, the next operation gets another.
                task = asyncio.ensure_future(db.docs.find_one({"_id": 1}))
                await asyncio.sleep(0)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert await db.docs.find_one({"_id": 1}) == {"_id": 1}
            finally:
                await db.close()

    run_on_uvloop(main)


def test_tls_on_uvloop_against_fakemongo_on_uvloop(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile, ca_file = tmp_path / "s.pem", tmp_path / "s.key", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(ca_file))

    async def main() -> None:
        async with FakeMongo(tls_certfile=str(certfile), tls_keyfile=str(keyfile)) as server:
            uri = f"mongodb://{server.address}/?tls=true&tlsCAFile={ca_file}"
            db: Database[dict[str, Any]] = Database.connect(uri, "uv")
            try:
                await db.docs.insert_one({"_id": 1, "secret": "s"})
                assert await db.docs.find_one({"_id": 1}) == {"_id": 1, "secret": "s"}
            finally:
                await db.close()

    run_on_uvloop(main)
