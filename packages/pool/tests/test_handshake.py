"""The handshake command, the client metadata and its size limit, the reply."""

from __future__ import annotations

import platform
import sys
from typing import Any

import bson
import pytest

from mongotor.pool import (
    DRIVER_NAME,
    AuthMechanism,
    Credential,
    ServerType,
    client_metadata,
    hello_command,
    parse_handshake,
)
from mongotor.pool import _handshake as handshake_module
from mongotor.pool._handshake import MAX_METADATA_SIZE, driver_version


def test_metadata_names_driver_os_and_platform() -> None:
    document = client_metadata("my app")
    assert document["application"] == {"name": "my app"}
    assert document["driver"] == {"name": DRIVER_NAME, "version": driver_version()}
    assert document["os"]["type"] == (platform.system() or "unknown")
    assert document["platform"].startswith(platform.python_implementation() + " 3.")
    assert "application" not in client_metadata()
    assert len(bson.encode(document)) <= MAX_METADATA_SIZE


def test_os_name_falls_back_without_os_release(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> dict[str, str]:
        raise OSError("no os-release")

    handshake_module._os_document.cache_clear()
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(platform, "freedesktop_os_release", missing)
    monkeypatch.setattr(platform, "machine", lambda: "")
    monkeypatch.setattr(platform, "release", lambda: "")
    try:
        assert handshake_module._os_document() == {"type": "Linux", "name": "Linux"}
        handshake_module._os_document.cache_clear()
        monkeypatch.setattr(platform, "system", lambda: "")
        assert handshake_module._os_document() == {"type": "unknown", "name": "unknown"}
        handshake_module._os_document.cache_clear()
        monkeypatch.setattr(platform, "system", lambda: "Darwin")
        assert handshake_module._os_document()["name"] == "Darwin"
    finally:
        handshake_module._os_document.cache_clear()


def _oversized(
    monkeypatch: pytest.MonkeyPatch, *, os_name: str, platform_text: str
) -> dict[str, Any]:
    monkeypatch.setattr(
        handshake_module,
        "_os_document",
        lambda: {"type": "Linux", "name": os_name, "architecture": "x86_64", "version": "6"},
    )
    monkeypatch.setattr(handshake_module, "_platform", lambda: platform_text)
    return client_metadata("a" * 128)


def test_metadata_first_drops_os_details(monkeypatch: pytest.MonkeyPatch) -> None:
    document = _oversized(monkeypatch, os_name="x" * 300, platform_text="CPython 3.11.7")
    assert document["os"] == {"type": "Linux"}
    assert document["platform"] == "CPython 3.11.7"
    assert len(bson.encode(document)) <= MAX_METADATA_SIZE


def test_metadata_then_truncates_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    document = _oversized(monkeypatch, os_name="x" * 300, platform_text="CPython é" * 60)
    assert document["os"] == {"type": "Linux"}
    assert ("CPython é" * 60).startswith(document["platform"])
    size = len(bson.encode(document))
    assert MAX_METADATA_SIZE - 1 <= size <= MAX_METADATA_SIZE


def test_metadata_drops_platform_when_nothing_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handshake_module, "driver_version", lambda: "9" * 300)
    document = _oversized(monkeypatch, os_name="x", platform_text="CPython 3")
    assert "platform" not in document


def test_hello_command() -> None:
    metadata = {"driver": {"name": "mongotor", "version": "1"}}
    assert hello_command(metadata) == {"isMaster": 1, "helloOk": True, "client": metadata}
    negotiate = Credential("ana", "pw", "app")
    command = hello_command(
        metadata,
        compressors=("zstd", "zlib"),
        credential=negotiate,
        speculative_authenticate={"saslStart": 1},
    )
    assert command["compression"] == ["zstd", "zlib"]
    assert command["saslSupportedMechs"] == "app.ana"
    assert command["speculativeAuthenticate"] == {"saslStart": 1}
    assert next(iter(command)) == "isMaster"
    explicit = Credential("ana", "pw", "app", AuthMechanism.SCRAM_SHA_1)
    assert "saslSupportedMechs" not in hello_command(metadata, credential=explicit)


REPLY = {
    "ok": 1.0,
    "helloOk": True,
    "ismaster": True,
    "maxBsonObjectSize": 1000,
    "maxMessageSizeBytes": 2000,
    "maxWriteBatchSize": 30,
    "connectionId": 7,
    "minWireVersion": 0,
    "maxWireVersion": 25,
    "compression": ["zlib", "snappy"],
    "saslSupportedMechs": ["SCRAM-SHA-1", "SCRAM-SHA-256"],
    "speculativeAuthenticate": {"conversationId": 1, "done": False, "payload": b"x"},
}


def test_parse_handshake() -> None:
    result = parse_handshake(
        "a:27017",
        REPLY,
        requested_compressors=("zstd", "snappy", "zlib"),
        round_trip_time_ms=2.5,
        now_ms=10.0,
    )
    assert result.description.type is ServerType.STANDALONE
    assert result.description.round_trip_time_ms == 2.5
    # Our preference order wins among the compressors both sides have.
    assert result.compressor == "snappy"
    assert (result.max_bson_object_size, result.max_message_size) == (1000, 2000)
    assert result.max_write_batch_size == 30
    assert result.max_wire_version == 25
    assert result.server_connection_id == 7
    assert result.hello_ok is True
    assert result.sasl_supported_mechs == ("SCRAM-SHA-1", "SCRAM-SHA-256")
    assert result.speculative_authenticate == REPLY["speculativeAuthenticate"]
    assert "reply" not in repr(result)


def test_parse_handshake_defaults() -> None:
    result = parse_handshake(
        "a:27017",
        {"ok": 1, "connectionId": True, "compression": "zlib"},
        requested_compressors=("zlib",),
        round_trip_time_ms=1.0,
        now_ms=0.0,
    )
    assert result.compressor is None
    assert result.max_wire_version == 0
    assert result.max_bson_object_size == 16 * 1024 * 1024
    assert result.max_message_size == 48_000_000
    assert result.max_write_batch_size == 100_000
    assert result.server_connection_id is None
    assert result.hello_ok is False
    assert result.sasl_supported_mechs is None
    assert result.speculative_authenticate is None


def test_platform_names_the_interpreter() -> None:
    assert handshake_module._platform().endswith(platform.python_version())
    assert sys.implementation.name in handshake_module._platform().lower()
