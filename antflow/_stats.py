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
    """Counts for the current (or last) run: antflow 0.10's fields in 0.10's order, then ours.

    Attributes:
        items_processed: Items that went through every stage.
        items_failed: Items that failed a stage (recorded in the error summary).
        items_in_flight: Fed items neither processed nor failed yet. After ``shutdown()`` or a
            cancelled run it counts the items that were abandoned unfinished.
        queue_sizes: Items waiting in each stage's queue, by stage name.
        stage_stats: Each stage's :class:`StageStats`, by stage name, in stage order (empty
            before the first run).
        items_fed: Items fed so far.
        callback_errors: Callbacks (stage or tracker) that raised.
    """

    items_processed: int = 0
    items_failed: int = 0
    items_in_flight: int = 0
    queue_sizes: dict[str, int] = field(default_factory=dict)
    stage_stats: dict[str, StageStats] = field(default_factory=dict)
    items_fed: int = 0
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
    """What one worker is doing right now (antflow 0.10's fields, in 0.10's order).

    Attributes:
        worker_name: The worker's name, ``"{stage}-W{i}"``.
        stage: Its stage.
        status: ``"idle"`` (waiting for an item), ``"busy"`` or ``"stopped"``.
        current_item_id: The item it holds, if busy.
        current_task: The task it is running, or the text the task last passed to
            :func:`~antflow.set_task_status`.
        processing_since: ``time.time()`` when it took the current item.
    """

    worker_name: str
    stage: str
    status: WorkerStatus
    current_item_id: Any = None
    current_task: str | None = None
    processing_since: float | None = None

    @property
    def worker(self) -> str:
        """The worker's name (this library's earlier spelling of ``worker_name``)."""
        return self.worker_name

    @property
    def worker_id(self) -> int | None:
        """Its index in the stage, read from the name (``"Fetch-W3"`` -> 3), else ``None``."""
        return _worker_index(self.worker_name)


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """Totals of one worker over the run (antflow 0.10's fields, in 0.10's order).

    Attributes:
        worker_name: The worker's name.
        stage: Its stage.
        items_processed: Items it completed (or skipped) the stage with.
        items_failed: Items that failed the stage in its hands.
        total_processing_time: Seconds spent on items, failed ones included.
        last_active: ``time.time()`` when it last finished an item.
    """

    worker_name: str
    stage: str
    items_processed: int = 0
    items_failed: int = 0
    total_processing_time: float = 0.0
    last_active: float | None = None

    @property
    def worker(self) -> str:
        """The worker's name (this library's earlier spelling of ``worker_name``)."""
        return self.worker_name

    @property
    def avg_processing_time(self) -> float:
        """Mean seconds per item handled (processed or failed), 0.0 before the first.

        0.10 divides by ``items_processed`` alone, which overstates the mean when items fail,
        since ``total_processing_time`` counts their time too.
        """
        done = self.items_processed + self.items_failed
        return self.total_processing_time / done if done else 0.0


def _worker_index(name: str) -> int | None:
    _, sep, index = name.rpartition("-W")
    return int(index) if sep and index.isdigit() else None


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    """Everything a dashboard shows, read at one moment (``timestamp``, from ``time.time()``)."""

    worker_states: dict[str, WorkerState]
    worker_metrics: dict[str, WorkerMetrics]
    pipeline_stats: PipelineStats
    error_summary: ErrorSummary
    timestamp: float
