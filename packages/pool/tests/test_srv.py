"""Initial DNS Seedlist Discovery: the spec's tests over the spec's DNS zone.

The spec's JSON tests name hosts under test.build.10gen.cc and expect the DNS
records its tests/README lists; ``ZONE_SRV`` and ``ZONE_TXT`` transcribe them. Only
the resolver is replaced (by :class:`ZoneResolver`, which answers from that table
with real dnspython records), so :func:`resolve_srv` and :func:`apply_seedlist`
run as in production. What needs a live deployment is not asserted: ``hosts`` /
``numHosts`` (the topology after SDAM) and ``ping``.
"""

from __future__ import annotations

import asyncio
import random
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.rdata
import dns.resolver
import pytest

from mongotor.pool import (
    ConfigurationError,
    ConflictingOptionsError,
    ConnectionOptions,
    ConnectionStringWarning,
    Host,
    HostType,
    InvalidOptionValueError,
    SeedlistDiscoveryError,
    SrvRecord,
    apply_seedlist,
    parse_uri,
    resolve_srv,
    srv_query_name,
)

KNOWN_GAPS: dict[str, str] = {}

# Initial DNS Seedlist Discovery tests/README, "Test Setup" (port, target).
ZONE_SRV: Mapping[str, Sequence[tuple[int, str]]] = {
    "_mongodb._tcp.test1.test.build.10gen.cc": [
        (27017, "localhost.test.build.10gen.cc."),
        (27018, "localhost.test.build.10gen.cc."),
    ],
    "_mongodb._tcp.test2.test.build.10gen.cc": [
        (27018, "localhost.test.build.10gen.cc."),
        (27019, "localhost.test.build.10gen.cc."),
    ],
    "_mongodb._tcp.test3.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test5.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test6.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test7.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test8.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test10.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test11.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test12.test.build.10gen.cc": [(27017, "localhost.build.10gen.cc.")],
    "_mongodb._tcp.test13.test.build.10gen.cc": [(27017, "test.build.10gen.cc.")],
    "_mongodb._tcp.test14.test.build.10gen.cc": [(27017, "localhost.not-test.build.10gen.cc.")],
    "_mongodb._tcp.test15.test.build.10gen.cc": [(27017, "localhost.test.not-build.10gen.cc.")],
    "_mongodb._tcp.test16.test.build.10gen.cc": [(27017, "localhost.test.build.not-10gen.cc.")],
    "_mongodb._tcp.test17.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.not-cc.")],
    "_mongodb._tcp.test18.test.build.10gen.cc": [(27017, "localhost.sub.test.build.10gen.cc.")],
    "_mongodb._tcp.test19.test.build.10gen.cc": [
        (27017, "localhost.evil.build.10gen.cc."),
        (27017, "localhost.test.build.10gen.cc."),
    ],
    "_mongodb._tcp.test20.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test21.test.build.10gen.cc": [(27017, "localhost.test.build.10gen.cc.")],
    # The README lists one record here, but srv-service-name.json expects the two
    # seeds the live zone serves.
    "_customname._tcp.test22.test.build.10gen.cc": [
        (27017, "localhost.test.build.10gen.cc."),
        (27018, "localhost.test.build.10gen.cc."),
    ],
    "_mongodb._tcp.test23.test.build.10gen.cc": [(8000, "localhost.test.build.10gen.cc.")],
    "_mongodb._tcp.test24.test.build.10gen.cc": [(8000, "localhost.test.build.10gen.cc.")],
    # Not in the README's list, but implied by the identical-hostnames-valid-* tests
    # ("SRV hostname and resolved hostname are identical").
    "_mongodb._tcp.test.build.10gen.cc": [(27017, "test.build.10gen.cc.")],
    "_mongodb._tcp.build.10gen.cc": [(27017, "build.10gen.cc.")],
}
# Each TXT record is written as in a zone file: its character strings, quoted.
ZONE_TXT: Mapping[str, Sequence[str]] = {
    "test5.test.build.10gen.cc": ['"replicaSet=repl0&authSource=thisDB"'],
    "test6.test.build.10gen.cc": ['"replicaSet=repl0"', '"authSource=otherDB"'],
    "test7.test.build.10gen.cc": ['"ssl=false"'],
    "test8.test.build.10gen.cc": ['"authSource"'],
    "test10.test.build.10gen.cc": ['"socketTimeoutMS=500"'],
    "test11.test.build.10gen.cc": ['"replicaS" "et=rep" "l0"'],
    "test20.test.build.10gen.cc": ['"loadBalanced=true"'],
    "test21.test.build.10gen.cc": ['"loadBalanced=false"'],
    "test24.test.build.10gen.cc": ['"loadBalanced=true"'],
}


class ZoneResolver:
    """A DNS resolver answering from fixed tables, with real dnspython records."""

    def __init__(
        self,
        srv: Mapping[str, Sequence[tuple[int, str]]] = ZONE_SRV,
        txt: Mapping[str, Sequence[str]] = ZONE_TXT,
        *,
        fail: Mapping[str, dns.exception.DNSException] | None = None,
    ) -> None:
        self.srv, self.txt, self.fail = srv, txt, dict(fail or {})
        self.queries: list[tuple[str, str, float | None]] = []

    async def resolve(
        self, qname: str, rdtype: str, *, lifetime: float | None = None
    ) -> list[dns.rdata.Rdata]:
        self.queries.append((qname, rdtype, lifetime))
        if rdtype in self.fail:
            raise self.fail[rdtype]
        if rdtype == "SRV":
            texts = [f"0 5 {port} {target}" for port, target in self.srv.get(qname, ())]
        else:
            texts = list(self.txt.get(qname, ()))
        if not texts:
            raise dns.resolver.NXDOMAIN
        return [dns.rdata.from_text("IN", rdtype, text) for text in texts]


def _plain(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value


def _discover(uri: str, resolver: ZoneResolver | None = None) -> ConnectionOptions:
    options = parse_uri(uri)
    return asyncio.run(
        resolve_srv(options, resolver=resolver or ZoneResolver(), rng=random.Random(7))
    )


def test_seedlist_spec(seedlist_case: dict[str, Any]) -> None:
    case = seedlist_case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case.get("error"):
            with pytest.raises(ConfigurationError):
                _discover(case["uri"])
            return
        options = _discover(case["uri"])
    assert not caught, [str(w.message) for w in caught]
    seeds = [str(host) for host in options.hosts]
    assert len(seeds) == len(set(seeds))
    if "seeds" in case:
        assert set(seeds) == set(case["seeds"])
    if "numSeeds" in case:
        assert len(seeds) == case["numSeeds"]
    for name, expected in case.get("options", {}).items():
        assert _plain(options.option(name)) == expected, name
    parsed = case.get("parsed_options", {})
    for name, attribute in (
        ("user", "username"),
        ("password", "password"),
        ("db", "database"),
        ("auth_database", "database"),
        ("defaultDatabase", "database"),
    ):
        if name in parsed:
            assert getattr(options, attribute) == parsed[name], name


def test_queries_name_the_service_and_host_and_are_bounded_by_connect_timeout() -> None:
    resolver = ZoneResolver()
    _discover(
        "mongodb+srv://test22.test.build.10gen.cc/?srvServiceName=customname&connectTimeoutMS=2500",
        resolver,
    )
    assert sorted(resolver.queries) == [
        ("_customname._tcp.test22.test.build.10gen.cc", "SRV", 2.5),
        ("test22.test.build.10gen.cc", "TXT", 2.5),
    ]


def test_queries_default_to_a_ten_second_lifetime() -> None:
    resolver = ZoneResolver()
    _discover("mongodb+srv://test3.test.build.10gen.cc/?connectTimeoutMS=0", resolver)
    assert {lifetime for _, _, lifetime in resolver.queries} == {10.0}


@pytest.mark.parametrize("rdtype", ["SRV", "TXT"])
def test_a_dns_failure_is_a_retryable_seedlist_error(rdtype: str) -> None:
    resolver = ZoneResolver(fail={rdtype: dns.exception.Timeout()})  # type: ignore[no-untyped-call]
    with pytest.raises(SeedlistDiscoveryError) as caught:
        _discover("mongodb+srv://test1.test.build.10gen.cc/", resolver)
    assert caught.value.retryable is True
    assert caught.value.srv_host == "test1.test.build.10gen.cc"
    assert isinstance(caught.value.__cause__, dns.exception.Timeout)


def test_a_missing_txt_answer_means_no_defaults() -> None:
    resolver = ZoneResolver(fail={"TXT": dns.resolver.NoAnswer()})  # type: ignore[no-untyped-call]
    options = _discover("mongodb+srv://test5.test.build.10gen.cc/", resolver)
    assert options.replica_set is None
    assert [str(host) for host in options.hosts] == ["localhost.test.build.10gen.cc:27017"]


def test_no_srv_records_is_not_retryable() -> None:
    with pytest.raises(SeedlistDiscoveryError, match="no SRV records") as caught:
        _discover("mongodb+srv://test4.test.build.10gen.cc/")
    assert caught.value.retryable is False


def test_the_default_resolver_is_dnspythons(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = ZoneResolver()
    monkeypatch.setattr(dns.asyncresolver, "get_default_resolver", lambda: resolver)
    options = asyncio.run(resolve_srv(parse_uri("mongodb+srv://test3.test.build.10gen.cc/")))
    assert [str(host) for host in options.hosts] == ["localhost.test.build.10gen.cc:27017"]
    assert len(resolver.queries) == 2


def test_cancelling_discovery_cancels_both_queries() -> None:
    class Hanging:
        def __init__(self) -> None:
            self.started: list[str] = []
            self.cancelled: list[str] = []
            self.both_started = asyncio.Event()

        async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
            self.started.append(rdtype)
            if len(self.started) == 2:
                self.both_started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.append(rdtype)
                raise

    async def scenario() -> Hanging:
        resolver = Hanging()
        options = parse_uri("mongodb+srv://test1.test.build.10gen.cc/")
        task = asyncio.create_task(resolve_srv(options, resolver=resolver))
        await asyncio.wait_for(resolver.both_started.wait(), timeout=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return resolver

    resolver = asyncio.run(scenario())
    assert sorted(resolver.cancelled) == ["SRV", "TXT"]


def _srv_options(name: str, query: str = "") -> ConnectionOptions:
    return parse_uri(f"mongodb+srv://{name}/{query}")


# Seedlist tests/README, prose tests 1-4: hosts with fewer than three labels.
@pytest.mark.parametrize("name", ["localhost", "mongo.local"])
def test_prose_1_short_srv_names_are_allowed(name: str) -> None:
    options = apply_seedlist(_srv_options(name), [SrvRecord(f"a.{name}", 27017)], [])
    assert options.hosts == (Host(f"a.{name}", 27017, HostType.HOSTNAME),)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("localhost", "localhost.mongodb"),
        ("mongo.local", "test_1.evil.local"),
        ("blogs.mongodb.com", "blogs.evil.com"),
        ("localhost", "localhost"),
        ("mongo.local", "mongo.local"),
        ("localhost", "test_1.cluster_1localhost"),
        ("mongo.local", "test_1.my_hostmongo.local"),
        ("blogs.mongodb.com", "cluster.testmongodb.com"),
    ],
)
def test_prose_2_3_4_targets_outside_the_domain_are_refused(name: str, target: str) -> None:
    with pytest.raises(SeedlistDiscoveryError, match="is not under") as caught:
        apply_seedlist(_srv_options(name), [SrvRecord(target, 27017)], [])
    assert caught.value.srv_host == name


def test_srv_max_hosts_picks_that_many_at_random_with_the_given_rng() -> None:
    options = _srv_options("x.example.com", "?srvMaxHosts=2")
    records = [SrvRecord(f"h{i}.example.com.", 27017 + i) for i in range(5)]
    first = apply_seedlist(options, records, [], rng=random.Random(1))
    again = apply_seedlist(options, records, [], rng=random.Random(1))
    assert first.hosts == again.hosts
    assert len(first.hosts) == 2
    assert set(first.hosts) <= {
        Host(f"h{i}.example.com", 27017 + i, HostType.HOSTNAME) for i in range(5)
    }
    assert len(apply_seedlist(options, records, []).hosts) == 2


def test_txt_defaults_do_not_override_the_connection_string() -> None:
    options = _srv_options("x.example.com", "?authSource=mine")
    resolved = apply_seedlist(
        options,
        [SrvRecord("a.example.com", 27017)],
        [["authSource=theirs&replica", "Set=rs0"]],
    )
    assert (resolved.auth_source, resolved.replica_set) == ("mine", "rs0")
    assert resolved.srv_host == "x.example.com"


def test_txt_option_not_allowed_names_the_option() -> None:
    with pytest.raises(SeedlistDiscoveryError) as caught:
        apply_seedlist(_srv_options("x.example.com"), [SrvRecord("a.example.com", 1)], [["w=2"]])
    assert (caught.value.option, caught.value.value) == ("w", "2")


def test_txt_invalid_value_warns_or_raises_when_strict() -> None:
    options, records = _srv_options("x.example.com"), [SrvRecord("a.example.com", 1)]
    with pytest.warns(ConnectionStringWarning, match="loadBalanced"):
        resolved = apply_seedlist(options, records, [["loadBalanced=maybe"]])
    assert resolved.load_balanced is None
    with pytest.raises(InvalidOptionValueError):
        apply_seedlist(options, records, [["loadBalanced=maybe"]], strict=True)


def test_load_balanced_from_txt_conflicts_with_several_hosts() -> None:
    with pytest.raises(ConflictingOptionsError) as caught:
        apply_seedlist(
            _srv_options("x.example.com"),
            [SrvRecord("a.example.com", 1), SrvRecord("b.example.com", 1)],
            [["loadBalanced=true"]],
        )
    assert (caught.value.option, caught.value.other) == ("loadBalanced", "hosts")


def test_allowed_hosts_suffix_replaces_the_inferred_domain() -> None:
    options = _srv_options("a.b.example.com", "?srvAllowedHostsSuffix=Example.COM.")
    assert options.srv_allowed_hosts_suffix == ".example.com"
    resolved = apply_seedlist(options, [SrvRecord("z.example.com", 1)], [])
    assert resolved.hosts == (Host("z.example.com", 1, HostType.HOSTNAME),)


def test_seedlist_functions_need_an_srv_configuration() -> None:
    plain = parse_uri("mongodb://a.example.com")
    with pytest.raises(ValueError, match=r"mongodb\+srv"):
        srv_query_name(plain)
    with pytest.raises(ValueError, match=r"mongodb\+srv"):
        apply_seedlist(plain, [SrvRecord("a.example.com", 1)], [])
    with pytest.raises(ValueError, match=r"mongodb\+srv"):
        asyncio.run(resolve_srv(plain, resolver=ZoneResolver()))
