"""The oplog: a primary's storage records every change, and replaying the
records on an empty storage gives the same data, indexes and catalog
(fakemongo._oplog); replay is idempotent, as the manual requires of oplog
entries ("Replica Set Oplog")."""

from __future__ import annotations

import datetime
from typing import Any

import bson
from bson import Timestamp

from fakemongo._indexes import Index
from fakemongo._oplog import OplogEntry, OplogRecorder, OpTime, apply_entry, rebuild_storage
from fakemongo._storage import Collection, Storage, id_key

_WALL = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def recording() -> tuple[Storage, list[OplogEntry]]:
    entries: list[OplogEntry] = []

    def write(op: str, ns: str, o: dict[str, Any]) -> None:
        entries.append(OplogEntry(OpTime(1, Timestamp(1, len(entries) + 1)), _WALL, op, ns, o))

    storage = Storage()
    storage.observer = OplogRecorder(write)
    return storage, entries


def snapshot(storage: Storage) -> dict[str, Any]:
    return {
        f"{db}.{name}": (
            list(collection.documents.values()),
            {i.name: i.spec for i in collection.indexes.values()},
            collection.options,
        )
        for db, database in storage.databases.items()
        for name, collection in database.collections.items()
    }


def replayed(entries: list[OplogEntry]) -> Storage:
    copy = Storage()
    for entry in entries:
        apply_entry(copy, entry)
    return copy


def index(name: str, field: str, *, unique: bool = False) -> Index:
    spec = {"v": 2, "key": {field: 1}, "name": name, **({"unique": True} if unique else {})}
    return Index(name, [(field, 1)], spec, unique=unique)


def test_every_kind_of_change_replays_to_the_same_state() -> None:
    primary, entries = recording()
    people = primary.get_or_create("app", "people")
    people.add_index(index("email_1", "email", unique=True))
    people.add_index(index("age_1", "age"))
    people.insert({"_id": 1, "email": "a@x", "nested": {"tags": ["x"]}})
    people.insert({"_id": 2, "email": "b@x"})
    people.replace(id_key(1), {"_id": 1, "email": "a@y"})
    people.delete(id_key(2))
    people.drop_index("age_1")
    primary.create("app", "capped", {"capped": True, "size": 4096, "max": 2})
    capped = primary.collection("app", "capped")
    assert capped is not None
    for n in range(3):  # the cap trims the oldest: recorded as a delete
        capped.insert({"_id": n})
    primary.create("app", "gone")
    primary.drop("app", "gone")
    primary.create("old", "moved").insert({"_id": "m"})
    primary.rename(primary.collection("old", "moved"), "app", "moved")  # type: ignore[arg-type]
    primary.create("scratch", "c")
    primary.drop_database("scratch")
    fresh = Collection("app", "report")
    fresh.add_index(index("k_1", "k"))
    fresh.insert({"_id": 1, "k": 2})
    primary.install(fresh)  # what $out does
    kinds = [(e.op, next(iter(e.o))) for e in entries]
    assert ("c", "$out") in kinds
    assert ("c", "renameCollection") in kinds
    assert ("c", "dropDatabase") in kinds
    assert snapshot(replayed(entries)) == snapshot(primary)
    assert "old" not in primary.databases


def test_entries_hold_copies_not_the_stored_documents() -> None:
    primary, entries = recording()
    doc: dict[str, Any] = {"_id": 1, "a": {"b": 1}}
    primary.get_or_create("d", "c").insert(doc)
    doc["a"]["b"] = 2  # a later change in place cannot reach the entry
    assert bson.decode(entries[-1].o["bson"]) == {"_id": 1, "a": {"b": 1}}


def test_the_local_database_is_not_replicated() -> None:
    # Manual: "The local Database": its collections are not replicated.
    primary, entries = recording()
    primary.get_or_create("local", "startup_log").insert({"_id": 1})
    primary.rename(primary.collection("local", "startup_log"), "local", "log")  # type: ignore[arg-type]
    assert entries == []


def test_replay_is_idempotent() -> None:
    primary, entries = recording()
    c = primary.get_or_create("d", "c")
    c.add_index(index("a_1", "a"))
    c.insert({"_id": 1, "a": 1})
    c.delete(id_key(1))
    c.insert({"_id": 2, "a": 2})
    c.drop_index("a_1")
    primary.rename(c, "d", "c2")
    twice = Storage()
    for entry in entries + entries:
        apply_entry(twice, entry)
    assert snapshot(twice) == snapshot(primary)


def test_rename_over_an_existing_target_and_no_ops() -> None:
    primary, entries = recording()
    primary.get_or_create("d", "target").insert({"_id": "old"})
    source = primary.get_or_create("d", "source")
    source.insert({"_id": "new"})
    primary.drop("d", "target")  # renameCollection with dropTarget drops it first
    primary.rename(source, "d", "target")
    noop = OplogEntry(OpTime(1, Timestamp(9, 9)), _WALL, "n", "", {"msg": "new primary"})
    assert snapshot(replayed([*entries, noop])) == snapshot(primary)
    assert list(primary.collection("d", "target")) == [{"_id": "new"}]  # type: ignore[union-attr]


def test_rebuild_replays_what_remains_after_a_rollback() -> None:
    primary, entries = recording()
    c = primary.get_or_create("d", "c")
    c.insert({"_id": 1})
    kept = len(entries)
    c.insert({"_id": 2})
    member = replayed(entries)
    rebuild_storage(member, entries[:kept])
    rebuilt = member.collection("d", "c")
    assert rebuilt is not None
    assert [doc["_id"] for doc in rebuilt] == [1]


def test_each_entry_applied_twice_in_a_row_changes_nothing_more() -> None:
    primary, entries = recording()
    c = primary.get_or_create("d", "c")
    c.add_index(index("a_1", "a"))
    c.insert({"_id": 1, "a": 1})
    c.drop_index("a_1")
    primary.rename(c, "d", "c2")
    primary.drop("d", "c2")
    twice = Storage()
    for entry in entries:
        apply_entry(twice, entry)
        apply_entry(twice, entry)
    assert snapshot(twice) == snapshot(primary) == {}


def test_a_collection_created_before_the_observer_is_observed() -> None:
    entries: list[OplogEntry] = []
    storage = Storage()
    early = storage.get_or_create("d", "c")
    recorder = OplogRecorder(
        lambda op, ns, o: entries.append(OplogEntry(OpTime(1, Timestamp(1, 1)), _WALL, op, ns, o))
    )
    storage.observer = recorder
    assert storage.observer is recorder
    early.insert({"_id": 1})
    storage.observer = None
    early.insert({"_id": 2})
    assert [bson.decode(e.o["bson"])["_id"] for e in entries] == [1]
