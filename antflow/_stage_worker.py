"""How a stage's workers process items: task calls, retries, events and callbacks."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread
from anyio import EndOfStream, WouldBlock

from ._inbox import Envelope, Inbox
from ._records import FailedItem, PipelineResult
from ._retry import RetryPolicy
from ._stage import Stage, is_async_callable, task_name
from ._streams import receive
from ._tracker import StatusEvent, StatusTracker, TaskEvent, TaskEventType
from ._worker_state import WorkerSlot, current_worker

if TYPE_CHECKING:
    from ._run import RunState

__all__ = ["StageRunner"]

T = TypeVar("T")


class _ItemFailed(Exception):
    """An item used up its attempts in a stage (internal: the worker records it)."""

    def __init__(self, task: str | None, attempts: int, error: Exception) -> None:
        super().__init__(task, attempts, error)
        self.task = task
        self.attempts = attempts
        self.error = error


async def _retrying(policy: RetryPolicy, fn: Callable[[], Awaitable[T]]) -> T:
    """``await policy.call(fn)``, with the first attempt made outside stamina.

    Most calls succeed at once, and entering stamina's retry context costs more than a no-op
    task. So the first attempt is a plain call; if it fails, its exception is replayed to
    stamina as attempt 1 (without calling ``fn`` again), and stamina takes it from there: the
    same waits, attempts and switches as ``policy.call(fn)``.
    """
    try:
        return await fn()
    except Exception as first:
        if policy.attempts == 1:
            raise
        replay: list[Exception] = [first]

        async def attempt() -> T:
            if replay:
                raise replay.pop()
            return await fn()

        return await policy.call(attempt)


class _TaskCall:
    """One task of a stage, ready to call with the previous value (unpacking, limit, thread)."""

    __slots__ = ("fn", "is_async", "limiter", "name", "plain", "unpack")

    def __init__(self, fn: Callable[..., Any], unpack: bool, limit: int | None) -> None:
        self.fn = fn
        self.name = task_name(fn)
        self.is_async = is_async_callable(fn)
        self.unpack = unpack
        self.limiter = anyio.Semaphore(limit) if limit is not None else None
        # The common case, called inline by the worker: `await fn(value)`.
        self.plain = self.is_async and not unpack and self.limiter is None

    async def __call__(self, value: Any) -> Any:
        if self.limiter is None:
            return await self._invoke(value)
        async with self.limiter:
            return await self._invoke(value)

    async def _invoke(self, value: Any) -> Any:
        args: tuple[Any, ...] = (value,)
        kwargs: dict[str, Any] = {}
        if self.unpack:
            if isinstance(value, dict):
                args, kwargs = (), value
            elif isinstance(value, (tuple, list)):
                args = tuple(value)
        if self.is_async:
            return await self.fn(*args, **kwargs)
        result = await anyio.to_thread.run_sync(functools.partial(self.fn, *args, **kwargs))
        if inspect.isawaitable(result):  # a plain function that returned a coroutine
            result = await result
        return result


class StageRunner:
    """The workers of one stage in one run, and the queue that feeds them."""

    def __init__(self, stage: Stage, index: int, run: RunState) -> None:
        self.stage = stage
        self.name = stage.name
        self.index = index
        self.run = run
        self.inbox = Inbox(stage.capacity, stage.name)
        self.slots = [WorkerSlot(stage.name, i) for i in range(stage.workers)]
        limits = stage.task_concurrency_limits
        self.calls = [
            _TaskCall(task, stage.unpack_args, limits.get(task_name(task))) for task in stage.tasks
        ]
        self.per_stage = stage.retry == "per_stage"
        self.task_policy = RetryPolicy(stage.task_attempts, stage.task_wait_seconds)
        self.stage_policy = RetryPolicy(stage.stage_attempts, stage.task_wait_seconds)
        tracker = run.tracker
        self.tracker: StatusTracker | None = tracker
        self.task_events = tracker is not None and tracker.wants_task_events

    async def enqueue(
        self, envelope: Envelope, abandoned: Callable[[Envelope], None] | None = None
    ) -> None:
        """Put the item in this stage's queue (waiting while full), reporting it queued.

        If cancelled before the item entered the queue, calls ``abandoned(envelope)``.
        """
        if self.tracker is not None:
            try:
                await self.tracker.record(
                    StatusEvent(envelope.id, self.name, "queued", None, None, time.time())
                )
            except BaseException:
                if abandoned is not None:
                    abandoned(envelope)
                raise
        await self.inbox.put(envelope, abandoned)

    async def work(self, slot: WorkerSlot) -> None:
        """One worker: take items until the queue is closed and empty.

        Never raises for an item's failure: it is recorded and the worker takes the next item.
        """
        current_worker.set(slot)
        stage = self.stage
        try:
            # Without tracking, callbacks or per-stage runs, an item needs none of the machinery.
            if (
                self.tracker is None
                and stage.on_success is None
                and stage.skip_if is None
                and not self.per_stage
            ):
                await self._work_quiet(slot)
            else:
                await self._work_observed(slot)
        finally:
            slot.status = "stopped"
            slot.current_item_id = slot.current_task = slot.since = None

    async def _work_quiet(self, slot: WorkerSlot) -> None:
        """The worker loop when nothing observes items: the hot path, kept flat on purpose.

        The slot is updated as in :meth:`_work_observed`, but what no other task can see is not
        written: between two items taken without awaiting, no other task runs, so the slot is
        marked idle (and cleared) only before the worker actually waits, and the clock read that
        ends one item also starts the next.
        """
        inbox, run, calls = self.inbox, self.run, self.calls
        stream = inbox.receive_stream
        receive_nowait = stream.receive_nowait
        last = self.index == len(run.runners) - 1
        next_inbox = None if last else run.runners[self.index + 1].inbox
        direct_delivery = last and run.output is None
        results = run.results if direct_delivery and run.collect else None
        only = calls[0].fn if len(calls) == 1 and calls[0].plain else None
        only_name = calls[0].name
        monotonic = time.monotonic
        now = monotonic()
        while True:
            # The fast path of _streams.receive, inlined: this loop is the pipeline's hot path.
            try:
                envelope = receive_nowait()
            except WouldBlock:
                slot.status = "idle"
                slot.current_item_id = slot.current_task = slot.since = None
                try:
                    envelope = await stream.receive()
                except EndOfStream:
                    return
                now = monotonic()
            except EndOfStream:
                return
            if inbox.waiting:
                inbox.admit_waiting()
            slot.status = "busy"
            slot.current_item_id = envelope.id
            slot.since = started = now
            value = envelope.value
            try:
                if only is not None:  # one plain async task: the common case
                    slot.current_task = only_name
                    try:
                        value = await only(value)
                    except Exception as first:
                        value = await self._retry_task(calls[0], value, first)
                else:
                    for call in calls:
                        slot.current_task = call.name
                        if call.plain:
                            try:
                                value = await call.fn(value)
                            except Exception as first:
                                value = await self._retry_task(call, value, first)
                        else:
                            value = await self._run_task(call, value, envelope, slot)
            except _ItemFailed as failed:
                slot.failed += 1
                self._account(slot, started)
                await self._failed(envelope, slot, failed)
                now = monotonic()
                continue
            slot.processed += 1
            slot.last_active = now = monotonic()
            slot.total_time += now - started
            if direct_delivery:
                run.processed += 1
                if results is not None:
                    results.append(PipelineResult(envelope.id, value, envelope.sequence))
                run.in_flight -= 1
                if not run.in_flight:
                    run.drained()
                continue
            envelope.value = value
            if next_inbox is not None:
                if not next_inbox.put_nowait(envelope):
                    await next_inbox.wait_to_put(envelope)
                    now = monotonic()
            else:
                await run.advance(self.index, envelope)
                now = monotonic()

    async def _work_observed(self, slot: WorkerSlot) -> None:
        """The worker loop with status events, callbacks, ``skip_if`` or ``per_stage`` runs."""
        inbox, run, tracker, stage = self.inbox, self.run, self.tracker, self.stage
        calls, per_stage = self.calls, self.per_stage
        while True:
            slot.status = "idle"
            try:
                envelope = await receive(inbox.receive_stream)
            except EndOfStream:
                return
            if inbox.waiting:
                inbox.admit_waiting()
            slot.status = "busy"
            slot.current_item_id = envelope.id
            slot.since = started = time.monotonic()
            skipped = False
            try:
                if tracker is not None:
                    await tracker.record(
                        StatusEvent(
                            envelope.id,
                            self.name,
                            "in_progress",
                            slot.name,
                            slot.worker_id,
                            time.time(),
                        )
                    )
                if stage.skip_if is not None and self._skip(envelope):
                    skipped = True
                    value = envelope.value
                    await anyio.lowlevel.checkpoint()  # a skip must still yield
                elif per_stage:
                    value = await self._run_per_stage(envelope, slot)
                else:
                    value = envelope.value
                    for call in calls:
                        slot.current_task = call.name
                        value = await self._run_task(call, value, envelope, slot)
            except _ItemFailed as failed:
                slot.failed += 1
                self._account(slot, started)
                await self._failed(envelope, slot, failed)
                continue
            slot.processed += 1
            self._account(slot, started)
            await self._succeeded(envelope, slot, value, skipped)
            envelope.value = value
            await run.advance(self.index, envelope)

    @staticmethod
    def _account(slot: WorkerSlot, started: float) -> None:
        slot.last_active = now = time.monotonic()
        slot.total_time += now - started
        slot.current_item_id = slot.current_task = slot.since = None

    async def _retry_task(self, call: _TaskCall, value: Any, first: Exception) -> Any:
        """The fast path's first call failed with ``first``: retry as the policy says."""
        policy = self.task_policy
        if policy.attempts == 1:
            raise _ItemFailed(call.name, 1, first) from None
        attempts = 1
        replay: list[Exception] = [first]

        async def attempt() -> Any:
            nonlocal attempts
            if replay:
                raise replay.pop()  # attempt 1, already made: stamina sees its failure
            attempts += 1
            return await call.fn(value)

        try:
            return await policy.call(attempt)
        except Exception as exc:
            raise _ItemFailed(call.name, attempts, exc) from None

    def _skip(self, envelope: Envelope) -> bool:
        assert self.stage.skip_if is not None
        try:
            return bool(self.stage.skip_if(envelope.value))
        except Exception as exc:
            raise _ItemFailed(None, 1, exc) from None

    async def _run_task(
        self, call: _TaskCall, value: Any, envelope: Envelope, slot: WorkerSlot
    ) -> Any:
        """``per_task`` mode: one task with its own retries."""
        if not self.task_events:
            attempts = 0

            async def attempt() -> Any:
                nonlocal attempts
                attempts += 1
                return await call.fn(value) if call.plain else await call(value)

            try:
                return await _retrying(self.task_policy, attempt)
            except Exception as exc:
                raise _ItemFailed(call.name, attempts, exc) from None

        attempts = 0
        last_error: Exception | None = None
        last_duration: float | None = None

        async def observed_attempt() -> Any:
            nonlocal attempts, last_error, last_duration
            attempts += 1
            if attempts > 1:
                await self._task_event(
                    envelope, slot, call.name, "retry", attempts - 1, last_error, last_duration
                )
                slot.current_task = call.name
            await self._task_event(envelope, slot, call.name, "start", attempts)
            began = time.monotonic()
            try:
                result = await call(value)
            except Exception as exc:
                last_error, last_duration = exc, time.monotonic() - began
                raise
            await self._task_event(
                envelope, slot, call.name, "complete", attempts, None, time.monotonic() - began
            )
            return result

        try:
            return await _retrying(self.task_policy, observed_attempt)
        except Exception as exc:
            await self._task_event(envelope, slot, call.name, "fail", attempts, exc, last_duration)
            raise _ItemFailed(call.name, attempts, exc) from None

    async def _run_per_stage(self, envelope: Envelope, slot: WorkerSlot) -> Any:
        """``per_stage`` mode: the whole task list, re-run from the start on any failure."""
        events = self.task_events
        runs = 0
        failed_task: str | None = None
        last_error: Exception | None = None
        last_duration: float | None = None

        async def run_all() -> Any:
            nonlocal runs, failed_task, last_error, last_duration
            runs += 1
            if runs > 1 and events and failed_task is not None:
                await self._task_event(
                    envelope, slot, failed_task, "retry", runs - 1, last_error, last_duration
                )
            value = envelope.value
            for call in self.calls:
                slot.current_task = call.name
                if events:
                    await self._task_event(envelope, slot, call.name, "start", runs)
                began = time.monotonic()
                try:
                    value = await call(value)
                except Exception as exc:
                    failed_task, last_error = call.name, exc
                    last_duration = time.monotonic() - began
                    raise
                if events:
                    await self._task_event(
                        envelope,
                        slot,
                        call.name,
                        "complete",
                        runs,
                        None,
                        time.monotonic() - began,
                    )
            return value

        try:
            return await _retrying(self.stage_policy, run_all)
        except Exception as exc:
            if events and failed_task is not None:
                await self._task_event(
                    envelope, slot, failed_task, "fail", runs, exc, last_duration
                )
            raise _ItemFailed(failed_task, runs, exc) from None

    async def _task_event(
        self,
        envelope: Envelope,
        slot: WorkerSlot,
        name: str,
        kind: TaskEventType,
        attempt: int,
        error: Exception | None = None,
        duration: float | None = None,
    ) -> None:
        assert self.tracker is not None
        await self.tracker.task_event(
            TaskEvent(
                envelope.id,
                self.name,
                name,
                slot.name,
                kind,
                attempt,
                time.time(),
                error,
                duration,
            )
        )

    def _metadata(self, slot: WorkerSlot) -> dict[str, Any]:
        return {"stage": self.name, "worker": slot.name, "worker_id": slot.worker_id}

    async def _succeeded(
        self, envelope: Envelope, slot: WorkerSlot, value: Any, skipped: bool
    ) -> None:
        if self.tracker is not None:
            metadata: dict[str, Any] = {"skipped": True} if skipped else {}
            await self.tracker.record(
                StatusEvent(
                    envelope.id,
                    self.name,
                    "completed",
                    slot.name,
                    slot.worker_id,
                    time.time(),
                    metadata,
                )
            )
        if self.stage.on_success is not None:
            metadata = self._metadata(slot)
            if skipped:
                metadata["skipped"] = True
            await self.run.callbacks.call(
                "on_success", self.stage.on_success, envelope.id, value, metadata
            )

    async def _failed(self, envelope: Envelope, slot: WorkerSlot, failed: _ItemFailed) -> None:
        failure = FailedItem(
            item_id=envelope.id,
            stage=self.name,
            task=failed.task,
            attempts=failed.attempts,
            error=failed.error,
            value=envelope.value,
            timestamp=time.time(),
        )
        details = {"error": failed.error, "task": failed.task, "attempts": failed.attempts}
        if self.tracker is not None:
            await self.tracker.record_failure(failure)
            await self.tracker.record(
                StatusEvent(
                    envelope.id,
                    self.name,
                    "failed",
                    slot.name,
                    slot.worker_id,
                    failure.timestamp,
                    details,
                )
            )
        if self.stage.on_failure is not None:
            metadata = self._metadata(slot)
            metadata.update(task=failed.task, attempts=failed.attempts)
            await self.run.callbacks.call(
                "on_failure", self.stage.on_failure, envelope.id, failed.error, metadata
            )
        self.run.item_failed(failure)
