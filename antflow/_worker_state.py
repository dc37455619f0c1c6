"""The live state of each worker, and ``set_task_status`` for tasks to update it."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from ._stats import WorkerMetrics, WorkerState, WorkerStatus

__all__ = ["WorkerSlot", "current_worker", "set_task_status"]


class WorkerSlot:
    """Live state of one worker in one run (never shared across runs).

    Invariant: every field is written only by the methods below; the worker loop calls them
    as items come and go, and :func:`set_task_status` calls :meth:`show`. Readers (the
    dashboards, ``Pipeline.get_worker_states()``) take a frozen :meth:`state` or :meth:`metrics`.
    """

    __slots__ = (
        "current_item_id",
        "current_task",
        "failed",
        "last_active",
        "name",
        "processed",
        "since",
        "stage",
        "status",
        "total_time",
        "worker_id",
    )

    def __init__(self, stage: str, worker_id: int) -> None:
        self.stage = stage
        self.worker_id = worker_id
        self.name = f"{stage}-W{worker_id}"
        self.status: WorkerStatus = "idle"
        self.current_item_id: Any = None
        self.current_task: str | None = None
        self.since: float | None = None  # time.monotonic() when the current item was taken
        self.processed = 0
        self.failed = 0
        self.total_time = 0.0
        self.last_active: float | None = None  # time.monotonic() when the last item was done

    def take(self, item_id: Any, now: float) -> None:
        """The worker took ``item_id`` at ``now`` (``time.monotonic()``): it is busy."""
        self.status = "busy"
        self.current_item_id = item_id
        self.since = now

    def show(self, task: str) -> None:
        """The text shown as the worker's current task: the task's name, or a task's status."""
        self.current_task = task

    def finish(self, now: float, failed: bool) -> None:
        """The item in hand completed the stage (or failed it, with ``failed``) at ``now``.

        The worker stays "busy" until :meth:`idle`: between two items taken without waiting,
        no other task can look, so the loop marks it idle only before it actually waits.
        """
        if failed:
            self.failed += 1
        else:
            self.processed += 1
        self.last_active = now
        if self.since is not None:
            self.total_time += now - self.since

    def idle(self) -> None:
        """The worker waits for an item."""
        self.status = "idle"
        self.current_item_id = self.current_task = self.since = None

    def stop(self) -> None:
        """The worker exited."""
        self.status = "stopped"
        self.current_item_id = self.current_task = self.since = None

    def state(self) -> WorkerState:
        return WorkerState(
            worker=self.name,
            stage=self.stage,
            worker_id=self.worker_id,
            status=self.status,
            current_item_id=self.current_item_id,
            current_task=self.current_task,
            processing_since=_wall(self.since),
        )

    def metrics(self) -> WorkerMetrics:
        return WorkerMetrics(
            worker=self.name,
            stage=self.stage,
            items_processed=self.processed,
            items_failed=self.failed,
            total_processing_time=self.total_time,
            last_active=_wall(self.last_active),
        )


def _wall(monotonic: float | None) -> float | None:
    """``time.time()`` at the moment ``time.monotonic()`` read ``monotonic``."""
    if monotonic is None:
        return None
    return time.time() - (time.monotonic() - monotonic)


#: The worker running the current task (set in each worker's own context; threads inherit it).
current_worker: ContextVar[WorkerSlot | None] = ContextVar("antflow_current_worker", default=None)


def set_task_status(status: str) -> None:
    """Set the ``current_task`` shown for the worker running this task (e.g. ``"uploading"``).

    Call it from inside a task function, async or sync. The text stays until the next task of
    the item starts or the item is done. Outside a pipeline task it does nothing, so the same
    function can be used outside pipelines.
    """
    worker = current_worker.get()
    if worker is not None:
        worker.show(str(status))
