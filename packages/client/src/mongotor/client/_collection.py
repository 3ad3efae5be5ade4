"""The collection's state and its writes (CRUD spec; PyMongo 4 names)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic

from mongotor.pool import ReadPreference

from ._batching import Run, plan_runs
from ._bulk import execute_runs, execute_write
from ._concerns import CollectionOptions, ReadConcern, WriteConcern
from ._cursor import DocumentT
from ._errors_from import check_reply
from ._executor import Executor, OperationKind, Request
from ._ids import object_ids
from ._names import check_collection_name
from ._results import (
    BulkWriteResult,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)
from ._specs import key_document, present, projection_document
from ._write_models import (
    DeleteMany,
    DeleteOne,
    InsertOne,
    ReplaceOne,
    UpdateMany,
    UpdateOne,
    WriteKind,
    WriteModel,
    ensure_id,
)

if TYPE_CHECKING:
    from ._database import Database

__all__ = ["CollectionBase", "ReturnDocument"]


class ReturnDocument(enum.Enum):
    """Which document find_one_and_update / find_one_and_replace return."""

    #: The document as it was before the change (the default).
    BEFORE = False
    #: The document as it is after the change.
    AFTER = True


def _write_options(**options: Any) -> dict[str, Any]:
    names = {
        "bypass_document_validation": "bypassDocumentValidation",
        "comment": "comment",
        "let": "let",
    }
    return {names[key]: value for key, value in options.items() if value is not None}


class CollectionBase(Generic[DocumentT]):
    """What every part of a Client shares: its database, name and options."""

    def __init__(
        self,
        database: Database[DocumentT],
        name: str,
        options: CollectionOptions | None = None,
    ) -> None:
        self._database = database
        self._name = check_collection_name(name)
        self._options = options if options is not None else database.options

    # -- identity and options ------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The collection's name."""
        return self._name

    @property
    def full_name(self) -> str:
        """``database.collection``."""
        return f"{self._database.name}.{self._name}"

    @property
    def database(self) -> Database[DocumentT]:
        """The :class:`~mongotor.database.Database` this collection is in."""
        return self._database

    @property
    def read_preference(self) -> ReadPreference:
        """Where reads go."""
        return self._options.read_preference

    @property
    def write_concern(self) -> WriteConcern:
        """How writes are acknowledged."""
        return self._options.write_concern

    @property
    def read_concern(self) -> ReadConcern:
        """The consistency reads ask for."""
        return self._options.read_concern

    @property
    def _executor(self) -> Executor:
        return self._database.executor

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CollectionBase):
            return self._database == other._database and self._name == other._name
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._database.name, self._name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._database!r}, {self._name!r})"

    # -- helpers ----------------------------------------------------------------------------------

    def _concern(self, write_concern: WriteConcern | None) -> WriteConcern:
        return self._options.write_concern if write_concern is None else write_concern

    async def _read_command(
        self,
        command: dict[str, Any],
        *,
        read_preference: ReadPreference | None = None,
        with_read_concern: bool = True,
    ) -> Mapping[str, Any]:
        if with_read_concern and self._options.read_concern.level is not None:
            command["readConcern"] = self._options.read_concern.to_document()
        reply = await self._executor.execute(
            Request(
                self._database.name,
                command,
                OperationKind.READ,
                read_preference=read_preference or self._options.read_preference,
                retryable=True,
            )
        )
        return check_reply(reply.document, reply.address)

    async def _write_command(
        self, command: dict[str, Any], *, retryable: bool = True, with_write_concern: bool = True
    ) -> Mapping[str, Any]:
        concern = self._options.write_concern
        if with_write_concern and not concern.is_server_default:
            command["writeConcern"] = concern.to_document()
        reply = await self._executor.execute(
            Request(self._database.name, command, OperationKind.WRITE, retryable=retryable)
        )
        return check_reply(reply.document, reply.address)

    # -- inserts -------------------------------------------------------------------------------------

    async def insert_one(
        self,
        document: Mapping[str, Any],
        *,
        bypass_document_validation: bool | None = None,
        comment: Any = None,
        write_concern: WriteConcern | None = None,
        check_keys: bool = False,
    ) -> InsertOneResult:
        """Insert ``document``; an ``_id`` (ObjectId) is added to it when it has none.

        Raises :class:`~mongotor.errors.DuplicateKeyError` (an ``IntegrityError``),
        :class:`~mongotor.errors.WriteError`, :class:`~mongotor.errors.WriteConcernError`,
        :class:`~mongotor.errors.DocumentTooLarge` (nothing sent) and
        :class:`~mongotor.errors.EncodingError`.
        """
        concern = self._concern(write_concern)
        document, inserted_id = ensure_id(document)
        await execute_write(
            self._executor,
            self._database.name,
            self._name,
            WriteKind.INSERT,
            document,
            multi=False,
            write_concern=concern,
            options=_write_options(
                bypass_document_validation=bypass_document_validation, comment=comment
            ),
            check_keys=check_keys,
        )
        return InsertOneResult(inserted_id, concern.acknowledged)

    async def insert_many(
        self,
        documents: Iterable[Mapping[str, Any]],
        *,
        ordered: bool = True,
        bypass_document_validation: bool | None = None,
        comment: Any = None,
        write_concern: WriteConcern | None = None,
        check_keys: bool = False,
    ) -> InsertManyResult:
        """Insert ``documents`` (in batches within the server's limits), adding an
        ``_id`` to each that has none. Ordered inserts stop at the first error.

        Raises :class:`~mongotor.errors.BulkWriteError` (``details`` says what was
        inserted and what failed), :class:`~mongotor.errors.DocumentTooLarge`
        before anything is sent, and ``TypeError`` for no documents.
        """
        concern = self._concern(write_concern)
        given = list(documents)
        if not given:
            raise TypeError("insert_many needs at least one document")
        statements: list[Mapping[str, Any]] = []
        ids: list[Any] = []
        for document, new_id in zip(given, object_ids(len(given)), strict=True):
            sent, inserted_id = ensure_id(document, new_id)
            statements.append(sent)
            ids.append(inserted_id)
        run = Run(WriteKind.INSERT, statements, list(range(len(statements))), False)
        await execute_runs(
            self._executor,
            self._database.name,
            self._name,
            [run],
            ordered=ordered,
            write_concern=concern,
            options=_write_options(
                bypass_document_validation=bypass_document_validation, comment=comment
            ),
            check_keys=check_keys,
        )
        return InsertManyResult(ids, concern.acknowledged)

    # -- updates and deletes ---------------------------------------------------------------------------

    async def _one(
        self,
        model: WriteModel,
        write_concern: WriteConcern | None,
        options: dict[str, Any],
    ) -> tuple[Mapping[str, Any], bool]:
        concern = self._concern(write_concern)
        reply = await execute_write(
            self._executor,
            self._database.name,
            self._name,
            model.kind,
            model.statement(),
            multi=model.multi,
            write_concern=concern,
            options=options,
        )
        return reply, concern.acknowledged

    async def update_one(
        self,
        filter: Mapping[str, Any],
        update: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        collation: Mapping[str, Any] | None = None,
        hint: str | Mapping[str, Any] | None = None,
        sort: Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        write_concern: WriteConcern | None = None,
    ) -> UpdateResult:
        """Update the first document matching ``filter`` with ``update`` (operators
        or a pipeline). Raises :class:`~mongotor.errors.InterfaceError` for an
        update without operators, and the write errors of :meth:`insert_one`."""
        model = UpdateOne(filter, update, upsert, collation, array_filters, hint, sort)
        options = _write_options(
            bypass_document_validation=bypass_document_validation, let=let, comment=comment
        )
        return UpdateResult(*await self._one(model, write_concern, options))

    async def update_many(
        self,
        filter: Mapping[str, Any],
        update: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        collation: Mapping[str, Any] | None = None,
        hint: str | Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        write_concern: WriteConcern | None = None,
    ) -> UpdateResult:
        """Update every document matching ``filter`` (not retried: it is not idempotent)."""
        model = UpdateMany(filter, update, upsert, collation, array_filters, hint)
        options = _write_options(
            bypass_document_validation=bypass_document_validation, let=let, comment=comment
        )
        return UpdateResult(*await self._one(model, write_concern, options))

    async def replace_one(
        self,
        filter: Mapping[str, Any],
        replacement: Mapping[str, Any],
        *,
        upsert: bool = False,
        collation: Mapping[str, Any] | None = None,
        hint: str | Mapping[str, Any] | None = None,
        sort: Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        write_concern: WriteConcern | None = None,
    ) -> UpdateResult:
        """Replace the first document matching ``filter``. Raises
        :class:`~mongotor.errors.InterfaceError` for a replacement with operators."""
        model = ReplaceOne(filter, replacement, upsert, collation, hint, sort)
        options = _write_options(
            bypass_document_validation=bypass_document_validation, let=let, comment=comment
        )
        return UpdateResult(*await self._one(model, write_concern, options))

    async def delete_one(
        self,
        filter: Mapping[str, Any],
        *,
        collation: Mapping[str, Any] | None = None,
        hint: str | Mapping[str, Any] | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        write_concern: WriteConcern | None = None,
    ) -> DeleteResult:
        """Delete the first document matching ``filter``."""
        options = _write_options(let=let, comment=comment)
        model = DeleteOne(filter, collation, hint)
        return DeleteResult(*await self._one(model, write_concern, options))

    async def delete_many(
        self,
        filter: Mapping[str, Any],
        *,
        collation: Mapping[str, Any] | None = None,
        hint: str | Mapping[str, Any] | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        write_concern: WriteConcern | None = None,
    ) -> DeleteResult:
        """Delete every document matching ``filter`` (not retried)."""
        options = _write_options(let=let, comment=comment)
        model = DeleteMany(filter, collation, hint)
        return DeleteResult(*await self._one(model, write_concern, options))

    async def bulk_write(
        self,
        requests: Sequence[WriteModel],
        *,
        ordered: bool = True,
        bypass_document_validation: bool | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        write_concern: WriteConcern | None = None,
    ) -> BulkWriteResult:
        """Run a mix of :class:`InsertOne`, :class:`UpdateOne`, :class:`UpdateMany`,
        :class:`ReplaceOne`, :class:`DeleteOne` and :class:`DeleteMany`: ordered
        (in order, stopping at the first error) or not (grouped by kind, all
        attempted). Raises :class:`~mongotor.errors.BulkWriteError` with the
        summary and every error; ``TypeError`` for no requests or something that
        is not a write model."""
        if not requests:
            raise TypeError("bulk_write needs at least one request")
        models: list[WriteModel] = []
        for request in requests:
            if not isinstance(request, InsertOne | UpdateOne | UpdateMany | ReplaceOne | DeleteOne):
                raise TypeError(f"{request!r} is not a write model (InsertOne, UpdateOne...)")
            if isinstance(request, InsertOne):
                models.append(InsertOne(ensure_id(request.document)[0]))
            else:
                models.append(request)
        concern = self._concern(write_concern)
        summary = await execute_runs(
            self._executor,
            self._database.name,
            self._name,
            plan_runs(models, ordered=ordered),
            ordered=ordered,
            write_concern=concern,
            options=_write_options(
                bypass_document_validation=bypass_document_validation, comment=comment, let=let
            ),
        )
        return BulkWriteResult(summary, concern.acknowledged)

    # -- find and modify -----------------------------------------------------------------------------

    async def _find_and_modify(
        self,
        filter: Mapping[str, Any],
        options: dict[str, Any],
        *,
        projection: Any,
        sort: Any,
        hint: Any,
        collation: Any,
        let: Any,
        comment: Any,
        max_time_ms: int | None,
    ) -> DocumentT | None:
        command: dict[str, Any] = {"findAndModify": self._name, "query": filter}
        command.update(options)
        command.update(
            present(
                fields=projection_document(projection),
                sort=None if sort is None else key_document(sort),
                hint=hint,
                collation=collation,
                let=let,
                comment=comment,
                maxTimeMS=max_time_ms,
            )
        )
        reply = await self._write_command(command)
        found: DocumentT | None = reply.get("value")
        return found

    async def find_one_and_delete(
        self,
        filter: Mapping[str, Any],
        projection: Any = None,
        *,
        sort: Any = None,
        hint: Any = None,
        collation: Any = None,
        let: Any = None,
        comment: Any = None,
        max_time_ms: int | None = None,
    ) -> DocumentT | None:
        """Delete the first document matching ``filter`` (in ``sort`` order) and
        return it, or ``None``."""
        return await self._find_and_modify(
            filter,
            {"remove": True},
            projection=projection,
            sort=sort,
            hint=hint,
            collation=collation,
            let=let,
            comment=comment,
            max_time_ms=max_time_ms,
        )

    async def find_one_and_replace(
        self,
        filter: Mapping[str, Any],
        replacement: Mapping[str, Any],
        projection: Any = None,
        *,
        sort: Any = None,
        upsert: bool = False,
        return_document: ReturnDocument = ReturnDocument.BEFORE,
        hint: Any = None,
        collation: Any = None,
        let: Any = None,
        comment: Any = None,
        max_time_ms: int | None = None,
        bypass_document_validation: bool | None = None,
    ) -> DocumentT | None:
        """Replace the first document matching ``filter``; return it as it was
        (``ReturnDocument.BEFORE``) or became (``AFTER``), or ``None``."""
        ReplaceOne(filter, replacement)  # validates the replacement
        options: dict[str, Any] = {"update": replacement, "new": return_document.value}
        if upsert:
            options["upsert"] = True
        if bypass_document_validation is not None:
            options["bypassDocumentValidation"] = bypass_document_validation
        return await self._find_and_modify(
            filter,
            options,
            projection=projection,
            sort=sort,
            hint=hint,
            collation=collation,
            let=let,
            comment=comment,
            max_time_ms=max_time_ms,
        )

    async def find_one_and_update(
        self,
        filter: Mapping[str, Any],
        update: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        projection: Any = None,
        *,
        sort: Any = None,
        upsert: bool = False,
        return_document: ReturnDocument = ReturnDocument.BEFORE,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: Any = None,
        collation: Any = None,
        let: Any = None,
        comment: Any = None,
        max_time_ms: int | None = None,
        bypass_document_validation: bool | None = None,
    ) -> DocumentT | None:
        """Update the first document matching ``filter``; return it as it was
        (``ReturnDocument.BEFORE``) or became (``AFTER``), or ``None``."""
        UpdateOne(filter, update)  # validates the update
        options: dict[str, Any] = {"update": update, "new": return_document.value}
        if upsert:
            options["upsert"] = True
        if array_filters is not None:
            options["arrayFilters"] = list(array_filters)
        if bypass_document_validation is not None:
            options["bypassDocumentValidation"] = bypass_document_validation
        return await self._find_and_modify(
            filter,
            options,
            projection=projection,
            sort=sort,
            hint=hint,
            collation=collation,
            let=let,
            comment=comment,
            max_time_ms=max_time_ms,
        )
