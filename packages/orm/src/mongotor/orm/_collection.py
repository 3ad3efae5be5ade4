"""Collection: a model stored in a MongoDB collection, and its writes.

Which operations send which signals:

=====================================  ==========================================
operation                              signals
=====================================  ==========================================
``save()`` of a new document           pre_save(created=True), post_save(created=True)
``save()`` of a stored one             pre_save(created=False), post_save(created=False)
                                       (also when nothing changed: nothing is written)
``update()``                           pre_update, post_update (none when nothing
                                       changed and no document or force is given)
``remove()``                           pre_remove, post_remove
anything else (``objects.*``,          none
querysets, ``reload``, indexes)
=====================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from mongotor.client import UNACKNOWLEDGED, Client, DeleteResult, UpdateResult, WriteConcern
from mongotor.database import Database
from mongotor.errors import InterfaceError, InvalidOperationError

from ._document import BaseDocument
from ._errors import ConcurrentModificationError, DocumentNotFoundError, ValidationError
from ._indexes import Index, declared_indexes
from ._manager import Manager
from ._queryset import load_related
from ._reference import VersionField
from ._scalars import ObjectIdField
from ._signals import post_remove, post_save, post_update, pre_remove, pre_save, pre_update
from ._values import MISSING, diff_into

__all__ = ["Collection"]


def _concern(safe: bool) -> WriteConcern | None:
    return None if safe else UNACKNOWLEDGED


class Collection(BaseDocument):
    """A model: a class whose instances are the documents of a collection::

        class User(Collection):
            __collection__ = "user"
            _id = ObjectIdField()
            name = StringField(required=True)

        user = User(name="ana")  # or User.create({"name": "ana"})
        await user.save()  # insert
        user.name = "ana maria"
        await user.save()  # $set: {"name": "ana maria"}, nothing else
        found = await User.objects.find_one(user._id)
        await found.remove()

    A model without an ``_id`` field gets ``_id = ObjectIdField()``. The database
    is the default one (``Database.connect(...)``). ``__indexes__`` declares
    indexes (see :class:`~mongotor.orm.Index`), created by :meth:`ensure_indexes`.
    """

    __slots__ = ()

    #: The collection's name.
    __collection__: ClassVar[str] = ""
    #: Index declarations (created by :meth:`ensure_indexes`): a tuple of them.
    __indexes__: ClassVar[Sequence[Index | str]] = ()

    #: The model's :class:`~mongotor.orm.Manager`: ``User.objects.find(...)``.
    objects: ClassVar[Manager[Self]]
    #: The stored name of the VersionField (``None``: not versioned).
    _version_key: ClassVar[str | None] = None
    _client_cache: ClassVar[tuple[Database[Any], Client[dict[str, Any]]] | None] = None

    if TYPE_CHECKING:
        _id: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_id" not in cls._by_key:
            field: ObjectIdField[Any] = ObjectIdField()
            cls._id = field
            field.__set_name__(cls, "_id")
            cls._collect_fields()
            cls._generate()
        versions = [field.key for field in cls._fields if isinstance(field, VersionField)]
        if len(versions) > 1:
            raise TypeError(f"{cls.__name__} has more than one VersionField")
        cls._version_key = versions[0] if versions else None
        cls.objects = Manager[Any](cls)
        cls._client_cache = None

    @classmethod
    def get_collection(cls) -> Client[dict[str, Any]]:
        """The client's :class:`~mongotor.client.Client` for the model's
        collection in the default database, for what the ORM does not wrap.
        Raises :class:`~mongotor.errors.InterfaceError` without a
        ``__collection__`` or a connected database."""
        database = Database.default()
        cached = cls._client_cache
        if cached is not None and cached[0] is database:
            return cached[1]
        name = cls.__collection__
        if not name:
            raise InterfaceError(f"{cls.__name__} has no __collection__ naming its collection")
        database = Database()  # raises InterfaceError when there is none
        client = database[name]
        cls._client_cache = (database, client)
        return client

    @classmethod
    def create(cls, dictionary: Mapping[str, Any], cleaned: bool = False) -> Self:
        """A new document from a dict of attribute names and values, validated
        (every error at once). With ``cleaned`` (as the 2012 library loaded
        query results), the values count as stored: saving writes only later
        changes."""
        instance = cls(**dictionary)
        if cleaned:
            instance.clean_fields()
        return instance

    @classmethod
    async def ensure_indexes(cls) -> list[str]:
        """Create the declared indexes (fields' ``unique`` / ``index`` and
        ``__indexes__``) in one ``createIndexes``; their names. Existing ones
        with the same options are left alone."""
        models = declared_indexes(cls)
        if not models:
            return []
        return await cls.get_collection().create_indexes(models)

    # -- state --------------------------------------------------------------------------------------

    @property
    def is_new(self) -> bool:
        """Whether the document was never saved (or was removed): ``save()`` inserts it."""
        return self._raw is None

    def _pending(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """``$set`` and ``$unset`` of what changed since the document was loaded
        or written, and each changed field's new stored value (MISSING: unset)."""
        raw = self._raw or {}
        data = self._data
        touched = self._touched
        by_key = self._by_key
        version = self._version_key
        sets: dict[str, Any] = {}
        unsets: dict[str, Any] = {}
        stored: dict[str, Any] = {}
        for key in data if touched is None else touched:
            field = by_key.get(key)
            if field is None or key == version:
                continue
            value = data[key]
            new = MISSING if value is None else field.to_mongo(value)
            old = raw.get(key, MISSING)
            if new is MISSING:
                if old is not MISSING:
                    unsets[key] = ""
                    stored[key] = MISSING
            elif old is MISSING:
                if key != "_id":  # the filter carries it (an upsert inserts it)
                    sets[key] = new
                stored[key] = new
            else:
                count = len(sets) + len(unsets)
                diff_into(key, old, new, sets, unsets)
                if len(sets) + len(unsets) > count:
                    stored[key] = new
        return sets, unsets, stored

    def pending_update(self) -> dict[str, Any]:
        """The update ``save()`` would send now: ``{"$set": ..., "$unset": ...}``
        of the changed paths (empty when nothing changed)."""
        self._check(everything=False)
        sets, unsets, _ = self._pending()
        update: dict[str, Any] = {}
        if sets:
            update["$set"] = sets
        if unsets:
            update["$unset"] = unsets
        return update

    @property
    def dirty_fields(self) -> list[str]:
        """The fields (attribute names) whose values changed since the document
        was loaded or written (the 2012 name)."""
        _, _, stored = self._pending()
        by_key = self._by_key
        return [by_key[key].attname for key in stored]

    def clean_fields(self) -> None:
        """Take the current values as the stored ones (the 2012 name): saving
        writes only later changes, and a new document counts as stored."""
        self._raw = self._dump()

    def _check(self, *, everything: bool) -> None:
        errors = self._problems(everything=everything)
        if errors:
            raise ValidationError(errors, model=type(self).__name__)

    def _require_id(self) -> Any:
        """The ``_id`` the stored document has (this instance's, if it has no
        stored one yet): a changed ``_id`` is for the server to refuse."""
        raw = self._raw
        identifier = raw.get("_id") if raw is not None and "_id" in raw else self._data.get("_id")
        if identifier is None:
            raise InvalidOperationError(f"this {type(self).__name__} has no _id: save it first")
        return identifier

    def _guard(self) -> tuple[dict[str, Any], Any]:
        """The filter of a write to this stored document (with its version) and
        the version it was loaded at."""
        spec: dict[str, Any] = {"_id": self._require_id()}
        version = self._version_key
        current = None
        if version is not None:
            current = (self._raw or {}).get(version)
            spec[version] = current
        return spec, current

    def _lost(self, current: Any) -> Exception:
        name = type(self).__name__
        if self._version_key is not None:
            return ConcurrentModificationError(name, self._data.get("_id"), current)
        return DocumentNotFoundError(name, self._data.get("_id"))

    def _commit(self, stored: Mapping[str, Any], version: Any) -> None:
        raw = dict(self._raw or {})
        for key, value in stored.items():
            if value is MISSING:
                raw.pop(key, None)
            else:
                raw[key] = value
        version_key = self._version_key
        if version_key is not None:
            raw[version_key] = version
            self._data[version_key] = version
        self._raw = raw

    # -- writes ---------------------------------------------------------------------------------------

    async def save(self, safe: bool = True, check_keys: bool = True) -> None:
        """Insert the document if it is new; otherwise send ``$set`` / ``$unset``
        of what changed (nothing, if nothing did). Validates first (every field
        of a new document; the changed ones of a stored one), after pre_save.

        ``safe=False`` writes unacknowledged (nothing is checked or read back).
        ``check_keys`` refuses stored keys with ``$`` or ``.`` on insert. Raises
        :class:`~mongotor.orm.ValidationError`,
        :class:`~mongotor.errors.DuplicateKeyError` (an ``IntegrityError``),
        :class:`~mongotor.orm.DocumentNotFoundError` if a stored document was
        removed meanwhile, :class:`~mongotor.orm.ConcurrentModificationError`
        if a versioned one was changed meanwhile."""
        created = self._raw is None
        await pre_save.send(self, created=created)
        if created:
            await self._insert(safe, check_keys)
        else:
            self._check(everything=False)
            sets, unsets, stored = self._pending()
            if sets or unsets:
                await self._update_changes(sets, unsets, stored, safe, upsert=False)
        await post_save.send(self, created=created)

    def _insert_form(self) -> dict[str, Any]:
        """The document an insert sends, validated first (every field of a
        loaded document; of a new one, the values that may have changed in
        place since they were assigned, and the required ones)."""
        document = self._write_new()
        if document is None:  # not valid, or not to be told in one pass: every check
            self._check(everything=self._touched is not None)
            document = self._dump()
        return document

    async def _insert(self, safe: bool, check_keys: bool) -> None:
        document = self._insert_form()
        version = self._version_key
        if version is not None:
            document[version] = 1
        result = await self.get_collection().insert_one(
            document, write_concern=_concern(safe), check_keys=check_keys
        )
        self._assign("_id", result.inserted_id)
        if version is not None:
            self._data[version] = 1
        self._raw = document

    async def _update_changes(
        self,
        sets: dict[str, Any],
        unsets: dict[str, Any],
        stored: dict[str, Any],
        safe: bool,
        *,
        upsert: bool,
    ) -> UpdateResult:
        spec, current = self._guard()
        if self._version_key is not None:
            sets = {**sets, self._version_key: (current or 0) + 1}
        update: dict[str, Any] = {"$set": sets} if sets else {}
        if unsets:
            update["$unset"] = unsets
        result = await self.get_collection().update_one(
            spec, update, upsert=upsert, write_concern=_concern(safe)
        )
        if result.acknowledged and not result.matched_count and result.upserted_id is None:
            raise self._lost(current)
        self._commit(stored, (current or 0) + 1)
        return result

    async def update(
        self,
        document: Mapping[str, Any] | None = None,
        upsert: bool = False,
        safe: bool = True,
        force: bool = False,
    ) -> UpdateResult | None:
        """Write this document's changes to its stored document (by ``_id``).

        Without arguments: ``$set`` / ``$unset`` of what changed; nothing (no
        write, no signals, ``None``) when nothing did. ``force=True``: replace
        the whole stored document with this one. ``document``: send that update
        (``{"$inc": {"visits": 1}}``, stored names) or replacement as it is; this
        instance is not refreshed (:meth:`reload` it). ``upsert`` inserts when no
        document has the ``_id``. Validates what is written after pre_update.
        Raises as :meth:`save` does, and
        :class:`~mongotor.errors.InvalidOperationError` for a document without
        an ``_id``, or a forced update of one loaded with ``only()``.
        """
        self._require_id()
        if document is None and not force:
            self._check(everything=False)
            sets, unsets, _ = self._pending()
            if not sets and not unsets:
                return None
        await pre_update.send(self)
        if document is not None:
            result = await self._send_update(document, upsert, safe)
        elif force:
            result = await self._replace(upsert, safe)
        else:
            self._check(everything=False)
            sets, unsets, stored = self._pending()
            result = None
            if sets or unsets:
                result = await self._update_changes(sets, unsets, stored, safe, upsert=upsert)
        await post_update.send(self)
        return result

    async def _replace(self, upsert: bool, safe: bool) -> UpdateResult:
        if self._loaded is not None:
            raise InvalidOperationError(
                f"this {type(self).__name__} was loaded with only(): a forced update "
                "would erase the fields left out"
            )
        self._check(everything=True)
        spec, current = self._guard()
        replacement = self._dump()
        version = self._version_key
        if version is not None:
            replacement[version] = (current or 0) + 1
        result = await self.get_collection().replace_one(
            spec, replacement, upsert=upsert, write_concern=_concern(safe)
        )
        if result.acknowledged and not result.matched_count and result.upserted_id is None:
            raise self._lost(current)
        self._raw = None
        self._commit(replacement, (current or 0) + 1)
        return result

    async def _send_update(
        self, document: Mapping[str, Any], upsert: bool, safe: bool
    ) -> UpdateResult:
        spec, current = self._guard()
        update = dict(document)
        version = self._version_key
        operators = next(iter(update), "").startswith("$")
        if version is not None:
            if operators:
                update["$inc"] = {**update.get("$inc", {}), version: 1}
            else:
                update[version] = (current or 0) + 1
        client = self.get_collection()
        if operators:
            result = await client.update_one(
                spec, update, upsert=upsert, write_concern=_concern(safe)
            )
        else:
            result = await client.replace_one(
                spec, update, upsert=upsert, write_concern=_concern(safe)
            )
        if result.acknowledged and not result.matched_count and result.upserted_id is None:
            raise self._lost(current)
        if version is not None:
            self._commit({}, (current or 0) + 1)
        return result

    async def remove(self, safe: bool = True) -> DeleteResult:
        """Delete the stored document (a versioned one only at the version this
        instance has: else :class:`~mongotor.orm.ConcurrentModificationError`).
        The instance becomes new again: ``save()`` would insert it."""
        identifier = self._require_id()
        await pre_remove.send(self)
        guarded = self._version_key is not None and self._raw is not None
        spec, current = self._guard() if guarded else ({"_id": identifier}, None)
        result = await self.get_collection().delete_one(spec, write_concern=_concern(safe))
        if guarded and result.acknowledged and not result.deleted_count:
            raise self._lost(current)
        self._raw = None
        await post_remove.send(self)
        return result

    # -- reads -----------------------------------------------------------------------------------------

    async def reload(self) -> None:
        """Replace every value with the stored document's (changes are lost).
        Raises :class:`~mongotor.orm.DocumentNotFoundError` if it is gone."""
        identifier = self._require_id()
        document = await self.get_collection().find_one({"_id": identifier})
        if document is None:
            raise DocumentNotFoundError(type(self).__name__, identifier)
        self._raw = document
        self._data = dict(document)
        self._touched = set()
        self._loaded = None
        self._refs = None
        self._fresh = False

    async def fetch_related(self, *names: str) -> None:
        """Fetch the documents these ReferenceFields refer to (one query each)."""
        await load_related(type(self), [self], names)
