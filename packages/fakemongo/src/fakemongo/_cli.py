"""The command line: ``fakemongo --port 27017`` or ``python -m fakemongo``.

``fakemongo --replset rs0 --members 3`` serves a replica set instead, its
members on consecutive ports from ``--port``. Prints the connection string,
then serves until interrupted (Ctrl-C or SIGTERM). ``--verbose`` logs every command at debug level, so you can see what
your driver sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import ssl
import sys
from collections.abc import Sequence

from ._errors import CommandError
from ._loops import LOOPS, loop_factory
from ._replset import FakeMongoReplicaSet
from ._server import FakeMongo
from ._state import ServerOptions

__all__ = ["main"]


def _user(value: str) -> tuple[str, str, str]:
    # --user [db.]name:password ; the database defaults to admin. Database
    # names cannot hold a dot (manual: "Naming Restrictions"), so the first
    # dot ends the database and a user name may hold dots ("admin.j.doe:pw").
    name, sep, password = value.partition(":")
    db, dot, user = name.partition(".")
    if not dot:
        db, user = "admin", name
    if not sep or not db or not user or not password:
        raise argparse.ArgumentTypeError(f"expected [DB.]USER:PASSWORD, got {value!r}")
    return (db, user, password)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fakemongo", description="An in-process MongoDB 8.0 server for tests."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=27017,
        help="port to listen on; 0 picks a free one (default 27017)",
    )
    parser.add_argument(
        "--user",
        action="append",
        type=_user,
        default=[],
        metavar="[DB.]USER:PASSWORD",
        help="create a user and require authentication (repeatable)",
    )
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve TLS")
    parser.add_argument(
        "--tls-key", help="PEM private key for --tls-cert (if not in the same file)"
    )
    parser.add_argument("--tls-ca", help="CA file: clients must present a certificate it signed")
    parser.add_argument(
        "--cursor-timeout-ms",
        type=int,
        default=600_000,
        help="idle cursor timeout (default 10 min)",
    )
    parser.add_argument("--replset", metavar="NAME", help="serve a replica set of this name")
    parser.add_argument(
        "--members", type=int, default=3, help="data-bearing members of --replset (default 3)"
    )
    parser.add_argument("--arbiters", type=int, default=0, help="arbiters of --replset (default 0)")
    parser.add_argument(
        "--loop",
        choices=LOOPS,
        default="auto",
        help="event loop: uvloop's where installed (auto, the default), asyncio's, or uvloop's",
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="log every command at debug level"
    )
    args = parser.parse_args(argv)
    if args.replset is not None and args.members < 1:
        parser.error("--members must be at least 1")
    for option in ("tls_cert", "tls_key", "tls_ca"):
        path = getattr(args, option)
        if path is not None and not os.path.isfile(path):
            parser.error(f"--{option.replace('_', '-')}: no such file: {path}")
    if (args.tls_key or args.tls_ca) and not args.tls_cert:
        parser.error("--tls-key and --tls-ca need --tls-cert")
    return args


async def serve(args: argparse.Namespace) -> None:
    options = ServerOptions(
        host=args.host,
        port=args.port,
        users=tuple(args.user),
        tls_certfile=args.tls_cert,
        tls_keyfile=args.tls_key,
        tls_ca_file=args.tls_ca,
        cursor_timeout_ms=args.cursor_timeout_ms,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    logging.getLogger("fakemongo").info("event loop: %s", type(loop).__module__.partition(".")[0])
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    served: FakeMongo | FakeMongoReplicaSet
    if args.replset is None:
        served = FakeMongo(options)
    else:
        served = FakeMongoReplicaSet(args.replset, args.members, args.arbiters, options=options)
    async with served:
        sys.stdout.write(f"{served.uri}\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        factory = loop_factory(args.loop)
    except ImportError as exc:
        sys.stderr.write(f"fakemongo: --loop uvloop: {exc}\n")
        return 2
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(serve(args))
    except CommandError as exc:  # a --user the user store refuses (the same user twice...)
        sys.stderr.write(f"fakemongo: invalid --user: {exc.errmsg}\n")
        return 2
    except ssl.SSLError as exc:
        sys.stderr.write(f"fakemongo: cannot use the TLS certificate or key: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(
            f"fakemongo: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}\n"
        )
        return 1
    return 0
