"""bench/orm's peers: the same models in Beanie and in MongoEngine, and what
each library does for the benchmark's operations.

The model is the one the [orm] issue names (5 scalars, a datetime, a list of
strings, one embedded document and a list of 3), as each library declares it:
Beanie as a ``Document`` holding pydantic models, MongoEngine as a ``Document``
with ``EmbeddedDocumentField`` / ``ListField(EmbeddedDocumentField)``. What each
operation runs is each library's own path for it:

- load: what a query does with each decoded result (Beanie ``parse_obj``, which
  validates every value into pydantic models; MongoEngine ``_from_son``).
- construct: the keyword constructor, embedded documents included.
- dump for a write: what an insert does before it sends the document. Beanie's
  ``insert()`` sends ``get_dict(doc, to_db=True)`` and re-validates only with
  ``validate_on_save`` (off by default: not timed, as by default it does not
  run); MongoEngine's ``save()`` runs ``validate()`` then ``to_mongo()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import mongoengine as me
import pydantic
from beanie import Document, PydanticObjectId, init_beanie
from beanie.odm.utils.dump import get_dict
from beanie.odm.utils.parsing import parse_obj
from bson import ObjectId
from pymongo import AsyncMongoClient

__all__ = [
    "BPerson",
    "BSmall",
    "MPerson",
    "MSmall",
    "beanie_cpu",
    "beanie_ops",
    "init_peers",
    "mongoengine_cpu",
    "mongoengine_ops",
]

# -- Beanie ------------------------------------------------------------------------------------


class BAddress(pydantic.BaseModel):
    street: str | None = None
    city: str
    zip: str | None = None


class BPerson(Document):
    name: str
    nick: str | None = None
    age: int | None = None
    score: float | None = None
    active: bool = False
    created: datetime | None = None
    tags: list[str] = pydantic.Field(default_factory=list)
    address: BAddress | None = None
    previous: list[BAddress] = pydantic.Field(default_factory=list)

    class Settings:
        name = "person_beanie"


class BSmall(Document):
    """small_doc.json: its keys are not Python names, so each field has an alias."""

    s1: str | None = pydantic.Field(default=None, alias="oggaoR4O")
    s2: str | None = pydantic.Field(default=None, alias="Vxri7mmI")
    s3: str | None = pydantic.Field(default=None, alias="IQ8K4ZMG")
    s4: str | None = pydantic.Field(default=None, alias="WzI8s1W0")
    s5: str | None = pydantic.Field(default=None, alias="E5Aj2zB3")
    s6: str | None = pydantic.Field(default=None, alias="3MXe8Wi7")
    s7: str | None = pydantic.Field(default=None, alias="PHPSSV51")
    n1: int | None = pydantic.Field(default=None, alias="CxSCo4jD")
    n2: int | None = pydantic.Field(default=None, alias="5C8GSDC5")
    n3: int | None = pydantic.Field(default=None, alias="fC63DsLR")
    n4: int | None = pydantic.Field(default=None, alias="l6e0U4bR")
    n5: int | None = pydantic.Field(default=None, alias="TLRpkltp")
    n6: int | None = pydantic.Field(default=None, alias="Ph9CZN5L")

    class Settings:
        name = "small_beanie"


# -- MongoEngine ----------------------------------------------------------------------------------


class MAddress(me.EmbeddedDocument):  # type: ignore[misc]
    street = me.StringField()
    city = me.StringField(required=True)
    zip = me.StringField()


class MPerson(me.Document):  # type: ignore[misc]
    meta = {"collection": "person_mongoengine"}  # noqa: RUF012 - MongoEngine's declaration
    name = me.StringField(required=True)
    nick = me.StringField()
    age = me.IntField()
    score = me.FloatField()
    active = me.BooleanField(default=False)
    created = me.DateTimeField()
    tags = me.ListField(me.StringField())
    address = me.EmbeddedDocumentField(MAddress)
    previous = me.ListField(me.EmbeddedDocumentField(MAddress))


class MSmall(me.Document):  # type: ignore[misc]
    meta = {"collection": "small_mongoengine"}  # noqa: RUF012 - MongoEngine's declaration
    s1 = me.StringField(db_field="oggaoR4O")
    s2 = me.StringField(db_field="Vxri7mmI")
    s3 = me.StringField(db_field="IQ8K4ZMG")
    s4 = me.StringField(db_field="WzI8s1W0")
    s5 = me.StringField(db_field="E5Aj2zB3")
    s6 = me.StringField(db_field="3MXe8Wi7")
    s7 = me.StringField(db_field="PHPSSV51")
    n1 = me.IntField(db_field="CxSCo4jD")
    n2 = me.IntField(db_field="5C8GSDC5")
    n3 = me.IntField(db_field="fC63DsLR")
    n4 = me.IntField(db_field="l6e0U4bR")
    n5 = me.IntField(db_field="TLRpkltp")
    n6 = me.IntField(db_field="Ph9CZN5L")


async def init_peers(uri: str) -> AsyncMongoClient[dict[str, Any]]:
    """Beanie's models need ``init_beanie`` (it asks the server its version once),
    MongoEngine's a default connection (made lazily). Returns Beanie's client."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    await init_beanie(database=client.bench, document_models=[BPerson, BSmall], skip_indexes=True)
    me.connect(db="bench", host=uri)
    return client


# -- part 1: CPU per document -------------------------------------------------------------------------

Op = Callable[[], object]


def beanie_cpu(created: datetime) -> tuple[Op, Callable[[], BPerson], Op]:
    """Beanie's (load, construct, dump for a write) on the issue's model."""

    def construct() -> BPerson:
        return BPerson(
            name="Ana",
            nick="ana",
            age=33,
            score=4.5,
            active=True,
            created=created,
            tags=["a", "b", "c"],
            address=BAddress(street="1 Main St", city="Lisbon", zip="1000"),
            previous=[
                BAddress(street="2 Main St", city="Porto", zip="4000"),
                BAddress(street="3 Main St", city="Faro", zip="8000"),
                BAddress(street="4 Main St", city="Braga", zip="4700"),
            ],
        )

    person = construct()
    person.id = PydanticObjectId()
    keep_nulls = BPerson.get_settings().keep_nulls

    def dump() -> dict[str, Any]:
        stored: dict[str, Any] = get_dict(person, to_db=True, keep_nulls=keep_nulls)
        return stored

    stored = dump()

    def load() -> object:
        return parse_obj(BPerson, dict(stored))

    return load, construct, dump


def mongoengine_cpu(created: datetime) -> tuple[Op, Callable[[], Any], Op]:
    """MongoEngine's (load, construct, dump for a write) on the issue's model."""

    def construct() -> Any:
        return MPerson(
            name="Ana",
            nick="ana",
            age=33,
            score=4.5,
            active=True,
            created=created,
            tags=["a", "b", "c"],
            address=MAddress(street="1 Main St", city="Lisbon", zip="1000"),
            previous=[
                MAddress(street="2 Main St", city="Porto", zip="4000"),
                MAddress(street="3 Main St", city="Faro", zip="8000"),
                MAddress(street="4 Main St", city="Braga", zip="4700"),
            ],
        )

    person = construct()
    person.id = ObjectId()

    def dump() -> Any:
        person.validate()
        return person.to_mongo()

    stored = dump().to_dict()

    def load() -> object:
        return MPerson._from_son(dict(stored))

    return load, construct, dump


# -- part 2: the ODM workloads against a server --------------------------------------------------------

Operation = Callable[[], Awaitable[object]]


def beanie_ops(small: dict[str, Any], one_id: ObjectId, loaded: BSmall) -> dict[str, Operation]:
    """Beanie's way of doing each workload: ``insert()`` of a new model, ``set()``
    of one field (a ``$set``; ``save()`` would replace the whole document without
    state management), ``get()`` by ``_id``, ``find_all().to_list()``."""
    counter = iter(range(10**9))

    async def create() -> object:
        return await BSmall(**small).insert()

    async def update() -> object:
        return await loaded.set({BSmall.n1: next(counter)})

    async def find_one() -> object:
        return await BSmall.get(one_id)

    async def find_many() -> object:
        return await BSmall.find_all().to_list()

    return {"create": create, "update": update, "find_one": find_one, "find_many": find_many}


def mongoengine_ops(small: dict[str, Any], one_id: ObjectId, loaded: Any) -> dict[str, Op]:
    """MongoEngine's (synchronous, on PyMongo): ``save()`` of a new model, of a
    loaded one with one field changed (a ``$set`` of it), ``objects(id=).first()``,
    ``list(objects)``."""
    by_key = {field.db_field: name for name, field in MSmall._fields.items()}
    values = {by_key[key]: value for key, value in small.items()}
    counter = iter(range(10**9))

    def create() -> object:
        return MSmall(**values).save()

    def update() -> object:
        loaded.n1 = next(counter)
        return loaded.save()

    def find_one() -> object:
        return MSmall.objects(id=one_id).first()

    def find_many() -> object:
        return list(MSmall.objects)

    return {"create": create, "update": update, "find_one": find_one, "find_many": find_many}
