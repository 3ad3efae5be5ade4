"""Test doubles for the pool: connections that do no I/O, and a factory that
honours the CMAP tests' ``failCommand`` fail points on the handshake.

CMAP ("Definitions: Connection") allows a mocked connection for pool tests. The
integration tests configure the server to block or fail the hello of
connections with a given appName; :class:`FakeFactory` does the same to its
fake handshakes, so those tests run without a server, in virtual time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mongotor.pool import BACKPRESSURE_LABELS, CommandError, NetworkError


class FakeConnection:
    """A connection that does nothing, and remembers whether it was closed."""

    def __init__(self, address: str, connection_id: int, generation: int) -> None:
        self.address = address
        self.id = connection_id
        self.generation = generation
        self.closed = False
        self.abort_error: BaseException | None = None

    def close(self) -> None:
        self.closed = True

    def abort(self, error: BaseException | None = None) -> None:
        self.closed = True
        self.abort_error = error

    def __repr__(self) -> str:
        return f"<FakeConnection {self.id} gen={self.generation} closed={self.closed}>"


class FailPoint:
    """A ``configureFailPoint: failCommand`` document, applied to handshakes."""

    def __init__(self, command: dict[str, Any] | None) -> None:
        self.data: dict[str, Any] = dict(command["data"]) if command else {}
        mode = command["mode"] if command else "off"
        self.remaining: int | None = (
            None if mode == "alwaysOn" else 0 if mode == "off" else int(mode["times"])
        )

    def take(self, app_name: str | None) -> dict[str, Any] | None:
        """The fail point's data if it applies to a handshake from ``app_name``."""
        if self.remaining == 0:
            return None
        if not {"hello", "isMaster"} & set(self.data.get("failCommands", ())):
            return None
        if self.data.get("appName") not in (None, app_name):
            return None
        if self.remaining is not None:
            self.remaining -= 1
        return self.data


class FakeFactory:
    """Opens :class:`FakeConnection`s; ``fail_point`` may block or fail them."""

    def __init__(self, app_name: str | None = None, fail_point: FailPoint | None = None) -> None:
        self.app_name = app_name
        self.fail_point = fail_point or FailPoint(None)
        self.opened: list[FakeConnection] = []
        # Tests may set these to make the next openings fail or wait.
        self.errors: list[BaseException] = []
        self.gate: asyncio.Event | None = None

    async def __call__(
        self, address: str, *, connection_id: int, generation: int
    ) -> FakeConnection:
        if self.gate is not None:
            await self.gate.wait()
        if self.errors:
            raise self.errors.pop(0)
        data = self.fail_point.take(self.app_name)
        if data is not None:
            if data.get("blockConnection"):
                await asyncio.sleep(data["blockTimeMS"] / 1000)
            if data.get("closeConnection"):
                raise NetworkError(
                    "closed by the fail point",
                    address=address,
                    connection_id=connection_id,
                    generation=generation,
                    labels=BACKPRESSURE_LABELS,
                )
            if "errorCode" in data:
                raise CommandError(
                    "failing the handshake (fail point)",
                    address=address,
                    code=data["errorCode"],
                    established=False,
                    generation=generation,
                )
        connection = FakeConnection(address, connection_id, generation)
        self.opened.append(connection)
        return connection


class ScramServer:
    """The server side of SCRAM, enough to answer a client in unit tests.

    ``password`` is what SCRAM hashes (MongoDB's SCRAM-SHA-1 digest or the
    SASLprepped password), as :func:`mongotor.pool._scram.scram_password` gives.
    """

    def __init__(self, digest: str, password: bytes, *, iterations: int = 4096) -> None:
        import hashlib
        import hmac

        self.digest = digest
        self.salt = b"0123456789abcdef"
        self.iterations = iterations
        salted = hashlib.pbkdf2_hmac(digest, password, self.salt, iterations)
        self.client_key = hmac.digest(salted, b"Client Key", digest)
        self.server_key = hmac.digest(salted, b"Server Key", digest)
        self.auth_message = b""

    def first(self, client_first: bytes) -> bytes:
        import base64

        self.client_first_bare = client_first[3:]
        nonce = client_first.split(b"r=", 1)[1] + b"SERVER"
        self.server_first = b"r=%s,s=%s,i=%d" % (
            nonce,
            base64.b64encode(self.salt),
            self.iterations,
        )
        return self.server_first

    def final(self, client_final: bytes) -> bytes:
        import base64
        import hashlib
        import hmac

        without_proof, _, proof = client_final.rpartition(b",p=")
        self.auth_message = b",".join((self.client_first_bare, self.server_first, without_proof))
        stored_key = hashlib.new(self.digest, self.client_key).digest()
        signature = hmac.digest(stored_key, self.auth_message, self.digest)
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
        if client_key != self.client_key:
            return b"e=invalid-proof"
        server_signature = hmac.digest(self.server_key, self.auth_message, self.digest)
        return b"v=" + base64.b64encode(server_signature)
