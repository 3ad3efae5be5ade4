"""Polling SRV records for mongos discovery: a pure update and a thin async task.

Polling SRV Records for mongos Discovery: a topology made from a
``mongodb+srv://`` string re-queries its SRV records every
``rescanSRVIntervalMS`` (the least TTL of the last answer, never below 60 s)
while it is Unknown or Sharded, and stops for good once it is anything else.
:func:`polled_addresses` keeps the records whose hosts lie under the allowed
domain (others are logged and dropped, never an error);
:func:`srv_polling_update` turns the verified set into the next
:class:`TopologyDescription`: servers gone from DNS are removed, new ones
added as Unknown (up to ``srvMaxHosts``, chosen at random), unchanged ones
left alone. A DNS failure, or an answer with no verified host, changes
nothing and makes the next rescan come after ``heartbeatFrequencyMS``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._hello import normalize_address
from ._monitor import MonitorSettings
from ._options import ConnectionOptions
from ._server_description import unknown_server
from ._srv import DNSResolver, SrvRecord, _allowed_suffix, _query, srv_query_name
from ._topology_description import TopologyDescription, TopologyType
from ._uri_options import ascii_lower

__all__ = ["POLLED_TOPOLOGY_TYPES", "SrvPoller", "polled_addresses", "srv_polling_update"]

logger = logging.getLogger(__name__)

#: "This feature is only available when ... the TopologyType is Sharded, or Unknown."
POLLED_TOPOLOGY_TYPES = frozenset({TopologyType.UNKNOWN, TopologyType.SHARDED})
# How long a DNS query may take when connectTimeoutMS does not say (its default).
_DEFAULT_LIFETIME = 10.0


def polled_addresses(
    options: ConnectionOptions, records: Iterable[SrvRecord]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The normalized ``host:port`` of each record under the allowed domain, and
    the targets that were not (which the spec says to log, not to raise)."""
    assert options.srv_host is not None
    suffix = _allowed_suffix(options, options.srv_host)
    valid: list[str] = []
    rejected: list[str] = []
    for record in records:
        target = ascii_lower(record.target).rstrip(".")
        if target.endswith(suffix):
            valid.append(normalize_address(f"{target}:{record.port}"))
        else:
            rejected.append(target)
    return tuple(dict.fromkeys(valid)), tuple(rejected)


def srv_polling_update(
    topology: TopologyDescription,
    addresses: Sequence[str],
    *,
    max_hosts: int | None,
    rng: random.Random,
) -> TopologyDescription:
    """The description after a rescan found ``addresses`` (verified, non-empty).

    Servers no longer listed are removed; listed servers already present keep
    their descriptions; new ones are added as Unknown, all of them, or with a
    positive ``max_hosts``, as many as fit, picked at random. Returns
    ``topology`` itself when the set of servers is unchanged. Raises
    ``ValueError`` for an empty ``addresses``.
    """
    if not addresses:
        raise ValueError("a rescan that found no host must not change the topology")
    kept = {address: server for address, server in topology.servers.items() if address in addresses}
    new = [address for address in addresses if address not in kept]
    if max_hosts:
        room = max(0, max_hosts - len(kept))
        if room < len(new):
            new = rng.sample(new, room)
    if not new and len(kept) == len(topology.servers):
        return topology
    servers = {**kept, **{address: unknown_server(address) for address in new}}
    return TopologyDescription(
        topology.type,
        servers,
        topology.settings,
        set_name=topology.set_name,
        max_set_version=topology.max_set_version,
        max_election_id=topology.max_election_id,
    )


class SrvPoller:
    """The rescanning task of one ``mongodb+srv://`` topology.

    ``topology_type`` reads the topology's current type; ``found`` receives the
    verified addresses of each successful rescan (the topology applies
    :func:`srv_polling_update`). The first rescan comes one interval after
    :meth:`start` (the interval counts from the end of the previous scan).
    """

    def __init__(
        self,
        options: ConnectionOptions,
        settings: MonitorSettings,
        *,
        resolver: DNSResolver,
        topology_type: Callable[[], TopologyType],
        found: Callable[[tuple[str, ...]], object],
    ) -> None:
        self.options = options
        self._settings = settings
        self._resolver = resolver
        self._topology_type = topology_type
        self._found = found
        self._task: asyncio.Task[None] | None = None
        self.rescans = 0

    def __repr__(self) -> str:
        running = self._task is not None and not self._task.done()
        return (
            f"<SrvPoller {self.options.srv_host} {'running' if running else 'stopped'} "
            f"rescans={self.rescans}>"
        )

    def start(self) -> None:
        """Begin polling in a task of the running loop."""
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"mongotor-srv-poll-{self.options.srv_host}"
        )

    async def close(self) -> None:
        """Stop polling (idempotent)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        interval_ms = self._settings.rescan_srv_interval_ms
        while True:
            await asyncio.sleep(interval_ms / 1000)
            if self._topology_type() not in POLLED_TOPOLOGY_TYPES:
                logger.debug("%s is no longer sharded or unknown: SRV polling stops", self)
                return
            interval_ms = await self.rescan()

    async def rescan(self) -> int:
        """Query DNS once and report what it found; the next interval in ms."""
        self.rescans += 1
        name = srv_query_name(self.options)
        lifetime = (self.options.connect_timeout_ms or 0) / 1000 or _DEFAULT_LIFETIME
        assert self.options.srv_host is not None
        try:
            answer: Any = await _query(self._resolver, name, "SRV", lifetime, self.options.srv_host)
        except Exception as exc:
            # "MUST NOT raise an error": a DNS failure (SeedlistDiscoveryError) or any other.
            logger.warning("rescanning %s failed, the topology is unchanged: %s", name, exc)
            return self._settings.heartbeat_frequency_ms
        records = [SrvRecord(rdata.target.to_text(), rdata.port) for rdata in answer]
        addresses, rejected = polled_addresses(self.options, records)
        for target in rejected:
            logger.warning(
                "ignoring the SRV record of %s for %s: not under its domain", name, target
            )
        if not addresses:
            logger.warning("rescanning %s found no valid host, the topology is unchanged", name)
            return self._settings.heartbeat_frequency_ms
        self._found(addresses)
        # "rescanSRVIntervalMS": the least TTL of the answer, never below the floor.
        ttl = getattr(getattr(answer, "rrset", None), "ttl", None)
        floor = self._settings.rescan_srv_interval_ms
        return max(floor, ttl * 1000) if isinstance(ttl, int) else floor
