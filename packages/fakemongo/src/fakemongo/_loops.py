"""The event loop fakemongo's own threads and its command line run on.

``"auto"`` (the default) is uvloop's where it is installed (a dependency
everywhere it builds: not on Windows), else asyncio's: the same server
spends about a quarter less CPU per request on uvloop, because reading,
writing and scheduling run in C (bench/fakemongo). ``"asyncio"`` and
``"uvloop"`` choose one; asking for uvloop where it is not installed raises.
An in-process ``async with FakeMongo()`` runs on whatever loop runs it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Final, Literal, TypeAlias

__all__ = ["LOOPS", "LoopName", "loop_factory"]

LoopName: TypeAlias = Literal["auto", "asyncio", "uvloop"]
#: The names ``loop=`` and ``--loop`` accept.
LOOPS: Final[tuple[LoopName, ...]] = ("auto", "asyncio", "uvloop")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What makes the loop called ``name`` (None: asyncio's default).

    Raises ValueError for an unknown name and ImportError for ``"uvloop"``
    where uvloop is not installed. Callers ask before they start anything.
    """
    if name not in LOOPS:
        raise ValueError(f"unknown event loop {name!r}: expected one of {', '.join(LOOPS)}")
    if name == "asyncio":
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError as exc:
        if name == "uvloop":
            raise ImportError(
                "uvloop's event loop was asked for, but uvloop is not installed"
            ) from exc
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
