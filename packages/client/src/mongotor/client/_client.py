"""The Client: one collection, with the modern API and the 2012 one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mongotor.pool import ReadPreference, ReadPreferenceMode

from ._admin import AdminMixin
from ._concerns import ReadConcern, WriteConcern
from ._cursor import DocumentT
from ._legacy import LegacyMixin

__all__ = ["Client"]


class Client(LegacyMixin[DocumentT], AdminMixin[DocumentT]):
    """A collection (the 2012 library's name): ``db.users`` or ``db["users"]``.

    The modern API (PyMongo 4 names): :meth:`insert_one`, :meth:`insert_many`,
    :meth:`update_one`, :meth:`update_many`, :meth:`replace_one`,
    :meth:`delete_one`, :meth:`delete_many`, :meth:`bulk_write`, :meth:`find`,
    :meth:`find_one`, the ``find_one_and_*`` methods, :meth:`count_documents`,
    :meth:`estimated_document_count`, :meth:`distinct`, :meth:`aggregate`, the
    index methods, :meth:`drop` and :meth:`rename`. The 2012 API:
    :meth:`insert`, :meth:`update`, :meth:`remove`, :meth:`count`,
    :meth:`group`, :meth:`map_reduce` (``find``, ``find_one``, ``distinct`` and
    ``aggregate`` take both vocabularies). Every method is a coroutine except
    :meth:`find`, :meth:`aggregate` and :meth:`list_indexes`, which return
    cursors (iterate them, or await them for a list).

    ``Client`` is generic on the document type the caller expects
    (``Client[dict[str, Any]]`` by default). Sub-collections: ``db.fs.files``.
    """

    def __getattr__(self, name: str) -> Client[DocumentT]:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Client[DocumentT]:
        """The sub-collection ``<this name>.<name>``."""
        return Client(self._database, f"{self._name}.{name}", self._options)

    def with_options(
        self,
        *,
        read_preference: ReadPreference | ReadPreferenceMode | str | int | None = None,
        write_concern: WriteConcern | Mapping[str, Any] | None = None,
        read_concern: ReadConcern | None = None,
    ) -> Client[DocumentT]:
        """The same collection with other options (the others kept)."""
        options = self._options.replace(
            read_preference=read_preference,
            write_concern=write_concern,
            read_concern=read_concern,
        )
        return Client(self._database, self._name, options)
