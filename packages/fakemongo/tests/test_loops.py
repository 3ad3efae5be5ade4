"""The event loop the threads and the command line run on: uvloop's where it
is installed ("auto"), asyncio's, or uvloop's on request."""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import trustme
from pymongo import MongoClient

from fakemongo import FakeMongoReplicaSetThread, FakeMongoThread, _cli
from fakemongo._loops import LOOPS, loop_factory

uvloop = pytest.importorskip("uvloop", reason="uvloop has no Windows build")


@pytest.fixture
def no_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where uvloop is not installed."""
    real = importlib.import_module

    def import_module(name: str, package: str | None = None) -> ModuleType:
        if name == "uvloop":
            raise ModuleNotFoundError("No module named 'uvloop'", name="uvloop")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", import_module)


def test_the_names() -> None:
    assert LOOPS == ("auto", "asyncio", "uvloop")
    assert loop_factory("auto") is uvloop.new_event_loop
    assert loop_factory("uvloop") is uvloop.new_event_loop
    assert loop_factory("asyncio") is None  # asyncio.Runner's default
    with pytest.raises(ValueError, match="unknown event loop 'trio': expected one of auto, "):
        loop_factory("trio")


@pytest.mark.usefixtures("no_uvloop")
def test_without_uvloop() -> None:
    assert loop_factory("auto") is None
    assert loop_factory("asyncio") is None
    with pytest.raises(ImportError, match="uvloop is not installed"):
        loop_factory("uvloop")


def _loop_module(thread: FakeMongoThread | FakeMongoReplicaSetThread) -> str:
    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__.partition(".")[0]

    result: str = thread.call(which)
    return result


@pytest.mark.parametrize(("name", "expected"), [("auto", "uvloop"), ("asyncio", "asyncio")])
def test_threads_run_on_the_loop_asked_for(name: str, expected: str) -> None:
    with FakeMongoThread(loop=name) as server:
        assert _loop_module(server) == expected
        client: MongoClient[dict[str, object]] = MongoClient(server.uri)
        with client:
            client.db.c.insert_one({"_id": 1})
            assert client.db.c.find_one() == {"_id": 1}
    with FakeMongoReplicaSetThread("rs0", 1, loop=name) as replset:
        assert _loop_module(replset) == expected


def test_the_default_is_auto() -> None:
    with FakeMongoThread() as server:
        assert _loop_module(server) == "uvloop"


def test_threads_refuse_an_unknown_loop_before_starting() -> None:
    with pytest.raises(ValueError, match="unknown event loop 'tornado'"):
        FakeMongoThread(loop="tornado")
    with pytest.raises(ValueError, match="unknown event loop 'tornado'"):
        FakeMongoReplicaSetThread("rs0", 1, loop="tornado")


def test_cli_names_its_loop() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakemongo", "--port", "0", "--loop", "asyncio"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().startswith("mongodb://")
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert "event loop: asyncio" in stderr


def test_cli_refuses_an_unknown_loop(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _cli.parse_args(["--loop", "tornado"])
    assert exited.value.code == 2
    assert "--loop: invalid choice: 'tornado'" in capsys.readouterr().err


@pytest.mark.usefixtures("no_uvloop")
def test_cli_without_uvloop(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main(["--port", "0", "--loop", "uvloop"]) == 2
    assert capsys.readouterr().err == (
        "fakemongo: --loop uvloop: uvloop's event loop was asked for, but uvloop is not installed\n"
    )


def _closed_by_server(raw: socket.socket) -> bytes:
    """Read until the server closes; what it sent before closing."""
    received = b""
    try:
        while chunk := raw.recv(100):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_a_failed_tls_handshake_on_each_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # On asyncio's loop the connection runs the handshake (and logs its
    # failure); on uvloop's the listener does. Either way the client is
    # refused and the server goes on serving.
    cert = trustme.CA().issue_cert("127.0.0.1")
    pem = tmp_path / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    caplog.set_level(logging.DEBUG, logger="fakemongo")
    for name in ("asyncio", "uvloop"):
        with FakeMongoThread(loop=name, tls_certfile=str(pem)) as server:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
                raw.sendall(b"GET / HTTP/1.0\r\n\r\n")  # not a ClientHello
                sent = _closed_by_server(raw)
                # Nothing, or a TLS alert record (content type 21) before closing.
                assert sent == b"" or sent[0] == 21
            client: MongoClient[dict[str, object]] = MongoClient(
                f"{server.uri}&tlsInsecure=true", serverSelectionTimeoutMS=10_000
            )
            with client:
                assert client.admin.command("ping") == {"ok": 1.0}
    assert "TLS handshake with ('127.0.0.1'" in caplog.text
