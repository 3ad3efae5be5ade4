"""userdb: the 2012 mongotor tutorial's user database, as a Tornado 6 application.

``python -m userdb`` serves it (see :mod:`userdb.cli`); :func:`make_app` builds
the application over an open :class:`Storage` (:func:`open_storage`).
"""

from __future__ import annotations

from .app import make_app as make_app
from .models import User as User
from .storage import Storage as Storage
from .storage import open_storage as open_storage

__all__ = ["Storage", "User", "make_app", "open_storage"]
