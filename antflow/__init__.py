"""antflow: async batch processing without the slowest-task bottleneck.

Workers pick up the next item the moment they finish one, so a slow item never holds a whole
batch back. Everything runs unchanged on asyncio and on trio (through anyio).
"""

from __future__ import annotations

from ._display_protocol import DashboardProtocol
from ._executor import AsyncExecutor, MapResult
from ._future import AsyncFuture
from ._pipeline import Pipeline, PipelineBuilder
from ._records import ErrorSummary, FailedItem, PipelineResult
from ._result_stream import ResultStream
from ._stage import Stage, TaskFunc
from ._stats import DashboardSnapshot, PipelineStats, WorkerMetrics, WorkerState
from ._tracker import StatusEvent, StatusTracker, TaskEvent
from ._waiting import WaitStrategy
from ._worker_state import set_task_status
from .exceptions import (
    AntFlowError,
    ExecutorShutdownError,
    FutureCancelledError,
    PipelineError,
    StageValidationError,
    TaskFailedError,
)

__all__ = [
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
    "TaskFunc",
    "WorkerMetrics",
    "WorkerState",
    "set_task_status",
]
