"""Validation of connection-string options: one table, pure functions.

Input is the ordered ``(key, value)`` pairs of a query string, already
percent-decoded; output is a mapping of :class:`ConnectionOptions` attribute to
typed value. Rules (Connection String spec, URI Options spec):

- keys are case-insensitive (ASCII lowercasing only);
- an unknown key is ignored with an :class:`UnknownOptionWarning`;
- an invalid or empty value is ignored with an :class:`InvalidOptionValueWarning`
  (or raises :class:`InvalidOptionValueError` when ``strict``);
- a repeated single-valued key warns and the last value wins;
- combinations the specs forbid raise :class:`ConflictingOptionsError`.

Messages name options by their canonical spelling, never by the text as typed,
and never contain raw values (see ``_errors``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ._errors import (
    ConflictingOptionsError,
    DeprecatedOptionWarning,
    InvalidOptionValueError,
    InvalidOptionValueWarning,
    RepeatedOptionWarning,
    UnknownOptionWarning,
)
from ._options import OPTION_ATTRIBUTES, FrozenMap, ReadPreferenceMode, ServerMonitoringMode

__all__ = ["ascii_lower", "check_topology", "validate_options"]

_INT32_MAX: Final = 2**31 - 1
_INT64_MAX: Final = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+")
# RFC 6335 section 5.1 service names, without its 15-character limit (the
# seedlist spec allows up to 62 so that "_name" fits a 63-byte DNS label).
_SERVICE_NAME = re.compile(r"(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*", re.IGNORECASE)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# What the handshake spec allows for appname, in UTF-8 bytes.
_MAX_APPNAME_BYTES: Final = 128

_AUTH_MECHANISMS = frozenset(
    {
        "GSSAPI",
        "MONGODB-AWS",
        "MONGODB-OIDC",
        "MONGODB-X509",
        "PLAIN",
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
    }
)
_COMPRESSORS = frozenset({"snappy", "zlib", "zstd"})


def ascii_lower(text: str) -> str:
    """Lowercase A-Z only, as the Connection String spec normalises keys."""
    return text.translate(_ASCII_LOWER)


class _Invalid(Exception):
    """A value did not parse; the option's ``expected`` text explains why."""


def _boolean(text: str) -> bool:
    folded = ascii_lower(text)
    if folded == "true":
        return True
    if folded == "false":
        return False
    raise _Invalid


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        # int() would also take "1_000", " 5" and non-ASCII digits.
        if not _INTEGER.fullmatch(text):
            raise _Invalid
        number = int(text)
        if not low <= number <= high:
            raise _Invalid
        return number

    return parse


def _text(text: str) -> str:
    return text


def _appname(text: str) -> str:
    if len(text.encode("utf-8")) > _MAX_APPNAME_BYTES:
        raise _Invalid
    return text


def _max_staleness(text: str) -> int:
    number = _integer(-1, _INT32_MAX)(text)
    if number == 0:
        raise _Invalid
    return number


def _write_concern_w(text: str) -> int | str:
    if _INTEGER.fullmatch(text):
        return _integer(0, _INT32_MAX)(text)
    return text


def _auth_mechanism(text: str) -> str:
    if text not in _AUTH_MECHANISMS:
        raise _Invalid
    return text


def _key_value_pairs(text: str) -> FrozenMap:
    # "k1:v1,k2:v2"; a value may itself contain ":" (TOKEN_RESOURCE:mongodb://x).
    pairs: dict[str, str] = {}
    if text == "":
        return FrozenMap(pairs)
    for item in text.split(","):
        key, colon, value = item.partition(":")
        if not colon or not key:
            raise _Invalid
        pairs[key] = value
    return FrozenMap(pairs)


def _compressors(text: str) -> tuple[str, ...]:
    names = tuple(ascii_lower(name) for name in text.split(","))
    if not all(name in _COMPRESSORS for name in names):
        raise _Invalid
    return names


def _read_preference(text: str) -> ReadPreferenceMode:
    try:
        return ReadPreferenceMode(text)
    except ValueError:
        raise _Invalid from None


def _monitoring_mode(text: str) -> ServerMonitoringMode:
    try:
        return ServerMonitoringMode(text)
    except ValueError:
        raise _Invalid from None


def _service_name(text: str) -> str:
    if len(text) > 62 or not _SERVICE_NAME.fullmatch(text):
        raise _Invalid
    return text


def _hosts_suffix(text: str) -> str:
    # Seedlist spec, srvAllowedHostsSuffix: lowercase, one leading dot, and at
    # least two labels, so that a bare top-level domain can never be allowed.
    labels = ascii_lower(text).strip(".").split(".")
    if len(labels) < 2 or not all(labels):
        raise _Invalid
    return "." + ".".join(labels)


@dataclass(frozen=True, slots=True)
class _Option:
    name: str
    parse: Callable[[str], object]
    expected: str
    #: An invalid value is an error even when not strict (the spec says so).
    always_error: bool = False


_NON_NEGATIVE = "an integer from 0 to 2147483647"
_BOOLEAN = "true or false"

_TABLE: Final = (
    _Option("appName", _appname, "a string of at most 128 UTF-8 bytes"),
    _Option("authMechanism", _auth_mechanism, "one of " + ", ".join(sorted(_AUTH_MECHANISMS))),
    _Option("authMechanismProperties", _key_value_pairs, "comma-separated KEY:value pairs"),
    _Option("authSource", _text, "a non-empty database name", always_error=True),
    _Option("compressors", _compressors, "a comma-separated list of snappy, zlib, zstd"),
    _Option("connectTimeoutMS", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("directConnection", _boolean, _BOOLEAN),
    _Option("enableOverloadRetargeting", _boolean, _BOOLEAN),
    _Option("heartbeatFrequencyMS", _integer(500, _INT32_MAX), "an integer of at least 500"),
    _Option("journal", _boolean, _BOOLEAN),
    _Option("loadBalanced", _boolean, _BOOLEAN),
    _Option("localThresholdMS", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("maxAdaptiveRetries", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("maxConnecting", _integer(1, _INT32_MAX), "a positive integer"),
    _Option("maxIdleTimeMS", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("maxPoolSize", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("maxStalenessSeconds", _max_staleness, "-1 or a positive integer"),
    _Option("minPoolSize", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("readConcernLevel", _text, "a non-empty string"),
    _Option("readPreference", _read_preference, "one of " + ", ".join(ReadPreferenceMode)),
    _Option("readPreferenceTags", _key_value_pairs, "comma-separated tag:value pairs"),
    _Option("replicaSet", _text, "a non-empty replica set name"),
    _Option("retryReads", _boolean, _BOOLEAN),
    _Option("retryWrites", _boolean, _BOOLEAN),
    _Option("serverMonitoringMode", _monitoring_mode, "one of auto, stream, poll"),
    _Option("serverSelectionTimeoutMS", _integer(1, _INT32_MAX), "a positive integer"),
    _Option("serverSelectionTryOnce", _boolean, _BOOLEAN),
    _Option("socketTimeoutMS", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option(
        "srvAllowedHostsSuffix",
        _hosts_suffix,
        "a DNS suffix of at least two labels",
        always_error=True,
    ),
    _Option("srvMaxHosts", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("srvServiceName", _service_name, "an RFC 6335 service name of at most 62 characters"),
    _Option("ssl", _boolean, _BOOLEAN),
    _Option("timeoutMS", _integer(0, _INT32_MAX), _NON_NEGATIVE),
    _Option("tls", _boolean, _BOOLEAN),
    _Option("tlsAllowInvalidCertificates", _boolean, _BOOLEAN),
    _Option("tlsAllowInvalidHostnames", _boolean, _BOOLEAN),
    _Option("tlsCAFile", _text, "a file name"),
    _Option("tlsCertificateKeyFile", _text, "a file name"),
    _Option("tlsCertificateKeyFilePassword", _text, "a non-empty password"),
    _Option("tlsDisableCertificateRevocationCheck", _boolean, _BOOLEAN),
    _Option("tlsDisableOCSPEndpointCheck", _boolean, _BOOLEAN),
    _Option("tlsInsecure", _boolean, _BOOLEAN),
    _Option("w", _write_concern_w, "a non-negative integer or a tag name such as majority"),
    _Option("waitQueueTimeoutMS", _integer(1, _INT32_MAX), "a positive integer"),
    _Option("wTimeoutMS", _integer(0, _INT64_MAX), "an integer from 0 to 2**63-1"),
    _Option("zlibCompressionLevel", _integer(-1, 9), "an integer from -1 to 9"),
)
_OPTIONS: Final[Mapping[str, _Option]] = {ascii_lower(o.name): o for o in _TABLE}
assert set(_OPTIONS) == set(OPTION_ATTRIBUTES), "the option table and the attributes disagree"

# Deprecated spellings -> their replacement (Connection String spec, "Deprecated
# Key Value Pairs"). slaveOk is the 2012 library's "slave okay" reads.
_DEPRECATED: Final[Mapping[str, str]] = {
    "wtimeout": "wTimeoutMS",
    "j": "journal",
    "slaveok": "readPreference",
}

# Options that may appear more than once without a warning: a list, and the TLS
# pair whose every instance must agree (checked separately).
_MULTI = frozenset({"readpreferencetags", "tls", "ssl"})

# URI Options spec, "Conflicting TLS options": presence alone is an error.
_TLS_CONFLICTS: Final = (
    ("tlsInsecure", "tlsAllowInvalidCertificates"),
    ("tlsInsecure", "tlsAllowInvalidHostnames"),
    ("tlsInsecure", "tlsDisableOCSPEndpointCheck"),
    ("tlsInsecure", "tlsDisableCertificateRevocationCheck"),
    ("tlsAllowInvalidCertificates", "tlsDisableOCSPEndpointCheck"),
    ("tlsAllowInvalidCertificates", "tlsDisableCertificateRevocationCheck"),
    ("tlsDisableOCSPEndpointCheck", "tlsDisableCertificateRevocationCheck"),
)
_SRV_ONLY: Final = ("srvServiceName", "srvMaxHosts", "srvAllowedHostsSuffix")


def _invalid(option: _Option, value: str, *, strict: bool, reason: str) -> None:
    message = f"invalid value for {option.name} ({reason}): expected {option.expected}"
    if strict or option.always_error:
        raise InvalidOptionValueError(
            message, option=option.name, value=value, expected=option.expected
        )
    warnings.warn(
        InvalidOptionValueWarning(
            message + "; the option is ignored",
            option=option.name,
            value=value,
            expected=option.expected,
        ),
        stacklevel=4,
    )


def validate_options(
    pairs: Sequence[tuple[str, str]], *, strict: bool = False, hide_names: bool = False
) -> tuple[dict[str, object], frozenset[str]]:
    """Validate decoded ``(key, value)`` pairs, in order.

    Returns the valid values by :class:`ConnectionOptions` attribute, and the set
    of lowercased keys present (valid or not), which presence-based rules need.
    ``hide_names`` keeps unknown option names out of warnings: the caller sets it
    when the string's shape suggests a password spilled into the query.
    Raises :class:`InvalidOptionValueError` (see module doc) and
    :class:`ConflictingOptionsError` for disagreeing ``tls``/``ssl`` values.
    """
    present = frozenset(ascii_lower(key) for key, _ in pairs)
    values: dict[str, object] = {}
    tags: list[FrozenMap] = []
    tls_seen: list[bool] = []
    seen: set[str] = set()
    for key, given in pairs:
        name, raw = ascii_lower(key), given
        if name in _DEPRECATED:
            replacement = _DEPRECATED[name]
            if ascii_lower(replacement) in present:
                _warn_deprecated(key, raw, replacement, ignored=True)
                continue
            _warn_deprecated(key, raw, replacement, ignored=False)
            deprecated, name = name, ascii_lower(replacement)
            if deprecated == "slaveok":
                # slaveOk=true meant "reads may go to secondaries".
                raw = {"true": "secondaryPreferred", "false": "primary"}.get(ascii_lower(raw), raw)
        option = _OPTIONS.get(name)
        if option is None:
            shown = "an unknown option" if hide_names else f"unknown option {key!r}"
            warnings.warn(
                UnknownOptionWarning(
                    f"{shown} was ignored",
                    option=None if hide_names else key,
                    value=None if hide_names else raw,
                ),
                stacklevel=3,
            )
            continue
        if name in seen and name not in _MULTI:
            warnings.warn(
                RepeatedOptionWarning(
                    f"{option.name} was given more than once; the last value is used",
                    option=option.name,
                    value=raw,
                ),
                stacklevel=3,
            )
        seen.add(name)
        if raw == "" and name != "readpreferencetags":
            _invalid(option, raw, strict=strict, reason="empty")
            continue
        try:
            parsed = option.parse(raw)
        except _Invalid:
            _invalid(option, raw, strict=strict, reason="not understood")
            continue
        if name == "readpreferencetags":
            assert isinstance(parsed, FrozenMap)
            tags.append(parsed)
        elif name in ("tls", "ssl"):
            assert isinstance(parsed, bool)
            tls_seen.append(parsed)
        else:
            values[OPTION_ATTRIBUTES[name]] = parsed
    if tags:
        values["read_preference_tags"] = tuple(tags)
    if tls_seen:
        if len(set(tls_seen)) > 1:
            raise ConflictingOptionsError(
                "every tls and ssl option must have the same value", option="tls", other="ssl"
            )
        values["tls"] = tls_seen[0]
    _check_presence(present)
    return values, present


def _warn_deprecated(key: str, raw: str, replacement: str, *, ignored: bool) -> None:
    deprecated = ascii_lower(key)
    what = f"deprecated option {deprecated!r}"
    message = (
        f"{what} is ignored because {replacement} is also given"
        if ignored
        else f"{what} is replaced by {replacement}"
    )
    warnings.warn(
        DeprecatedOptionWarning(message, option=key, value=raw, replacement=replacement),
        stacklevel=4,
    )


def _check_presence(present: frozenset[str]) -> None:
    for first, second in _TLS_CONFLICTS:
        if ascii_lower(first) in present and ascii_lower(second) in present:
            raise ConflictingOptionsError(
                f"{first} and {second} may not both be given", option=first, other=second
            )


def check_topology(values: Mapping[str, object], *, srv: bool, host_count: int | None) -> None:
    """Raise :class:`ConflictingOptionsError` for option combinations the specs forbid.

    ``values`` maps attributes to given values (absent or ``None``: not given).
    ``host_count`` is ``None`` while a ``mongodb+srv://`` name is unresolved.
    """
    if not srv:
        for name in _SRV_ONLY:
            if values.get(OPTION_ATTRIBUTES[ascii_lower(name)]) is not None:
                raise ConflictingOptionsError(
                    f"{name} requires a mongodb+srv:// connection string",
                    option=name,
                    other="scheme",
                )
    several = host_count is not None and host_count > 1
    if values.get("direct_connection"):
        if srv:
            _conflict("directConnection", "mongodb+srv://", "a mongodb+srv:// name")
        if several:
            _conflict("directConnection", "hosts", "more than one host")
    if values.get("load_balanced"):
        if several:
            _conflict("loadBalanced", "hosts", "more than one host")
        if values.get("direct_connection"):
            _conflict("loadBalanced", "directConnection", "directConnection=true")
        if values.get("replica_set") is not None:
            _conflict("loadBalanced", "replicaSet", "replicaSet")
    max_hosts = values.get("srv_max_hosts")
    if isinstance(max_hosts, int) and max_hosts > 0:
        if values.get("replica_set") is not None:
            _conflict("srvMaxHosts", "replicaSet", "replicaSet", value=str(max_hosts))
        if values.get("load_balanced"):
            _conflict("srvMaxHosts", "loadBalanced", "loadBalanced=true", value=str(max_hosts))
    _check_read_preference(values)
    min_size, max_size = values.get("min_pool_size"), values.get("max_pool_size")
    if isinstance(min_size, int) and isinstance(max_size, int) and 0 < max_size < min_size:
        _conflict("minPoolSize", "maxPoolSize", "a smaller maxPoolSize", value=str(min_size))


def _check_read_preference(values: Mapping[str, object]) -> None:
    mode = values.get("read_preference") or ReadPreferenceMode.PRIMARY
    if mode is not ReadPreferenceMode.PRIMARY:
        return
    tags = values.get("read_preference_tags")
    # Server Selection spec: tag sets mean nothing to "primary"; [{}] is "any".
    if isinstance(tags, Iterable) and any(tags):
        _conflict("readPreferenceTags", "readPreference", "readPreference=primary", value=None)
    staleness = values.get("max_staleness_seconds")
    if isinstance(staleness, int) and staleness > 0:
        _conflict(
            "maxStalenessSeconds",
            "readPreference",
            "readPreference=primary",
            value=str(staleness),
        )


def _conflict(option: str, other: str, described: str, *, value: str | None = "true") -> None:
    # ``value`` is a parsed boolean or number (or None), never raw text, so it may be shown.
    shown = option if value is None else f"{option}={value}"
    raise ConflictingOptionsError(
        f"{shown} cannot be combined with {described}",
        option=option,
        value=value,
        other=other,
    )
