"""ObjectIds made in bulk are ObjectIds like any other."""

from __future__ import annotations

import pytest
from bson import ObjectId

from mongotor.client import _ids


def test_bulk_ids_are_valid_distinct_and_increasing() -> None:
    ids = _ids.object_ids(1000)
    assert len(set(ids)) == 1000
    assert all(type(oid) is ObjectId for oid in ids)
    assert ids == sorted(ids)
    assert [ObjectId(str(oid)) for oid in ids[:3]] == ids[:3]
    after = ObjectId()
    assert after > ids[-1]  # bson's own counter moved past them
    assert ids[0].generation_time.year >= 2024


def test_the_counter_wraps_around(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ObjectId, "_inc", 0xFFFFFF)
    first, second = _ids.object_ids(2)
    assert str(first).endswith("ffffff") and str(second).endswith("000000")
    assert ObjectId._inc == 1


def test_a_fallback_if_bson_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    def changed(count: int) -> list[ObjectId]:
        raise AttributeError("_inc_lock")

    monkeypatch.setattr(_ids, "_bulk", changed)
    ids = _ids.object_ids(3)
    assert len(set(ids)) == 3 and all(type(oid) is ObjectId for oid in ids)
