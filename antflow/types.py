"""The public types of antflow, under antflow 0.10's module name (``antflow.types``).

Every name here is a re-export: the records live beside the code that fills them
(``antflow._records``, ``antflow._stats``, ``antflow._tracker``, ...), and the same objects are
importable from :mod:`antflow` itself. ``from antflow.types import PipelineResult`` and
``from antflow import PipelineResult`` give the same class.
"""

from __future__ import annotations

from ._display_protocol import DashboardProtocol
from ._records import ErrorSummary, FailedItem, PipelineResult
from ._stage import TaskFunc
from ._stats import (
    DashboardSnapshot,
    PipelineStats,
    StageStats,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
)
from ._tracker import StatusEvent, StatusType, TaskEvent, TaskEventType

__all__ = [
    "DashboardProtocol",
    "DashboardSnapshot",
    "ErrorSummary",
    "FailedItem",
    "PipelineResult",
    "PipelineStats",
    "StageStats",
    "StatusEvent",
    "StatusType",
    "TaskEvent",
    "TaskEventType",
    "TaskFunc",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
]
