"""Calling user callbacks: sync or async, and never letting their exceptions escape silently."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["CallbackErrors", "logger"]

#: The logger antflow reports to. antflow never adds handlers to it.
logger = logging.getLogger("antflow")


class CallbackErrors:
    """Calls callbacks and counts the ones that raised (each is also logged on ``"antflow"``).

    Invariant: :attr:`count` is written only by :meth:`record`.
    """

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    async def call(self, what: str, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback(*args)``, awaiting the result if it is awaitable.

        An :class:`Exception` from the callback is logged with its traceback and counted; it is
        not re-raised, so one faulty callback cannot stop the pipeline or lose an item.
        Cancellation propagates.
        """
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            self.record(f"{what} callback {callback!r}", exc)

    def record(self, what: str, exc: Exception) -> None:
        """Count and log ``exc``, raised by ``what`` (a callback, an observer)."""
        self.count += 1
        logger.error("antflow: %s raised", what, exc_info=exc)
