"""Ways to run a replica set: FakeMongoReplicaSetThread for synchronous
suites (PyMongo's sync client failing over), ``fakemongo --replset`` as a real
subprocess, and the ``fakemongo_replset`` pytest fixture as a downstream
suite meets it."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient, ReadPreference

from fakemongo import FakeMongoReplicaSetThread, MemberOptions, _cli

pytest_plugins = ["pytester"]

_TIMEOUT = 30.0


def test_thread_runner_serves_a_set_that_pymongo_fails_over() -> None:
    with FakeMongoReplicaSetThread("rs7", [MemberOptions(), MemberOptions()], arbiters=1) as rs:
        assert rs.running
        assert rs.uri == f"mongodb://{','.join(rs.hosts)}/?replicaSet=rs7"
        assert repr(rs).startswith("<FakeMongoReplicaSetThread <FakeMongoReplicaSet rs7 term=1")
        client: MongoClient[dict[str, Any]]
        with MongoClient(rs.uri, serverSelectionTimeoutMS=10_000) as client:
            client.t.c.insert_one({"_id": 1})
            first = rs.replset.primary
            assert first is not None
            rs.call(rs.replset.kill, first.id)
            new = rs.call(rs.replset.wait_for_primary)
            assert new is not first
            # The first attempt meets the dead primary; the retryable
            # write's retry lands on the new one.
            client.t.c.insert_one({"_id": 2})
            secondary_reads = client.t.get_collection(
                "c", read_preference=ReadPreference.PRIMARY_PREFERRED
            )
            assert secondary_reads.count_documents({}) == 2
    assert not rs.running


def test_cli_serves_a_replica_set() -> None:
    script = shutil.which("fakemongo", path=str(Path(sys.executable).parent))
    assert script is not None
    argv = [script, "--port", "0", "--replset", "rsc", "--members", "2", "--arbiters", "1"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        assert uri.startswith("mongodb://127.0.0.1:")
        assert uri.endswith("/?replicaSet=rsc")
        client: MongoClient[dict[str, Any]]
        with MongoClient(uri, serverSelectionTimeoutMS=10_000) as client:
            client.t.c.insert_one({"_id": 1})
            status = client.admin.command("replSetGetStatus")
            assert [m["stateStr"] for m in status["members"]] == ["PRIMARY", "SECONDARY", "ARBITER"]
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=_TIMEOUT)
        assert proc.returncode == 0
        assert "replica set rsc stopped" in stderr
    finally:
        if proc.poll() is None:  # pragma: no cover - only when an assertion failed
            proc.kill()
            proc.communicate()


def test_cli_replica_set_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert _cli.main(["--port", str(port), "--replset", "rs0"]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_cli_needs_a_member(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _cli.parse_args(["--replset", "rs0", "--members", "0"])
    assert "--members must be at least 1" in capsys.readouterr().err


DOWNSTREAM_SUITE = """
import pytest
from pymongo import MongoClient


def test_default_set(fakemongo_replset):
    assert len(fakemongo_replset.hosts) == 3
    with MongoClient(fakemongo_replset.uri) as client:
        client.t.c.insert_one({"_id": 1})
        assert client.admin.command("hello")["setName"] == "rs0"


@pytest.mark.fakemongo_replset(name="other", members=2, arbiters=1)
def test_marked_set(fakemongo_replset):
    assert fakemongo_replset.replset.name == "other"
    assert len(fakemongo_replset.hosts) == 3
"""


def test_fixture_in_a_downstream_suite(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    pytester.makepyfile(test_downstream=DOWNSTREAM_SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=2)
