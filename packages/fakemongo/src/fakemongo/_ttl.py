"""TTL indexes: remove documents whose indexed date is older than
``expireAfterSeconds`` (manual: "TTL Indexes").

mongod's TTL monitor runs every ``ttlMonitorSleepSecs`` (60 s); fakemongo's
runs on the same schedule by default (``ServerOptions.ttl_monitor_seconds``),
and tests can run a pass now with ``FakeMongo.ttl_monitor.run_now()``. A document expires when the indexed field is a date
(or an array holding dates: the earliest counts) older than now minus
``expireAfterSeconds``; documents whose field is not a date never expire, nor
do documents a partial TTL index leaves out.
"""

from __future__ import annotations

import datetime
from typing import Any

from ._paths import LeafArrays, candidates
from ._storage import Storage

__all__ = ["expire_documents"]


def _as_utc(value: datetime.datetime) -> datetime.datetime:
    # bson decodes dates as naive UTC datetimes unless tz_aware is set.
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def expire_documents(storage: Storage, now: datetime.datetime | None = None) -> int:
    """Delete every expired document in every TTL-indexed collection; returns how many."""
    now = now or datetime.datetime.now(datetime.UTC)
    removed = 0
    for database in list(storage.databases.values()):
        for collection in list(database.collections.values()):
            for index in list(collection.indexes.values()):
                if index.expire_after_seconds is None:
                    continue
                cutoff = now - datetime.timedelta(seconds=index.expire_after_seconds)
                parts = tuple(index.fields[0].split("."))
                expired: list[Any] = []
                for key, doc in collection.documents.items():
                    if index.partial is not None and not index.partial.matches(doc):
                        continue  # not in a partial index, so never expired by it
                    dates = [
                        _as_utc(value)
                        for value, _ in candidates(doc, parts, LeafArrays.ELEMENTS)
                        if isinstance(value, datetime.datetime)
                    ]
                    if dates and min(dates) <= cutoff:
                        expired.append(key)
                for key in expired:
                    collection.delete(key)
                removed += len(expired)
    return removed
