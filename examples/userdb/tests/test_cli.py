"""``python -m userdb``: prints its URL, serves, and stops cleanly on SIGINT / SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
import tornado.httpclient

from fakemongo import FakeMongo
from mongotor.database import Database
from userdb.cli import main, parse_args, serve

PASSWORD = "s3cret-Pa55"


def test_the_defaults_are_loopback_port_8888() -> None:
    args = parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8888)
    args = parse_args(["--host", "::1", "--port", "0"])
    assert (args.host, args.port) == ("::1", 0)


async def fetch(url: str) -> str:
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    try:
        return (await client.fetch(url)).body.decode()
    finally:
        client.close()


async def serve_then_signal(host: str, sig: signal.Signals) -> tuple[str, str]:
    """Serve, fetch the list page, send ``sig`` to this process; the URL and the page."""
    ready = asyncio.Event()
    urls: list[str] = []

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    task = asyncio.create_task(serve(host, 0, None, ready=on_ready))
    await asyncio.wait_for(ready.wait(), 30)
    page = await fetch(urls[0] + "users")
    os.kill(os.getpid(), sig)  # handled by the loop: serve() returns
    await asyncio.wait_for(task, 30)
    return urls[0], page


@pytest.mark.asyncio
async def test_sigterm_stops_accepting_disconnects_and_stops_fakemongo(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    url, page = await serve_then_signal("127.0.0.1", signal.SIGTERM)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/")
    assert 'Storage: <span id="storage">embedded fakemongo' in page
    out = capsys.readouterr().out
    assert out.startswith(f"userdb: serving on {url} (embedded fakemongo ")
    assert out.endswith("; Ctrl-C stops\n")
    assert Database.default() is None
    port = int(url.rsplit(":", 1)[1].rstrip("/"))
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    messages = [r.getMessage() for r in caplog.records]
    stopping = messages.index("stopping: no new connections")
    assert any(
        m.startswith("fakemongo on port") and m.endswith("stopped") for m in messages[stopping:]
    )
    assert messages[-1] == "stopped"


@pytest.mark.asyncio
async def test_sigint_on_an_ipv6_address() -> None:
    url, page = await serve_then_signal("::1", signal.SIGINT)
    assert url.startswith("http://[::1]:")
    assert "<h1>Users</h1>" in page
    assert Database.default() is None


def test_a_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    assert f"userdb: cannot listen on 127.0.0.1:{port}: " in capsys.readouterr().err


def test_a_database_it_cannot_use_exits_1_without_showing_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> int:
        async with FakeMongo(users=[("admin", "ana", PASSWORD)]) as mongo:
            uri = f"mongodb://ana:wrong-{PASSWORD}@{mongo.address}/people"
            monkeypatch.setenv("MONGODB_URI", uri)
            # main() runs its own event loop: give it a thread of its own.
            return await asyncio.to_thread(main, ["--port", "0"])

    assert asyncio.run(run()) == 1
    err = capsys.readouterr().err
    assert err.startswith("userdb: cannot use the database: ")
    assert PASSWORD not in err


@pytest.mark.asyncio
async def test_ctrl_c_in_a_real_process_exits_0() -> None:
    """``python -m userdb`` as a person runs it: the URL on stdout, then SIGINT
    (what Ctrl-C sends) ends it with status 0 after a clean shutdown."""
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "userdb",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=Path(__file__).parent,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line.startswith("userdb: serving on http://127.0.0.1:")
        url = line.split()[3]
        assert "<h1>Register</h1>" in await fetch(url + "register")
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 60)
        err = (await process.stderr.read()).decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0, err
    assert "stopping: no new connections" in err
    assert err.rstrip().endswith("userdb.cli INFO stopped")
    assert "Traceback" not in err
