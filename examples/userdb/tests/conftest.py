"""No default Database leaks from one test into the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mongotor.database import Database


@pytest.fixture(autouse=True)
def _no_default_database() -> Iterator[None]:
    yield
    assert Database.default() is None, "a test left the default Database connected"
