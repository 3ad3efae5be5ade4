"""``mongodb+srv://`` seedlist discovery: a pure decision and a thin async shell.

:func:`apply_seedlist` turns the SRV and TXT records of a name into the seeds and
default options, by the Initial DNS Seedlist Discovery spec's rules; it does no
I/O, so the spec's DNS test data can drive it directly. :func:`resolve_srv` asks
DNS (dnspython's asyncio resolver) for those records and applies them; a client
calls it at first use, never in a constructor.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Iterable, Sequence
from typing import Any, Final, Protocol

import dns.asyncresolver
import dns.exception
import dns.resolver

from ._errors import InvalidURIError, SeedlistDiscoveryError
from ._options import ConnectionOptions, Host, HostType
from ._uri import split_options
from ._uri_options import ascii_lower, check_topology, validate_options

__all__ = [
    "DEFAULT_SRV_SERVICE_NAME",
    "DNSResolver",
    "SrvRecord",
    "apply_seedlist",
    "resolve_srv",
    "srv_query_name",
]

#: The service name looked up when ``srvServiceName`` is not given.
DEFAULT_SRV_SERVICE_NAME: Final = "mongodb"
# How long a DNS query may take when connectTimeoutMS does not say (its default).
_DEFAULT_LIFETIME: Final = 10.0
# Seedlist spec, "Default Connection String Options": all a TXT record may set.
_TXT_OPTIONS: Final = frozenset({"authsource", "replicaset", "loadbalanced"})


@dataclasses.dataclass(frozen=True, slots=True)
class SrvRecord:
    """One SRV answer: the host to connect to and its port (priority and weight
    are ignored, as the spec says)."""

    target: str
    port: int


class DNSResolver(Protocol):
    """What :func:`resolve_srv` needs of a resolver; ``dns.asyncresolver.Resolver`` fits."""

    async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = ...) -> Any: ...


def srv_query_name(options: ConnectionOptions) -> str:
    """The SRV name to query: ``_{srvServiceName}._tcp.{host}``."""
    service = options.srv_service_name or DEFAULT_SRV_SERVICE_NAME
    return f"_{service}._tcp.{_srv_host(options)}"


def _srv_host(options: ConnectionOptions) -> str:
    if options.srv_host is None:
        raise ValueError("seedlist discovery needs options parsed from a mongodb+srv:// string")
    return options.srv_host


def _allowed_suffix(options: ConnectionOptions, srv_host: str) -> str:
    # Seedlist spec, "Connection String Format": the domain is the name less its
    # first label when it has three or more labels, else the whole name; returned
    # hosts must lie strictly under it. srvAllowedHostsSuffix replaces it.
    if options.srv_allowed_hosts_suffix is not None:
        return options.srv_allowed_hosts_suffix
    labels = srv_host.split(".")
    return "." + ".".join(labels[1:] if len(labels) >= 3 else labels)


def apply_seedlist(
    options: ConnectionOptions,
    srv_records: Sequence[SrvRecord],
    txt_records: Sequence[Sequence[str]],
    *,
    rng: random.Random | None = None,
    strict: bool = False,
) -> ConnectionOptions:
    """The options with the seeds and TXT defaults that DNS returned for them.

    ``txt_records`` holds each TXT record as its character strings, in order.
    Options in the connection string override those from TXT. With a positive
    ``srvMaxHosts`` below the number of records, that many seeds are chosen at
    random (``rng``, default: a fresh ``random.Random``).

    Raises :class:`SeedlistDiscoveryError` when there are no SRV records, a target
    lies outside the allowed domain, there is more than one TXT record, or a TXT
    record is malformed or sets an option other than authSource, replicaSet and
    loadBalanced; :class:`ConflictingOptionsError` when the result combines
    options the specs forbid (e.g. ``loadBalanced=true`` with several hosts).
    """
    srv_host = _srv_host(options)
    if not srv_records:
        raise SeedlistDiscoveryError(
            f"DNS has no SRV records for {srv_query_name(options)}", srv_host=srv_host
        )
    suffix = _allowed_suffix(options, srv_host)
    hosts = []
    for record in srv_records:
        target = ascii_lower(record.target).rstrip(".")
        if not target.endswith(suffix):
            raise SeedlistDiscoveryError(
                f"the SRV record for {srv_host} points to {target}, which is not under {suffix}",
                srv_host=srv_host,
            )
        hosts.append(Host(target, record.port, HostType.HOSTNAME))
    defaults = _txt_defaults(txt_records, srv_host, strict=strict)
    given = {field.name: getattr(options, field.name) for field in dataclasses.fields(options)}
    overrides = {name: value for name, value in defaults.items() if given[name] is None}
    max_hosts = options.srv_max_hosts
    if max_hosts and max_hosts < len(hosts):
        hosts = (rng or random.Random()).sample(hosts, max_hosts)  # noqa: S311 (not crypto)
    check_topology({**given, **overrides}, srv=True, host_count=len(hosts))
    return dataclasses.replace(options, hosts=tuple(hosts), **overrides)  # type: ignore[arg-type]


def _txt_defaults(
    txt_records: Sequence[Sequence[str]], srv_host: str, *, strict: bool
) -> dict[str, object]:
    if len(txt_records) > 1:
        raise SeedlistDiscoveryError(
            f"DNS has {len(txt_records)} TXT records for {srv_host}; at most one is allowed",
            srv_host=srv_host,
        )
    # A record's character strings form one string (each is at most 255 bytes).
    text = "".join(txt_records[0]) if txt_records else ""
    try:
        pairs = split_options(text)
    except InvalidURIError:
        raise SeedlistDiscoveryError(
            f"the TXT record for {srv_host} is not a list of key=value options", srv_host=srv_host
        ) from None
    for key, value in pairs:
        if ascii_lower(key) not in _TXT_OPTIONS:
            raise SeedlistDiscoveryError(
                f"the TXT record for {srv_host} sets {key!r}; only authSource, replicaSet "
                "and loadBalanced may be set there",
                srv_host=srv_host,
                option=key,
                value=value,
            )
    values, _ = validate_options(pairs, strict=strict)
    return values


async def resolve_srv(
    options: ConnectionOptions,
    *,
    resolver: DNSResolver | None = None,
    rng: random.Random | None = None,
    strict: bool = False,
) -> ConnectionOptions:
    """Look up the SRV and TXT records of a ``mongodb+srv://`` name and apply them.

    Both queries run concurrently, each bounded by ``connectTimeoutMS`` (10 s if
    not given). ``resolver`` defaults to dnspython's default asyncio resolver.
    Raises :class:`SeedlistDiscoveryError` (``retryable=True`` for DNS failures
    such as a timeout) and everything :func:`apply_seedlist` raises.
    Cancellation-safe: cancelling the caller cancels both queries.
    """
    srv_host = _srv_host(options)
    if resolver is None:
        resolver = dns.asyncresolver.get_default_resolver()
    lifetime = (options.connect_timeout_ms or 0) / 1000 or _DEFAULT_LIFETIME
    # return_exceptions: a failing query must not leave the other one running.
    answers = await asyncio.gather(
        _query(resolver, srv_query_name(options), "SRV", lifetime, srv_host),
        _query(resolver, srv_host, "TXT", lifetime, srv_host),
        return_exceptions=True,
    )
    srv_answer, txt_answer = answers
    if isinstance(srv_answer, BaseException):
        raise srv_answer
    if isinstance(txt_answer, BaseException):
        raise txt_answer
    srv_records = [SrvRecord(rdata.target.to_text(), rdata.port) for rdata in srv_answer]
    txt_records = [
        tuple(part.decode("utf-8", errors="replace") for part in rdata.strings)
        for rdata in txt_answer
    ]
    return apply_seedlist(options, srv_records, txt_records, rng=rng, strict=strict)


async def _query(
    resolver: DNSResolver, qname: str, rdtype: str, lifetime: float, srv_host: str
) -> Iterable[Any]:
    try:
        answer: Iterable[Any] = await resolver.resolve(qname, rdtype, lifetime=lifetime)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        # No records: fine for TXT, and apply_seedlist reports it for SRV.
        return ()
    except dns.exception.DNSException as exc:
        raise SeedlistDiscoveryError(
            f"the DNS {rdtype} query for {qname} failed: {exc}", srv_host=srv_host, retryable=True
        ) from exc
    return answer
