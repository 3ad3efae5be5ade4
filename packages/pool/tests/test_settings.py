"""Connection settings and TLS contexts built from connection strings."""

from __future__ import annotations

import logging
import ssl
import warnings
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from mongotor.pool import (
    DEFAULT_CONNECT_TIMEOUT_MS,
    ConnectionSettings,
    ConnectionStringWarning,
    InvalidOptionValueError,
    UnsupportedOptionError,
    parse_uri,
    ssl_context_from_options,
)
from mongotor.pool import _settings as settings_module


def _settings(uri: str) -> ConnectionSettings:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConnectionStringWarning)
        return ConnectionSettings.from_options(parse_uri(uri))


def test_defaults() -> None:
    settings = _settings("mongodb://h/")
    assert settings.connect_timeout_ms == DEFAULT_CONNECT_TIMEOUT_MS
    assert settings.connect_timeout == 10.0
    assert settings.socket_timeout is None
    assert settings.ssl_context is None
    assert settings.credential is None
    assert settings.metadata["driver"]["name"] == "mongotor"
    assert "application" not in settings.metadata
    assert repr(settings) == (
        "ConnectionSettings(connect_timeout_ms=10000, socket_timeout_ms=None, tls=False)"
    )


def test_options_carry_over() -> None:
    settings = _settings(
        "mongodb://alice:SECRETpw@h/?connectTimeoutMS=0&socketTimeoutMS=2500&appname=shop"
        "&compressors=zlib&zlibCompressionLevel=4"
    )
    assert settings.connect_timeout is None
    assert settings.socket_timeout == 2.5
    assert settings.compressors == ("zlib",)
    assert settings.zlib_compression_level == 4
    assert settings.metadata["application"] == {"name": "shop"}
    assert settings.credential is not None
    text = repr(settings)
    assert "SECRETpw" not in text
    assert "alice" not in text
    assert "compressors=['zlib']" in text
    assert "app_name='shop'" in text
    given = ConnectionSettings(metadata={"driver": {"name": "x"}})
    assert given.metadata == {"driver": {"name": "x"}}


def test_uninstalled_compressors_are_not_offered(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(settings_module, "available_compressors", lambda: ("zlib",))
    with caplog.at_level(logging.WARNING):
        settings = _settings("mongodb://h/?compressors=zstd,zlib,snappy")
    assert settings.compressors == ("zlib",)
    assert "not installed, not offered to servers: zstd, snappy" in caplog.text


@pytest.mark.parametrize(
    ("uri", "option"),
    [
        ("mongodb://u@h/?authMechanism=GSSAPI", "authMechanism"),
        ("mongodb://h/?authMechanism=MONGODB-AWS", "authMechanism"),
        ("mongodb://h/?loadBalanced=true", "loadBalanced"),
    ],
)
def test_unsupported(uri: str, option: str) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        _settings(uri)
    assert caught.value.option == option


def test_performed_mechanisms_are_accepted() -> None:
    for mechanism in ("SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"):
        assert _settings(f"mongodb://u:p@h/?authMechanism={mechanism}").credential is not None
    assert _settings("mongodb://h/?authMechanism=MONGODB-X509").credential is not None


# -- TLS ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_no_tls_no_context() -> None:
    assert ssl_context_from_options(parse_uri("mongodb://h/")) is None


def test_verification_is_on_by_default(ca: trustme.CA, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl_context_from_options(parse_uri(f"mongodb://h/?tls=true&tlsCAFile={ca_file}"))
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    system = ssl_context_from_options(parse_uri("mongodb://h/?tls=true"))
    assert system is not None
    assert system.verify_mode is ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("query", "verify", "hostname"),
    [
        ("tlsAllowInvalidHostnames=true", ssl.CERT_REQUIRED, False),
        ("tlsAllowInvalidCertificates=true", ssl.CERT_NONE, False),
        ("tlsInsecure=true", ssl.CERT_NONE, False),
        (
            "tlsAllowInvalidCertificates=false&tlsAllowInvalidHostnames=false",
            ssl.CERT_REQUIRED,
            True,
        ),
    ],
)
def test_insecure_switches(query: str, verify: ssl.VerifyMode, hostname: bool) -> None:
    context = ssl_context_from_options(parse_uri(f"mongodb://h/?tls=true&{query}"))
    assert context is not None
    assert (context.verify_mode, context.check_hostname) == (verify, hostname)


def test_client_certificate(ca: trustme.CA, tmp_path: Path) -> None:
    client = ca.issue_cert("client@example.org")
    plain = tmp_path / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(plain))
    assert ssl_context_from_options(parse_uri(f"mongodb://h/?tlsCertificateKeyFile={plain}"))
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"k3y-SECRET"),
    )
    protected = tmp_path / "protected.pem"
    protected.write_bytes(encrypted + b"".join(blob.bytes() for blob in client.cert_chain_pems))
    uri = f"mongodb://h/?tlsCertificateKeyFile={protected}"
    assert ssl_context_from_options(parse_uri(uri + "&tlsCertificateKeyFilePassword=k3y-SECRET"))
    with pytest.raises(InvalidOptionValueError) as caught:
        ssl_context_from_options(parse_uri(uri + "&tlsCertificateKeyFilePassword=wrong-SECRET"))
    assert caught.value.option == "tlsCertificateKeyFile"
    assert "SECRET" not in str(caught.value)


def test_unusable_files_name_the_option(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(InvalidOptionValueError, match="tlsCAFile cannot be used") as caught:
        ssl_context_from_options(parse_uri(f"mongodb://h/?tls=true&tlsCAFile={missing}"))
    assert caught.value.value == str(missing)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(InvalidOptionValueError, match="tlsCertificateKeyFile cannot be used"):
        ssl_context_from_options(parse_uri(f"mongodb://h/?tls=true&tlsCertificateKeyFile={junk}"))
