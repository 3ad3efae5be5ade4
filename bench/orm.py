"""bench/orm: mongotor's ORM, CPU per document and the ODM benchmark workloads.

    uv run --all-packages python -m bench.orm [--quick]

Part 1, CPU only (no server), on the model the [orm] issue names: 5 scalars, a
datetime, a list of strings, one embedded document and a list of 3 embedded
documents. Per document: load from a decoded dict (what a query does with each
result), load and then read every field (loading converts nothing until read:
this is the cost of an eager ODM's load), construct from keyword arguments (the
embedded documents too), and dump for a write (the pre-write validation and the
stored form an insert sends). Beside each, a floor: plain Python doing the same
job with no ODM (a dict copy; reading a dict; a class with ``__slots__``; a
dict comprehension of the same document).

Beanie, MongoEngine and ODMantic are not installed in this workspace (nothing
new is installed without asking), so they are not measured: the figures the
issue quotes for them (measured elsewhere, on another machine) are printed as
reported. Compare ratios to the floors, not absolute times, across machines.

Part 2, against fakemongo in another process (client CPU time per operation,
as bench/client measures it), the flat-model workloads of the MongoDB ODM
benchmark spec on small_doc.json: small model creation (save a new model),
small model update (one field of a loaded model), find by _id, and find many
(1,000 models) -- the ORM beside the raw mongotor client and PyMongo async doing
the same with dicts.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from mongotor.database import Database
from mongotor.orm import (
    BooleanField,
    Collection,
    DateTimeField,
    EmbeddedDocument,
    EmbeddedField,
    FloatField,
    IntegerField,
    ListField,
    ObjectIdField,
    StringField,
)

from ._common import Timing, fakemongo_process, format_ns, load, measure, measure_async, table

# -- part 1: the model -------------------------------------------------------------------


class Address(EmbeddedDocument):
    street = StringField()
    city = StringField(required=True)
    zip = StringField()


class Person(Collection):
    __collection__ = "person"
    _id = ObjectIdField()
    name = StringField(required=True)
    nick = StringField()
    age = IntegerField()
    score = FloatField()
    active = BooleanField(default=False)
    created = DateTimeField()
    tags = ListField(StringField(), default=list)
    address = EmbeddedField(Address)
    previous = ListField(EmbeddedField(Address), default=list)


CREATED = datetime(2024, 5, 6, 7, 8, 9, 123000)


def make_person() -> Person:
    return Person(
        name="Ana",
        nick="ana",
        age=33,
        score=4.5,
        active=True,
        created=CREATED,
        tags=["a", "b", "c"],
        address=Address(street="1 Main St", city="Lisbon", zip="1000"),
        previous=[
            Address(street="2 Main St", city="Porto", zip="4000"),
            Address(street="3 Main St", city="Faro", zip="8000"),
            Address(street="4 Main St", city="Braga", zip="4700"),
        ],
    )


class PlainAddress:
    __slots__ = ("city", "street", "zip")

    def __init__(self, *, street: str, city: str, zip: str) -> None:
        self.street, self.city, self.zip = street, city, zip


class PlainPerson:
    """The construct floor: a class that stores its arguments and checks nothing."""

    __slots__ = ("active", "address", "age", "created", "name", "nick", "previous", "score", "tags")

    def __init__(
        self,
        *,
        name: str,
        nick: str,
        age: int,
        score: float,
        active: bool,
        created: datetime,
        tags: list[str],
        address: PlainAddress,
        previous: list[PlainAddress],
    ) -> None:
        self.name, self.nick, self.age, self.score, self.active = name, nick, age, score, active
        self.created, self.tags, self.address, self.previous = created, tags, address, previous


def make_plain() -> PlainPerson:
    return PlainPerson(
        name="Ana",
        nick="ana",
        age=33,
        score=4.5,
        active=True,
        created=CREATED,
        tags=["a", "b", "c"],
        address=PlainAddress(street="1 Main St", city="Lisbon", zip="1000"),
        previous=[
            PlainAddress(street="2 Main St", city="Porto", zip="4000"),
            PlainAddress(street="3 Main St", city="Faro", zip="8000"),
            PlainAddress(street="4 Main St", city="Braga", zip="4700"),
        ],
    )


def read_all(person: Person) -> object:
    address = person.address
    assert address is not None
    return (
        person._id,
        person.name,
        person.nick,
        person.age,
        person.score,
        person.active,
        person.created,
        person.tags,
        address.street,
        address.city,
        address.zip,
        [(p.street, p.city, p.zip) for p in person.previous],
    )


def read_all_dict(document: dict[str, Any]) -> object:
    address = document["address"]
    return (
        document["_id"],
        document["name"],
        document["nick"],
        document["age"],
        document["score"],
        document["active"],
        document["created"],
        document["tags"],
        address["street"],
        address["city"],
        address["zip"],
        [(p["street"], p["city"], p["zip"]) for p in document["previous"]],
    )


def cpu_rows(quick: bool) -> list[list[str]]:
    person = make_person()
    person._id = ObjectId()
    stored = person.to_mongo()
    number = 2_000 if quick else 50_000

    def load_one() -> object:
        return Person.from_mongo(dict(stored))

    def load_and_read() -> object:
        return read_all(Person.from_mongo(dict(stored)))

    def dump_for_write() -> object:
        # What save() does to a new document before it sends the insert.
        person._check(everything=False)
        return person._dump()

    def copy_floor() -> object:
        return dict(stored)

    def read_floor() -> object:
        return read_all_dict(dict(stored))

    def dump_floor() -> object:
        return {
            key: [dict(item) for item in value]
            if type(value) is list and value and type(value[0]) is dict
            else dict(value)
            if type(value) is dict
            else value
            for key, value in stored.items()
        }

    # The targets, and what it reports for Beanie and MongoEngine (not measured here).
    rows = [
        ("load from a decoded dict", load_one, copy_floor, "dict copy", "<= 2 us", "17 / 130 us"),
        (
            "  load, then read every field",
            load_and_read,
            read_floor,
            "dict copy + reads",
            "-",
            "-",
        ),
        (
            "construct from keyword arguments",
            make_person,
            make_plain,
            "__slots__ class",
            "<= 5 us",
            "14 / 161 us",
        ),
        (
            "dump for a write (validate + stored form)",
            dump_for_write,
            dump_floor,
            "dict comprehension",
            "<= 5 us",
            "67 / 85 us",
        ),
    ]
    out = []
    for label, ours, floor, floor_name, target, reported in rows:
        mine: Timing = measure(ours, number=number)
        base: Timing = measure(floor, number=number)
        out.append(
            [
                label,
                format_ns(mine.per_op_ns),
                f"{format_ns(base.per_op_ns)} ({floor_name})",
                f"{mine.per_op_ns / base.per_op_ns:.1f}x",
                target,
                reported,
            ]
        )
    return out


# -- part 2: the ODM benchmark workloads on small_doc.json ---------------------------------------


class SmallDoc(Collection):
    """small_doc.json as a model: its keys are not Python names, so each field
    names its stored key."""

    __collection__ = "small_orm"
    _id = ObjectIdField()
    s1 = StringField(name="oggaoR4O")
    s2 = StringField(name="Vxri7mmI")
    s3 = StringField(name="IQ8K4ZMG")
    s4 = StringField(name="WzI8s1W0")
    s5 = StringField(name="E5Aj2zB3")
    s6 = StringField(name="3MXe8Wi7")
    s7 = StringField(name="PHPSSV51")
    n1 = IntegerField(name="CxSCo4jD")
    n2 = IntegerField(name="5C8GSDC5")
    n3 = IntegerField(name="fC63DsLR")
    n4 = IntegerField(name="l6e0U4bR")
    n5 = IntegerField(name="TLRpkltp")
    n6 = IntegerField(name="Ph9CZN5L")


Operation = Callable[[], Awaitable[object]]


def _orm_ops(
    small: dict[str, Any], one_id: ObjectId, loaded: list[SmallDoc]
) -> dict[str, Operation]:
    by_key = {field.key: field.attname for field in SmallDoc._fields}
    values = {by_key[key]: value for key, value in small.items()}
    counter = iter(range(10**9))

    async def create() -> object:
        document = SmallDoc(**values)
        await document.save()
        return document

    async def update() -> object:
        document = loaded[0]
        document.n1 = next(counter)
        await document.save()
        return document

    async def find_one() -> object:
        return await SmallDoc.objects.find_one(one_id)

    async def find_many() -> object:
        return await SmallDoc.objects.all()

    return {"create": create, "update": update, "find_one": find_one, "find_many": find_many}


def _raw_ops(db: Database[Any], small: dict[str, Any], one_id: ObjectId) -> dict[str, Operation]:
    inserts, docs = db.small_raw, db.small_orm
    counter = iter(range(10**9))

    async def create() -> object:
        return await inserts.insert_one(dict(small))

    async def update() -> object:
        return await docs.update_one({"_id": one_id}, {"$set": {"CxSCo4jD": next(counter)}})

    async def find_one() -> object:
        return await docs.find_one({"_id": one_id})

    async def find_many() -> object:
        return await docs.find()

    return {"create": create, "update": update, "find_one": find_one, "find_many": find_many}


def _pymongo_ops(
    client: AsyncMongoClient[dict[str, Any]], small: dict[str, Any], one_id: ObjectId
) -> dict[str, Operation]:
    db = client.bench
    inserts, docs = db.small_pymongo, db.small_orm
    counter = iter(range(10**9))

    async def create() -> object:
        return await inserts.insert_one(dict(small))

    async def update() -> object:
        return await docs.update_one({"_id": one_id}, {"$set": {"CxSCo4jD": next(counter)}})

    async def find_one() -> object:
        return await docs.find_one({"_id": one_id})

    async def find_many() -> object:
        return await docs.find().to_list()

    return {"create": create, "update": update, "find_one": find_one, "find_many": find_many}


WORKLOADS = [
    # key, label, calls per sample (full / quick)
    ("create", "small model creation (save a new one)", (2000, 200)),
    ("update", "small model update (one field, loaded)", (2000, 200)),
    ("find_one", "find by _id", (2000, 200)),
    ("find_many", "find many: 1,000 models", (20, 3)),
]


def odm_rows(quick: bool) -> list[list[str]]:
    small = load("small_doc.json")
    small.pop("_id", None)
    with fakemongo_process() as uri, asyncio.Runner() as runner:
        db = Database.connect(uri, "bench")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        seeded = [dict(copy.deepcopy(small), _id=ObjectId()) for _ in range(1000)]
        one_id = seeded[0]["_id"]

        async def seed() -> list[SmallDoc]:
            await db.small_orm.insert_many(seeded)
            found = await SmallDoc.objects.find_one(one_id)
            assert found is not None
            return [found]

        loaded = runner.run(seed())
        libraries = {
            "mongotor.orm": _orm_ops(small, one_id, loaded),
            "mongotor client": _raw_ops(db, small, one_id),
            "pymongo async": _pymongo_ops(client, small, one_id),
        }
        rows = []
        for key, label, (full, few) in WORKLOADS:
            number = few if quick else full
            timings = {
                name: measure_async(runner.run, operations[key], number=number)
                for name, operations in libraries.items()
            }
            orm = timings["mongotor.orm"].per_op_ns
            raw = timings["mongotor client"].per_op_ns
            theirs = timings["pymongo async"].per_op_ns
            rows.append(
                [
                    label,
                    format_ns(orm),
                    format_ns(raw),
                    format_ns(theirs),
                    f"{orm / raw:.2f}x",
                    f"{orm / theirs:.2f}x",
                ]
            )
        runner.run(db.close())
        runner.run(client.close())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="mongotor's ORM: CPU per document, ODM workloads")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    print(
        table(
            "mongotor.orm, CPU per document (median of 7; no server). Beanie / MongoEngine: "
            "as the issue reports them, not measured here (not installed)",
            [
                "per document",
                "mongotor.orm",
                "floor (no ODM)",
                "vs floor",
                "target",
                "Beanie / MongoEngine",
            ],
            cpu_rows(args.quick),
        )
    )
    print()
    print(
        table(
            "ODM benchmark workloads on small_doc.json: client CPU per operation "
            "(median of 7; fakemongo in another process)",
            [
                "workload",
                "mongotor.orm",
                "mongotor client",
                "pymongo async",
                "orm/client",
                "orm/pymongo",
            ],
            odm_rows(args.quick),
        )
    )


if __name__ == "__main__":
    main()
