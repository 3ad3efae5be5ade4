"""The Connection String and URI Options specifications' own tests, every case.

Runner rules (the specs' tests/README): ``valid: false`` means parsing raises (a
:class:`ConfigurationError`); ``warning: true`` means it warns (a
:class:`ConnectionStringWarning`), ``false`` that it does not; ``hosts``,
``auth`` and ``options`` are compared when not null. A case that warns about an
invalid value must raise :class:`InvalidOptionValueError` under ``strict=True``.
The credential-disclosure cases parse each string and check that no message,
traceback, warning or representation contains the sentinel password.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Mapping
from enum import Enum
from typing import Any

import pytest

from mongotor.pool import (
    ConfigurationError,
    ConnectionOptions,
    ConnectionStringWarning,
    InvalidOptionValueError,
    InvalidOptionValueWarning,
    parse_uri,
)

# Cases deliberately not passed: id -> the exact reason (strict expected failures).
KNOWN_GAPS: dict[str, str] = {}


def _plain(value: object) -> object:
    """Our typed values in the JSON's terms: tuples as lists, mappings as dicts."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _parse_recording(uri: str, *, strict: bool = False) -> tuple[ConnectionOptions, list[Any]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        options = parse_uri(uri, strict=strict)
    return options, list(caught)


def _run(case: dict[str, Any]) -> None:
    if not case["valid"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConnectionStringWarning)
            with pytest.raises(ConfigurationError):
                parse_uri(case["uri"])
        return
    options, caught = _parse_recording(case["uri"])
    foreign = [w for w in caught if not issubclass(w.category, ConnectionStringWarning)]
    assert not foreign, [str(w.message) for w in foreign]
    if case["warning"] is not None:
        assert bool(caught) is case["warning"], [str(w.message) for w in caught]
    if case["hosts"] is not None:
        got = [{"type": h.type.value, "host": h.host, "port": h.port} for h in options.hosts]
        assert got == case["hosts"]
    if case["auth"] is not None:
        auth = case["auth"]
        assert (options.username, options.password, options.database) == (
            auth["username"],
            auth["password"],
            auth["db"],
        )
    for name, expected in (case["options"] or {}).items():
        assert _plain(options.option(name)) == expected, name
    if any(issubclass(w.category, InvalidOptionValueWarning) for w in caught):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConnectionStringWarning)
            with pytest.raises(InvalidOptionValueError):
                parse_uri(case["uri"], strict=True)


def test_connection_string_spec(connection_string_case: dict[str, Any]) -> None:
    _run(connection_string_case)


def test_uri_options_spec(uri_options_case: dict[str, Any]) -> None:
    _run(uri_options_case)


# The sentinel appears in the URIs literally or fully percent-encoded; both are
# searched case-insensitively (credential-disclosure.json's runner rules).
_SENTINEL = "sentinelpassword1234"
_ENCODED_SENTINEL = "".join(f"%{byte:02x}" for byte in b"SENTINELpassword1234")


def _disclosed(text: str) -> bool:
    folded = text.lower()
    return _SENTINEL in folded or _ENCODED_SENTINEL in folded


def test_credential_disclosure_spec(credential_case: dict[str, Any]) -> None:
    # The detector must see the sentinel where it is, or this test could not fail.
    assert _disclosed(credential_case["uri"])
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            options = parse_uri(credential_case["uri"])
        except ConfigurationError as error:
            texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        else:
            texts += [repr(options), str(options)]
    texts += [str(w.message) for w in caught]
    assert texts
    leaks = [text for text in texts if _disclosed(text)]
    assert not leaks, leaks
