"""What a task can tell about the worker running it: ``set_task_status``.

The worker's live state itself (status, current item and task, totals) belongs to the worker,
:class:`~antflow._stage_worker.StageWorker`; a task reaches it through :data:`current_worker`.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Protocol

__all__ = ["Worker", "current_worker", "set_task_status", "wall_time"]


class Worker(Protocol):
    """A stage worker as the tasks' side sees it: who it is, and the task it shows."""

    @property
    def name(self) -> str:
        """``"{stage}-W{worker_id}"``."""

    @property
    def worker_id(self) -> int:
        """Its index in its stage."""

    def show(self, task: str) -> None:
        """Show ``task`` as the worker's current task."""


#: The worker running the current task (set in each worker's own context; threads inherit it).
current_worker: ContextVar[Worker | None] = ContextVar("antflow_current_worker", default=None)


def set_task_status(status: str) -> None:
    """Set the ``current_task`` shown for the worker running this task (e.g. ``"uploading"``).

    Call it from inside a task function, async or sync. The text stays until the next task of
    the item starts or the item is done. Outside a pipeline task it does nothing, so the same
    function can be used outside pipelines.
    """
    worker = current_worker.get()
    if worker is not None:
        worker.show(str(status))


def wall_time(monotonic: float | None) -> float | None:
    """``time.time()`` at the moment ``time.monotonic()`` read ``monotonic``."""
    if monotonic is None:
        return None
    return time.time() - (time.monotonic() - monotonic)
