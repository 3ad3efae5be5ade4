"""Opening a connection: TCP (or a UNIX socket), TLS, handshake, authentication.

CMAP, "Establishing a Connection": a connection is handed out only once all of
it succeeded; on any failure it is closed and the error raised. Network errors
and timeouts up to and including the hello carry the backpressure labels
(``SystemOverloadedError``, ``RetryableError``) that keep SDAM from clearing
the pool of an overloaded server, except for failures that cannot come from
overload: DNS, certificate and other non-I/O TLS errors. Errors during
authentication carry none (CMAP, "Backpressure-enabled").
"""

from __future__ import annotations

import asyncio
import socket
import ssl

from ._auth import authenticate, speculative_start
from ._connection import Connection
from ._connection_errors import NetworkError, NetworkTimeout
from ._error_handling import BACKPRESSURE_LABELS
from ._handshake import hello_command, parse_handshake
from ._settings import ConnectionSettings

__all__ = ["open_connection", "split_address"]


def split_address(address: str) -> tuple[str, int | None]:
    """``("host", port)`` from ``"host:port"`` or ``"[v6]:port"``; a UNIX socket
    path (ending ``.sock``) gives ``(path, None)``."""
    if address.endswith(".sock"):
        return address, None
    host, _, port = address.rpartition(":")
    if host.startswith("["):
        host = host[1:-1]
    return host, int(port)


async def open_connection(
    address: str,
    *,
    settings: ConnectionSettings | None = None,
    connection_id: int = 0,
    generation: int = 0,
) -> Connection:
    """Connect to ``address`` (``host:port`` or a socket path), run the
    handshake and authenticate: an OPEN :class:`Connection`.

    ``settings`` default to :class:`ConnectionSettings`' defaults; their
    ``connect_timeout_ms`` bounds all of it. Raises
    :class:`NetworkTimeout`, :class:`NetworkError`,
    :class:`~mongotor.pool.CommandError` (the hello failed) and
    :class:`~mongotor.pool.AuthenticationError`. Cancellation closes the
    half-open connection.
    """
    settings = settings or ConnectionSettings()
    loop = asyncio.get_running_loop()
    started = loop.time()
    timeout = settings.connect_timeout
    deadline = started + timeout if timeout is not None else None
    connection = await _connect(address, settings, connection_id, generation, deadline)
    try:
        await _establish(connection, settings, deadline)
    except BaseException:
        connection.close()
        raise
    return connection


async def _connect(
    address: str,
    settings: ConnectionSettings,
    connection_id: int,
    generation: int,
    deadline: float | None,
) -> Connection:
    loop = asyncio.get_running_loop()
    host, port = split_address(address)
    context = settings.ssl_context

    def factory() -> Connection:
        return Connection(
            address,
            connection_id=connection_id,
            generation=generation,
            socket_timeout=settings.socket_timeout,
            codec_options=settings.codec_options,
        )

    def failure(message: str, labels: frozenset[str] = BACKPRESSURE_LABELS) -> NetworkError:
        return NetworkError(
            message,
            address=address,
            connection_id=connection_id,
            generation=generation,
            labels=labels,
        )

    try:
        async with asyncio.timeout_at(deadline):
            if port is None:
                _, connection = await loop.create_unix_connection(
                    factory, host, ssl=context, server_hostname="localhost" if context else None
                )
            else:
                _, connection = await loop.create_connection(
                    factory, host, port, ssl=context, server_hostname=host if context else None
                )
    except TimeoutError:
        allowed = settings.connect_timeout_ms or 0
        raise NetworkTimeout(
            f"connecting to {address} timed out after {allowed} ms",
            address=address,
            timeout_ms=allowed,
            connection_id=connection_id,
            generation=generation,
            labels=BACKPRESSURE_LABELS,
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise failure(
            f"the TLS certificate of {address} did not verify: {exc.verify_message}", frozenset()
        ) from exc
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
        # The peer hung up mid-handshake: an I/O failure, possibly overload.
        raise failure(f"{address} closed the connection during the TLS handshake") from exc
    except ssl.SSLError as exc:
        raise failure(
            f"the TLS handshake with {address} failed: {exc.reason}", frozenset()
        ) from exc
    except socket.gaierror as exc:
        raise failure(f"cannot resolve {host}: {exc.strerror}", frozenset()) from exc
    except OSError as exc:
        raise failure(f"cannot connect to {address}: {exc.strerror or exc}") from exc
    return connection


async def _establish(
    connection: Connection, settings: ConnectionSettings, deadline: float | None
) -> None:
    loop = asyncio.get_running_loop()
    credential = settings.credential
    speculation = speculative_start(credential, address=connection.address) if credential else None
    command = hello_command(
        settings.metadata,
        compressors=settings.compressors,
        credential=credential,
        speculative_authenticate=speculation.command if speculation else None,
    )
    sent = loop.time()
    try:
        reply = await connection.command("admin", command, deadline=deadline, check=True)
    except NetworkError as exc:
        # CMAP "Backpressure-enabled": the hello's network errors and timeouts.
        exc.labels = exc.labels | BACKPRESSURE_LABELS
        raise
    received = loop.time()
    handshake = parse_handshake(
        connection.address,
        reply,
        requested_compressors=settings.compressors,
        round_trip_time_ms=(received - sent) * 1000,
        now_ms=received * 1000,
    )
    connection.complete_handshake(handshake, zlib_level=settings.zlib_compression_level)
    if credential is not None:
        await authenticate(
            connection, credential, handshake, speculation=speculation, deadline=deadline
        )
    connection.mark_established()
