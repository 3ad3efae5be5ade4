"""The model and its pre_save receiver, as the 2012 tutorial wrote it, and the
package's entry points."""

from __future__ import annotations

import importlib.metadata
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from bson import ObjectId

from fakemongo import FakeMongo
from mongotor.database import Database
from mongotor.orm.signal import pre_save
from userdb import User
from userdb.models import stamp_new_user


def utc_now() -> datetime:
    """Now, as the client reads BSON dates back: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


@pytest_asyncio.fixture
async def database() -> AsyncIterator[Database[dict[str, object]]]:
    async with FakeMongo() as server:
        yield Database.connect(server.uri, "models_test")
        await Database.disconnect()


def test_the_receiver_is_connected_for_users() -> None:
    assert (User, stamp_new_user) in pre_save.receivers


@pytest.mark.asyncio
async def test_a_new_user_gets_its_id_and_created_before_the_insert(
    database: Database[dict[str, object]],
) -> None:
    user = User(name="Ana", email="ana@example.com")
    assert (user._id, user.created) == (None, None)  # (no narrowing: save() sets them)
    before = utc_now()
    await user.save()
    assert isinstance(user._id, ObjectId)
    assert user.created is not None
    assert before - timedelta(milliseconds=1) <= user.created <= utc_now()
    stored = await database.users.find_one(user._id)
    assert stored is not None and stored["created"] == user.created

    # A later save changes neither.
    created = user.created
    user.age = 30
    await user.save()
    stored = await database.users.find_one(user._id)
    assert stored is not None and (stored["created"], stored["age"]) == (created, 30)


@pytest.mark.asyncio
async def test_an_id_given_by_the_caller_is_kept(database: Database[dict[str, object]]) -> None:
    chosen = ObjectId()
    user = User(_id=chosen, name="Bob", email="bob@example.com")
    await user.save()
    assert user._id == chosen
    assert await database.users.count_documents({"_id": chosen}) == 1


def test_python_m_userdb_and_the_console_script_run_the_same_main() -> None:
    import userdb.__main__
    from userdb.cli import main

    (script,) = importlib.metadata.entry_points(group="console_scripts", name="userdb")
    assert script.load() is main is userdb.__main__.main
