"""The six signals: pre_save, post_save, pre_remove, post_remove, pre_update,
post_update.

A receiver is ``handler(sender, instance)``: ``sender`` is the instance's class,
and keywords the signal sends (``created`` for the save signals) are passed to
the receivers that take them (by name, or with ``**kwargs``), so the 2012
library's two-argument receivers keep working. A receiver may be ``async def``;
receivers run one after the other, in the order they were connected, each
awaited before the next. An exception in a ``pre_`` receiver aborts the
operation (nothing is written); one in a ``post_`` receiver propagates after
the write. Which operations send which signals: see the package README.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

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

Handler = TypeVar("Handler", bound=Callable[..., Any])


def _accepted(handler: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword names ``handler`` takes (``None``: any, it has ``**kwargs``)."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature: give it nothing extra
        return frozenset()
    names = set()
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
            names.add(parameter.name)
    return frozenset(names)


class Signal:
    """Receivers connected for a sender class (and its subclasses), or for every
    sender (``sender=None``)."""

    __slots__ = ("_receivers", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[
            tuple[type[Any] | None, Callable[..., Any], frozenset[str] | None]
        ] = []

    def connect(self, sender: type[Any] | None, handler: Callable[..., Any]) -> None:
        """Call ``handler`` for instances of ``sender`` (any, for ``None``).
        Connecting the same pair again changes nothing."""
        if not any(s is sender and h == handler for s, h, _ in self._receivers):
            self._receivers.append((sender, handler, _accepted(handler)))

    def disconnect(self, sender: type[Any] | None, handler: Callable[..., Any]) -> bool:
        """Stop calling ``handler`` for ``sender``; whether it was connected."""
        for index, (s, h, _) in enumerate(self._receivers):
            if s is sender and h == handler:
                del self._receivers[index]
                return True
        return False

    @property
    def receivers(self) -> list[tuple[type[Any] | None, Callable[..., Any]]]:
        """The connected ``(sender, handler)`` pairs, in calling order."""
        return [(sender, handler) for sender, handler, _ in self._receivers]

    async def send(self, instance: Any, **kwargs: Any) -> None:
        """Call every receiver connected for ``instance``'s class, awaiting those
        that return an awaitable; the first exception propagates."""
        if not self._receivers:
            return
        cls = type(instance)
        for sender, handler, accepted in list(self._receivers):
            if sender is not None and not isinstance(instance, sender):
                continue
            if accepted is None:
                extra = kwargs
            else:
                extra = {name: value for name, value in kwargs.items() if name in accepted}
            result = handler(cls, instance, **extra)
            if inspect.isawaitable(result):
                await result

    def __repr__(self) -> str:
        return f"<Signal {self.name} with {len(self._receivers)} receivers>"


def receiver(signal: Signal, sender: type[Any] | None = None) -> Callable[[Handler], Handler]:
    """Decorate a receiver: ``@receiver(pre_save, User)`` connects it for
    ``User`` (and subclasses); it is returned unchanged."""

    def decorate(handler: Handler) -> Handler:
        signal.connect(sender, handler)
        return handler

    return decorate


#: Before a document is inserted or saved; ``created`` says whether it is new.
pre_save = Signal("pre_save")
#: After a document was inserted or saved; ``created`` says whether it was new.
post_save = Signal("post_save")
#: Before a document is removed.
pre_remove = Signal("pre_remove")
#: After a document was removed.
post_remove = Signal("post_remove")
#: Before ``update()`` writes a document.
pre_update = Signal("pre_update")
#: After ``update()`` wrote a document.
post_update = Signal("post_update")
