"""Credentials from connection strings: the Auth spec's own tests, and secrecy."""

from __future__ import annotations

import traceback
import warnings
from typing import Any

import pytest

from mongotor.pool import (
    AuthMechanism,
    ConfigurationError,
    ConnectionStringWarning,
    Credential,
    InvalidCredentialError,
    credential_from_options,
    parse_uri,
)

# Cases deliberately not passed: id -> the exact reason (strict expected failures).
KNOWN_GAPS: dict[str, str] = {}


def _credential(uri: str) -> Credential | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConnectionStringWarning)
        return credential_from_options(parse_uri(uri))


def test_auth_spec(auth_case: dict[str, Any]) -> None:
    """auth/legacy/connection-string.json: invalid ones raise; valid ones build
    exactly the expected credential (or none)."""
    if not auth_case["valid"]:
        with pytest.raises(ConfigurationError):
            _credential(auth_case["uri"])
        return
    credential = _credential(auth_case["uri"])
    expected = auth_case["credential"]
    if expected is None:
        assert credential is None
        return
    assert credential is not None
    mechanism = credential.mechanism.value if credential.mechanism is not None else None
    properties = dict(credential.mechanism_properties) if credential.mechanism_properties else None
    assert {
        "username": credential.username,
        "password": credential.password,
        "source": credential.source,
        "mechanism": mechanism,
        "mechanism_properties": properties,
    } == expected


def test_property_names_are_case_insensitive() -> None:
    credential = _credential(
        "mongodb://u@h/?authMechanism=GSSAPI&authMechanismProperties=service_name:other"
    )
    assert credential is not None
    assert credential.mechanism_properties == {"SERVICE_NAME": "other"}


@pytest.mark.parametrize(
    ("uri", "complaint"),
    [
        ("mongodb://u@h/", "needs a password"),
        ("mongodb://u:p@h/?authMechanismProperties=A:b", "takes no mechanism properties"),
        ("mongodb://u@h/?authMechanism=PLAIN", "needs a password"),
        ("mongodb://u:p@h/?authMechanism=GSSAPI&authMechanismProperties=X:y", "X"),
        (
            "mongodb://h/?authMechanism=MONGODB-OIDC&authMechanismProperties=ENVIRONMENT:k8s,"
            "TOKEN_RESOURCE:r,OTHER:z",
            "OTHER",
        ),
    ],
)
def test_invalid_credentials_are_typed(uri: str, complaint: str) -> None:
    with pytest.raises(InvalidCredentialError, match=complaint):
        _credential(uri)


def test_plain_source_defaults() -> None:
    credential = _credential("mongodb://u:p@h/?authMechanism=PLAIN")
    assert credential is not None
    assert credential.source == "$external"


def test_credentials_never_shown() -> None:
    uri = "mongodb://alice:SENTINELpw@h/db?authMechanism=SCRAM-SHA-256"
    credential = _credential(uri)
    assert credential is not None
    assert credential.mechanism is AuthMechanism.SCRAM_SHA_256
    for text in (repr(credential), str(credential)):
        assert "alice" not in text
        assert "SENTINELpw" not in text
        assert "source='db'" in text
    aws = _credential(
        "mongodb://u:p@h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok"
    )
    assert "tok" not in repr(aws)
    assert "AWS_SESSION_TOKEN" in repr(aws)
    negotiated = Credential(None, None, "admin")
    assert repr(negotiated) == "Credential(mechanism=None, source='admin')"


def test_errors_never_show_credentials() -> None:
    for uri in (
        "mongodb://SENTINELuser:SENTINELpw@h/?authMechanism=MONGODB-X509",
        "mongodb://SENTINELuser:SENTINELpw\x00@h/?authMechanism=PLAIN",
        "mongodb://SENTINELuser:SENTINELpw@h/?authMechanism=MONGODB-OIDC"
        "&authMechanismProperties=ENVIRONMENT:test",
    ):
        with pytest.raises(ConfigurationError) as caught:
            _credential(uri.replace("\x00", "%00"))
        text = "".join(traceback.format_exception(caught.value))
        assert "SENTINEL" not in text


def test_credentials_compare_without_their_cache() -> None:
    assert Credential("u", "p", "admin") == Credential("u", "p", "admin")
    assert hash(Credential("u", "p", "admin")) == hash(Credential("u", "p", "admin"))
