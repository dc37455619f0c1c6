"""One run of a pipeline: its stages' workers wired together, feeding, and the run's lifecycle."""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectSendStream

from ._callbacks import CallbackErrors
from ._fairness import CHECKPOINT_EVERY
from ._inbox import Envelope, Inbox, QueueInbox
from ._item_report import ItemReport
from ._ledger import Ledger, split_item
from ._observe import Event, EventKind, Hook, Observer, hook_of, now
from ._outlet import Delivery, NextStage, Outlet, StreamDelivery
from ._records import PipelineResult
from ._rendezvous import PullInbox
from ._stage import Stage
from ._stage_tasks import StageTasks
from ._stage_worker import StageWorker
from ._stats import PipelineStats, StageStats
from ._tracker import StatusTracker
from .telemetry import _pipeline_observer

__all__ = ["DEFAULT_PRIORITY", "RunPhase", "RunState", "log_failures"]

_log = logging.getLogger("antflow.pipeline")

#: ``priority`` of fed items when none is given (lower values enter full queues first).
DEFAULT_PRIORITY = 100


class RunPhase(enum.Enum):
    """Where a run is in its life. It only moves forward, down this list (any state may jump to
    ``CANCELLED``, and every one ends in ``STOPPED``)."""

    #: Built; :meth:`RunState.serve` has not started the workers yet.
    READY = "ready"
    #: Workers are taking items; items may be fed.
    SERVING = "serving"
    #: No more items: the workers finish what is queued, then exit.
    CLOSED = "closed"
    #: Stopping at the workers' next checkpoint; queued items are abandoned.
    CANCELLED = "cancelled"
    #: Every worker has exited.
    STOPPED = "stopped"


class RunState:
    """The stages' workers of one run (``run()``, ``stream()`` or ``start()``-``join()``), the
    ledger of its items and its observers.

    Args:
        stages: The stages (read once, here: a stage changed later does not affect the run).
        tracker: The pipeline's StatusTracker, if any: an observer of the run.
        collect: Keep results in ``ledger.results`` (never when streaming to ``output``).
        output: Where the last stage sends results, for ``stream()``.
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        tracker: StatusTracker | None,
        collect: bool,
        output: MemoryObjectSendStream[PipelineResult] | None = None,
    ) -> None:
        self.tracker = tracker
        self.output = output
        self.callbacks = CallbackErrors()
        names = [stage.name for stage in stages]
        observers: list[Observer | None] = [tracker, _pipeline_observer(names)]
        self.hook: Hook | None = hook_of(observers, self.callbacks)
        self._title = " → ".join(names)  # the source of the run's own events
        self.ledger = Ledger(collect and output is None)
        inboxes: list[Inbox] = [
            PullInbox(stage.name) if stage.pull else QueueInbox(stage.capacity, stage.name)
            for stage in stages
        ]
        #: The way into each stage's queue, for the feeder and the stage before it.
        self.entries = [
            NextStage(self.ledger, inbox, stage.name, self.hook)
            for inbox, stage in zip(inboxes, stages, strict=True)
        ]
        last: Outlet
        if output is not None:
            last = StreamDelivery(self.ledger, output, self.cancel)
        else:
            last = Delivery(self.ledger)
        outlets: list[Outlet] = [*self.entries[1:], last]
        self.inboxes = inboxes
        #: Every worker of every stage, stage by stage.
        self.workers: list[StageWorker] = []
        for stage, inbox, outlet in zip(stages, inboxes, outlets, strict=True):
            report = ItemReport(stage, self.hook, self.callbacks)
            tasks = StageTasks(stage, self.hook, report)
            self.workers.extend(
                StageWorker(i, inbox, tasks, outlet, report) for i in range(stage.workers)
            )
        self._entry_by_name = {
            stage.name: entry for stage, entry in zip(stages, self.entries, strict=True)
        }
        self.phase = RunPhase.READY
        #: :meth:`serve` has begun (the workers were started). Invariant: written only there.
        self.served = False
        self.stopped = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        #: An exception raised by the inputs being fed in the background (stream()).
        self.feed_error: Exception | None = None
        #: An unexpected exception of the background machinery (a bug): re-raised to the caller.
        self.fatal: Exception | None = None
        #: Called (synchronously) once every worker has stopped, before ``stopped`` is set.
        self.on_stopped: list[Callable[[], None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    async def serve(
        self,
        feed: Iterable[Any] | AsyncIterable[Any] | None = None,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Run every worker until the queues are closed and drained, or until cancelled.

        With ``feed``, also feed those items to the first stage and, once all are done, close
        the queues (and the output stream): the run then ends on its own.
        """
        self.served = True
        try:
            if self.hook is not None:  # inside the try: the finally below always runs
                await self.hook.emit(Event(EventKind.RUN_STARTED, self._title, timestamp=now()))
            async with anyio.create_task_group() as tg:
                self._scope = tg.cancel_scope
                if self.phase is RunPhase.CANCELLED:
                    tg.cancel_scope.cancel()
                else:
                    self.phase = RunPhase.SERVING
                for worker in self.workers:
                    tg.start_soon(worker.run, self.hook, name=f"antflow worker {worker.name}")
                if feed is not None:
                    tg.start_soon(self._feed_and_finish, feed, name="antflow feeder")
                task_status.started()
        finally:
            for inbox in self.inboxes:
                inbox.close_all()
            if self.output is not None:
                self.output.close()
            if self.hook is not None:  # even when cancelled: the run's end is always told
                with anyio.CancelScope(shield=True):
                    await self.hook.emit(
                        Event(EventKind.RUN_ENDED, self._title, value=self.stats(), timestamp=now())
                    )
            log_failures(self._title, self.ledger)
            for callback in self.on_stopped:
                callback()
            self.phase = RunPhase.STOPPED
            self.stopped.set()
            self.ledger.wake()

    async def serve_unowned(self, feed: Iterable[Any] | AsyncIterable[Any] | None = None) -> None:
        """:meth:`serve` for a background task nobody awaits: keeps any error for the caller."""
        try:
            await self.serve(feed)
        except Exception as exc:
            self.fatal = exc

    async def _feed_and_finish(self, items: Iterable[Any] | AsyncIterable[Any]) -> None:
        try:
            await self.feed(items, self.entries[0], DEFAULT_PRIORITY)
            await self.wait_drained()
        except Exception as exc:
            self.feed_error = exc
            self.cancel()
            return
        self.close()
        if self.output is not None:
            self.output.close()

    def raise_if_stopped_by_error(self) -> None:
        """Raise what stopped the run early: a bug in the machinery, or the inputs raising."""
        if self.fatal is not None:
            raise self.fatal
        if self.feed_error is not None:
            raise self.feed_error

    def cancel(self) -> None:
        """Stop every worker at its next checkpoint (also before ``serve`` has begun)."""
        if self.phase is not RunPhase.STOPPED:
            self.phase = RunPhase.CANCELLED
        if self._scope is not None:
            self._scope.cancel()

    def discard(self) -> None:
        """Abandon a run whose workers never started (items fed before ``start()``, then
        ``shutdown()``): its items stay counted in flight, as queued items of a stopped run do."""
        self.phase = RunPhase.STOPPED
        for inbox in self.inboxes:
            inbox.close_all()
        self.stopped.set()
        self.ledger.wake()

    def close(self) -> None:
        """No more items: workers finish what is queued, then exit."""
        if self.phase is RunPhase.SERVING:
            self.phase = RunPhase.CLOSED
        for inbox in self.inboxes:
            inbox.close()

    async def wait_drained(self) -> None:
        """Wait until every item fed so far is a result or a failure (or the run stopped)."""
        await self.ledger.wait_drained(self.stopped)

    # -- items -------------------------------------------------------------------------------

    def entry(self, target_stage: str | None) -> NextStage:
        """The way into ``target_stage`` (the first stage for ``None``)."""
        if target_stage is None:
            return self.entries[0]
        try:
            return self._entry_by_name[target_stage]
        except KeyError:
            raise ValueError(
                f"target_stage {target_stage!r} is not a stage of this pipeline; "
                f"use one of {list(self._entry_by_name)}"
            ) from None

    async def feed(
        self, items: Iterable[Any] | AsyncIterable[Any], entry: NextStage, priority: int
    ) -> None:
        """Feed ``items`` into ``entry``'s stage one by one, lazily, waiting while it is full
        (checkpointing at least every :data:`~antflow._fairness.CHECKPOINT_EVERY` items).

        Before the workers start (``feed()`` before ``start()``) nothing waits: items that do
        not fit are held in line (:meth:`Inbox.hold <antflow._inbox.Inbox.hold>`) and go in
        as the workers take items.
        """
        admit, put_nowait = self.ledger.admit, entry.pass_on_nowait
        if self.phase is RunPhase.READY:
            put_nowait = self._put_or_hold(entry)
        if self.tracker is not None:
            admit = self._admit_hashable
        unyielded = 0  # items put in since the last checkpoint
        if isinstance(items, AsyncIterable):
            async for raw in items:  # an async iterator need not checkpoint either: count too
                envelope = admit(raw, priority)
                if (put := put_nowait(envelope)) and unyielded < CHECKPOINT_EVERY:
                    unyielded += 1
                else:
                    unyielded = await self._settle(entry, envelope, put)
            return
        for raw in items:
            envelope = admit(raw, priority)
            if (put := put_nowait(envelope)) and unyielded < CHECKPOINT_EVERY:
                unyielded += 1
            else:
                unyielded = await self._settle(entry, envelope, put)

    def _admit_hashable(self, raw: Any, priority: int) -> Envelope:
        """:meth:`Ledger.admit` for a run with a StatusTracker, which keys items by id."""
        item_id, _, _ = split_item(raw)
        try:
            hash(item_id)
        except TypeError:
            raise TypeError(
                f"item id {item_id!r} is not hashable, and a StatusTracker keys items by id; "
                "give each item a hashable id (a str, an int, a tuple)"
            ) from None
        return self.ledger.admit(raw, priority)

    def _put_or_hold(self, entry: NextStage) -> Callable[[Envelope], bool]:
        """``entry.pass_on_nowait`` for a feed begun before the workers start: an item that does
        not fit is held (True) while they have not started, and waits (False) once they have."""
        put_nowait, hold = entry.pass_on_nowait, entry.inbox.hold
        if entry.hook is not None:
            return put_nowait  # refuses: _settle reports the item queued, then holds it

        def put_or_hold(envelope: Envelope) -> bool:
            if put_nowait(envelope):
                return True
            if self.phase is RunPhase.READY:
                hold(envelope)
                return True
            return False

        return put_or_hold

    async def _settle(self, entry: NextStage, envelope: Envelope, put: bool) -> int:
        """After ``put_nowait``: checkpoint (it was ``put`` in, and one was due), or put the item
        in, waiting for room (holding it before the workers start). Returns 0: the count of
        items put since the last checkpoint."""
        if put:
            await anyio.lowlevel.checkpoint()
        elif self.phase is RunPhase.READY:
            await entry.pass_on(envelope, self.ledger.unadmit, hold=True)
            await anyio.lowlevel.checkpoint()  # reporting it need not have been one
        else:
            await entry.pass_on(envelope, self.ledger.unadmit)
        return 0

    # -- reading -----------------------------------------------------------------------------

    @property
    def results(self) -> list[PipelineResult]:
        """The results kept so far, in completion order."""
        return self.ledger.results

    def stats(self) -> PipelineStats:
        ledger = self.ledger
        tracker_errors = self.tracker.callback_errors if self.tracker is not None else 0
        queue_sizes = {inbox.name: inbox.size() for inbox in self.inboxes}
        return PipelineStats(
            items_processed=ledger.processed,
            items_failed=ledger.failed,
            items_in_flight=ledger.in_flight,
            queue_sizes=queue_sizes,
            stage_stats=self._stage_stats(queue_sizes),
            items_fed=ledger.fed,
            callback_errors=self.callbacks.count + tracker_errors,
        )

    def _stage_stats(self, queue_sizes: dict[str, int]) -> dict[str, StageStats]:
        """Each stage's counts, summed over its workers (their own totals)."""
        busy = dict.fromkeys(queue_sizes, 0)
        completed = dict.fromkeys(queue_sizes, 0)
        failed = dict.fromkeys(queue_sizes, 0)
        for worker in self.workers:
            stage = worker.stage
            busy[stage] += worker.status == "busy"
            completed[stage] += worker.processed
            failed[stage] += worker.failed
        return {
            name: StageStats(name, size, busy[name], completed[name], failed[name])
            for name, size in queue_sizes.items()
        }


def log_failures(title: str, ledger: Ledger) -> None:
    """At the end of a run with failed items: ONE WARNING record on ``"antflow.pipeline"`` with
    their count by error type and where to read them (nothing when no item failed)."""
    failures = ledger.failures
    if not failures:
        return
    counts = Counter(failure.error_type for failure in failures).most_common()
    by_type = ", ".join(f"{count} {name}" for name, count in counts)
    _log.warning(
        "pipeline %r: %d of %d items failed (%s); each failed item, its error and its value "
        "are in pipeline.get_error_summary().failed_items, and "
        "pipeline.get_error_summary().raise_for_failures() raises the first one",
        title,
        len(failures),
        ledger.fed,
        by_type,
        extra={"failed": len(failures), "errors_by_type": dict(counts)},
    )
