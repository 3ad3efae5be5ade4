"""``Model.objects``: the 2012 query methods against fakemongo, and mapReduce
(which fakemongo refuses) against a scripted executor."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from mongotor.client import DEFAULT_LIMITS, Reply, Request, ServerLimits
from mongotor.client import Database as ClientDatabase
from mongotor.database import Database
from mongotor.errors import ProgrammingError
from mongotor.orm import Collection, IntegerField, Manager, ObjectIdField, StringField

from .conftest import Commands


class Item(Collection):
    __collection__ = "item"
    _id = ObjectIdField()
    name = StringField(name="n")
    size = IntegerField()
    color = StringField()


async def seed() -> list[Item]:
    items = [
        Item(name="a", size=3, color="red"),
        Item(name="b", size=1, color="blue"),
        Item(name="c", size=2, color="red"),
    ]
    for item in items:
        await item.save()
    return items


@pytest.mark.asyncio
async def test_find_one_by_id_filter_or_string(db: Database[Any]) -> None:
    a, b, _ = await seed()
    found = await Item.objects.find_one(a._id)
    assert found is not None and found.name == "a"
    assert not found.is_new and found.dirty_fields == []
    by_string = await Item.objects.find_one(str(b._id))
    assert by_string is not None and by_string._id == b._id
    by_filter = await Item.objects.find_one({"n": "c"})
    assert by_filter is not None and by_filter.size == 2
    by_expression = await Item.objects.find_one(Item.size == 1)
    assert by_expression is not None and by_expression.name == "b"
    assert await Item.objects.find_one(ObjectId()) is None
    assert await Item.objects.find_one("not an id") is None
    first = await Item.objects.find_one(sort=[("size", -1)])
    assert first is not None and first.name == "a"


@pytest.mark.asyncio
async def test_find_returns_every_match(db: Database[Any], commands: Commands) -> None:
    await seed()
    reds = await Item.objects.find({"color": "red"})
    assert sorted(item.name for item in reds if item.name) == ["a", "c"]
    everything = await Item.objects.find()
    assert len(everything) == 3
    assert await Item.objects.find({"color": "green"}) == []


@pytest.mark.asyncio
async def test_find_takes_the_2012_options(db: Database[Any], commands: Commands) -> None:
    await seed()
    by_pairs = await Item.objects.find({}, sort=[("size", 1)], skip=1, limit=1)
    assert [item.name for item in by_pairs] == ["c"]
    by_name = await Item.objects.find(sort="-size")
    assert [item.size for item in by_name] == [3, 2, 1]
    by_field = await Item.objects.find(sort=Item.size)
    assert [item.size for item in by_field] == [1, 2, 3]
    by_document = await Item.objects.find(sort={"name": -1})
    assert [item.name for item in by_document] == ["c", "b", "a"]
    by_key = await Item.objects.find(sort=-Item.name)
    assert [item.name for item in by_key] == ["c", "b", "a"]
    by_tuple = await Item.objects.find(sort=("name", 1))
    assert [item.name for item in by_tuple] == ["a", "b", "c"]
    partial = await Item.objects.find({}, ["name"], batch_size=1, sort="name")
    assert [item.name for item in partial] == ["a", "b", "c"]
    command = commands.named("find")[-1]
    assert command["projection"] == {"_id": 1, "n": 1}
    assert command["sort"] == {"n": 1}
    assert command["batchSize"] == 1


@pytest.mark.asyncio
async def test_count_distinct_and_sum(db: Database[Any]) -> None:
    await seed()
    assert await Item.objects.count() == 3
    assert await Item.objects.count({"color": "red"}) == 2
    assert await Item.objects.count(Item.size > 1) == 2
    assert sorted(await Item.objects.distinct("color")) == ["blue", "red"]
    assert await Item.objects.distinct("name", {"color": "blue"}) == ["b"]
    assert await Item.objects.distinct(Item.name, Item.size == 3) == ["a"]
    assert await Item.objects.sum({"color": "red"}, "size") == 5
    assert await Item.objects.sum(None, Item.size) == 6
    assert await Item.objects.sum({"color": "green"}, "size") == 0


@pytest.mark.asyncio
async def test_aggregate(db: Database[Any]) -> None:
    await seed()
    rows = await Item.objects.aggregate(
        [{"$group": {"_id": "$color", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
    )
    assert rows == [{"_id": "blue", "n": 1}, {"_id": "red", "n": 2}]
    streamed = [row async for row in Item.objects.aggregate([{"$count": "n"}], batch_size=1)]
    assert streamed == [{"n": 3}]


@pytest.mark.asyncio
async def test_map_reduce_is_refused_by_fakemongo(db: Database[Any], commands: Commands) -> None:
    await seed()
    with pytest.raises(ProgrammingError) as caught:
        await Item.objects.map_reduce("function() {}", "function() {}", {"color": "red"})
    assert caught.value.code == 59
    sent = commands.named("mapReduce")[-1]
    assert sent["query"] == {"color": "red"}
    assert sent["out"] == {"inline": 1}
    with pytest.raises(ProgrammingError):
        await Item.objects.map_reduce("function() {}", "function() {}", out="totals")
    assert commands.named("mapReduce")[-1]["out"] == {"replace": "totals"}


class MapReduceExecutor:
    """Answers mapReduce as a server that has it does (fakemongo does not)."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    async def execute(self, request: Request) -> Reply:
        self.commands.append(dict(request.command))
        if "out" in request.command and request.command["out"] == {"inline": 1}:
            return Reply({"results": [{"_id": "red", "value": 2.0}], "ok": 1}, "fake:1")
        return Reply({"result": "totals", "ok": 1}, "fake:1")

    @property
    def limits(self) -> ServerLimits:
        return DEFAULT_LIMITS


@pytest.mark.asyncio
async def test_map_reduce_results_from_a_server_that_has_it() -> None:
    executor = MapReduceExecutor()
    ClientDatabase._default = ClientDatabase("app", executor)
    results = await Item.objects.map_reduce("m", "r", query={"color": "red"}, sort={"n": 1})
    assert results == [{"_id": "red", "value": 2.0}]
    assert executor.commands[-1]["sort"] == {"n": 1}
    output = await Item.objects.map_reduce("m", "r", out="totals")
    assert output.name == "totals"
    assert "query" not in executor.commands[-1]


@pytest.mark.asyncio
async def test_truncate(db: Database[Any], commands: Commands) -> None:
    await seed()
    assert await Item.objects.truncate() == 3
    assert await Item.objects.count() == 0
    assert commands.last("delete")["deletes"] == [{"q": {}, "limit": 0}]


@pytest.mark.asyncio
async def test_querysets_from_the_manager(db: Database[Any]) -> None:
    await seed()
    assert [i.name async for i in Item.objects.sort("name")] == ["a", "b", "c"]
    assert sorted([i.name async for i in Item.objects if i.name]) == ["a", "b", "c"]
    assert len(await Item.objects.all()) == 3
    assert len(await Item.objects.filter(color="red")) == 2
    only = await Item.objects.only("name").sort("name").first()
    assert only is not None and only.name == "a"
    assert Item.objects.select_related().model is Item
    assert repr(Item.objects) == "<Manager of Item>"
    assert isinstance(Item.objects, Manager)
