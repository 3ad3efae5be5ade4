"""A typed program using the ORM: ``test_typing`` runs mypy --strict on it and
reads the types it reveals. (Not a test module: it is type-checked, never
imported by pytest.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import reveal_type

from bson import ObjectId

from mongotor.orm import (
    BooleanField,
    Collection,
    DateTimeField,
    DecimalField,
    EmailField,
    EmbeddedDocument,
    EmbeddedField,
    FloatField,
    IntegerField,
    ListField,
    LongField,
    Md5Field,
    ObjectField,
    ObjectIdField,
    ReferenceField,
    Sha1Field,
    StringField,
    UrlField,
    UuidField,
    VersionField,
)


class Address(EmbeddedDocument):
    city = StringField(required=True)
    zip = StringField()


class Team(Collection):
    __collection__ = "team"
    name = StringField(required=True)


class User(Collection):
    __collection__ = "user"
    _id = ObjectIdField()
    name = StringField(required=True)
    nick = StringField()
    email = EmailField()
    site = UrlField(required=True)
    md5 = Md5Field()
    sha1 = Sha1Field(default="0" * 40)
    age = IntegerField(min_value=0)
    big = LongField(default=0)
    score = FloatField(required=True)
    price = DecimalField(default=Decimal(0))
    active = BooleanField(default=False)
    born = DateTimeField()
    token = UuidField(default=uuid.uuid4)
    tags = ListField(StringField(), default=list)
    scores = ListField(IntegerField())
    address = EmbeddedField(Address)
    home = EmbeddedField(Address, required=True)
    places = ListField(EmbeddedField(Address), default=list)
    prefs = ObjectField()
    anything = ListField()
    team = ReferenceField(Team)
    version = VersionField()


async def usage() -> None:
    user = User(name="ana", site="https://x.io", score=1.0, home=Address(city="x"))
    reveal_type(user.name)
    reveal_type(user.nick)
    reveal_type(user.email)
    reveal_type(user.site)
    reveal_type(user.md5)
    reveal_type(user.sha1)
    reveal_type(user.age)
    reveal_type(user.big)
    reveal_type(user.score)
    reveal_type(user.price)
    reveal_type(user.active)
    reveal_type(user.born)
    reveal_type(user.token)
    reveal_type(user.tags)
    reveal_type(user.scores)
    reveal_type(user.address)
    reveal_type(user.home)
    reveal_type(user.places)
    reveal_type(user.prefs)
    reveal_type(user.anything)
    reveal_type(user.team)
    reveal_type(user.version)
    reveal_type(user._id)
    reveal_type(User.objects)
    found = await User.objects.find_one(ObjectId())
    reveal_type(found)
    query = User.objects.filter(User.age > 3).sort(-User.age).skip(1).limit(2).only("name")
    reveal_type(query)
    users = await query
    reveal_type(users)
    async for each in query:
        reveal_type(each)
    first = await query.first()
    reveal_type(first)
    user.name = "bob"
    user.nick = None
    user.born = datetime.now()
    user.tags.append("x")
    user.home.city = "y"
    await user.save()
