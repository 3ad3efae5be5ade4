"""QuerySets against fakemongo: chainable, immutable, lazy; awaited (every
match, never capped), streamed, counted; partial loads with only()."""

from __future__ import annotations

from typing import Any

import pytest

from mongotor.database import Database
from mongotor.errors import InvalidOperationError
from mongotor.orm import (
    Collection,
    EmbeddedDocument,
    EmbeddedField,
    FieldNotLoadedError,
    IntegerField,
    ObjectIdField,
    Q,
    QuerySet,
    StringField,
)

from .conftest import Commands


class Size(EmbeddedDocument):
    width = IntegerField(name="w")


class Box(Collection):
    __collection__ = "box"
    _id = ObjectIdField()
    label = StringField(name="l")
    n = IntegerField()
    size = EmbeddedField(Size)


async def seed(count: int) -> None:
    await Box.get_collection().insert_many(
        [{"l": f"box{i:04d}", "n": i, "size": {"w": i % 7}} for i in range(count)]
    )


@pytest.mark.asyncio
async def test_a_queryset_is_lazy_and_immutable(db: Database[Any], commands: Commands) -> None:
    everything = Box.objects.all()
    big = everything.filter(Box.n >= 5)
    page = big.sort("-n").skip(1).limit(2).only("label")
    assert everything.query == {}
    assert big.query == {"n": {"$gte": 5}}
    assert page.query == big.query
    assert commands.named("find") == []
    assert isinstance(page, QuerySet)
    assert repr(page) == (
        "<QuerySet Box filter={'n': {'$gte': 5}} sort=[('n', -1)] skip=1 limit=2 fields=('l',)>"
    )
    assert repr(everything) == "<QuerySet Box filter={}>"
    assert page.model is Box


@pytest.mark.asyncio
async def test_awaiting_gives_every_match_never_capped(
    db: Database[Any], commands: Commands
) -> None:
    await seed(250)
    boxes = await Box.objects.all()
    assert len(boxes) == 250
    assert len(commands.named("getMore")) >= 1  # past the first batch
    assert await Box.objects.filter(Box.n < 10).count() == 10


@pytest.mark.asyncio
async def test_streaming(db: Database[Any]) -> None:
    await seed(150)
    seen = [box.n async for box in Box.objects.filter(Box.n >= 100).sort("n")]
    assert seen == list(range(100, 150))


@pytest.mark.asyncio
async def test_filter_chains_and_accepts_dicts_and_keywords(db: Database[Any]) -> None:
    await seed(30)
    query = Box.objects.filter(Box.n >= 10).filter({"n": {"$lt": 20}}, label="box0015")
    assert query.query == {"$and": [{"n": {"$gte": 10}}, {"n": {"$lt": 20}}], "l": "box0015"}
    assert [box.n for box in await query] == [15]
    either = Box.objects.filter((Box.n == 1) | (Box.n == 2)).sort(Box.n)
    assert [box.n for box in await either] == [1, 2]
    path = Box.objects.filter(Box.size.width == 3, ~(Box.n > 20)).sort("n")
    assert [box.n for box in await path] == [3, 10, 17]
    by_unknown = Box.objects.filter(extra=None)
    assert by_unknown.query == {"extra": None}
    assert await by_unknown.count() == 30
    assert Box.objects.filter(Q({"n": 1})).query == {"n": 1}


@pytest.mark.asyncio
async def test_sort_skip_limit(db: Database[Any], commands: Commands) -> None:
    await seed(10)
    window = Box.objects.sort(-Box.n).skip(2).limit(3)
    assert [box.n for box in await window] == [7, 6, 5]
    assert await window.count() == 3
    assert [box.n for box in await window.limit(0)] == [7, 6, 5, 4, 3, 2, 1, 0]
    assert [box.n for box in await Box.objects.sort(("size.width", -1), "n").limit(2)] == [6, 5]
    assert commands.last("find")["sort"] == {"size.w": -1, "n": 1}
    assert (await Box.objects.sort().first()) is not None
    with pytest.raises(ValueError, match="skip must be non-negative"):
        Box.objects.skip(-1)
    with pytest.raises(ValueError, match="limit must be non-negative"):
        Box.objects.limit(-1)
    with pytest.raises(TypeError, match="a sort key is"):
        Box.objects.sort(3)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_first_and_exists(db: Database[Any]) -> None:
    assert await Box.objects.first() is None
    assert not await Box.objects.exists()
    await seed(5)
    first = await Box.objects.sort("-n").first()
    assert first is not None and first.n == 4
    assert await Box.objects.filter(Box.n == 3).exists()
    assert not await Box.objects.filter(Box.n == 30).exists()
    assert not await Box.objects.skip(5).exists()


@pytest.mark.asyncio
async def test_only_loads_some_fields(db: Database[Any], commands: Commands) -> None:
    await seed(3)
    box = await Box.objects.only("label", Box.size.width).sort("n").first()
    assert box is not None
    assert commands.last("find")["projection"] == {"_id": 1, "l": 1, "size.w": 1}
    assert box.label == "box0000"
    assert box.size is not None and box.size.width == 0
    with pytest.raises(FieldNotLoadedError):
        _ = box.n
    box.label = "renamed"
    commands.clear()
    await box.save()
    assert commands.last("update")["updates"][0]["u"] == {"$set": {"l": "renamed"}}
    with pytest.raises(InvalidOperationError, match="loaded with only"):
        await box.update(force=True)
    streamed = [b async for b in Box.objects.only("n").sort("n")]
    assert [b.n for b in streamed] == [0, 1, 2]
    with pytest.raises(FieldNotLoadedError):
        _ = streamed[0].label
    assert Box.objects.only().query == {}


@pytest.mark.asyncio
async def test_distinct(db: Database[Any]) -> None:
    await seed(20)
    assert sorted(await Box.objects.filter(Box.n < 10).distinct(Box.size.width)) == list(range(7))
    assert await Box.objects.filter(Box.n == 3).distinct("label") == ["box0003"]


@pytest.mark.asyncio
async def test_delete_and_update_every_match(db: Database[Any]) -> None:
    await seed(10)
    assert await Box.objects.filter(Box.n < 3).delete() == 3
    assert await Box.objects.filter(Box.n >= 8).update({"$set": {"l": "big"}}) == 2
    assert await Box.objects.filter(label="big").count() == 2
    with pytest.raises(InvalidOperationError, match="remove skip, limit and sort"):
        await Box.objects.limit(1).delete()
    with pytest.raises(InvalidOperationError):
        await Box.objects.sort("n").update({"$set": {"n": 0}})


@pytest.mark.asyncio
async def test_cursor_options(db: Database[Any], commands: Commands) -> None:
    await seed(5)
    boxes = await Box.objects.all().options(batch_size=2, comment="why").options(hint={"_id": 1})
    assert len(boxes) == 5
    command = commands.last("find")
    assert (command["batchSize"], command["comment"], command["hint"]) == (2, "why", {"_id": 1})
