"""Manager: ``Model.objects``, the 2012 query methods and the entry to querysets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._query import Comparable, Q, to_filter
from ._queryset import QuerySet, SortSpec, _path

if TYPE_CHECKING:
    from mongotor.client import Client, CommandCursor

    from ._collection import Collection

__all__ = ["Manager"]

C = TypeVar("C", bound="Collection")


class Manager(Generic[C]):
    """``Model.objects``: the 2012 library's query methods (:meth:`find_one`,
    :meth:`find`, :meth:`count`, :meth:`distinct`, :meth:`sum`,
    :meth:`map_reduce`, :meth:`truncate`), :meth:`aggregate`, and querysets
    (:meth:`all`, :meth:`filter`, ...). Every query of a subclass of a
    polymorphic model matches only documents of that class and its subclasses.
    Nothing here sends signals."""

    __slots__ = ("model",)

    def __init__(self, model: type[C]) -> None:
        #: The model this manager queries.
        self.model = model

    def __repr__(self) -> str:
        return f"<Manager of {self.model.__name__}>"

    # -- querysets ----------------------------------------------------------------------------------

    def all(self) -> QuerySet[C]:
        """Every document of the model."""
        return QuerySet(self.model)

    def filter(self, *conditions: Q | Mapping[str, Any], **equals: Any) -> QuerySet[C]:
        """:meth:`QuerySet.filter` of :meth:`all`."""
        return self.all().filter(*conditions, **equals)

    def sort(self, *keys: SortSpec) -> QuerySet[C]:
        """:meth:`QuerySet.sort` of :meth:`all`."""
        return self.all().sort(*keys)

    def skip(self, count: int) -> QuerySet[C]:
        """:meth:`QuerySet.skip` of :meth:`all`."""
        return self.all().skip(count)

    def limit(self, count: int) -> QuerySet[C]:
        """:meth:`QuerySet.limit` of :meth:`all`."""
        return self.all().limit(count)

    def only(self, *names: str | Comparable) -> QuerySet[C]:
        """:meth:`QuerySet.only` of :meth:`all`."""
        return self.all().only(*names)

    def select_related(self, *names: str) -> QuerySet[C]:
        """:meth:`QuerySet.select_related` of :meth:`all`."""
        return self.all().select_related(*names)

    def __aiter__(self) -> AsyncIterator[C]:
        return self.all().__aiter__()

    async def first(self) -> C | None:
        """Any one document of the model, or ``None``."""
        return await self.all().first()

    async def exists(self) -> bool:
        """Whether the model has any document."""
        return await self.all().exists()

    # -- the 2012 methods ------------------------------------------------------------------------------

    def _spec(self, spec_or_id: Any) -> dict[str, Any]:
        if spec_or_id is None:
            return {}
        if isinstance(spec_or_id, Q | Mapping):
            return to_filter(spec_or_id)
        return {"_id": self.model._by_key["_id"]._query_value(spec_or_id)}

    async def find_one(self, spec_or_id: Any = None, **options: Any) -> C | None:
        """The first document matching a filter (a dict or an expression), or
        with this ``_id`` (an ObjectId's string form is taken too); ``None`` if
        there is none. Takes :meth:`find`'s options."""
        if options:
            return await self.find(spec_or_id, **options).first()
        # The common case, straight to the client's find_one.
        document = await self.model.get_collection().find_one(
            QuerySet(self.model, self._spec(spec_or_id)).query
        )
        return None if document is None else self.model.from_mongo(document)

    def find(
        self,
        spec: Any = None,
        fields: Sequence[str] | None = None,
        *,
        skip: int = 0,
        limit: int = 0,
        sort: SortSpec | Sequence[SortSpec] | Mapping[str, int] | None = None,
        **options: Any,
    ) -> QuerySet[C]:
        """The documents matching ``spec`` (a filter, an expression or an
        ``_id``), as a QuerySet: ``await`` it for the list. ``fields`` (the
        projection, by attribute name), ``skip``, ``limit`` and ``sort`` (a key,
        or a list of ``(name, direction)`` pairs, as the 2012 ``find`` took it)
        shape it; other options go to the cursor (``batch_size``, ``hint``...)."""
        queryset = QuerySet(self.model, self._spec(spec))
        if fields:
            queryset = queryset.only(*fields)
        if sort is not None:
            if isinstance(sort, Mapping):
                keys: list[SortSpec] = list(sort.items())
            elif isinstance(sort, str | Comparable | tuple):
                keys = [sort]
            else:
                keys = list(sort)
            queryset = queryset.sort(*keys)
        if options:
            queryset = queryset.options(**options)
        if skip:
            queryset = queryset.skip(skip)
        return queryset.limit(limit) if limit else queryset

    async def count(self, query: Any = None) -> int:
        """How many documents match ``query`` (all of them when ``None``)."""
        return await QuerySet(self.model, self._spec(query)).count()

    async def distinct(self, key: str | Comparable, query: Any = None) -> list[Any]:
        """The distinct values of a field (by attribute name or dotted path)
        among the documents matching ``query``."""
        return await QuerySet(self.model, self._spec(query)).distinct(key)

    async def sum(self, query: Any, field: str | Comparable) -> Any:
        """The sum of ``field`` over the documents matching ``query`` (0 if
        none): an aggregation (the 2012 library ran ``group``)."""
        match = QuerySet(self.model, self._spec(query)).query
        pipeline = [
            {"$match": match},
            {"$group": {"_id": None, "total": {"$sum": f"${_path(self.model, field)}"}}},
        ]
        for row in await self.model.get_collection().aggregate(pipeline):
            return row["total"]
        return 0

    def aggregate(
        self, pipeline: Sequence[Mapping[str, Any]], **options: Any
    ) -> CommandCursor[dict[str, Any]]:
        """A cursor over the pipeline's results (dicts, as stored: await it for
        a list). For a subclass of a polymorphic model, a ``$match`` on the type
        tag comes first. ``options`` are the client's (``allow_disk_use``...)."""
        match = QuerySet(self.model).query
        stages = [{"$match": match}, *pipeline] if match else list(pipeline)
        return self.model.get_collection().aggregate(stages, **options)

    async def map_reduce(
        self,
        map_: str,
        reduce_: str,
        query: Any = None,
        out: str | Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        """Run ``mapReduce`` (deprecated since MongoDB 5.0; servers without it,
        fakemongo among them, raise :class:`~mongotor.errors.ProgrammingError`):
        the results inline as a list, or with ``out`` the output collection's
        :class:`~mongotor.client.Client`. ``options`` are the command's
        (``sort``, ``limit``, ``finalize``, ``scope``...)."""
        match = QuerySet(self.model, self._spec(query)).query
        if match:
            options["query"] = match
        client: Client[dict[str, Any]] = self.model.get_collection()
        if out is None:
            return await client.inline_map_reduce(map_, reduce_, **options)
        return await client.map_reduce(map_, reduce_, out, **options)

    async def truncate(self) -> int:
        """Delete every document of the model (of the subclass, for a subclass
        of a polymorphic model); how many were. No signals are sent."""
        return await self.all().delete()
