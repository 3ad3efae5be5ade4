"""bench/orm: mongotor's ORM beside Beanie and MongoEngine, CPU per document and
the ODM benchmark workloads.

    uv run --all-packages python -m bench.orm [--quick]

Part 1, CPU only, on the model the [orm] issue names: 5 scalars, a datetime, a
list of strings, one embedded document and a list of 3 embedded documents,
declared in each library (bench/_orm_peers.py). Per document: load from a
decoded dict (what a query does with each result), load and then read every
field (mongotor.orm converts nothing until read; Beanie and MongoEngine convert
at load), construct from keyword arguments (the embedded documents too), and
dump for a write (what an insert does before it sends the document: for
mongotor.orm and MongoEngine the pre-write validation and the stored form; for
Beanie its stored form only, as its insert does by default). Beside them, a
floor: plain Python doing the same job with no ODM. Nothing here talks to a
server; a fakemongo process runs only because Beanie's ``init_beanie`` asks one
for its version.

Part 2, against fakemongo in another process (client CPU time per operation,
as bench/client measures it), the workloads of the MongoDB ODM benchmark spec:
flat models on small_doc.json (find by _id, find many, update one field of a
loaded model, create) and nested models on the issue's model (create, find by a
nested field and _id), each library its own way, beside the raw mongotor
client and PyMongo async doing the same with dicts.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
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

from ._common import (
    fakemongo_process,
    format_ns,
    load,
    measure,
    measure_async,
    measure_pair,
    table,
)
from ._orm_peers import (
    BPerson,
    BSmall,
    MPerson,
    MSmall,
    beanie_cpu,
    beanie_ops,
    init_peers,
    mongoengine_cpu,
    mongoengine_ops,
)

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


def read_all(person: Any, id_name: str = "_id") -> object:
    """Read every field (the same attribute names in the three libraries)."""
    address = person.address
    return (
        getattr(person, id_name),
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


CPU_ROWS = [
    # label, the target, what the issue reports for Beanie / MongoEngine
    ("load from a decoded dict", "<= 2 us", "17 / 130 us"),
    ("  load, then read every field", "-", "-"),
    ("construct from keyword arguments", "<= 5 us", "14 / 161 us"),
    ("dump for a write", "<= 5 us", "67 / 85 us"),
]


def cpu_rows(quick: bool) -> list[list[str]]:
    person = make_person()
    person._id = ObjectId()
    stored = person.to_mongo()
    number = 1_000 if quick else 10_000

    def load_one() -> object:
        return Person.from_mongo(dict(stored))

    def load_and_read() -> object:
        return read_all(Person.from_mongo(dict(stored)))

    def dump_for_write() -> object:
        # What save() does to a new document before it sends the insert.
        return person._insert_form()

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

    b_load, b_construct, b_dump = beanie_cpu(CREATED)
    m_load, m_construct, m_dump = mongoengine_cpu(CREATED)
    libraries: list[list[Callable[[], object]]] = [
        [load_one, b_load, m_load, copy_floor],
        [
            load_and_read,
            lambda: read_all(b_load(), "id"),
            lambda: read_all(m_load(), "id"),
            read_floor,
        ],
        [make_person, b_construct, m_construct, make_plain],
        [dump_for_write, b_dump, m_dump, dump_floor],
    ]
    out = []
    for (label, target, reported), operations in zip(CPU_ROWS, libraries, strict=True):
        mine, beanie_op, mongoengine_op, floor_op = operations
        # Ours and the floor in alternation (the median of per-round ratios
        # cancels the machine's drift); the peers, 10-100x slower, with fewer calls.
        ours_timing, floor_timing, ratio = measure_pair(mine, floor_op, number=number)
        ours, floor = ours_timing.per_op_ns, floor_timing.per_op_ns
        beanie = measure(beanie_op, number=max(number // 20, 100)).per_op_ns
        mongoengine = measure(mongoengine_op, number=max(number // 100, 50)).per_op_ns
        out.append(
            [
                label,
                format_ns(ours),
                f"{format_ns(beanie)} ({beanie / ours:.0f}x)",
                f"{format_ns(mongoengine)} ({mongoengine / ours:.0f}x)",
                f"{format_ns(floor)} ({ratio:.1f}x)",
                target,
                reported,
            ]
        )
    return out


# -- part 2: the ODM benchmark workloads ----------------------------------------------------------


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
    small: dict[str, Any], one_id: ObjectId, loaded: SmallDoc, person_id: ObjectId
) -> dict[str, Operation]:
    by_key = {field.key: field.attname for field in SmallDoc._fields}
    values = {by_key[key]: value for key, value in small.items()}
    counter = iter(range(10**9))

    async def create() -> object:
        document = SmallDoc(**values)
        await document.save()
        return document

    async def update() -> object:
        loaded.n1 = next(counter)
        await loaded.save()
        return loaded

    async def find_one() -> object:
        return await SmallDoc.objects.find_one(one_id)

    async def find_many() -> object:
        return await SmallDoc.objects.all()

    async def nested_create() -> object:
        document = make_person()
        await document.save()
        return document

    async def nested_find() -> object:
        return await Person.objects.find_one({"address.city": "Lisbon", "_id": person_id})

    return {
        "create": create,
        "update": update,
        "find_one": find_one,
        "find_many": find_many,
        "nested_create": nested_create,
        "nested_find": nested_find,
    }


def _beanie_nested(person_id: ObjectId) -> dict[str, Operation]:
    construct = beanie_cpu(CREATED)[1]

    async def nested_create() -> object:
        return await construct().insert()

    async def nested_find() -> object:
        return await BPerson.find_one({"address.city": "Lisbon", "_id": person_id})

    return {"nested_create": nested_create, "nested_find": nested_find}


def _mongoengine_nested(person_id: ObjectId) -> dict[str, Callable[[], object]]:
    construct = mongoengine_cpu(CREATED)[1]

    def nested_create() -> object:
        return construct().save()

    def nested_find() -> object:
        return MPerson.objects(address__city="Lisbon", id=person_id).first()

    return {"nested_create": nested_create, "nested_find": nested_find}


def _driver_ops(
    db: Any, name: str, small: dict[str, Any], one_id: ObjectId, person_id: ObjectId
) -> dict[str, Operation]:
    """The workloads through a driver's own collections, mongotor's client or PyMongo
    async (the calls are the same); inserts go to collections named for the driver."""
    inserts, nested_inserts = db[f"small_{name}"], db[f"person_{name}"]
    docs, people = db.small_orm, db.person
    counter = iter(range(10**9))
    nested = make_person()._dump()
    nested.pop("_id", None)

    async def create() -> object:
        return await inserts.insert_one(dict(small))

    async def update() -> object:
        return await docs.update_one({"_id": one_id}, {"$set": {"CxSCo4jD": next(counter)}})

    async def find_one() -> object:
        return await docs.find_one({"_id": one_id})

    async def find_many() -> object:
        return await docs.find().to_list()

    async def nested_create() -> object:
        return await nested_inserts.insert_one(dict(nested))  # a new dict: the insert adds an _id

    async def nested_find() -> object:
        return await people.find_one({"address.city": "Lisbon", "_id": person_id})

    return {
        "create": create,
        "update": update,
        "find_one": find_one,
        "find_many": find_many,
        "nested_create": nested_create,
        "nested_find": nested_find,
    }


WORKLOADS = [
    # key, label, calls per sample (full / quick). Reads run before the writes
    # that add documents, so that "find many" reads the 1,000 seeded ones.
    ("find_one", "flat: find by _id", (1000, 100)),
    ("find_many", "flat: find many (1,000 models)", (10, 2)),
    ("update", "flat: update one field of a loaded model", (1000, 100)),
    ("create", "flat: create (save a new model)", (1000, 100)),
    ("nested_find", "nested: find by a nested field and _id", (1000, 100)),
    ("nested_create", "nested: create (the issue's model)", (1000, 100)),
]

LIBRARIES = ["mongotor.orm", "Beanie", "MongoEngine", "mongotor client", "pymongo async"]


def odm_rows(uri: str, runner: asyncio.Runner, quick: bool) -> list[list[str]]:
    small = load("small_doc.json")
    small.pop("_id", None)
    db = Database.connect(uri, "bench")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    seeded = [dict(copy.deepcopy(small), _id=ObjectId()) for _ in range(1000)]
    one_id = seeded[0]["_id"]
    person_id = ObjectId()

    async def seed() -> tuple[SmallDoc, BSmall]:
        person = make_person()._dump()
        for name in ("small_orm", "small_beanie", "small_mongoengine"):
            await db[name].insert_many(copy.deepcopy(seeded))
        for name in ("person", "person_beanie", "person_mongoengine"):
            await db[name].insert_one(dict(copy.deepcopy(person), _id=person_id))
        found = await SmallDoc.objects.find_one(one_id)
        theirs = await BSmall.get(one_id)
        assert found is not None
        assert theirs is not None
        return found, theirs

    loaded, b_loaded = runner.run(seed())
    m_loaded = MSmall.objects(id=one_id).first()
    asynchronous: dict[str, dict[str, Operation]] = {
        "mongotor.orm": _orm_ops(small, one_id, loaded, person_id),
        "Beanie": {**beanie_ops(small, one_id, b_loaded), **_beanie_nested(person_id)},
        "mongotor client": _driver_ops(db, "raw", small, one_id, person_id),
        "pymongo async": _driver_ops(client.bench, "pymongo", small, one_id, person_id),
    }
    mongoengine = {**mongoengine_ops(small, one_id, m_loaded), **_mongoengine_nested(person_id)}
    rows = []
    for key, label, (full, few) in WORKLOADS:
        number = few if quick else full
        timings = {
            name: measure_async(runner.run, operations[key], number=number).per_op_ns
            for name, operations in asynchronous.items()
        }
        timings["MongoEngine"] = measure(mongoengine[key], number=number).per_op_ns
        orm = timings["mongotor.orm"]
        rows.append(
            [
                label,
                *(format_ns(timings[name]) for name in LIBRARIES),
                f"{orm / timings['Beanie']:.2f}x",
                f"{orm / timings['mongotor client']:.2f}x",
            ]
        )
    runner.run(db.close())
    runner.run(client.close())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="mongotor's ORM beside Beanie and MongoEngine")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with fakemongo_process() as uri, asyncio.Runner() as runner:
        peers_client = runner.run(init_peers(uri))
        print(
            table(
                "CPU per document, the issue's model (no server is used): ours and the "
                "floor timed in alternation, median of 15; peers median of 7. (Nx): the "
                "peer's time over ours; floor: plain Python, no ODM (dict copy; dict reads; "
                "__slots__ classes; a dict comprehension), and the median per-round ratio "
                "of ours to it. Dump: mongotor.orm and MongoEngine validate and "
                "convert; Beanie converts only (its insert() validates only with "
                "validate_on_save, off by default)",
                [
                    "per document",
                    "mongotor.orm",
                    "Beanie",
                    "MongoEngine",
                    "floor (no ODM)",
                    "target",
                    "issue: Beanie / MongoEngine",
                ],
                cpu_rows(args.quick),
            )
        )
        print()
        print(
            table(
                "ODM benchmark workloads: client CPU per operation (median of 7; fakemongo "
                "in another process). Flat: small_doc.json; nested: the issue's model. "
                "MongoEngine is synchronous (PyMongo)",
                ["workload", *LIBRARIES, "orm/Beanie", "orm/client"],
                odm_rows(uri, runner, args.quick),
            )
        )
        runner.run(peers_client.close())


if __name__ == "__main__":
    main()
