"""One worker of a stage: its loop (take an item, run the stage's tasks, pass it on) and its state.

The loop talks to four narrow things: its :class:`~antflow._inbox.Inbox` (items in), the stage's
:class:`~antflow._stage_tasks.StageTasks` (what to do with an item), its
:class:`~antflow._outlet.Outlet` (items out: the next stage, the results, the failures) and the
stage's :class:`~antflow._item_report.ItemReport` (what observers and callbacks hear).

Fairness: taking an item that is already queued, and a task that returns without awaiting, are
not checkpoints. So that a stage of such tasks never keeps the other tasks of the event loop
waiting (trio's rule: a long-running loop must yield), a worker checkpoints after every
:data:`~antflow._fairness.CHECKPOINT_EVERY` items it took without waiting.
"""

from __future__ import annotations

import time
from typing import Any

import anyio.lowlevel
from anyio import EndOfStream, WouldBlock

from ._fairness import CHECKPOINT_EVERY
from ._inbox import Inbox
from ._item_report import ItemFailed, ItemReport
from ._limits import current_limits
from ._observe import Event, EventKind, Hook, now
from ._outlet import Outlet
from ._stage_tasks import StageTasks
from ._stats import WorkerMetrics, WorkerState, WorkerStatus
from ._worker_state import current_worker, wall_time

__all__ = ["StageWorker"]


class StageWorker:
    """One worker of one stage in one run, and its live state.

    Invariant: the state fields (``status`` to ``last_active``) are written only by this
    class: by :meth:`run` as items come and go, and by :meth:`show`, which a running task
    reaches through :func:`~antflow.set_task_status`. Readers take a frozen :meth:`state` or
    :meth:`metrics`.
    """

    __slots__ = (
        "current_item_id",
        "current_task",
        "failed",
        "inbox",
        "last_active",
        "name",
        "outlet",
        "processed",
        "report",
        "since",
        "stage",
        "status",
        "tasks",
        "total_time",
        "worker_id",
    )

    def __init__(
        self,
        worker_id: int,
        inbox: Inbox,
        tasks: StageTasks,
        outlet: Outlet,
        report: ItemReport,
    ) -> None:
        self.stage = tasks.name
        self.worker_id = worker_id
        self.name = f"{self.stage}-W{worker_id}"
        self.inbox = inbox
        self.tasks = tasks
        self.outlet = outlet
        self.report = report
        self.status: WorkerStatus = "idle"
        self.current_item_id: Any = None
        self.current_task: str | None = None
        self.since: float | None = None  # time.monotonic() when the current item was taken
        self.processed = 0
        self.failed = 0
        self.total_time = 0.0
        self.last_active: float | None = None  # time.monotonic() when the last item was done

    def show(self, task: str) -> None:
        """Show ``task`` as the current task: the task running, or what it said it does."""
        self.current_task = task

    async def run(self, hook: Hook | None) -> None:
        """Take items until the queue is closed and empty (or the run is cancelled).

        Never raises for an item's failure: it is recorded and the worker takes the next item.
        """
        current_worker.set(self)
        current_limits.set(self.tasks.limits)
        if hook is not None and hook.workers:
            await hook.emit(self._event(EventKind.WORKER_STARTED))
        try:
            await self._loop()
        finally:
            self.status = "stopped"
            self.current_item_id = self.current_task = self.since = None
            if hook is not None and hook.workers:
                # Not awaited: the worker may be exiting through a cancellation.
                hook.emit_nowait(self._event(EventKind.WORKER_STOPPED))

    async def _loop(self) -> None:
        """The pipeline's hot path: one turn per item, kept flat.

        The state fields are written here directly (this class owns them), and what no other
        task can see is not written: between two items taken without waiting no other task
        runs, so the worker is marked idle only before it actually waits, and the clock read
        that ends one item also starts the next.
        """
        inbox, tasks, outlet, report = self.inbox, self.tasks, self.outlet, self.report
        take_nowait, pass_on_nowait = inbox.take_nowait, outlet.pass_on_nowait
        fast, first_task, observed = tasks.fast, tasks.first_task, report.observed
        skip_if = tasks.skip_if
        monotonic = time.monotonic
        now_ = monotonic()
        untaken = 0  # items taken since the last checkpoint
        while True:
            try:
                envelope = take_nowait()
            except WouldBlock:
                self.status = "idle"
                self.current_item_id = self.current_task = self.since = None
                try:
                    envelope = await inbox.take()
                except EndOfStream:
                    return
                untaken = 0
                now_ = monotonic()
            except EndOfStream:
                return
            else:
                untaken += 1
                if untaken == CHECKPOINT_EVERY:
                    untaken = 0
                    await anyio.lowlevel.checkpoint()
            self.status = "busy"
            self.current_item_id = envelope.id
            self.current_task = first_task
            self.since = started = now_
            skipped = False
            try:
                # skip_if is asked before the item is reported started: as in 0.10, a skipped
                # item's history in this stage is "skipped" alone (fast is None with skip_if).
                if skip_if is not None and tasks.skips(envelope):
                    skipped = True
                    value = envelope.value
                else:
                    if observed:
                        await report.started(envelope, self)
                    if fast is not None:
                        try:
                            value = await fast(envelope.value)
                        except Exception as first:
                            value = await tasks.retry(
                                tasks.calls[0], envelope.value, envelope, self, first
                            )
                    else:
                        value = await tasks.run(envelope, self)
            except ItemFailed as failed:
                self.failed += 1
                self.last_active = now_ = monotonic()
                self.total_time += now_ - started
                await report.failed(envelope, self, failed, outlet)
                now_ = monotonic()
                continue
            self.processed += 1
            self.last_active = now_ = monotonic()
            self.total_time += now_ - started
            if observed:
                await report.succeeded(envelope, self, value, skipped)
            envelope.value = value
            if not pass_on_nowait(envelope):
                await outlet.pass_on(envelope)
                now_ = monotonic()

    def state(self) -> WorkerState:
        """What the worker is doing now."""
        return WorkerState(
            worker_name=self.name,
            stage=self.stage,
            status=self.status,
            current_item_id=self.current_item_id,
            current_task=self.current_task,
            processing_since=wall_time(self.since),
        )

    def metrics(self) -> WorkerMetrics:
        """The worker's totals over the run."""
        return WorkerMetrics(
            worker_name=self.name,
            stage=self.stage,
            items_processed=self.processed,
            items_failed=self.failed,
            total_processing_time=self.total_time,
            last_active=wall_time(self.last_active),
        )

    def _event(self, kind: EventKind) -> Event:
        return Event(kind, self.stage, worker=self.name, worker_id=self.worker_id, timestamp=now())
