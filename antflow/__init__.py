"""antflow: async batch processing without the slowest-task bottleneck.

Workers pick up the next item the moment they finish one, so a slow item never holds a whole
batch back. Everything runs unchanged on asyncio and on trio (through anyio).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._background import install_fast_loop
from ._display_protocol import DashboardProtocol
from ._executor import AsyncExecutor, MapResult
from ._future import AsyncFuture
from ._pipeline import Pipeline, PipelineBuilder
from ._records import ErrorSummary, FailedItem, PipelineResult
from ._result_stream import ResultStream
from ._stage import Stage, TaskFunc
from ._stats import DashboardSnapshot, PipelineStats, WorkerMetrics, WorkerState, WorkerStatus
from ._tracker import StatusEvent, StatusTracker, StatusType, TaskEvent, TaskEventType
from ._waiting import WaitStrategy
from ._worker_state import set_task_status
from .context import call_rate_has_capacity, concurrency_limit, rate_limit
from .exceptions import (
    AntFlowError,
    ExecutorShutdownError,
    FutureCancelledError,
    PipelineError,
    StageValidationError,
    TaskFailedError,
)
from .telemetry import configure_telemetry
from .telemetry import is_enabled as telemetry_enabled

__all__ = [
    "__version__",
    "install_fast_loop",
    "AntFlowError",
    "AsyncExecutor",
    "AsyncFuture",
    "ExecutorShutdownError",
    "FutureCancelledError",
    "MapResult",
    "WaitStrategy",
    "DashboardProtocol",
    "DashboardSnapshot",
    "ErrorSummary",
    "FailedItem",
    "Pipeline",
    "PipelineBuilder",
    "PipelineError",
    "PipelineResult",
    "ResultStream",
    "PipelineStats",
    "Stage",
    "StageValidationError",
    "StatusEvent",
    "StatusTracker",
    "TaskEvent",
    "TaskFailedError",
    "StatusType",
    "TaskEventType",
    "TaskFunc",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
    "set_task_status",
    "configure_telemetry",
    "telemetry_enabled",
    "call_rate_has_capacity",
    "concurrency_limit",
    "rate_limit",
]

if TYPE_CHECKING:
    __version__: str
else:

    def __getattr__(name: str) -> object:
        # ``__version__`` is read from the installed distribution's metadata on first use:
        # importing importlib.metadata costs about a sixth of ``import antflow``.
        if name == "__version__":
            global __version__
            __version__ = _installed_version()
            return __version__
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _installed_version() -> str:
    """The installed distribution's version, or ``"0+unknown"`` when antflow runs from a source
    tree that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("antflow")
    except PackageNotFoundError:
        return "0+unknown"
