"""mongotor.orm.collection: :class:`Collection` (the 2012 import path)."""

from __future__ import annotations

from ._collection import Collection as Collection
from ._compound import EmbeddedDocument as EmbeddedDocument

__all__ = ["Collection", "EmbeddedDocument"]
