"""One page of users, optionally only those whose name contains some text.

The pages and the API list users the same way: sorted by name (then ``_id``, so
that equal names keep one order across pages), searched case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import User

__all__ = ["Listing", "list_users"]


@dataclass(frozen=True)
class Listing:
    """``users`` of page ``page`` (from 1) of ``pages``; ``total`` matched in all."""

    users: list[User]
    query: str
    page: int
    pages: int
    total: int
    per_page: int


async def list_users(query: str, page: int, per_page: int) -> Listing:
    """The users whose name contains ``query`` (all when blank), page ``page``
    of ``per_page``. A page past the last is the last page."""
    query = query.strip()
    matching = User.objects.all()
    if query:
        # The text is searched for as typed: regular expression syntax means nothing.
        matching = matching.filter(User.name.regex(re.escape(query), "i"))
    total = await matching.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    users = await matching.sort(User.name, "_id").skip((page - 1) * per_page).limit(per_page)
    return Listing(users, query, page, pages, total, per_page)
