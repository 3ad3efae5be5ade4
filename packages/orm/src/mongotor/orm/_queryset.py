"""QuerySet: a chainable, immutable, lazy query of a model.

Each method returns a new QuerySet; nothing is sent until it is awaited (a
list of every matching document: never capped), iterated with ``async for``
(streamed batch by batch), or asked for ``count()``, ``first()``,
``exists()``, ``distinct()``, ``delete()`` or ``update()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from mongotor.errors import InvalidOperationError

from ._query import Comparable, Q, SortKey, and_filters, to_filter
from ._reference import DANGLING, ReferenceField

if TYPE_CHECKING:
    from mongotor.client import Client, Cursor

    from ._collection import Collection
    from ._document import BaseDocument

__all__ = ["QuerySet", "SortSpec", "load_related", "sort_pairs"]

C = TypeVar("C", bound="Collection")

#: A sort key: ``"name"``, ``"-age"`` (descending), ``User.age``, ``-User.age``,
#: or a ``(name, direction)`` pair.
SortSpec: TypeAlias = str | Comparable | SortKey | tuple[str, int]

# select_related while streaming: the references of this many documents are
# fetched with one query.
RELATED_CHUNK = 1000


def _path(model: type[BaseDocument], name: str | Comparable) -> str:
    if isinstance(name, Comparable):
        return name._query_path()
    return model._stored_path(name)


def sort_pairs(model: type[BaseDocument], keys: Iterable[SortSpec]) -> list[tuple[str, int]]:
    """Sort keys as ``(stored path, direction)`` pairs."""
    pairs: list[tuple[str, int]] = []
    for key in keys:
        if isinstance(key, SortKey):
            pairs.append((key.path, key.direction))
        elif isinstance(key, tuple):
            name, direction = key
            pairs.append((_path(model, name), direction))
        elif isinstance(key, str) and key.startswith("-"):
            pairs.append((_path(model, key[1:]), -1))
        elif isinstance(key, str | Comparable):
            pairs.append((_path(model, key), 1))
        else:
            raise TypeError(
                f"a sort key is a name, a field or a (name, direction) pair, not {key!r}"
            )
    return pairs


def reference_field(model: type[BaseDocument], name: str) -> ReferenceField[Any, Any]:
    """``model``'s ReferenceField called ``name``; ``ValueError`` if there is none."""
    field = model._by_attname.get(name)
    if not isinstance(field, ReferenceField):
        raise ValueError(f"{model.__name__}.{name} is not a ReferenceField")
    return field


async def load_related(
    model: type[BaseDocument], documents: Sequence[BaseDocument], names: Iterable[str]
) -> None:
    """Fetch the documents ``names`` (ReferenceFields of ``model``) refer to,
    for all of ``documents`` at once: one ``$in`` query per reference field.
    A reference to a document that does not exist reads as
    :class:`~mongotor.orm.DocumentNotFoundError`."""
    for name in names:
        field = reference_field(model, name)
        key = field.key
        ids: list[Any] = []
        for document in documents:
            value = document._data.get(key)
            if value is not None and value not in ids:
                ids.append(value)
        if not ids:
            continue
        target: Any = field.document_class
        found: dict[Any, Any] = {}
        async for referenced in target.objects.filter({"_id": {"$in": ids}}):
            found[referenced._data["_id"]] = referenced
        for document in documents:
            value = document._data.get(key)
            if value is not None:
                refs = document._refs
                if refs is None:
                    refs = document._refs = {}
                refs[key] = found.get(value, DANGLING)


class QuerySet(Generic[C]):
    """The documents of a model that match a filter, in an order, a window of
    them, with some fields. Build with :meth:`filter`, :meth:`sort`,
    :meth:`skip`, :meth:`limit`, :meth:`only`, :meth:`select_related` and
    :meth:`options`; each returns a new QuerySet. Run by awaiting it, iterating
    it, or :meth:`count`, :meth:`first`, :meth:`exists`, :meth:`distinct`,
    :meth:`delete`, :meth:`update`. Signals are not sent for the documents a
    query deletes or updates."""

    __slots__ = ("_fields", "_filter", "_limit", "_model", "_options", "_related", "_skip", "_sort")

    def __init__(self, model: type[C], filter: Mapping[str, Any] | None = None) -> None:
        self._model = model
        self._filter: dict[str, Any] = dict(filter) if filter else {}
        self._sort: list[tuple[str, int]] | None = None
        self._skip = 0
        self._limit = 0
        self._fields: tuple[str, ...] | None = None
        self._related: tuple[str, ...] = ()
        self._options: dict[str, Any] = {}

    def _copy(self, **changes: Any) -> QuerySet[C]:
        clone: QuerySet[C] = QuerySet(self._model)
        for name in QuerySet.__slots__:
            setattr(clone, name, changes.get(name, getattr(self, name)))
        return clone

    # -- building ------------------------------------------------------------------------------------

    @property
    def model(self) -> type[C]:
        """The model whose documents this queries."""
        return self._model

    def filter(self, *conditions: Q | Mapping[str, Any], **equals: Any) -> QuerySet[C]:
        """Also match ``conditions`` (``User.age > 3``, raw dict filters) and
        ``equals`` (``name="ana"``: a field by attribute name equals a value)."""
        document = self._filter
        for condition in conditions:
            document = and_filters(document, to_filter(condition))
        for name, value in equals.items():
            field = self._model._by_attname.get(name)
            if field is None:
                document = and_filters(document, {name: value})
            else:
                document = and_filters(document, {field.key: field._query_value(value)})
        return self._copy(_filter=document)

    def sort(self, *keys: SortSpec) -> QuerySet[C]:
        """Order by ``keys`` (replacing any order set before): ``"name"``,
        ``"-age"``, ``User.age``, ``-User.age``, ``("age", -1)``."""
        return self._copy(_sort=sort_pairs(self._model, keys) or None)

    def skip(self, count: int) -> QuerySet[C]:
        """Leave out the first ``count`` documents."""
        if count < 0:
            raise ValueError("skip must be non-negative")
        return self._copy(_skip=count)

    def limit(self, count: int) -> QuerySet[C]:
        """Return at most ``count`` documents (0: no limit)."""
        if count < 0:
            raise ValueError("limit must be non-negative")
        return self._copy(_limit=count)

    def only(self, *names: str | Comparable) -> QuerySet[C]:
        """Load only these fields (and ``_id``, the type tag and the version).
        Reading another field of a result raises
        :class:`~mongotor.orm.FieldNotLoadedError`; saving a result writes only
        what changed, and a forced update is refused."""
        return self._copy(_fields=tuple(_path(self._model, name) for name in names) or None)

    def select_related(self, *names: str) -> QuerySet[C]:
        """Fetch the documents these ReferenceFields refer to, for the whole
        result with one ``$in`` query per field (per 1,000 documents when
        streamed with ``async for``)."""
        for name in names:
            reference_field(self._model, name)
        return self._copy(_related=self._related + names)

    def options(self, **options: Any) -> QuerySet[C]:
        """Cursor options by the client's names: ``batch_size``, ``hint``,
        ``max_time_ms``, ``collation``, ``comment``, ``allow_disk_use``..."""
        return self._copy(_options={**self._options, **options})

    @property
    def query(self) -> dict[str, Any]:
        """The filter sent, including the type tag condition of a subclass of
        a polymorphic model."""
        model = self._model
        root = model._type_root
        if root is None or root is model:
            return dict(self._filter)
        return and_filters(self._filter, {root.__type_key__: {"$in": model._subtype_names()}})

    def _projection(self) -> tuple[dict[str, int] | None, frozenset[str] | None]:
        if self._fields is None:
            return None, None
        model = self._model
        paths = ["_id", *self._fields]
        if model._type_root is not None:
            paths.append(model._type_root.__type_key__)
        if model._version_key is not None:
            paths.append(model._version_key)
        return dict.fromkeys(paths, 1), frozenset(path.split(".", 1)[0] for path in paths)

    def _client(self) -> Client[dict[str, Any]]:
        return self._model.get_collection()

    def _cursor(self, limit: int | None = None) -> Cursor[dict[str, Any]]:
        projection, _ = self._projection()
        return self._client().find(
            self.query,
            projection,
            self._skip,
            self._limit if limit is None else limit,
            sort=self._sort,
            **self._options,
        )

    def __repr__(self) -> str:
        parts = [f"filter={self.query!r}"]
        for name in ("_sort", "_skip", "_limit", "_fields", "_related"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name[1:]}={value!r}")
        return f"<QuerySet {self._model.__name__} {' '.join(parts)}>"

    # -- running -------------------------------------------------------------------------------------

    def _loader(self) -> Any:
        from_mongo = self._model.from_mongo
        _, loaded = self._projection()
        if loaded is None:
            return from_mongo

        def load(document: Mapping[str, Any]) -> C:
            instance = from_mongo(document)
            instance._loaded = loaded
            return instance

        return load

    async def to_list(self) -> list[C]:
        """Every matching document (what awaiting the QuerySet gives)."""
        load = self._loader()
        documents = [load(document) for document in await self._cursor()]
        if self._related and documents:
            await load_related(self._model, documents, self._related)
        return documents

    def __await__(self) -> Generator[Any, None, list[C]]:
        return self.to_list().__await__()

    async def __aiter__(self) -> AsyncIterator[C]:
        load = self._loader()
        async with self._cursor() as cursor:
            if not self._related:
                async for document in cursor:
                    yield load(document)
                return
            chunk: list[C] = []
            async for document in cursor:
                chunk.append(load(document))
                if len(chunk) == RELATED_CHUNK:
                    await load_related(self._model, chunk, self._related)
                    for instance in chunk:
                        yield instance
                    chunk = []
            if chunk:
                await load_related(self._model, chunk, self._related)
                for instance in chunk:
                    yield instance

    async def first(self) -> C | None:
        """The first matching document (in the sort order), or ``None``."""
        load = self._loader()
        for document in await self._cursor(limit=-1).to_list(1):
            instance: C = load(document)
            if self._related:
                await load_related(self._model, [instance], self._related)
            return instance
        return None

    async def exists(self) -> bool:
        """Whether any document matches."""
        cursor = self._client().find(self.query, {"_id": 1}, self._skip, -1)
        return bool(await cursor.to_list(1))

    async def count(self) -> int:
        """How many documents match (within skip and limit)."""
        return await self._client().count_documents(
            self.query, skip=self._skip or None, limit=self._limit or None
        )

    async def distinct(self, name: str | Comparable) -> list[Any]:
        """The distinct values of a field (or dotted path) among the matches."""
        return await self._client().distinct(_path(self._model, name), self.query)

    def _whole(self, operation: str) -> None:
        if self._skip or self._limit or self._sort:
            raise InvalidOperationError(
                f"{operation}() applies to every matching document: remove skip, limit and sort"
            )

    async def delete(self) -> int:
        """Delete every matching document; how many were. No signals are sent."""
        self._whole("delete")
        result = await self._client().delete_many(self.query)
        return result.deleted_count

    async def update(self, update: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Apply ``update`` (operators such as ``{"$set": ...}``, or a pipeline)
        to every matching document, with stored names; how many changed. No
        signals are sent, and loaded instances are not refreshed."""
        self._whole("update")
        result = await self._client().update_many(self.query, update)
        return result.modified_count
