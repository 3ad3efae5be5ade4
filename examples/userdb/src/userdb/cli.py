"""``python -m userdb``: start the storage and the web server, serve until Ctrl-C.

Prints the address to open. On SIGINT or SIGTERM it stops accepting
connections, closes the open ones, disconnects from the database, stops the
embedded fakemongo (if any) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence

import tornado.httpserver

from mongotor.errors import Error as MongotorError
from mongotor.pool import ConfigurationError as UriError

from .app import make_app
from .storage import open_storage

__all__ = ["listen", "main", "parse_args", "serve"]

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="userdb",
        description=(
            "The mongotor tutorial's user database. Uses an embedded fakemongo, or the "
            "MongoDB named by the MONGODB_URI environment variable."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=8888,
        help="port to listen on; 0 picks a free one (default 8888)",
    )
    return parser.parse_args(argv)


async def listen(host: str, port: int) -> socket.socket:
    """A listening socket on the first address ``host`` resolves to.

    Not ``tornado.netutil.bind_sockets``: it leaves its socket open when the bind
    fails (port in use), which ``socket.create_server`` closes.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    listening = socket.create_server(address, family=family, backlog=128)
    listening.setblocking(False)
    return listening


async def serve(
    host: str, port: int, uri: str | None, ready: Callable[[str], None] | None = None
) -> None:
    """Serve until SIGINT or SIGTERM; ``ready`` is called with the URL once listening."""
    storage = await open_storage(uri)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    try:
        listening = await listen(host, port)
        server = tornado.httpserver.HTTPServer(make_app(storage))
        server.add_sockets([listening])
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        bound = listening.getsockname()
        shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        url = f"http://{shown}:{bound[1]}/"
        sys.stdout.write(f"userdb: serving on {url} ({storage.description}); Ctrl-C stops\n")
        sys.stdout.flush()
        if ready is not None:
            ready(url)
        await stop.wait()
        log.info("stopping: no new connections")
        server.stop()
        await server.close_all_connections()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await storage.close()
    log.info("stopped")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uri = os.environ.get("MONGODB_URI") or None
    try:
        asyncio.run(serve(args.host, args.port, uri))
    except (MongotorError, UriError) as exc:
        # Messages of mongotor's errors never quote credentials.
        sys.stderr.write(f"userdb: cannot use the database: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(
            f"userdb: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}\n"
        )
        return 1
    return 0
