"""Parsing ``mongodb://`` and ``mongodb+srv://`` connection strings, purely.

Follows the Connection String spec's reference algorithm: take off the scheme;
the host section ends at the first ``/`` (or ``?``, which the spec lets stand in
for a missing ``/``); the user info ends at the last ``@`` of that section; then
the database and the options. No DNS here: a ``mongodb+srv://`` string is only
checked, and :func:`~mongotor.pool.resolve_srv` looks it up at first use.

The 2012 library's form, ``addresses`` (``"host:port"`` or a list of them) and a
database name, goes through the same host and option checks in
:func:`from_addresses`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import unquote

from ._errors import InvalidURIError
from ._options import ConnectionOptions, Host, HostType
from ._uri_options import ascii_lower, check_topology, validate_options

__all__ = ["from_addresses", "parse_uri", "split_options"]

_SCHEMES = {"mongodb://": False, "mongodb+srv://": True}
# A "%" that does not start a two-hex-digit escape (Connection String spec, Userinfo).
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 gen-delims that may not appear unencoded in user info; "@" and ":" are
# handled on their own, "/" and "?" cannot reach here (they end the host section).
_BAD_USERINFO = re.compile(r"[\[\]#\s]")
_BAD_HOSTNAME = re.compile(r"[\[\]#@\s]")
_PORT = re.compile(r"[0-9]{1,5}")
# Connection String spec, Auth Database: characters a database name may not contain.
_BAD_DATABASE = frozenset('/\\ "$')
_SOCKET_HINT = "UNIX domain socket paths must be percent-encoded"


def _decode(text: str, component: str, index: int | None = None) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        # Not chained: the codec's message would quote the offending bytes.
        raise InvalidURIError(
            f"the {component} is not valid percent-encoded UTF-8", component=component, index=index
        ) from None


def parse_uri(uri: str, *, strict: bool = False) -> ConnectionOptions:
    """Parse a connection string into :class:`ConnectionOptions`.

    Unknown options, invalid or empty values and repeated options are ignored
    with a :class:`ConnectionStringWarning` subclass, as the Connection String
    spec demands; ``strict=True`` turns invalid values into
    :class:`InvalidOptionValueError`. Raises :class:`InvalidURIError` for a
    malformed string and :class:`ConflictingOptionsError` for options that may
    not be combined. No message quotes the username, the password or a raw value.
    """
    scheme = next((s for s in _SCHEMES if ascii_lower(uri[: len(s)]) == s), None)
    if scheme is None:
        raise InvalidURIError(
            "a connection string must begin with mongodb:// or mongodb+srv://",
            component="scheme",
        )
    srv, rest = _SCHEMES[scheme], uri[len(scheme) :]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    host_section, tail = rest[:cut], rest[cut:]
    userinfo, at, host_list = host_section.rpartition("@")
    username = password = None
    if at:
        username, password = _parse_userinfo(userinfo)
    if not host_list:
        raise InvalidURIError(f"no host is given ({_SOCKET_HINT})", component="host")
    hosts = tuple(
        _parse_host(entry, index) for index, entry in enumerate(host_list.split(","), start=1)
    )
    if srv:
        _check_srv_host(hosts)
    database, query = None, tail[1:]
    if tail.startswith("/"):
        path, _, query = query.partition("?")
        if "@" in path:
            # A database name may hold "@" only encoded; unencoded, it is far more
            # likely the end of a password that contained an unencoded "/".
            raise InvalidURIError(
                "an unencoded '@' follows the host list: percent-encode '@' and '/' in "
                "user names, passwords and database names",
                component="database",
            )
        database = _parse_database(_decode(path, "database")) if path else None
    # An "@" after the host section can mean a password with an unencoded "/" or
    # "?" spilled into the query, so option names there are not quoted.
    values, _ = validate_options(split_options(query), strict=strict, hide_names="@" in tail)
    tls = values.pop("tls", None)
    if tls is None:
        tls = srv or any(name.startswith("tls_") for name in values)
    check_topology(values, srv=srv, host_count=None if srv else len(hosts))
    return ConnectionOptions(
        hosts=() if srv else hosts,
        srv_host=hosts[0].host if srv else None,
        database=database,
        username=username,
        password=password,
        tls=bool(tls),
        **values,  # type: ignore[arg-type]
    )


def from_addresses(
    addresses: str | Sequence[str],
    database: str | None = None,
    /,
    *,
    strict: bool = False,
    **options: str | int | bool,
) -> ConnectionOptions:
    """The 2012 library's ``Database.connect(addresses, dbname)`` form.

    ``addresses`` is one ``"host:port"`` (port optional; ``"[::1]:27017"``; a
    ``/path/to.sock``) or a list of them, not percent-encoded. ``options`` are
    connection-string options by name (``maxPoolSize=10``, ``replicaSet="rs"``),
    validated exactly as in a connection string. Raises as :func:`parse_uri`.
    """
    entries = [addresses] if isinstance(addresses, str) else list(addresses)
    if not entries:
        raise InvalidURIError("no address is given", component="host")
    hosts = tuple(
        _parse_host(entry, index, encoded=False) for index, entry in enumerate(entries, start=1)
    )
    pairs = [(name, _option_text(value)) for name, value in options.items()]
    values, _ = validate_options(pairs, strict=strict)
    tls = values.pop("tls", None)
    if tls is None:
        tls = any(name.startswith("tls_") for name in values)
    check_topology(values, srv=False, host_count=len(hosts))
    return ConnectionOptions(
        hosts=hosts,
        database=_parse_database(database) if database else None,
        tls=bool(tls),
        **values,  # type: ignore[arg-type]
    )


def _option_text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def split_options(query: str) -> list[tuple[str, str]]:
    """Split ``k=v&k=v`` into decoded pairs, in order. Empty items are skipped.

    Raises :class:`InvalidURIError` for an item without ``=`` or with an empty key.
    """
    pairs = []
    for index, item in enumerate(query.split("&"), start=1):
        if not item:
            continue
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise InvalidURIError(
                f"option {index} of the query string is not a key=value pair",
                component="options",
                index=index,
            )
        pairs.append((_decode(key, "options", index), _decode(value, "options", index)))
    return pairs


def _parse_userinfo(userinfo: str) -> tuple[str, str | None]:
    if "@" in userinfo:
        raise InvalidURIError(
            "the user name and password must be percent-encoded: an '@' was found in them",
            component="userinfo",
        )
    raw_user, colon, raw_password = userinfo.partition(":")
    if ":" in raw_password:
        raise InvalidURIError(
            "the user name and password must be percent-encoded: more than one ':' was found",
            component="userinfo",
        )
    if _BAD_PERCENT.search(userinfo) or _BAD_USERINFO.search(userinfo):
        raise InvalidURIError(
            "the user name and password must be percent-encoded: a '%', '[', ']', '#' "
            "or white space is not encoded",
            component="userinfo",
        )
    username = _decode(raw_user, "userinfo")
    if not username:
        raise InvalidURIError("the user name is empty", component="userinfo")
    return username, _decode(raw_password, "userinfo") if colon else None


def _parse_host(entry: str, index: int, *, encoded: bool = True) -> Host:
    if not entry:
        raise InvalidURIError(f"host {index} is empty", component="host", index=index)
    if entry.startswith("["):
        literal, bracket, rest = entry[1:].partition("]")
        literal = _decode(literal, "host", index) if encoded else literal
        if not bracket or not _is_ipv6(literal) or (rest and not rest.startswith(":")):
            raise InvalidURIError(
                f"host {index} is not a valid [IPv6] literal", component="host", index=index
            )
        return Host(literal.lower(), _port(rest[1:], index) if rest else None, HostType.IP_LITERAL)
    decoded = _decode(entry, "host", index) if encoded else entry
    if "/" in decoded:
        if not decoded.endswith(".sock"):
            raise InvalidURIError(
                f"host {index} looks like a UNIX domain socket path but does not end in .sock "
                f"({_SOCKET_HINT})",
                component="host",
                index=index,
            )
        return Host(decoded, None, HostType.UNIX)
    if entry.count(":") > 1:
        raise InvalidURIError(
            f"host {index} has more than one ':' (IPv6 addresses go in brackets)",
            component="host",
            index=index,
        )
    raw_name, colon, port_text = entry.partition(":")
    name = _decode(raw_name, "host", index) if encoded else raw_name
    if not name or _BAD_HOSTNAME.search(name):
        raise InvalidURIError(
            f"host {index} has an empty or malformed name", component="host", index=index
        )
    port = _port(port_text, index) if colon else None
    kind = HostType.IPV4 if _is_ipv4(name) else HostType.HOSTNAME
    return Host(name.lower(), port, kind)


def _port(text: str, index: int) -> int:
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise InvalidURIError(
            f"host {index} has an invalid port: expected an integer from 1 to 65535",
            component="host",
            index=index,
        )
    return int(text)


def _is_ipv4(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def _is_ipv6(literal: str) -> bool:
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        return False
    return True


def _check_srv_host(hosts: tuple[Host, ...]) -> None:
    # Seedlist spec, "Validation Before Querying DNS".
    if len(hosts) != 1:
        raise InvalidURIError(
            "a mongodb+srv:// connection string takes exactly one host name", component="host"
        )
    (host,) = hosts
    if host.port is not None:
        raise InvalidURIError(
            "a mongodb+srv:// connection string takes no port", component="host", index=1
        )
    if host.type is not HostType.HOSTNAME:
        raise InvalidURIError(
            "a mongodb+srv:// connection string takes a DNS name, not an address or a socket",
            component="host",
            index=1,
        )


def _parse_database(name: str) -> str:
    forbidden = " ".join(map(repr, sorted(_BAD_DATABASE.intersection(name))))
    if forbidden:
        raise InvalidURIError(
            f"the database name contains characters MongoDB forbids: {forbidden}",
            component="database",
        )
    return name
