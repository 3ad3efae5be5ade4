"""mongotor.orm.manager: :class:`Manager` (the 2012 import path) and :class:`QuerySet`."""

from __future__ import annotations

from ._manager import Manager as Manager
from ._queryset import QuerySet as QuerySet

__all__ = ["Manager", "QuerySet"]
