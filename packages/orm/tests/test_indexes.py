"""Index declarations, created only by an explicit ensure_indexes()."""

from __future__ import annotations

from typing import Any

import pytest

from mongotor.database import Database
from mongotor.errors import DuplicateKeyError
from mongotor.orm import (
    Collection,
    EmbeddedDocument,
    EmbeddedField,
    Index,
    IntegerField,
    ObjectIdField,
    StringField,
)

from .conftest import Commands


class Address(EmbeddedDocument):
    city = StringField(name="c")


class Base(Collection):
    __indexes__ = (Index("-rank"),)
    rank = IntegerField()


class Member(Base):
    __collection__ = "member"
    __indexes__ = ("name", Index("address.city", ("rank", -1), name="by_city", sparse=True))
    _id = ObjectIdField(unique=True)
    email = StringField(unique=True)
    name = StringField(name="n", index=True)
    address = EmbeddedField(Address)


@pytest.mark.asyncio
async def test_nothing_is_created_implicitly(db: Database[Any], commands: Commands) -> None:
    await Member(email="a@x.io", name="a").save()
    assert commands.named("createIndexes") == []


@pytest.mark.asyncio
async def test_ensure_indexes_creates_every_declared_one(
    db: Database[Any], commands: Commands
) -> None:
    names = await Member.ensure_indexes()
    assert names == ["email_1", "n_1", "rank_-1", "by_city"]  # n_1 declared twice
    (command,) = commands.named("createIndexes")
    assert command["indexes"] == [
        {"key": {"email": 1}, "name": "email_1", "unique": True},
        {"key": {"n": 1}, "name": "n_1"},
        {"key": {"rank": -1}, "name": "rank_-1"},
        {"key": {"address.c": 1, "rank": -1}, "name": "by_city", "sparse": True},
    ]
    info = await db.member.index_information()
    assert set(info) == {"_id_", "email_1", "n_1", "rank_-1", "by_city"}
    assert await Member.ensure_indexes() == names  # again: nothing changes
    await Member(email="a@x.io").save()
    with pytest.raises(DuplicateKeyError):
        await Member(email="a@x.io").save()


@pytest.mark.asyncio
async def test_a_model_without_indexes_sends_nothing(db: Database[Any], commands: Commands) -> None:
    class Plain(Collection):
        __collection__ = "plain"

    assert await Plain.ensure_indexes() == []
    assert commands.named("createIndexes") == []


def test_an_index_needs_keys() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        Index()
    assert repr(Index("a", ("b", -1), unique=True)) == "Index('a', ('b', -1), unique=True)"
