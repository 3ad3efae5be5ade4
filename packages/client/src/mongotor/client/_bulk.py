"""Running write commands: one statement (insert_one, update_one...) or many
(insert_many, bulk_write), batched, with results merged as the CRUD spec's
bulk write results and errors raised as PyMongo raises them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mongotor.errors import BulkWriteError
from mongotor.wire import DocumentSequence

from ._batching import Run, plan_batches
from ._concerns import WriteConcern
from ._errors_from import check_write_reply
from ._executor import Executor, OperationKind, Request
from ._write_models import WriteKind

__all__ = ["empty_summary", "execute_runs", "execute_write", "write_command"]


def write_command(
    kind: WriteKind,
    collection: str,
    *,
    ordered: bool,
    write_concern: WriteConcern,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """The body of an insert / update / delete command, without its statements."""
    command: dict[str, Any] = {kind.command: collection, "ordered": ordered}
    command.update(options)
    if not write_concern.is_server_default:
        command["writeConcern"] = write_concern.to_document()
    return command


async def execute_write(
    executor: Executor,
    database: str,
    collection: str,
    kind: WriteKind,
    statement: Mapping[str, Any],
    *,
    multi: bool,
    write_concern: WriteConcern,
    options: Mapping[str, Any],
    check_keys: bool = False,
) -> Mapping[str, Any]:
    """Run one statement; return the reply (``{}`` when unacknowledged). Raises
    :class:`~mongotor.errors.WriteError` (:class:`~mongotor.errors.DuplicateKeyError`)
    or :class:`~mongotor.errors.WriteConcernError` from the reply, and
    :class:`~mongotor.errors.DocumentTooLarge` before sending."""
    (batch,) = plan_batches(kind, [statement], executor.limits, check_keys=check_keys)
    command = write_command(
        kind, collection, ordered=True, write_concern=write_concern, options=options
    )
    reply = await executor.execute(
        Request(
            database,
            command,
            OperationKind.WRITE,
            sequences=(DocumentSequence(kind.field, batch.documents),),
            retryable=not multi,
            acknowledged=write_concern.acknowledged,
        )
    )
    return check_write_reply(reply.document, reply.address)


def empty_summary() -> dict[str, Any]:
    """A bulk result with nothing done yet (PyMongo's ``bulk_api_result`` shape)."""
    return {
        "writeErrors": [],
        "writeConcernErrors": [],
        "nInserted": 0,
        "nUpserted": 0,
        "nMatched": 0,
        "nModified": 0,
        "nRemoved": 0,
        "upserted": [],
    }


def _merge(
    summary: dict[str, Any],
    run: Run,
    start: int,
    reply: Mapping[str, Any],
) -> bool:
    """Add one batch's reply to ``summary``; whether it had write errors."""
    n = int(reply.get("n", 0))
    if run.kind is WriteKind.INSERT:
        summary["nInserted"] += n
    elif run.kind is WriteKind.DELETE:
        summary["nRemoved"] += n
    else:
        upserted = reply.get("upserted", ())
        summary["nMatched"] += n - len(upserted)
        summary["nModified"] += int(reply.get("nModified", 0))
        summary["nUpserted"] += len(upserted)
        for item in upserted:
            summary["upserted"].append(
                {"index": run.indexes[start + item["index"]], "_id": item["_id"]}
            )
    errors = reply.get("writeErrors", ())
    for error in errors:
        position = start + int(error["index"])
        entry = dict(error)
        entry["index"] = run.indexes[position]
        entry["op"] = run.statements[position]
        summary["writeErrors"].append(entry)
    concern = reply.get("writeConcernError")
    if concern:
        summary["writeConcernErrors"].append(dict(concern))
    return bool(errors)


async def execute_runs(
    executor: Executor,
    database: str,
    collection: str,
    runs: Sequence[Run],
    *,
    ordered: bool,
    write_concern: WriteConcern,
    options: Mapping[str, Any],
    check_keys: bool = False,
) -> dict[str, Any]:
    """Send every run, batched; return the merged summary. An ordered bulk stops
    at the first batch with a write error. Raises :class:`BulkWriteError` (with
    the summary as ``details``) if any write or write concern failed."""
    summary = empty_summary()
    acknowledged = write_concern.acknowledged
    for run in runs:
        batches = plan_batches(run.kind, run.statements, executor.limits, check_keys=check_keys)
        command = write_command(
            run.kind, collection, ordered=ordered, write_concern=write_concern, options=options
        )
        for batch in batches:
            reply = await executor.execute(
                Request(
                    database,
                    command,
                    OperationKind.WRITE,
                    sequences=(DocumentSequence(run.kind.field, batch.documents),),
                    retryable=not run.multi,
                    acknowledged=acknowledged,
                )
            )
            if acknowledged and _merge(summary, run, batch.start, reply.document) and ordered:
                raise BulkWriteError(summary)
    if summary["writeErrors"] or summary["writeConcernErrors"]:
        summary["writeErrors"].sort(key=lambda error: error["index"])
        raise BulkWriteError(summary)
    return summary
