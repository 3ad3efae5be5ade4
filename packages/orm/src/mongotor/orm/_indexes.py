"""Index declarations on a model, created by ``await Model.ensure_indexes()``
(never implicitly: creating indexes on every save is the mistake it avoids)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mongotor.client import IndexModel

if TYPE_CHECKING:
    from ._document import BaseDocument

__all__ = ["Index", "declared_indexes"]


class Index:
    """An index of a model: its keys by attribute name (``"name"``; ``"-age"``
    for descending; a dotted path into an embedded document; or a ``(name,
    direction)`` pair, such as ``("bio", "text")``) and its options by their
    server names (``unique=True``, ``sparse=True``, ``expireAfterSeconds=3600``,
    ``partialFilterExpression={...}``, ``name="..."``)::

        class User(Collection):
            __collection__ = "user"
            __indexes__ = (Index("name"), Index("-created", "name", unique=True))
    """

    __slots__ = ("keys", "options")

    def __init__(self, *keys: str | tuple[str, Any], **options: Any) -> None:
        if not keys:
            raise ValueError("an index needs at least one key")
        self.keys = keys
        self.options = options

    def model_for(self, model: type[BaseDocument]) -> IndexModel:
        """The client's :class:`~mongotor.client.IndexModel`, with stored names."""
        pairs: list[tuple[str, Any]] = []
        for key in self.keys:
            if isinstance(key, str):
                name, direction = (key[1:], -1) if key.startswith("-") else (key, 1)
            else:
                name, direction = key
            pairs.append((model._stored_path(name), direction))
        return IndexModel(pairs, **self.options)

    def __repr__(self) -> str:
        options = "".join(f", {name}={value!r}" for name, value in self.options.items())
        return f"Index({', '.join(map(repr, self.keys))}{options})"


def declared_indexes(model: type[BaseDocument]) -> list[IndexModel]:
    """The indexes ``model`` declares: its fields' ``unique`` / ``index``, then
    every ``__indexes__`` entry of it and its base classes (an ``Index``, or a
    key string for a one-key index). One declared twice is created once."""
    models: list[IndexModel] = []

    def add(index: IndexModel) -> None:
        if all(index.document != known.document for known in models):
            models.append(index)

    for field in model._fields:
        if field.key != "_id" and (field.unique or field.index):
            options = {"unique": True} if field.unique else {}
            add(IndexModel([(field.key, 1)], **options))
    for klass in reversed(model.__mro__):
        for entry in vars(klass).get("__indexes__", ()):
            index = entry if isinstance(entry, Index) else Index(entry)
            add(index.model_for(model))
    return models
