"""The collection's indexes and its life: create/list/drop indexes, drop, rename."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mongotor.errors import ErrorCode, OperationFailure

from ._collection import CollectionBase
from ._cursor import CommandCursor, DocumentT
from ._executor import OperationKind, Request
from ._names import check_collection_name
from ._specs import KeySpec, index_name, key_document

__all__ = ["AdminMixin", "IndexModel"]


class IndexModel:
    """One index for :meth:`~mongotor.client.Client.create_indexes`: its ``keys``
    (as :meth:`~mongotor.client.Cursor.sort` takes them) and options by their
    server names (``unique=True``, ``expireAfterSeconds=3600``,
    ``partialFilterExpression={...}``; ``name`` defaults to ``a_1_b_-1``)."""

    __slots__ = ("document",)

    def __init__(self, keys: KeySpec, **options: Any) -> None:
        key = key_document(keys)
        #: The index specification sent in ``createIndexes``.
        self.document: dict[str, Any] = {"key": key, "name": index_name(key), **options}

    @property
    def name(self) -> str:
        """The index's name."""
        return str(self.document["name"])

    def __repr__(self) -> str:
        return f"IndexModel({self.document!r})"


class AdminMixin(CollectionBase[DocumentT]):
    """Indexes, drop and rename."""

    async def create_index(self, keys: KeySpec, **options: Any) -> str:
        """Create an index on ``keys`` (options as :class:`IndexModel`); return its
        name. Creating an index that exists with the same options is a no-op."""
        (name,) = await self.create_indexes([IndexModel(keys, **options)])
        return name

    async def create_indexes(
        self, indexes: Sequence[IndexModel], *, comment: Any = None
    ) -> list[str]:
        """Create several indexes in one command; return their names."""
        command: dict[str, Any] = {
            "createIndexes": self._name,
            "indexes": [model.document for model in indexes],
        }
        if comment is not None:
            command["comment"] = comment
        await self._write_command(command, retryable=False)
        return [model.name for model in indexes]

    def list_indexes(self, *, comment: Any = None) -> CommandCursor[DocumentT]:
        """A cursor over the collection's index specifications."""
        command: dict[str, Any] = {"listIndexes": self._name, "cursor": {}}
        if comment is not None:
            command["comment"] = comment
        request = Request(self._database.name, command, OperationKind.READ, retryable=True)
        return _MissingIsEmpty(self._executor, self._database.name, self._name, request)

    async def index_information(self) -> dict[str, dict[str, Any]]:
        """Index name -> its specification, with ``key`` as a list of pairs."""
        information: dict[str, dict[str, Any]] = {}
        async for index in self.list_indexes():
            spec = {key: value for key, value in index.items() if key not in ("name", "v")}
            spec["key"] = list(index["key"].items())
            information[index["name"]] = spec
        return information

    async def drop_index(self, index_or_name: str | KeySpec) -> None:
        """Drop an index, given its name or its keys. Raises
        :class:`~mongotor.errors.OperationFailure` (IndexNotFound) if it does not exist."""
        name = (
            index_or_name
            if isinstance(index_or_name, str)
            else index_name(key_document(index_or_name))
        )
        if name == "*":
            raise ValueError("use drop_indexes() to drop every index")
        await self._write_command({"dropIndexes": self._name, "index": name}, retryable=False)

    async def drop_indexes(self) -> None:
        """Drop every index but ``_id``'s."""
        await self._write_command({"dropIndexes": self._name, "index": "*"}, retryable=False)

    async def drop(self) -> None:
        """Drop the collection (nothing happens if it does not exist)."""
        try:
            await self._write_command({"drop": self._name}, retryable=False)
        except OperationFailure as exc:
            if exc.code != ErrorCode.NamespaceNotFound:
                raise

    async def rename(self, new_name: str, *, drop_target: bool = False) -> None:
        """Rename the collection within its database; ``drop_target`` replaces an
        existing collection of that name. Raises
        :class:`~mongotor.errors.OperationFailure` (NamespaceExists) otherwise."""
        check_collection_name(new_name)
        database = self._database.name
        command: dict[str, Any] = {
            "renameCollection": f"{database}.{self._name}",
            "to": f"{database}.{new_name}",
        }
        if drop_target:
            command["dropTarget"] = True
        concern = self._options.write_concern
        if not concern.is_server_default:
            command["writeConcern"] = concern.to_document()
        await self._database._run(command, database="admin", kind=OperationKind.WRITE)

    async def options(self) -> Mapping[str, Any]:
        """The collection's creation options (``{}`` if it does not exist)."""
        async for info in self._database.list_collections(filter={"name": self._name}):
            return dict(info.get("options", {}))
        return {}


class _MissingIsEmpty(CommandCursor[DocumentT]):
    """listIndexes of a collection that does not exist lists nothing (CRUD spec)."""

    async def _refill(self) -> bool:
        try:
            return await super()._refill()
        except OperationFailure as exc:
            if exc.code != ErrorCode.NamespaceNotFound:
                raise
            self._killed = True
            return False
