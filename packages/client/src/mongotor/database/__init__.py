"""mongotor.database: the Database entry point (the 2012 library's import path).

``Database.connect(["localhost:27017"], "app")`` (or a connection string)
returns a :class:`Database` and makes it the default; ``db.users`` is a
:class:`~mongotor.client.Client`. See :mod:`mongotor.client`.
"""

from __future__ import annotations

from mongotor.client import Database as Database
from mongotor.client import ReadPreference as ReadPreference
from mongotor.client import ReadPreferenceMode as ReadPreferenceMode

__all__ = ["Database", "ReadPreference", "ReadPreferenceMode"]
