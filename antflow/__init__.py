"""antflow: async batch processing without the slowest-task bottleneck.

Workers pick up the next item the moment they finish one, so a slow item never holds a whole
batch back. Everything runs unchanged on asyncio and on trio (through anyio).
"""

from __future__ import annotations

from ._executor import AsyncExecutor, MapResult
from ._future import AsyncFuture
from ._waiting import WaitStrategy
from .exceptions import AntFlowError, ExecutorShutdownError, FutureCancelledError

__all__ = [
    "AntFlowError",
    "AsyncExecutor",
    "AsyncFuture",
    "ExecutorShutdownError",
    "FutureCancelledError",
    "MapResult",
    "WaitStrategy",
]
