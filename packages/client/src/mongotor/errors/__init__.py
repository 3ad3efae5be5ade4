"""mongotor.errors: the public home of every mongotor error.

Skeleton: the wire codec's errors live in mongotor.wire for now; this module
gathers all packages' errors with the [client] issue.
"""

from __future__ import annotations

__all__: list[str] = []
