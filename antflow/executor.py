"""The executor, under antflow 0.10's module name (``antflow.executor``).

Re-exports: :class:`AsyncExecutor` and :class:`MapResult` live in ``antflow._executor``,
:class:`AsyncFuture` in ``antflow._future``, :class:`WaitStrategy` in ``antflow._waiting``; the
same objects are importable from :mod:`antflow`. :class:`~antflow.exceptions.ExecutorShutdownError`
is here too because 0.10's module imported it, so ``from antflow.executor import
ExecutorShutdownError`` keeps working.
"""

from __future__ import annotations

from ._executor import AsyncExecutor, MapResult
from ._future import AsyncFuture
from ._waiting import WaitStrategy
from .exceptions import ExecutorShutdownError, FutureCancelledError

__all__ = [
    "AsyncExecutor",
    "AsyncFuture",
    "ExecutorShutdownError",
    "FutureCancelledError",
    "MapResult",
    "WaitStrategy",
]
