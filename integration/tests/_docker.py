"""A real MongoDB 8.0 replica set for the suite: three ``mongo:8.0`` containers
on a Docker network, started with testcontainers, or the set that
``MONGOTOR_TEST_URI`` names.

Each member listens on a port of its own, published on the same host port, and
the set's members are named by the network's gateway address, which the test
process and every container reach alike (so the hosts the members report in
hello are the ones the client connects to). This assumes a local Linux Docker
engine; with a remote engine set MONGOTOR_TEST_URI instead.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import socket
import time
import warnings
from dataclasses import dataclass
from typing import Any

from pymongo import MongoClient

from ._deployment import MEMBER_TAGS

__all__ = ["DockerReplicaSet", "RealSet", "Unavailable", "real_replica_set"]

log = logging.getLogger(__name__)

IMAGE = "mongo:8.0"
SET_NAME = "rs0"
#: The set's settings (manual: "Replica Set Configuration", settings): elections in
#: a couple of seconds instead of mongod's 10 s, so that failover scenarios stay short.
SETTINGS = {
    "electionTimeoutMillis": 2000,
    "heartbeatIntervalMillis": 500,
    "catchUpTimeoutMillis": 2000,
}
_START_TIMEOUT = 120.0


class Unavailable(Exception):
    """No real replica set can be had here; the message says why."""


@dataclass
class RealSet:
    """What the fixtures need of a real set."""

    uri: str
    hosts: list[str]
    #: electionTimeoutMillis + heartbeatIntervalMillis (+ catch-up), in seconds.
    election_time: float
    docker: DockerReplicaSet | None


def _election_time(settings: dict[str, Any]) -> float:
    # A secondary calls an election once it has heard nothing from the primary
    # for electionTimeoutMillis (checked every heartbeatIntervalMillis); a new
    # primary may then catch up for catchUpTimeoutMillis (-1: unbounded, taken as 0).
    millis: int = (
        settings.get("electionTimeoutMillis", 10_000)
        + settings.get("heartbeatIntervalMillis", 2_000)
        + max(settings.get("catchUpTimeoutMillis", -1), 0)
    )
    return float(millis) / 1000


def real_replica_set() -> RealSet:
    """MONGOTOR_TEST_URI's set, else a new Docker one; raises :class:`Unavailable`."""
    uri = os.environ.get("MONGOTOR_TEST_URI")
    if uri:
        return _from_uri(uri)
    reason = _docker_unreachable()
    if reason is not None:
        raise Unavailable(
            "no real MongoDB: MONGOTOR_TEST_URI is not set and no Docker engine is reachable "
            f"(testcontainers: {reason})"
        )
    docker = DockerReplicaSet()
    try:
        docker.launch()
    except Exception as exc:
        docker.stop()
        raise Unavailable(
            f"the Docker replica set did not start: {type(exc).__name__}: {exc}"
        ) from exc
    return RealSet(docker.uri, docker.hosts, _election_time(SETTINGS), docker)


def _docker_unreachable() -> str | None:
    """Why no Docker engine answers, or None when one does."""
    from testcontainers.core.docker_client import DockerClient

    # docker-py leaves its socket unclosed when the engine does not answer
    # while it builds the client; collect it here rather than let the
    # ResourceWarning fail an unrelated test later (filterwarnings = error).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = DockerClient().client
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            gc.collect()
    return None


def _from_uri(uri: str) -> RealSet:
    with MongoClient[dict[str, Any]](uri, serverSelectionTimeoutMS=10_000) as client:
        hello = client.admin.command("hello")
        if "setName" not in hello:
            raise Unavailable("MONGOTOR_TEST_URI is not a replica set (hello has no setName)")
        config = client.admin.command("replSetGetConfig")["config"]
    hosts = list(hello["hosts"])
    return RealSet(uri, hosts, _election_time(dict(config.get("settings", {}))), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("", 0))
        port: int = sock.getsockname()[1]
        return port


class DockerReplicaSet:
    """Three mongod containers; :meth:`kill` / :meth:`start` by member host."""

    def __init__(self) -> None:
        self.network: Any = None
        self._started: list[Any] = []  # stopped by stop() even if launch() failed midway
        self.containers: dict[str, Any] = {}
        self.hosts: list[str] = []

    @property
    def uri(self) -> str:
        return f"mongodb://{','.join(self.hosts)}/?replicaSet={SET_NAME}"

    def launch(self) -> None:
        """Start the containers, initiate the set, wait for a primary and for
        every member to replicate."""
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.network import Network

        self.network = Network().create()
        ports = [_free_port() for _ in MEMBER_TAGS]
        started = self._started
        for index, port in enumerate(ports):
            container = (
                DockerContainer(IMAGE)
                .with_network(self.network)
                .with_network_aliases(f"mongo{index}")
                .with_bind_ports(port, port)
                .with_command(
                    [
                        "mongod",
                        "--replSet",
                        SET_NAME,
                        "--bind_ip_all",
                        "--port",
                        str(port),
                        "--setParameter",
                        "enableTestCommands=1",
                    ]
                )
            )
            container.start()
            started.append(container)
        gateway = started[0].get_docker_client().gateway_ip(started[0].get_container_id())
        self.hosts = [f"{gateway}:{port}" for port in ports]
        self.containers = dict(zip(self.hosts, started, strict=True))
        self._initiate()

    def _initiate(self) -> None:
        config = {
            "_id": SET_NAME,
            "members": [
                {"_id": index, "host": host, "tags": tags}
                for index, (host, tags) in enumerate(zip(self.hosts, MEMBER_TAGS, strict=True))
            ],
            "settings": SETTINGS,
        }
        deadline = time.monotonic() + _START_TIMEOUT
        with MongoClient[dict[str, Any]](
            self.hosts[0],
            directConnection=True,
            serverSelectionTimeoutMS=int(_START_TIMEOUT * 1000),
        ) as client:
            client.admin.command({"replSetInitiate": config})
            # Wait for a primary with awaitable hellos (they return when the
            # member's state changes), then for every member to hold the config.
            while True:
                hello = client.admin.command("hello")
                if hello.get("isWritablePrimary") or hello.get("primary"):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("the Docker replica set elected no primary")
                client.admin.command(
                    {
                        "hello": 1,
                        "topologyVersion": hello["topologyVersion"],
                        "maxAwaitTimeMS": 1000,
                    }
                )
        with MongoClient[dict[str, Any]](
            self.uri, serverSelectionTimeoutMS=int(_START_TIMEOUT * 1000)
        ) as client:
            client["mongotor_integration"].command(
                {
                    "insert": "marks",
                    "documents": [{"mark": True}],
                    "writeConcern": {"w": len(self.hosts), "wtimeout": int(_START_TIMEOUT * 1000)},
                }
            )
        log.info("Docker replica set %s up: %s", SET_NAME, self.uri)

    def kill(self, host: str) -> None:
        """SIGKILL the member's mongod (no clean shutdown, no step-down)."""
        self.containers[host].get_wrapped_container().kill()

    def start(self, host: str) -> None:
        """Start a killed member's container again (same ports, same data)."""
        self.containers[host].get_wrapped_container().start()

    def stop(self) -> None:
        for container in self._started:
            with contextlib.suppress(Exception):
                container.stop()
        if self.network is not None:
            with contextlib.suppress(Exception):
                self.network.remove()
