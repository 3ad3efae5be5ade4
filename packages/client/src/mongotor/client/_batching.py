"""Splitting writes into commands, purely (CRUD spec "Bulk Write"; OP_MSG spec).

Ordered writes become runs of consecutive models of one kind; unordered writes
one run per kind. Each run is cut into batches of at most
``maxWriteBatchSize`` statements whose encoded size stays within
``maxMessageSizeBytes``; an insert document over ``maxBsonObjectSize`` (an
update or delete statement over it plus the command allowance) is refused with
:class:`~mongotor.errors.DocumentTooLarge` before anything is sent.

Statements are encoded once, in one bson call; the batches hand the codec
views of those bytes, which it copies into the message without encoding again.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import bson
from bson.codec_options import DEFAULT_CODEC_OPTIONS

from mongotor.errors import DocumentTooLarge, EncodingError
from mongotor.wire import DocumentLike

from ._executor import ServerLimits
from ._write_models import WriteKind, WriteModel

__all__ = ["COMMAND_OVERHEAD", "Batch", "Run", "encode", "plan_batches", "plan_runs"]

# OP_MSG spec / MongoDB's BSONObjMaxInternalSize: a command may exceed
# maxBsonObjectSize by 16 KiB for its own fields; we keep that much of every
# message for the command body.
COMMAND_OVERHEAD: Final = 16 * 1024 - 2
_INT32: Final = struct.Struct("<i")
_dict_to_bson = bson._dict_to_bson
_array_to_buffer = bson._array_of_documents_to_buffer
_KEYS: list[str] = [str(i) for i in range(1024)]


@dataclass(slots=True)
class Run:
    """Statements of one write command kind; ``indexes`` are their positions in
    the caller's list; ``multi`` says whether any affects several documents
    (such a run is not retryable)."""

    kind: WriteKind
    statements: list[Mapping[str, Any]]
    indexes: list[int]
    multi: bool


def plan_runs(models: Sequence[WriteModel], *, ordered: bool) -> list[Run]:
    """The runs of a bulk write, in the order they are to be sent."""
    runs: list[Run] = []
    by_kind: dict[WriteKind, Run] = {}
    for index, model in enumerate(models):
        kind = model.kind
        run = (
            (runs[-1] if runs and runs[-1].kind is kind else None) if ordered else by_kind.get(kind)
        )
        if run is None:
            run = Run(kind, [], [], False)
            runs.append(run)
            by_kind[kind] = run
        run.statements.append(model.statement())
        run.indexes.append(index)
        run.multi = run.multi or model.multi
    if not ordered:
        order = [WriteKind.INSERT, WriteKind.UPDATE, WriteKind.DELETE]
        runs.sort(key=lambda run: order.index(run.kind))
    return runs


@dataclass(frozen=True, slots=True)
class Batch:
    """Statements ``start`` to ``end`` (exclusive) of a run, as documents to send."""

    start: int
    end: int
    documents: Sequence[DocumentLike]


def encode(statements: Sequence[Mapping[str, Any]], *, check_keys: bool = False) -> bytes:
    """The statements' BSON, back to back. Raises :class:`EncodingError` naming the
    first statement that cannot be encoded (with ``check_keys``: a key that starts
    with ``$`` or contains ``.``)."""
    count = len(statements)
    options = DEFAULT_CODEC_OPTIONS
    try:
        if count == 1:
            return bytes(_dict_to_bson(statements[0], check_keys, options))
        if count > len(_KEYS):
            _KEYS.extend(map(str, range(len(_KEYS), max(count, 2 * len(_KEYS)))))
        wrapper = dict(zip(_KEYS, statements, strict=False))
        return bytes(_array_to_buffer(_dict_to_bson(wrapper, check_keys, options)))
    except Exception:  # noqa: S110 - the loop below names the culprit
        pass
    for index, statement in enumerate(statements):
        try:
            _dict_to_bson(statement, check_keys, options)
        except Exception as exc:  # bson raises InvalidDocument, TypeError, OverflowError...
            raise EncodingError(f"cannot encode document {index}: {exc}") from exc
    raise EncodingError("cannot encode the documents")  # pragma: no cover - bson agreed twice


def _split(blob: bytes) -> list[memoryview]:
    """The back-to-back documents of ``blob``, as views (the codec sends them as is)."""
    documents = []
    view, position, total, unpack = memoryview(blob), 0, len(blob), _INT32.unpack_from
    while position < total:
        size = unpack(blob, position)[0]
        documents.append(view[position : position + size])
        position += size
    return documents


def plan_batches(
    kind: WriteKind,
    statements: Sequence[Mapping[str, Any]],
    limits: ServerLimits,
    *,
    check_keys: bool = False,
) -> list[Batch]:
    """Cut a run's statements into batches within ``limits``. Raises
    :class:`DocumentTooLarge` (with the statement's size) before anything is sent,
    and :class:`EncodingError` as :func:`encode`."""
    blob = encode(statements, check_keys=check_keys)
    count = len(statements)
    max_statement = limits.max_bson_object_size
    if kind is not WriteKind.INSERT:
        max_statement += COMMAND_OVERHEAD
    max_bytes = limits.max_message_size - COMMAND_OVERHEAD
    max_count = limits.max_write_batch_size
    if count == 1:
        _check_size(len(blob), max_statement, kind)
        return [Batch(0, 1, [blob])]
    documents = _split(blob)
    if len(blob) <= min(max_statement, max_bytes) and count <= max_count:
        return [Batch(0, count, documents)]
    batches: list[Batch] = []
    start, batch_bytes = 0, 0
    for index, document in enumerate(documents):
        size = len(document)
        _check_size(size, max_statement, kind)
        if index > start and (batch_bytes + size > max_bytes or index - start >= max_count):
            batches.append(Batch(start, index, documents[start:index]))
            start, batch_bytes = index, 0
        batch_bytes += size
    batches.append(Batch(start, count, documents[start:count]))
    return batches


def _check_size(size: int, limit: int, kind: WriteKind) -> None:
    if size > limit:
        what = "document" if kind is WriteKind.INSERT else f"{kind.command} statement"
        raise DocumentTooLarge(
            f"a {what} of {size} bytes is larger than the server's limit of {limit} bytes",
            size=size,
            max_size=limit,
        )
