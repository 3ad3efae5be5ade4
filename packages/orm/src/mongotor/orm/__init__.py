"""mongotor.orm: Collection models, fields, managers, querysets and signals.

Skeleton: its contents arrive with the [orm] issue.
"""

from __future__ import annotations

__all__: list[str] = []
