"""Databases, collections and their documents, in memory.

A collection keeps its documents in a dict keyed by the BSON sort key of
their ``_id`` (so 1, 1.0 and Int64(1) are one id, as in the ``_id`` index), in
insertion order, which is the "natural order" a find without sort returns.
Every write goes through :meth:`Collection.insert`, :meth:`Collection.replace`
and :meth:`Collection.delete`, which keep all indexes (and their uniqueness)
in step: a write that violates a unique index changes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from collections.abc import Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._bsonorder import sort_key
from ._errors import CommandError, ErrorCode
from ._indexes import DuplicateKeyError, Index

if TYPE_CHECKING:
    from ._oplog import OplogRecorder

__all__ = ["Collection", "Database", "Storage", "id_key", "validate_namespace"]

# Manual: "Naming Restrictions" — database names may not contain these
# characters (Unix and Windows rules combined as mongod enforces them).
# One precompiled class search instead of a Python loop over the name: this
# runs on every command.
_BAD_DB_CHARS = re.compile('[/\\\\. "$\x00]')
_MAX_DB_NAME = 63
_MAX_NAMESPACE = 255


def id_key(value: Any) -> Hashable:
    """The identity of an ``_id`` value under BSON equality."""
    return sort_key(value)


# Every command checks its namespace, and a client uses a few: a name that
# passed is remembered (a refused one raises anew each time, uncached).
@functools.lru_cache(maxsize=1024)
def validate_namespace(db: str, collection: str | None = None) -> None:
    """Raise 73 InvalidNamespace for names mongod refuses."""
    if not db or len(db) > _MAX_DB_NAME or _BAD_DB_CHARS.search(db):
        raise CommandError(ErrorCode.InvalidNamespace, f"Invalid database name: '{db}'")
    if collection is None:
        return
    if not collection or collection.startswith(".") or "\x00" in collection or "$" in collection:
        raise CommandError(ErrorCode.InvalidNamespace, f"Invalid collection name: {collection}")
    if len(db) + 1 + len(collection) > _MAX_NAMESPACE:
        raise CommandError(
            ErrorCode.InvalidNamespace, f"Fully qualified namespace is too long: {db}.{collection}"
        )


class Collection:
    """One collection: documents in natural order, and its indexes."""

    def __init__(self, db: str, name: str, options: Mapping[str, Any] | None = None) -> None:
        self.db = db
        self.name = name
        self.options: dict[str, Any] = dict(options or {})
        self.uuid = uuid.uuid4()
        self.documents: dict[Hashable, dict[str, Any]] = {}
        id_index = Index(
            "_id_", [("_id", 1)], {"v": 2, "key": {"_id": 1}, "name": "_id_"}, unique=True
        )
        self.indexes: dict[str, Index] = {"_id_": id_index}
        # Futures of awaitData getMores waiting for an insert (tailable cursors).
        self.insert_waiters: list[asyncio.Future[None]] = []
        # Told of every change once made: a replica set primary's oplog.
        self.observer: OplogRecorder | None = None

    @property
    def namespace(self) -> str:
        return f"{self.db}.{self.name}"

    @property
    def capped(self) -> bool:
        return bool(self.options.get("capped"))

    @property
    def capped_size(self) -> int:
        """The byte cap of a capped collection (manual: "create", size): at least
        4096, otherwise the requested size raised to a multiple of 256."""
        size = int(self.options.get("size", 0))
        return max(4096, -(-size // 256) * 256)

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self.documents.values()))

    def get(self, key: Hashable) -> dict[str, Any] | None:
        return self.documents.get(key)

    def insert(self, doc: dict[str, Any]) -> Hashable:
        """Add ``doc`` (which must have ``_id``); DuplicateKeyError leaves nothing changed."""
        key = id_key(doc["_id"])
        if key in self.documents:
            raise DuplicateKeyError(self.namespace, self.indexes["_id_"], {"_id": doc["_id"]})
        planned = self._plan(key, doc)
        for index, keys in planned:
            index.add(key, keys)
        self.documents[key] = doc
        if self.observer is not None:
            self.observer.inserted(self, doc)
        if self.options and self.capped:  # options: nearly always none, a call less
            self._enforce_cap()
        if self.insert_waiters:  # wake_waiters' own test, a call less per insert
            self.wake_waiters()
        return key

    def wake_waiters(self) -> None:
        """Wake the awaitData getMores waiting on this collection (after an
        insert, or when the collection goes away)."""
        if not self.insert_waiters:
            return  # nearly always: no tailable cursor waits here
        waiters, self.insert_waiters = self.insert_waiters, []
        # One that timed out may not have left the list yet: skip it.
        for waiter in [w for w in waiters if not w.done()]:
            waiter.set_result(None)

    def replace(self, key: Hashable, new: dict[str, Any]) -> None:
        """Swap the document stored under ``key`` for ``new`` (same ``_id``)."""
        old = self.documents[key]
        planned = self._plan(key, new)
        for index in self.indexes.values():
            index.remove(key, index.keys_for(old))
        for index, keys in planned:
            index.add(key, keys)
        self.documents[key] = new
        if self.observer is not None:
            self.observer.replaced(self, new)

    def delete(self, key: Hashable) -> dict[str, Any]:
        doc = self.documents.pop(key)
        for index in self.indexes.values():
            index.remove(key, index.keys_for(doc))
        if self.observer is not None:
            self.observer.deleted(self, doc)
        return doc

    def _plan(self, key: Hashable, doc: dict[str, Any]) -> list[tuple[Index, list[Any]]]:
        # Compute every index's keys and check uniqueness before touching any
        # index, so a failed write leaves the collection exactly as it was.
        planned = []
        for index in self.indexes.values():
            keys = index.keys_for(doc)
            if index.unique and index.conflict(key, keys):  # conflict's test first
                raise DuplicateKeyError(self.namespace, index, index.key_value(doc))
            planned.append((index, keys))
        return planned

    def _enforce_cap(self) -> None:
        # Manual: Capped Collections — the oldest documents go first once
        # either the size or the max document count is exceeded.
        limit = self.options.get("max")
        while limit and len(self.documents) > limit:
            self.delete(next(iter(self.documents)))
        size = self.capped_size
        while self.data_size() > size and len(self.documents) > 1:
            self.delete(next(iter(self.documents)))

    def data_size(self) -> int:
        import bson  # noqa: PLC0415 - only dbStats/collStats and capped collections pay for it

        return sum(len(bson.encode(doc)) for doc in self.documents.values())

    def add_index(self, index: Index) -> None:
        """Build ``index`` over the existing documents; on a duplicate, nothing changes."""
        for key, doc in self.documents.items():
            keys = index.keys_for(doc)
            if index.conflict(key, keys):
                index.clear()
                raise DuplicateKeyError(self.namespace, index, index.key_value(doc))
            index.add(key, keys)
        self.indexes[index.name] = index
        if self.observer is not None:
            self.observer.index_added(self, index)

    def drop_index(self, name: str) -> None:
        del self.indexes[name]
        if self.observer is not None:
            self.observer.index_dropped(self, name)

    def truncate(self) -> None:
        self.documents.clear()
        for index in self.indexes.values():
            index.clear()


class Database:
    """A database: its collections by name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.collections: dict[str, Collection] = {}


class Storage:
    """All databases of one server."""

    def __init__(self) -> None:
        self.databases: dict[str, Database] = {}
        self._observer: OplogRecorder | None = None

    @property
    def observer(self) -> OplogRecorder | None:
        """Told of every change (a replica set primary's oplog); None otherwise."""
        return self._observer

    @observer.setter
    def observer(self, value: OplogRecorder | None) -> None:
        self._observer = value
        for database in self.databases.values():
            for collection in database.collections.values():
                collection.observer = value

    def database(self, name: str) -> Database | None:
        return self.databases.get(name)

    def collection(self, db: str, name: str) -> Collection | None:
        database = self.databases.get(db)
        return None if database is None else database.collections.get(name)

    def get_or_create(self, db: str, name: str) -> Collection:
        """The collection, created implicitly as a first insert does."""
        found = self.collection(db, name)
        if found is not None:
            return found
        return self.create(db, name)

    def create(self, db: str, name: str, options: Mapping[str, Any] | None = None) -> Collection:
        validate_namespace(db, name)
        database = self.databases.setdefault(db, Database(db))
        if name in database.collections:
            raise CommandError(ErrorCode.NamespaceExists, f"Collection {db}.{name} already exists.")
        collection = Collection(db, name, options)
        database.collections[name] = collection
        collection.observer = self._observer
        if self._observer is not None:
            self._observer.created(collection)
        return collection

    def install(self, collection: Collection) -> None:
        """Put ``collection`` (built aside, as $out builds) in place of
        whatever had its namespace."""
        database = self.databases.setdefault(collection.db, Database(collection.db))
        database.collections[collection.name] = collection
        collection.observer = self._observer
        if self._observer is not None:
            self._observer.installed(collection)

    def drop(self, db: str, name: str) -> bool:
        if not self._detach(db, name):
            return False
        if self._observer is not None:
            self._observer.dropped(db, name)
        return True

    def _detach(self, db: str, name: str) -> bool:
        database = self.databases.get(db)
        if database is None or name not in database.collections:
            return False
        database.collections.pop(name).wake_waiters()
        if not database.collections:
            del self.databases[db]
        return True

    def drop_database(self, db: str) -> bool:
        database = self.databases.pop(db, None)
        if database is None:
            return False
        for collection in database.collections.values():
            collection.wake_waiters()
        if self._observer is not None:
            self._observer.database_dropped(db)
        return True

    def rename(self, source: Collection, db: str, name: str) -> None:
        validate_namespace(db, name)
        old_db, old_name = source.db, source.name
        self._detach(old_db, old_name)
        source.db, source.name = db, name
        self.databases.setdefault(db, Database(db)).collections[name] = source
        if self._observer is not None:
            self._observer.renamed(old_db, old_name, source)
