"""mongotor.client: the Client (collection) API, cursors and bulk writes.

Skeleton: the package exists so the workspace layout and the import layering are
real from day one. Its contents arrive with the [client] issue.
"""

from __future__ import annotations

__all__: list[str] = []
