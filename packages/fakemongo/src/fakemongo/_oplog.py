"""The oplog: logical records of every change a primary makes, and how a
member applies them to its own storage.

A replica set member's :class:`~fakemongo._storage.Storage` tells an
observer of each change once it is made (manual: "Replica Set Oplog": the
oplog holds idempotent logical operations). :class:`OplogRecorder` is that
observer on the primary: it turns each change into an :class:`OplogEntry`
(a deep copy of what was written, so later changes cannot reach back) and
hands it to the set, which appends it to the primary's oplog and schedules
replication. Documents travel as BSON bytes: bson's C encoder and decoder
copy them far faster than a deep copy, and every stored document is valid
BSON (writes check their size by encoding them). :func:`apply_entry` replays an entry on a secondary's storage;
applying is idempotent, as the manual requires of oplog entries, so a
capped collection's own trimming or a document already present never stops
replication.
"""

from __future__ import annotations

import copy
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import bson
from bson import Timestamp

from ._indexes import DuplicateKeyError, Index
from ._storage import Collection, id_key

if TYPE_CHECKING:
    from ._storage import Storage

__all__ = ["OpTime", "OplogEntry", "OplogRecorder", "apply_entry", "rebuild_storage"]

log = logging.getLogger("fakemongo.replset")


@dataclass(frozen=True, slots=True, order=True)
class OpTime:
    """A position in the oplog: (term, timestamp) orders like mongod's OpTime."""

    term: int
    ts: Timestamp

    def document(self) -> dict[str, Any]:
        """``{ts, t}`` as hello's lastWrite and replSetGetStatus show it."""
        from bson import Int64  # noqa: PLC0415 - tiny, keeps the import list of this module short

        return {"ts": self.ts, "t": Int64(self.term)}


@dataclass(frozen=True, slots=True, eq=False)
class OplogEntry:
    """One logical operation (op: i, u, d, c or n, as local.oplog.rs names them).

    ``o`` is the operation (for "c", the command: create, drop, dropDatabase,
    renameCollection, createIndexes, dropIndexes, or fakemongo's $out
    snapshot). Entries are compared by identity: each is written once, by one
    primary, and shared by the members that applied it.
    """

    optime: OpTime
    wall: datetime.datetime
    op: str
    ns: str
    o: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0  # the set's clock when written: replication delays count from it


def _index_args(index: Index) -> dict[str, Any]:
    return {
        "name": index.name,
        "key": list(index.key),
        "spec": copy.deepcopy(index.spec),
        "unique": index.unique,
        "sparse": index.sparse,
        "partial": index.partial,  # a compiled matcher: immutable, safe to share
        "expire_after_seconds": index.expire_after_seconds,
    }


def _new_index(args: dict[str, Any]) -> Index:
    return Index(
        args["name"],
        list(args["key"]),
        copy.deepcopy(args["spec"]),
        unique=args["unique"],
        sparse=args["sparse"],
        partial=args["partial"],
        expire_after_seconds=args["expire_after_seconds"],
    )


class OplogRecorder:
    """The storage observer of a primary: every change becomes an entry,
    passed to ``write(op, ns, o)``. Changes to the ``local`` database are not
    replicated (manual: "The local Database")."""

    def __init__(self, write: Callable[[str, str, dict[str, Any]], None]) -> None:
        self._write = write

    def _emit(self, db: str, op: str, ns: str, o: dict[str, Any]) -> None:
        if db != "local":
            self._write(op, ns, o)

    def inserted(self, collection: Collection, doc: dict[str, Any]) -> None:
        self._emit(collection.db, "i", collection.namespace, {"bson": bson.encode(doc)})

    def replaced(self, collection: Collection, doc: dict[str, Any]) -> None:
        self._emit(collection.db, "u", collection.namespace, {"bson": bson.encode(doc)})

    def deleted(self, collection: Collection, doc: dict[str, Any]) -> None:
        self._emit(collection.db, "d", collection.namespace, {"_id": copy.deepcopy(doc["_id"])})

    def created(self, collection: Collection) -> None:
        o = {"create": collection.name, "options": copy.deepcopy(collection.options)}
        self._emit(collection.db, "c", collection.namespace, o)

    def dropped(self, db: str, name: str) -> None:
        self._emit(db, "c", f"{db}.{name}", {"drop": name})

    def database_dropped(self, db: str) -> None:
        self._emit(db, "c", f"{db}.$cmd", {"dropDatabase": 1})

    def renamed(self, old_db: str, old_name: str, collection: Collection) -> None:
        o = {"renameCollection": f"{old_db}.{old_name}", "to": collection.namespace}
        self._emit(old_db, "c", f"{old_db}.$cmd", o)

    def index_added(self, collection: Collection, index: Index) -> None:
        o = {"createIndexes": collection.name, "index": _index_args(index)}
        self._emit(collection.db, "c", collection.namespace, o)

    def index_dropped(self, collection: Collection, name: str) -> None:
        o = {"dropIndexes": collection.name, "index": name}
        self._emit(collection.db, "c", collection.namespace, o)

    def installed(self, collection: Collection) -> None:
        # $out swaps in a whole new collection at once; so does its entry.
        o = {
            "$out": collection.name,
            "options": copy.deepcopy(collection.options),
            "indexes": [_index_args(i) for i in collection.indexes.values() if i.name != "_id_"],
            "documents": [bson.encode(doc) for doc in collection.documents.values()],
        }
        self._emit(collection.db, "c", collection.namespace, o)


def apply_entry(storage: Storage, entry: OplogEntry) -> None:
    """Replay ``entry`` on ``storage`` (a secondary's), idempotently."""
    db, _, name = entry.ns.partition(".")
    o = entry.o
    if entry.op == "n":
        return
    if entry.op in ("i", "u"):
        doc = bson.decode(o["bson"])
        target = storage.get_or_create(db, name)
        key = id_key(doc["_id"])
        try:
            if target.get(key) is None:
                target.insert(doc)
            else:
                target.replace(key, doc)
        except DuplicateKeyError:  # pragma: no cover - only a diverged catalog gets here
            log.exception("could not apply %s to %s", entry.op, entry.ns)
        return
    if entry.op == "d":
        found = storage.collection(db, name)
        if found is not None and found.get(id_key(o["_id"])) is not None:
            found.delete(id_key(o["_id"]))
        return
    _apply_command(storage, db, name, o)


def _apply_command(storage: Storage, db: str, name: str, o: dict[str, Any]) -> None:
    existing = storage.collection(db, name)
    if "create" in o:
        if existing is None:
            storage.create(db, name, o["options"])
    elif "drop" in o:
        storage.drop(db, name)
    elif "dropDatabase" in o:
        storage.drop_database(db)
    elif "renameCollection" in o:
        source_db, _, source_name = o["renameCollection"].partition(".")
        target_db, _, target_name = o["to"].partition(".")
        source = storage.collection(source_db, source_name)
        if source is not None:
            storage.drop(target_db, target_name)
            storage.rename(source, target_db, target_name)
    elif "createIndexes" in o:
        target = storage.get_or_create(db, name)
        if o["index"]["name"] not in target.indexes:
            target.add_index(_new_index(o["index"]))
    elif "dropIndexes" in o:
        if existing is not None and o["index"] in existing.indexes:
            existing.drop_index(o["index"])
    else:
        fresh = Collection(db, name, o["options"])
        for args in o["indexes"]:
            fresh.add_index(_new_index(args))
        for data in o["documents"]:
            fresh.insert(bson.decode(data))
        storage.install(fresh)


def rebuild_storage(storage: Storage, entries: list[OplogEntry]) -> None:
    """Empty ``storage`` and replay ``entries`` on it: a member's data after a
    rollback truncated its oplog to the common point."""
    for db in list(storage.databases):
        storage.drop_database(db)
    for entry in entries:
        apply_entry(storage, entry)
