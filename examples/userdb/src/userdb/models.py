"""The tutorial's model: a registered user, stamped by a ``pre_save`` receiver.

The 2012 tutorial filled ``_id`` in a ``pre_save`` receiver; the ORM now gives a
new document an ObjectId on insert anyway, but the receiver still sets both
``_id`` and ``created`` so the instance knows them before the insert is sent
(the page that follows a registration links to ``/users/<_id>``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from mongotor.orm import Collection
from mongotor.orm.field import (
    BooleanField,
    DateTimeField,
    EmailField,
    IntegerField,
    ObjectIdField,
    StringField,
    UrlField,
)
from mongotor.orm.signal import pre_save, receiver

__all__ = ["EDITABLE", "User", "find_user", "stamp_new_user"]


class User(Collection):
    """Someone who registered. ``email`` has a unique index (``ensure_indexes``)."""

    __collection__ = "users"

    _id = ObjectIdField()
    name = StringField(required=True, max_length=100)
    email = EmailField(required=True, unique=True)
    age = IntegerField(min_value=0, max_value=150)
    website = UrlField()
    bio = StringField(max_length=500)
    active = BooleanField(required=True, default=True)
    created = DateTimeField()


#: What a person may fill in, in the order the form shows it (``active`` and
#: ``created`` are the application's).
EDITABLE = ("name", "email", "age", "website", "bio")


@receiver(pre_save, User)
def stamp_new_user(sender: type[User], instance: User, created: bool, **_: Any) -> None:
    """Give a new user its ``_id`` and ``created`` time (UTC, as BSON stores dates)."""
    if created:
        if instance._id is None:
            instance._id = ObjectId()
        instance.created = datetime.now(UTC).replace(tzinfo=None)


async def find_user(user_id: str) -> User | None:
    """The user whose ``_id`` is this 24-hex-digit string; ``None`` for any other text."""
    return await User.objects.find_one(ObjectId(user_id)) if ObjectId.is_valid(user_id) else None
