"""Read-only snapshots of a pipeline's state: stats, worker states and metrics, dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._records import ErrorSummary

__all__ = [
    "DashboardSnapshot",
    "PipelineStats",
    "StageStats",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
]

WorkerStatus = Literal["idle", "busy", "stopped"]


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Counts for the current (or last) run.

    Attributes:
        items_fed: Items fed so far.
        items_processed: Items that went through every stage.
        items_failed: Items that failed a stage (recorded in the error summary).
        items_in_flight: Fed items neither processed nor failed yet. After ``shutdown()`` or a
            cancelled run it counts the items that were abandoned unfinished.
        queue_sizes: Items waiting in each stage's queue, by stage name.
        callback_errors: Callbacks (stage or tracker) that raised.
    """

    items_fed: int = 0
    items_processed: int = 0
    items_failed: int = 0
    items_in_flight: int = 0
    queue_sizes: dict[str, int] = field(default_factory=dict)
    callback_errors: int = 0


@dataclass(frozen=True, slots=True)
class StageStats:
    """Counts of one stage (antflow 0.10's record of that name).

    Attributes:
        stage_name: The stage.
        pending_items: Items waiting in its queue.
        in_progress_items: Items its workers hold (its busy workers).
        completed_items: Items that completed the stage.
        failed_items: Items that failed the stage.
    """

    stage_name: str
    pending_items: int
    in_progress_items: int
    completed_items: int
    failed_items: int


@dataclass(frozen=True, slots=True)
class WorkerState:
    """What one worker is doing right now.

    Attributes:
        worker: The worker's name, ``"{stage}-W{worker_id}"``.
        stage: Its stage.
        worker_id: Its index in the stage, 0 to ``workers - 1``.
        status: ``"idle"`` (waiting for an item), ``"busy"`` or ``"stopped"``.
        current_item_id: The item it holds, if busy.
        current_task: The task it is running, or the text the task last passed to
            :func:`~antflow.set_task_status`.
        processing_since: ``time.time()`` when it took the current item.
    """

    worker: str
    stage: str
    worker_id: int
    status: WorkerStatus
    current_item_id: Any = None
    current_task: str | None = None
    processing_since: float | None = None


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """Totals of one worker over the run.

    Attributes:
        worker: The worker's name.
        stage: Its stage.
        items_processed: Items it completed the stage with.
        items_failed: Items that failed the stage in its hands.
        total_processing_time: Seconds spent on items.
        last_active: ``time.time()`` when it last finished an item.
    """

    worker: str
    stage: str
    items_processed: int = 0
    items_failed: int = 0
    total_processing_time: float = 0.0
    last_active: float | None = None

    @property
    def avg_processing_time(self) -> float:
        """Mean seconds per item, 0.0 before the first item."""
        done = self.items_processed + self.items_failed
        return self.total_processing_time / done if done else 0.0


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    """Everything a dashboard shows, read at one moment (``timestamp``, from ``time.time()``)."""

    worker_states: dict[str, WorkerState]
    worker_metrics: dict[str, WorkerMetrics]
    pipeline_stats: PipelineStats
    error_summary: ErrorSummary
    timestamp: float
