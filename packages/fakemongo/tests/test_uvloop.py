"""fakemongo serving on uvloop's event loop (Tornado and ASGI services often
run on it): its transports implement asyncio.Transport without subclassing it,
and it starts reading as soon as connection_made returns, so TLS is done by
the listener there (see FakeMongo.start)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trustme
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from fakemongo import FakeMongo

uvloop = pytest.importorskip("uvloop", reason="uvloop has no Windows build")


def run_on_uvloop(main: Callable[[], Awaitable[None]]) -> None:
    async def checked() -> None:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        await main()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(checked())


def _round_trip(uri: str, name: str = "db", timeout_ms: int = 10_000) -> list[dict[str, object]]:
    """PyMongo (in a thread: the server's loop keeps running) writes and reads."""
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
    with client:
        documents: list[dict[str, object]] = [{"_id": i} for i in range(3)]
        client[name].c.insert_many(documents)
        return list(client[name].c.find({}, sort=[("_id", 1)]))


def test_serves_on_uvloop() -> None:
    async def main() -> None:
        async with FakeMongo() as server:
            found = await asyncio.to_thread(_round_trip, server.uri)
            assert found == [{"_id": 0}, {"_id": 1}, {"_id": 2}]
            assert server.statistics()["total_connections"] >= 1

    run_on_uvloop(main)


def test_serves_tls_on_uvloop(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile, ca_file = tmp_path / "s.pem", tmp_path / "s.key", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(ca_file))

    async def main() -> None:
        async with FakeMongo(tls_certfile=str(certfile), tls_keyfile=str(keyfile)) as server:
            uri = f"{server.uri}&tlsCAFile={ca_file}"
            found = await asyncio.to_thread(_round_trip, uri)
            assert found == [{"_id": 0}, {"_id": 1}, {"_id": 2}]
            # Not signed by a CA the client trusts: refused (the server
            # really does TLS, and goes on serving).
            with pytest.raises(ServerSelectionTimeoutError, match="certificate verify failed"):
                await asyncio.to_thread(_round_trip, server.uri, "refused", 500)
            assert await asyncio.to_thread(_round_trip, uri, "again") == found

    run_on_uvloop(main)


def test_stop_waits_for_a_connection_in_its_tls_handshake_on_uvloop(tmp_path: Path) -> None:
    # The listener does the handshake on uvloop, so stop() cannot abort a
    # connection still in it: it waits for it to end (here, its client closes)
    # rather than let the loop close under an open socket.
    pem = tmp_path / "server.pem"
    trustme.CA().issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))

    async def main() -> None:
        server = FakeMongo(tls_certfile=str(pem))
        await server.start()
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"\x16\x03\x01")  # the start of a ClientHello, and no more
        await writer.drain()
        stopping = asyncio.ensure_future(server.stop())
        try:
            for _ in range(20):  # loop turns, not time: stop() must still wait
                await asyncio.sleep(0)
            assert not stopping.done()
            assert not server.running
        finally:
            writer.close()
            async with asyncio.timeout(10):
                await stopping
        del reader

    run_on_uvloop(main)
