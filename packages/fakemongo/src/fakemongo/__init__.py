"""fakemongo: an in-process MongoDB 8.0 server that speaks the real wire protocol.

Skeleton: the server arrives with the [fakemongo] issue.
"""

from __future__ import annotations

__all__: list[str] = []
