"""The command line: ``fakemongo`` and ``python -m fakemongo`` as real
subprocesses (print the URI, serve PyMongo, stop cleanly on SIGINT/SIGTERM),
and the argument errors in-process."""

from __future__ import annotations

import selectors
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from fakemongo import __main__ as main_module
from fakemongo import _cli

_START_TIMEOUT = 30.0


def _script() -> str:
    found = shutil.which("fakemongo", path=str(Path(sys.executable).parent))
    assert found is not None, "the fakemongo console script is installed with the package"
    return found


class Served:
    """A fakemongo subprocess and the URI it printed."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(_START_TIMEOUT):
                self.proc.kill()
                raise AssertionError(f"{argv} printed nothing within {_START_TIMEOUT} s")
        self.uri = self.proc.stdout.readline().strip()

    def stop(self, sig: int) -> tuple[int, str]:
        """Send ``sig``; return the exit status and everything written to stderr."""
        self.proc.send_signal(sig)
        _, stderr = self.proc.communicate(timeout=_START_TIMEOUT)
        return self.proc.returncode, stderr


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.communicate()


def _serve(started: list[Served], *args: str, module: bool = False) -> Served:
    argv = [sys.executable, "-m", "fakemongo"] if module else [_script()]
    server = Served([*argv, "--port", "0", *args])
    started.append(server)
    return server


@pytest.mark.parametrize(("module", "sig"), [(False, signal.SIGINT), (True, signal.SIGTERM)])
def test_serves_until_interrupted(served: list[Served], module: bool, sig: int) -> None:
    server = _serve(served, module=module)
    assert server.uri.startswith("mongodb://127.0.0.1:")
    port = int(server.uri.rsplit(":", 1)[1])
    assert port > 0  # --port 0 picked a free port
    with MongoClient(server.uri, serverSelectionTimeoutMS=10_000) as client:
        client.db.c.insert_one({"_id": 1})
        assert client.db.c.find_one() == {"_id": 1}
        assert client.admin.command("getCmdLineOpts")["parsed"]["net"]["port"] == port
    code, stderr = server.stop(sig)
    assert code == 0
    assert f"listening on {server.uri}" in stderr
    assert f"fakemongo on port {port} stopped" in stderr
    assert "Traceback" not in stderr


def test_user_requires_authentication(served: list[Served]) -> None:
    server = _serve(served, "--user", "root:rootpw", "--user", "app.svc:s:vc")
    with MongoClient(server.uri, serverSelectionTimeoutMS=10_000) as client:
        with pytest.raises(OperationFailure) as info:
            client.db.c.find_one()
        assert info.value.code == 13
    with MongoClient(server.uri, username="root", password="rootpw") as client:
        assert client.db.c.find_one() is None
        assert client.admin.command("getCmdLineOpts")["argv"][-1] == "--auth"
    # The first ':' ends the user name: the password may hold more of them.
    with MongoClient(server.uri, username="svc", password="s:vc", authSource="app") as client:
        assert client.app.command("connectionStatus")["authInfo"]["authenticatedUsers"] == [
            {"user": "svc", "db": "app"}
        ]
    assert server.stop(signal.SIGTERM)[0] == 0


def test_verbose_logs_commands_but_never_credentials(served: list[Served]) -> None:
    server = _serve(served, "--verbose", "--user", "root:root-secret-pw")
    with MongoClient(server.uri, username="root", password="root-secret-pw") as client:
        client.db.c.insert_one({"_id": 1, "marker": "visible-in-the-log"})
        client.admin.command("createUser", "new", pwd="new-secret-pw", roles=[])
    code, stderr = server.stop(signal.SIGINT)
    assert code == 0
    assert " DEBUG " in stderr
    assert "db.insert" in stderr
    assert "visible-in-the-log" in stderr
    assert "admin.createUser (arguments not logged: credentials)" in stderr
    assert "admin.saslContinue (arguments not logged: credentials)" in stderr
    assert "secret-pw" not in stderr
    assert "n,,n=root" not in stderr  # the speculative SCRAM message of hello is not logged


def test_not_verbose_logs_no_commands(served: list[Served]) -> None:
    server = _serve(served)
    with MongoClient(server.uri) as client:
        client.db.c.insert_one({"marker": "not-in-the-log"})
    code, stderr = server.stop(signal.SIGINT)
    assert code == 0
    assert "not-in-the-log" not in stderr
    assert " DEBUG " not in stderr


# ---------------------------------------------------------------- in-process


def test_main_module_runs_main_only_as_a_script() -> None:
    assert main_module.main is _cli.main


@pytest.mark.parametrize(
    "value",
    ["nopassword", "user:", ":pw", "admin.:pw", ".user:pw"],
)
def test_bad_user_values(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _cli.main(["--user", value])
    assert info.value.code == 2
    assert f"argument --user: expected [DB.]USER:PASSWORD, got {value!r}" in capsys.readouterr().err


def test_user_values() -> None:
    args = _cli.parse_args(["--user", "root:pw", "--user", "app.j.doe:p:w"])
    assert args.user == [("admin", "root", "pw"), ("app", "j.doe", "p:w")]


def test_the_same_user_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main(["--port", "0", "--user", "root:a", "--user", "root:b"]) == 2
    assert capsys.readouterr().err.startswith("fakemongo: invalid --user: ")


def test_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert _cli.main(["--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"fakemongo: cannot listen on 127.0.0.1:{port}: ")
    assert "address already in use" in err


def test_port_in_use_in_a_subprocess() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [_script(), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=_START_TIMEOUT,
            check=False,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"fakemongo: cannot listen on 127.0.0.1:{port}: " in done.stderr


@pytest.fixture(scope="module")
def tls_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    ca = trustme.CA()
    directory = tmp_path_factory.mktemp("cli-tls")
    paths = {name: str(directory / f"{name}.pem") for name in ("ca", "cert", "key", "bogus")}
    ca.cert_pem.write_to_path(paths["ca"])
    issued = ca.issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(paths["cert"])
    issued.private_key_pem.write_to_path(paths["key"])
    Path(paths["bogus"]).write_text("not a certificate")
    return paths


def test_tls_options(served: list[Served], tls_paths: dict[str, str]) -> None:
    server = _serve(served, "--tls-cert", tls_paths["cert"], "--tls-key", tls_paths["key"])
    assert server.uri.endswith("/?tls=true")
    with MongoClient(server.uri, tlsCAFile=tls_paths["ca"]) as client:
        assert client.admin.command("ping")["ok"] == 1.0
    assert server.stop(signal.SIGTERM)[0] == 0
    args = _cli.parse_args(
        [
            "--tls-cert",
            tls_paths["cert"],
            "--tls-key",
            tls_paths["key"],
            "--tls-ca",
            tls_paths["ca"],
        ]
    )
    assert (args.tls_cert, args.tls_key, args.tls_ca) == (
        tls_paths["cert"],
        tls_paths["key"],
        tls_paths["ca"],
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tls-cert", "/no/such/file.pem"], "--tls-cert: no such file: /no/such/file.pem"),
        (["--tls-ca", "{ca}"], "--tls-key and --tls-ca need --tls-cert"),
    ],
)
def test_tls_argument_errors(
    argv: list[str], message: str, tls_paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        _cli.main([a.format(**tls_paths) for a in argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_tls_certificate_that_is_not_one(
    tls_paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli.main(["--port", "0", "--tls-cert", tls_paths["bogus"]]) == 1
    assert capsys.readouterr().err.startswith("fakemongo: cannot use the TLS certificate or key: ")
