"""The pipeline's public module, as in antflow 0.10: ``from antflow.pipeline import Pipeline``.

Re-exports :class:`Pipeline`, :class:`PipelineBuilder`, :class:`Stage` and
:class:`RendezvousChannel` (the zero-buffer channel of pull stages), with the records and
errors a pipeline hands back. ``_PULL_CLOSED`` is what a closed channel's ``get()`` returns
(0.10 exposed it under that private name; :attr:`RendezvousChannel.CLOSED` is the same object).
"""

from __future__ import annotations

from ._pipeline import Pipeline, PipelineBuilder
from ._records import ErrorSummary, FailedItem, PipelineResult
from ._rendezvous import PULL_CLOSED as _PULL_CLOSED
from ._rendezvous import RendezvousChannel
from ._stage import Stage, TaskFunc
from ._stats import DashboardSnapshot, PipelineStats, WorkerMetrics, WorkerState
from ._tracker import StatusEvent, StatusTracker, TaskEvent
from .exceptions import PipelineError, StageValidationError

__all__ = [
    "DashboardSnapshot",
    "ErrorSummary",
    "FailedItem",
    "Pipeline",
    "PipelineBuilder",
    "PipelineError",
    "PipelineResult",
    "PipelineStats",
    "RendezvousChannel",
    "Stage",
    "StageValidationError",
    "StatusEvent",
    "StatusTracker",
    "TaskEvent",
    "TaskFunc",
    "WorkerMetrics",
    "WorkerState",
    "_PULL_CLOSED",
]
