"""Opening connections: what the handshake sends, and every way opening fails,
against a scripted wire-protocol server (and, for failures the network cannot
be made to produce on demand, a patched loop)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mongotor.pool import (
    BACKPRESSURE_LABELS,
    AuthenticationError,
    CommandError,
    ConnectionSettings,
    ConnectionState,
    Credential,
    NetworkError,
    NetworkTimeout,
    open_connection,
    split_address,
)
from mongotor.wire import NEED_DATA, Framer, Message, OpMsg, encode_op_msg

HELLO_REPLY = {
    "ok": 1,
    "helloOk": True,
    "ismaster": True,
    "maxWireVersion": 25,
    "minWireVersion": 0,
}
CLOSE = object()
Handler = Callable[[OpMsg], Any]


class ScriptedServer:
    """Answers each message with what ``handler`` returns: a reply document, CLOSE,
    or None (no answer)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[OpMsg] = []
        self.disconnected = asyncio.Event()
        self.got_message = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = Framer()
        try:
            while data := await reader.read(65536):
                framer.feed(data)
                message: Message | Any
                while (message := framer.next_message()) is not NEED_DATA:
                    assert isinstance(message, OpMsg)
                    self.received.append(message)
                    self.got_message.set()
                    answer = self.handler(message)
                    if answer is CLOSE:
                        return
                    if answer is not None:
                        writer.write(encode_op_msg(1, answer, response_to=message.request_id))
        finally:
            writer.close()
            self.disconnected.set()

    async def __aenter__(self) -> ScriptedServer:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def address(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


def hello_then(answer: Any) -> Handler:
    def handler(message: OpMsg) -> Any:
        if next(iter(message.body)) == "isMaster":
            return HELLO_REPLY
        return answer

    return handler


def test_split_address() -> None:
    assert split_address("db.example.org:27018") == ("db.example.org", 27018)
    assert split_address("[::1]:27017") == ("::1", 27017)
    assert split_address("/tmp/mongodb-27017.sock") == ("/tmp/mongodb-27017.sock", None)


@pytest.mark.asyncio
async def test_the_handshake_sent() -> None:
    async with ScriptedServer(hello_then({"ok": 1})) as server:
        settings = ConnectionSettings(compressors=("zlib",), app_name="shop")
        connection = await open_connection(server.address, settings=settings, connection_id=5)
        hello = server.received[0]
        body = dict(hello.body)  # type: ignore[call-overload]
        assert next(iter(body)) == "isMaster"
        assert body["helloOk"] is True
        assert body["$db"] == "admin"
        assert body["client"]["application"] == {"name": "shop"}
        assert body["client"]["driver"]["name"] == "mongotor"
        assert body["compression"] == ["zlib"]
        assert "saslSupportedMechs" not in body
        assert hello.compressor is None
        assert connection.state is ConnectionState.OPEN
        assert connection.handshake is not None
        assert connection.handshake.hello_ok
        assert connection.id == 5
        connection.close()
        await connection.wait_closed()


@pytest.mark.asyncio
async def test_the_handshake_negotiates_and_speculates() -> None:
    async with ScriptedServer(hello_then({"ok": 0, "errmsg": "bad", "code": 18})) as server:
        settings = ConnectionSettings(credential=Credential("ana", "pw", "app"))
        with pytest.raises(AuthenticationError) as caught:
            await open_connection(server.address, settings=settings)
        assert caught.value.labels == frozenset()
        body = server.received[0].body
        assert body["saslSupportedMechs"] == "app.ana"  # type: ignore[index]
        speculative = body["speculativeAuthenticate"]  # type: ignore[index]
        assert speculative["mechanism"] == "SCRAM-SHA-256"
        assert speculative["db"] == "app"
        await asyncio.wait_for(server.disconnected.wait(), 5)


@pytest.mark.asyncio
async def test_a_failed_hello_is_a_command_error() -> None:
    failure = {"ok": 0, "errmsg": "shutting down", "code": 91, "codeName": "ShutdownInProgress"}
    async with ScriptedServer(lambda message: failure) as server:
        with pytest.raises(CommandError) as caught:
            await open_connection(server.address, connection_id=2, generation=7)
        error = caught.value
        assert (error.code, error.established, error.generation) == (91, False, 7)
        await asyncio.wait_for(server.disconnected.wait(), 5)


@pytest.mark.asyncio
async def test_network_errors_of_the_hello_carry_backpressure_labels() -> None:
    async with ScriptedServer(lambda message: CLOSE) as server:
        with pytest.raises(NetworkError) as caught:
            await open_connection(server.address)
        assert caught.value.labels == BACKPRESSURE_LABELS
        assert not caught.value.established


@pytest.mark.asyncio
async def test_network_errors_of_authentication_carry_none() -> None:
    async with ScriptedServer(hello_then(CLOSE)) as server:
        settings = ConnectionSettings(credential=Credential("ana", "pw", "app"))
        with pytest.raises(NetworkError) as caught:
            await open_connection(server.address, settings=settings)
        assert caught.value.labels == frozenset()


@pytest.mark.asyncio
async def test_a_silent_server_times_the_handshake_out() -> None:
    async with ScriptedServer(lambda message: None) as server:
        settings = ConnectionSettings(connect_timeout_ms=50)
        with pytest.raises(NetworkTimeout) as caught:
            await open_connection(server.address, settings=settings)
        assert caught.value.labels == BACKPRESSURE_LABELS
        await asyncio.wait_for(server.disconnected.wait(), 5)


@pytest.mark.asyncio
async def test_cancelling_the_establishment_closes_the_socket() -> None:
    async with ScriptedServer(lambda message: None) as server:
        task = asyncio.ensure_future(open_connection(server.address))
        await asyncio.wait_for(server.got_message.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.disconnected.wait(), 5)


@pytest.mark.asyncio
async def test_unix_sockets(tmp_path: Path) -> None:
    server = ScriptedServer(hello_then({"ok": 1}))
    path = str(tmp_path / "mongodb-27017.sock")
    listener = await asyncio.start_unix_server(server.serve, path)
    try:
        connection = await open_connection(path)
        assert connection.address == path
        connection.close()
        await connection.wait_closed()
    finally:
        listener.close()
        await listener.wait_closed()


@pytest.mark.asyncio
async def test_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError, match=f"cannot connect to 127.0.0.1:{port}") as caught:
        await open_connection(f"127.0.0.1:{port}", connection_id=9, generation=4)
    error = caught.value
    assert error.labels == BACKPRESSURE_LABELS
    assert (error.connection_id, error.generation, error.established) == (9, 4, False)


def _failing(exc: BaseException) -> Callable[..., Any]:
    async def create(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return create


def _verify_error() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    return error


def _ssl_error(cls: type[ssl.SSLError]) -> ssl.SSLError:
    error = cls(1, "tls failure")
    error.reason = "WRONG_VERSION_NUMBER"
    return error


@pytest.mark.parametrize(
    ("exc", "complaint", "labelled"),
    [
        (socket.gaierror(-2, "Name or service not known"), "cannot resolve db", False),
        (_verify_error(), "did not verify: self-signed certificate", False),
        (_ssl_error(ssl.SSLEOFError), "closed the connection during the TLS handshake", True),
        (
            _ssl_error(ssl.SSLError),
            "TLS handshake with db:27017 failed: WRONG_VERSION_NUMBER",
            False,
        ),
        (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer", True),
    ],
)
def test_connect_failures(
    run_virtual: Any,
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    complaint: str,
    labelled: bool,
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "create_connection", _failing(exc))
        with pytest.raises(NetworkError, match=complaint) as caught:
            await open_connection("db:27017")
        assert caught.value.labels == (BACKPRESSURE_LABELS if labelled else frozenset())

    run_virtual(main())


def test_connect_timeout(run_virtual: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def hang(*args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "create_connection", hang)
        settings = ConnectionSettings(connect_timeout_ms=50)
        with pytest.raises(NetworkTimeout, match="timed out after 50 ms") as caught:
            await open_connection("db:27017", settings=settings)
        assert caught.value.labels == BACKPRESSURE_LABELS
        assert caught.value.timeout_ms == 50

    run_virtual(main())


def test_tls_names_the_host(run_virtual: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []

    async def record(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        raise OSError("stop here")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "create_connection", record)
        monkeypatch.setattr(loop, "create_unix_connection", record)
        context = ssl.create_default_context()
        settings = ConnectionSettings(ssl_context=context)
        for address in ("db.example.org:27017", "/tmp/m.sock"):
            with pytest.raises(NetworkError, match="stop here"):
                await open_connection(address, settings=settings)
        with pytest.raises(NetworkError):
            await open_connection("db.example.org:27017")

    run_virtual(main())
    assert [(k["ssl"] is not None, k["server_hostname"]) for k in seen] == [
        (True, "db.example.org"),
        (True, "localhost"),
        (False, None),
    ]
