"""Small values: concerns, read preferences, names, specs, sessions, results."""

from __future__ import annotations

import time

import pytest

from mongotor.client import (
    ACKNOWLEDGED,
    UNACKNOWLEDGED,
    CollectionOptions,
    ImplicitSession,
    ReadConcern,
    ReadPreference,
    ReadPreferenceMode,
    WriteConcern,
)
from mongotor.client._concerns import read_preference_from, write_concern_from
from mongotor.client._names import check_collection_name, check_database_name
from mongotor.client._sessions import ServerSession, SessionPool
from mongotor.client._specs import index_name, key_document, present, projection_document
from mongotor.errors import ConfigurationError, InvalidName


def test_write_concerns() -> None:
    assert ACKNOWLEDGED.to_document() == {"w": 1} and ACKNOWLEDGED.acknowledged
    assert not UNACKNOWLEDGED.acknowledged
    assert WriteConcern().is_server_default and WriteConcern().to_document() == {}
    full = WriteConcern(w="majority", wtimeout=100, j=True)
    assert full.to_document() == {"w": "majority", "wtimeout": 100, "j": True}
    assert not full.is_server_default
    for bad in ({"w": -1}, {"w": True}, {"wtimeout": -1}, {"w": 0, "j": True}):
        with pytest.raises(ConfigurationError):
            WriteConcern(**bad)  # type: ignore[arg-type]
    assert write_concern_from(None) == WriteConcern()
    assert write_concern_from(full) is full
    assert write_concern_from({"w": 2, "j": False}) == WriteConcern(w=2, j=False)
    with pytest.raises(ConfigurationError, match="fsync"):
        write_concern_from({"fsync": True})


def test_read_concerns_and_preferences() -> None:
    assert ReadConcern().to_document() == {} and ReadConcern("local").to_document() == {
        "level": "local"
    }
    secondary = ReadPreference(ReadPreferenceMode.SECONDARY)
    assert read_preference_from(secondary) is secondary
    assert read_preference_from("PRIMARY") == ReadPreference()
    assert read_preference_from(ReadPreferenceMode.NEAREST).mode is ReadPreferenceMode.NEAREST
    assert [read_preference_from(i).mode.value for i in range(5)] == [
        "primary",
        "primaryPreferred",
        "secondary",
        "secondaryPreferred",
        "nearest",
    ]
    for bad in (5, True, "fastest", 1.5):
        with pytest.raises(ConfigurationError):
            read_preference_from(bad)  # type: ignore[arg-type]
    options = CollectionOptions()
    assert options.replace() == options
    changed = options.replace(read_concern=ReadConcern("majority"), write_concern=ACKNOWLEDGED)
    assert changed.read_concern.level == "majority" and changed.write_concern == ACKNOWLEDGED


def test_names() -> None:
    assert check_database_name("app") == "app"
    assert check_collection_name("system.users") == "system.users"
    for bad in ("", "a.b", "a b", "a$", "x" * 64):
        with pytest.raises(InvalidName):
            check_database_name(bad)
    for bad in ("", "a$b", "a\x00", ".a", "a.", "a..b"):
        with pytest.raises(InvalidName):
            check_collection_name(bad)
    with pytest.raises(TypeError):
        check_database_name(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        check_collection_name(5)  # type: ignore[arg-type]


def test_specs() -> None:
    assert key_document("a") == {"a": 1}
    assert key_document("a", -1) == {"a": -1}
    assert key_document({"a": 1, "b": -1}) == {"a": 1, "b": -1}
    assert key_document([("a", 1), "b"]) == {"a": 1, "b": 1}
    assert index_name({"a": 1, "b": -1}) == "a_1_b_-1"
    assert projection_document(None) is None
    assert projection_document({"a": 0}) == {"a": 0}
    assert projection_document(["a", "b"]) == {"a": 1, "b": 1}
    assert present(a=None, b=0) == {"b": 0}


def test_session_pool() -> None:
    pool = SessionPool()
    first = pool.checkout()
    assert first.lsid["id"].subtype == 4 and first.next_txn_number() == 1
    pool.checkin(first)
    assert len(pool) == 1 and pool.checkout() is first
    pool.checkin(first)
    stale = ServerSession()
    stale.last_use = time.monotonic() - 3600
    assert stale.expires_within(30, time.monotonic())
    assert ServerSession().expires_within(None, time.monotonic())
    pool._idle.append(stale)
    fresh = ServerSession()
    pool.checkin(fresh)  # the stale one at the end is dropped
    assert list(pool._idle) == [fresh, first]
    pool._idle.appendleft(stale)
    assert pool.checkout() is fresh  # the stale one is skipped
    assert pool.drain() == [first.lsid] and len(pool) == 0


def test_implicit_sessions() -> None:
    pool = SessionPool()
    session = ImplicitSession()
    session.release()  # nothing bound
    bound = session.bind(pool)
    assert session.bind(pool) is bound
    session.release()
    assert len(pool) == 1 and session.server_session is None
    other = ImplicitSession()
    other.bind(pool)
    other.discard()
    assert len(pool) == 0
