"""The workers of one stage: take an item, run the stage's tasks with their retries, pass it on.

The worker loop talks to three narrow things: its :class:`~antflow._inbox.Inbox` (items in), its
:class:`~antflow._outlet.Outlet` (items out: the next stage, the results, or the failures) and
its :class:`~antflow._item_report.ItemReport` (what observers and the stage's callbacks hear).
Retries are :meth:`RetryPolicy.call <antflow._retry.RetryPolicy.call>`, the one attempt loop,
for ``per_task`` and ``per_stage`` alike.

Fairness: taking an item that is already queued, and a task that returns without awaiting, are
not checkpoints. So that a stage of such tasks never keeps the other tasks of the event loop
waiting (trio's rule: a long-running loop must yield), a worker checkpoints after every
:data:`CHECKPOINT_EVERY` items it took without waiting.
"""

from __future__ import annotations

import time
from typing import Any

import anyio.lowlevel
from anyio import EndOfStream, WouldBlock

from ._inbox import Envelope, Inbox
from ._item_report import ItemFailed, ItemReport
from ._observe import Event, EventKind, Hook, now
from ._outlet import Outlet
from ._retry import RetryPolicy
from ._stage import Stage, task_name
from ._task_call import TaskCall
from ._worker_state import WorkerSlot, current_worker

__all__ = ["CHECKPOINT_EVERY", "StageRunner"]

#: A worker yields to the event loop at least once every this many items, even when no task
#: awaits. A checkpoint costs about as much as a no-op item, so 64 keeps the cost under 2%.
CHECKPOINT_EVERY = 64


class StageRunner:
    """The workers of one stage in one run, the queue that feeds them and where items go next.

    Args:
        stage: The stage's configuration (read once, here: changing it later has no effect
            on this run).
        inbox: The stage's queue.
        outlet: Where items go once done with this stage.
        hook: The run's observers, or ``None``.
        report: What observers and callbacks hear of each item.
    """

    def __init__(
        self,
        stage: Stage,
        inbox: Inbox,
        outlet: Outlet,
        hook: Hook | None,
        report: ItemReport,
    ) -> None:
        self.name = stage.name
        self.inbox = inbox
        self.outlet = outlet
        self.report = report
        self.slots = [WorkerSlot(stage.name, i) for i in range(stage.workers)]
        limits = stage.task_concurrency_limits
        self.calls = [
            TaskCall(task, stage.unpack_args, limits.get(task_name(task))) for task in stage.tasks
        ]
        self.skip_if = stage.skip_if
        self.per_stage = stage.retry == "per_stage"
        self.task_policy = RetryPolicy(stage.task_attempts, stage.task_wait_seconds)
        self.stage_policy = RetryPolicy(stage.stage_attempts, stage.task_wait_seconds)
        self.hook = hook
        #: Set only when some observer wants per-attempt task events.
        self.task_hook = hook if hook is not None and hook.tasks else None
        only = self.calls[0]
        #: The one plain async task of a stage with no skip_if, no per_stage runs and no task
        #: events: the worker calls it inline (``await fast(value)``), the common case.
        self.fast = (
            only.fn
            if len(self.calls) == 1
            and only.plain
            and self.skip_if is None
            and not self.per_stage
            and self.task_hook is None
            else None
        )

    async def work(self, slot: WorkerSlot) -> None:
        """One worker: take items until the queue is closed and empty (or the run cancelled).

        Never raises for an item's failure: it is recorded and the worker takes the next item.
        """
        current_worker.set(slot)
        hook = self.hook
        if hook is not None and hook.workers:
            await hook.emit(self._worker_event(EventKind.WORKER_STARTED, slot))
        try:
            await self._loop(slot)
        finally:
            slot.stop()
            if hook is not None and hook.workers:
                # Not awaited: the worker may be exiting through a cancellation.
                hook.emit_nowait(self._worker_event(EventKind.WORKER_STOPPED, slot))

    async def _loop(self, slot: WorkerSlot) -> None:
        take_nowait = self.inbox.take_nowait
        outlet, report, fast = self.outlet, self.report, self.fast
        observed = report.observed
        monotonic = time.monotonic
        untaken = 0  # items taken since the last checkpoint
        while True:
            try:
                envelope = take_nowait()
            except WouldBlock:
                slot.idle()
                try:
                    envelope = await self.inbox.take()
                except EndOfStream:
                    return
                untaken = 0
            except EndOfStream:
                return
            else:
                untaken += 1
                if untaken == CHECKPOINT_EVERY:
                    untaken = 0
                    await anyio.lowlevel.checkpoint()
            slot.take(envelope.id, monotonic())
            if observed:
                await report.started(envelope, slot)
            skipped = False
            try:
                if fast is not None:
                    slot.show(self.calls[0].name)
                    try:
                        value = await fast(envelope.value)
                    except Exception as first:
                        value = await self._retry(
                            self.calls[0], envelope.value, envelope, slot, first
                        )
                elif self.skip_if is not None and self._skip(envelope):
                    skipped = True
                    value = envelope.value
                elif self.per_stage:
                    value = await self._run_per_stage(envelope, slot)
                else:
                    value = await self._run_per_task(envelope, slot)
            except ItemFailed as failed:
                slot.finish(monotonic(), failed=True)
                await report.failed(envelope, slot, failed, outlet)
                continue
            slot.finish(monotonic(), failed=False)
            if observed:
                await report.succeeded(envelope, slot, value, skipped)
            envelope.value = value
            if not outlet.pass_on_nowait(envelope):
                await outlet.pass_on(envelope)

    def _skip(self, envelope: Envelope) -> bool:
        assert self.skip_if is not None
        try:
            return bool(self.skip_if(envelope.value))
        except Exception as exc:
            raise ItemFailed(None, 1, exc) from None

    async def _run_per_task(self, envelope: Envelope, slot: WorkerSlot) -> Any:
        """Every task in turn, each with its own retries."""
        value = envelope.value
        task_hook = self.task_hook
        for call in self.calls:
            slot.show(call.name)
            if call.plain and task_hook is None:
                try:
                    value = await call.fn(value)
                except Exception as first:
                    value = await self._retry(call, value, envelope, slot, first)
            else:
                value = await self._retry(call, value, envelope, slot, None)
        return value

    async def _retry(
        self,
        call: TaskCall,
        value: Any,
        envelope: Envelope,
        slot: WorkerSlot,
        first_failure: Exception | None,
    ) -> Any:
        """``call`` with the stage's per-task retries; attempt 1 may have been made already
        (``first_failure``: it raised that)."""
        attempts = 0 if first_failure is None else 1
        duration: float | None = None

        async def attempt() -> Any:
            nonlocal attempts, duration
            attempts += 1
            slot.show(call.name)
            began = time.monotonic()
            try:
                return await self._attempt(call, value, envelope, slot, attempts)
            finally:
                duration = time.monotonic() - began

        async def on_retry(failed_attempt: int, error: Exception, wait: float) -> None:
            await self.report.retrying(
                envelope, slot, call.name, failed_attempt, error, wait, duration
            )

        try:
            return await self.task_policy.call(
                attempt, on_retry if self.report.retries_observed else None, first_failure
            )
        except Exception as exc:
            raise ItemFailed(call.name, attempts, exc, duration) from None

    async def _run_per_stage(self, envelope: Envelope, slot: WorkerSlot) -> Any:
        """The whole task list, re-run from the start on any failure."""
        runs = 0
        failed_task: str | None = None
        duration: float | None = None

        async def run_all() -> Any:
            nonlocal runs, failed_task, duration
            runs += 1
            value = envelope.value
            for call in self.calls:
                slot.show(call.name)
                began = time.monotonic()
                try:
                    value = await self._attempt(call, value, envelope, slot, runs)
                except Exception:
                    failed_task, duration = call.name, time.monotonic() - began
                    raise
            return value

        async def on_retry(failed_run: int, error: Exception, wait: float) -> None:
            await self.report.retrying(
                envelope, slot, failed_task, failed_run, error, wait, duration
            )

        try:
            return await self.stage_policy.call(
                run_all, on_retry if self.report.retries_observed else None
            )
        except Exception as exc:
            raise ItemFailed(failed_task, runs, exc, duration) from None

    async def _attempt(
        self, call: TaskCall, value: Any, envelope: Envelope, slot: WorkerSlot, attempt: int
    ) -> Any:
        """One call of one task, told to the observers that want task events."""
        task_hook = self.task_hook
        if task_hook is None:
            return await call.fn(value) if call.plain else await call(value)
        await task_hook.emit(
            self._task_event(EventKind.TASK_STARTED, envelope, slot, call, attempt)
        )
        began = time.monotonic()
        try:
            result = await call(value)
        except Exception as exc:
            await task_hook.emit(
                self._task_event(
                    EventKind.TASK_ENDED,
                    envelope,
                    slot,
                    call,
                    attempt,
                    exc,
                    time.monotonic() - began,
                )
            )
            raise
        await task_hook.emit(
            self._task_event(
                EventKind.TASK_ENDED,
                envelope,
                slot,
                call,
                attempt,
                None,
                time.monotonic() - began,
            )
        )
        return result

    def _task_event(
        self,
        kind: EventKind,
        envelope: Envelope,
        slot: WorkerSlot,
        call: TaskCall,
        attempt: int,
        error: Exception | None = None,
        duration: float | None = None,
    ) -> Event:
        return Event(
            kind,
            self.name,
            envelope.id,
            task=call.name,
            worker=slot.name,
            worker_id=slot.worker_id,
            attempt=attempt,
            error=error,
            duration=duration,
            timestamp=now(),
        )

    def _worker_event(self, kind: EventKind, slot: WorkerSlot) -> Event:
        return Event(kind, self.name, worker=slot.name, worker_id=slot.worker_id, timestamp=now())
