"""A stage's tasks: running one item through them, with retries and task events.

Retries are :meth:`RetryPolicy.call <antflow._retry.RetryPolicy.call>`, the one attempt loop,
for ``per_task`` and ``per_stage`` alike; each retry is told to the item's report before its
wait, and each attempt to the observers that want task events.
"""

from __future__ import annotations

import time
from typing import Any

from ._inbox import Envelope
from ._item_report import ItemFailed, ItemReport
from ._limits import call_limits
from ._observe import Event, EventKind, Hook, now
from ._retry import RetryPolicy
from ._stage import Stage, task_name
from ._task_call import TaskCall
from ._worker_state import Worker

__all__ = ["StageTasks"]


class StageTasks:
    """What every worker of one stage does with an item, read once from the stage.

    Attributes:
        fast: The one plain async task of a stage with no ``skip_if``, no ``per_stage`` runs
            and no task events, which the worker calls inline (``await fast(value)``): the
            common case. ``None`` otherwise.
        first_task: The name of the task an item begins with.
    """

    def __init__(self, stage: Stage, hook: Hook | None, report: ItemReport) -> None:
        self.name = stage.name
        self.report = report
        limits = stage.task_concurrency_limits
        self.calls = [
            TaskCall(task, stage.unpack_args, limits.get(task_name(task))) for task in stage.tasks
        ]
        self.first_task = self.calls[0].name
        #: The stage's call_rate and call_concurrency, for the tasks' rate_limit() and
        #: concurrency_limit() (one per run, shared by the stage's workers).
        self.limits = call_limits(
            f"Stage {stage.name!r}",
            "Stage",
            stage.call_rate,
            stage.call_rate_period,
            stage.call_concurrency,
        )
        self.skip_if = stage.skip_if
        self.per_stage = stage.retry == "per_stage"
        self.task_policy = RetryPolicy(
            stage.task_attempts, stage.task_wait_seconds, retry_on=stage.retry_on
        )
        self.stage_policy = RetryPolicy(
            stage.stage_attempts, stage.task_wait_seconds, retry_on=stage.retry_on
        )
        #: Set only when some observer wants per-attempt task events.
        self.task_hook = hook if hook is not None and hook.tasks else None
        only = self.calls[0]
        self.fast = (
            only.fn
            if len(self.calls) == 1
            and only.plain
            and self.skip_if is None
            and not self.per_stage
            and self.task_hook is None
            else None
        )

    async def run(self, envelope: Envelope, worker: Worker) -> Any:
        """The item's value after every task, per the stage's retry mode (no ``skip_if``).

        Raises:
            ItemFailed: a task used up its attempts.
        """
        if self.per_stage:
            return await self.run_per_stage(envelope, worker)
        return await self.run_per_task(envelope, worker)

    def skips(self, envelope: Envelope) -> bool:
        """Whether ``skip_if`` says to pass the item on unchanged.

        Raises:
            ItemFailed: ``skip_if`` raised (the item fails the stage with that exception).
        """
        assert self.skip_if is not None
        try:
            return bool(self.skip_if(envelope.value))
        except Exception as exc:
            raise ItemFailed(None, 1, exc) from None

    async def run_per_task(self, envelope: Envelope, worker: Worker) -> Any:
        """Every task in turn, each with its own retries."""
        value = envelope.value
        task_hook = self.task_hook
        for call in self.calls:
            worker.show(call.name)
            if call.plain and task_hook is None:
                try:
                    value = await call.fn(value)
                except Exception as first:
                    value = await self.retry(call, value, envelope, worker, first)
            else:
                value = await self.retry(call, value, envelope, worker, None)
        return value

    async def retry(
        self,
        call: TaskCall,
        value: Any,
        envelope: Envelope,
        worker: Worker,
        first_failure: Exception | None,
    ) -> Any:
        """``call`` with the stage's per-task retries; attempt 1 may have been made already
        (``first_failure``: it raised that)."""
        attempts = 0 if first_failure is None else 1
        duration: float | None = None

        async def attempt() -> Any:
            nonlocal attempts, duration
            attempts += 1
            worker.show(call.name)
            began = time.monotonic()
            try:
                return await self._attempt(call, value, envelope, worker, attempts)
            finally:
                duration = time.monotonic() - began

        async def on_retry(failed_attempt: int, error: Exception, wait: float) -> None:
            await self.report.retrying(
                envelope, worker, call.name, failed_attempt, error, wait, duration, False
            )

        def label() -> str:
            return f"item {envelope.id!r} in stage {self.name!r}, task {call.name!r}"

        try:
            return await self.task_policy.call(
                attempt,
                on_retry if self.report.retries_observed else None,
                first_failure,
                label=label,
            )
        except Exception as exc:
            raise ItemFailed(call.name, attempts, exc, duration) from None

    async def run_per_stage(self, envelope: Envelope, worker: Worker) -> Any:
        """The whole task list, re-run from the start on any failure."""
        runs = 0
        failed_task: str | None = None
        duration: float | None = None

        async def run_all() -> Any:
            nonlocal runs, failed_task, duration
            runs += 1
            value = envelope.value
            for call in self.calls:
                worker.show(call.name)
                began = time.monotonic()
                try:
                    value = await self._attempt(call, value, envelope, worker, runs)
                except Exception:
                    failed_task, duration = call.name, time.monotonic() - began
                    raise
            return value

        async def on_retry(failed_run: int, error: Exception, wait: float) -> None:
            await self.report.retrying(
                envelope, worker, failed_task, failed_run, error, wait, duration, True
            )

        def label() -> str:
            return (
                f"item {envelope.id!r} in stage {self.name!r} (the whole stage again), "
                f"task {failed_task!r}"
            )

        try:
            return await self.stage_policy.call(
                run_all, on_retry if self.report.retries_observed else None, label=label
            )
        except Exception as exc:
            raise ItemFailed(failed_task, runs, exc, duration) from None

    async def _attempt(
        self, call: TaskCall, value: Any, envelope: Envelope, worker: Worker, attempt: int
    ) -> Any:
        """One call of one task, told to the observers that want task events."""
        task_hook = self.task_hook
        if task_hook is None:
            return await call.fn(value) if call.plain else await call(value)
        await task_hook.emit(
            self._task_event(EventKind.TASK_STARTED, envelope, worker, call, attempt)
        )
        began = time.monotonic()
        try:
            result = await call(value)
        except Exception as exc:
            await self._ended(task_hook, envelope, worker, call, attempt, began, exc)
            raise
        await self._ended(task_hook, envelope, worker, call, attempt, began, None)
        return result

    async def _ended(
        self,
        task_hook: Hook,
        envelope: Envelope,
        worker: Worker,
        call: TaskCall,
        attempt: int,
        began: float,
        error: Exception | None,
    ) -> None:
        duration = time.monotonic() - began
        await task_hook.emit(
            self._task_event(EventKind.TASK_ENDED, envelope, worker, call, attempt, error, duration)
        )

    def _task_event(
        self,
        kind: EventKind,
        envelope: Envelope,
        worker: Worker,
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
            worker=worker.name,
            worker_id=worker.worker_id,
            attempt=attempt,
            error=error,
            duration=duration,
            timestamp=now(),
        )
