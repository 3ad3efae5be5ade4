"""mypy --strict sees each field's type: a typed program's revealed types, and
the mistakes it reports."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ["--config-file", str(ROOT / "pyproject.toml"), "--strict"]

EXPECTED = {
    "user.name": "str",
    "user.nick": "str | None",
    "user.email": "str | None",
    "user.site": "str",
    "user.md5": "str | None",
    "user.sha1": "str",
    "user.age": "int | None",
    "user.big": "int",
    "user.score": "float",
    "user.price": "decimal.Decimal",
    "user.active": "bool",
    "user.born": "datetime.datetime | None",
    "user.token": "uuid.UUID",
    "user.tags": "list[str]",
    "user.scores": "list[int] | None",
    "user.address": "Address | None",
    "user.home": "Address",
    "user.places": "list[Address]",
    "user.prefs": "dict[str, Any] | None",
    "user.anything": "list[Any] | None",
    "user.team": "Team | None",
    "user.version": "int",
    "user._id": "bson.objectid.ObjectId | None",
    "User.objects": "mongotor.orm._manager.Manager[User]",
    "found": "User | None",
    "query": "mongotor.orm._queryset.QuerySet[User]",
    "users": "list[User]",
    "each": "User",
    "first": "User | None",
}


def test_a_typed_program_passes_and_sees_field_types() -> None:
    example = Path(__file__).with_name("typed_usage.py")
    stdout, stderr, status = api.run([*CONFIG, str(example)])
    assert status == 0, stdout + stderr
    # Names as the example defines them (mypy prefixes its module path, found
    # differently by where it is run from).
    revealed = [
        re.sub(r"[\w.]*typed_usage\.", "", text)
        for text in re.findall(r'Revealed type is "(.*)"', stdout)
    ]
    source = example.read_text()
    names = re.findall(r"reveal_type\((.*)\)", source)
    assert dict(zip(names, revealed, strict=True)) == EXPECTED


MISTAKES = """
from mongotor.orm import Collection, IntegerField, StringField

class User(Collection):
    __collection__ = "user"
    name = StringField(required=True)
    age = IntegerField()

async def wrong() -> None:
    user = User()
    user.name = None
    user.age = "3"
    user.nmae = "typo"
    users: list[str] = await User.objects.filter(User.age > 3)
"""


def test_mistakes_are_reported() -> None:
    stdout, _, status = api.run([*CONFIG, "-c", MISTAKES])
    assert status == 1
    lines = [line for line in stdout.splitlines() if ": error:" in line]
    assert len(lines) == 4, stdout
    assert 'expression has type "None", variable has type "str"' in lines[0]
    assert 'expression has type "str", variable has type "int | None"' in lines[1]
    assert '"User" has no attribute "nmae"' in lines[2]
    assert 'list[User]", variable has type "list[str]"' in lines[3]
