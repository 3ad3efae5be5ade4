"""mongotor.orm.signal: the six signals and ``receiver`` (the 2012 import path).

::

    from mongotor.orm.signal import pre_save, receiver

    @receiver(pre_save, User)
    async def stamp(sender, instance, created):
        if created:
            instance.created = datetime.now(UTC)

Which operations send which signals is in the package README and in
:mod:`mongotor.orm.collection`.
"""

from __future__ import annotations

from ._signals import Signal as Signal
from ._signals import post_remove as post_remove
from ._signals import post_save as post_save
from ._signals import post_update as post_update
from ._signals import pre_remove as pre_remove
from ._signals import pre_save as pre_save
from ._signals import pre_update as pre_update
from ._signals import receiver as receiver

__all__ = [
    "Signal",
    "post_remove",
    "post_save",
    "post_update",
    "pre_remove",
    "pre_save",
    "pre_update",
    "receiver",
]
