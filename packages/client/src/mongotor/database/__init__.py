"""mongotor.database: the Database entry point (the 2012 library's import path).

Skeleton: its contents arrive with the [client] issue.
"""

from __future__ import annotations

__all__: list[str] = []
