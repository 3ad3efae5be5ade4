"""Server-side cursors: ids, batches within the reply limit, idle timeout.

Manual, "Cursors" and the find / getMore / killCursors pages: a cursor id is a
non-zero int64 unique on the server; a batch holds at most ``batchSize``
documents and never more than fits a 16 MiB reply; the first batch of a find
defaults to 101 documents; an idle cursor is killed after
``cursorTimeoutMillis`` (10 minutes) unless opened with ``noCursorTimeout``; a
getMore for an unknown id fails with 43 CursorNotFound.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import bson
from bson import Int64

from ._errors import CommandError, ErrorCode
from ._identity import MAX_BSON_OBJECT_SIZE

__all__ = [
    "DEFAULT_FIRST_BATCH",
    "END_OF_DATA",
    "Cursor",
    "CursorStore",
    "cursor_reply",
    "first_reply",
]

#: Yielded by a tailable source that has nothing more for now: the batch ends
#: but the cursor stays open for documents inserted later.
END_OF_DATA: Any = object()

DEFAULT_FIRST_BATCH = 101
# The batch travels inside {cursor: {...}, ok: 1}: keep room for that wrapper.
_REPLY_BUDGET = MAX_BSON_OBJECT_SIZE - 16 * 1024


@dataclass(eq=False)
class Cursor:
    """A cursor: where its documents come from, and its options.

    ``cursor_id`` stays 0 until the cursor is registered, which happens only
    when documents remain after the first batch.
    """

    namespace: str
    source: Iterator[Any]
    batch_size: int | None = None
    no_timeout: bool = False
    tailable: bool = False
    await_data: bool = False
    cursor_id: int = 0
    last_used: float = field(default_factory=time.monotonic)
    held: Any = None  # a document that did not fit the previous batch
    exhausted: bool = False
    remaining: int | None = None  # the query's limit, counted down

    def next_batch(self, limit: int | None) -> list[Any]:
        """Up to ``limit`` documents (None: as many as fit the reply)."""
        batch: list[Any] = []
        # The first document always goes in, whatever its size: it is encoded
        # (to be measured) only once a second one would join it, so a batch
        # of one (find_one) is encoded once, in the reply, not twice.
        size = -1
        if self.remaining is not None:
            limit = self.remaining if limit is None else min(limit, self.remaining)
        while limit is None or len(batch) < limit:
            if self.held is not None:
                doc, self.held = self.held, None
            else:
                try:
                    doc = next(self.source)
                except StopIteration:
                    self.exhausted = True
                    break
                if doc is END_OF_DATA:
                    break
            if batch:
                if size < 0:
                    size = len(bson.encode(batch[0]))
                doc_size = len(bson.encode(doc))
                if size + doc_size > _REPLY_BUDGET:
                    self.held = doc
                    break
                size += doc_size
            batch.append(doc)
        if self.remaining is not None:
            # A satisfied limit closes the cursor without another getMore
            # (manual: "find", limit).
            self.remaining -= len(batch)
            if self.remaining == 0:
                self.exhausted = True
                self.held = None
        return batch


class CursorStore:
    """Open cursors by id; idle ones are reaped on access and by the server's timer."""

    def __init__(self, timeout_ms: int) -> None:
        self.timeout = timeout_ms / 1000
        self.cursors: dict[int, Cursor] = {}
        self.timed_out_total = 0

    def register(self, cursor: Cursor) -> int:
        """Give ``cursor`` a fresh non-zero id and keep it; returns the id."""
        cursor_id = 0
        while cursor_id == 0 or cursor_id in self.cursors:
            cursor_id = random.randint(1, 2**63 - 1)  # noqa: S311 - ids, not secrets
        cursor.cursor_id = cursor_id
        self.cursors[cursor_id] = cursor
        return cursor_id

    def get(self, cursor_id: int, namespace: str) -> Cursor:
        """The cursor for a getMore, or 43 CursorNotFound."""
        self.reap()
        cursor = self.cursors.get(cursor_id)
        if cursor is None:
            raise CommandError(ErrorCode.CursorNotFound, f"cursor id {cursor_id} not found")
        if cursor.namespace != namespace:
            raise CommandError(
                ErrorCode.Unauthorized,
                f"Requested getMore on namespace '{namespace}', but cursor belongs to a "
                f"different namespace {cursor.namespace}",
            )
        cursor.last_used = time.monotonic()
        return cursor

    def kill(self, cursor_id: int) -> bool:
        return self.cursors.pop(cursor_id, None) is not None

    def reap(self, now: float | None = None) -> int:
        """Close cursors idle longer than the timeout; returns how many."""
        now = time.monotonic() if now is None else now
        expired = [
            cid
            for cid, c in self.cursors.items()
            if not c.no_timeout and now - c.last_used > self.timeout
        ]
        for cid in expired:
            del self.cursors[cid]
        self.timed_out_total += len(expired)
        return len(expired)

    def __len__(self) -> int:
        return len(self.cursors)


def cursor_reply(cursor: Cursor, batch: list[Any], *, first: bool) -> dict[str, Any]:
    """``{cursor: {firstBatch|nextBatch, id, ns}}`` as find, aggregate and getMore answer."""
    cursor_id = 0 if cursor.exhausted and cursor.held is None else cursor.cursor_id
    return {
        "cursor": {
            "firstBatch" if first else "nextBatch": batch,
            "id": Int64(cursor_id),
            "ns": cursor.namespace,
        }
    }


def first_reply(
    store: CursorStore, cursor: Cursor, batch: list[Any], *, single_batch: bool = False
) -> dict[str, Any]:
    """The reply of the command that opened ``cursor`` with ``batch``: a cursor
    with more to give is registered for getMore, unless ``single_batch`` (find's
    singleBatch) closes it after this batch."""
    if single_batch:
        cursor.exhausted = True
        cursor.held = None
    elif not cursor.exhausted:
        store.register(cursor)
    return cursor_reply(cursor, batch, first=True)
