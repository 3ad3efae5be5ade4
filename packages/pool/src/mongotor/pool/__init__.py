"""mongotor.pool: connection strings, connections, pooling, discovery, server selection.

Skeleton: the package exists so the workspace layout and the import layering are
real from day one. Its contents arrive with the [pool] issue.
"""

from __future__ import annotations

__all__: list[str] = []
