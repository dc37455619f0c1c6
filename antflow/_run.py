"""One run of a pipeline: its stages' workers, the items in flight, results and failures."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from typing import Any

import anyio
import anyio.lowlevel
from anyio import WouldBlock
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectSendStream

from ._callbacks import CallbackErrors
from ._inbox import Envelope
from ._records import FailedItem, PipelineResult
from ._stage import Stage
from ._stage_worker import StageRunner
from ._stats import PipelineStats
from ._streams import send
from ._tracker import StatusTracker

__all__ = ["DEFAULT_PRIORITY", "RunState", "split_item"]

#: ``priority`` of fed items when none is given (lower values enter full queues first).
DEFAULT_PRIORITY = 100

_NO_ID = object()


def split_item(raw: Any) -> tuple[Any, Any]:
    """``(id, value)`` of a fed item.

    A dict with exactly the keys ``id`` and ``value`` keeps its id; anything else is a value
    (returned id ``_NO_ID``: its feed order becomes its id).
    """
    if type(raw) is dict and len(raw) == 2 and "id" in raw and "value" in raw:
        return raw["id"], raw["value"]
    return _NO_ID, raw


class RunState:
    """Workers, counters and outputs of one run: ``run()``, ``stream()`` or ``start()``-``join()``.

    Every fed item ends exactly once: delivered as a result (``advance`` past the last stage) or
    recorded as a failure (``item_failed``); ``in_flight`` counts the items in between, and
    ``wait_drained`` waits for it to reach zero.
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        tracker: StatusTracker | None,
        collect: bool,
        output: MemoryObjectSendStream[PipelineResult] | None = None,
    ) -> None:
        self.tracker = tracker
        self.collect = collect
        self.output = output
        self.callbacks = CallbackErrors()
        self.runners = [StageRunner(stage, i, self) for i, stage in enumerate(stages)]
        self.by_name = {runner.name: runner for runner in self.runners}
        self._last = len(self.runners) - 1
        self.results: list[PipelineResult] = []
        self.failures: list[FailedItem] = []
        self.fed = 0
        self.processed = 0
        self.failed = 0
        self.in_flight = 0
        self._sequence = 0
        self._drained: anyio.Event | None = None
        self.stopped = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        self._cancelled = False
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
        try:
            async with anyio.create_task_group() as tg:
                self._scope = tg.cancel_scope
                if self._cancelled:
                    tg.cancel_scope.cancel()
                for runner in self.runners:
                    for slot in runner.slots:
                        tg.start_soon(runner.work, slot, name=f"antflow worker {slot.name}")
                if feed is not None:
                    tg.start_soon(self._feed_and_finish, feed, name="antflow feeder")
                task_status.started()
        finally:
            for runner in self.runners:
                runner.inbox.close_all()
            if self.output is not None:
                self.output.close()
            for callback in self.on_stopped:
                callback()
            self.stopped.set()
            if self._drained is not None:
                self._drained.set()

    async def serve_unowned(self, feed: Iterable[Any] | AsyncIterable[Any] | None = None) -> None:
        """:meth:`serve` for a background task nobody awaits: keeps any error for the caller."""
        try:
            await self.serve(feed)
        except Exception as exc:
            self.fatal = exc

    async def _feed_and_finish(self, items: Iterable[Any] | AsyncIterable[Any]) -> None:
        try:
            await self.feed(items, self.runners[0], DEFAULT_PRIORITY)
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
        self._cancelled = True
        if self._scope is not None:
            self._scope.cancel()

    def close(self) -> None:
        """No more items: workers finish what is queued, then exit."""
        for runner in self.runners:
            runner.inbox.close()

    async def wait_drained(self) -> None:
        """Wait until every item fed so far is a result or a failure (or the run stopped)."""
        while self.in_flight and not self.stopped.is_set():
            self._drained = anyio.Event()
            await self._drained.wait()
        self._drained = None

    # -- items -------------------------------------------------------------------------------

    def runner(self, target_stage: str | None) -> StageRunner:
        if target_stage is None:
            return self.runners[0]
        try:
            return self.by_name[target_stage]
        except KeyError:
            raise ValueError(
                f"target_stage {target_stage!r} is not a stage of this pipeline; "
                f"use one of {list(self.by_name)}"
            ) from None

    async def feed(
        self, items: Iterable[Any] | AsyncIterable[Any], runner: StageRunner, priority: int
    ) -> None:
        """Feed ``items`` to ``runner``'s stage one by one, lazily, waiting while it is full."""
        if isinstance(items, AsyncIterable):
            async for raw in items:
                await runner.enqueue(self._envelope(raw, priority), self.unfeed)
        elif self.tracker is not None:
            for raw in items:
                await runner.enqueue(self._envelope(raw, priority), self.unfeed)
        else:
            # The hot path of run(): no tracker to tell, so try the queue without awaiting
            # (Inbox.put_nowait, inlined).
            inbox = runner.inbox
            send_nowait = inbox.send_stream.send_nowait
            for raw in items:
                if type(raw) is dict:
                    envelope = self._envelope(raw, priority)
                else:
                    sequence = self._sequence
                    self._sequence = sequence + 1
                    self.fed += 1
                    self.in_flight += 1
                    envelope = Envelope(sequence, raw, sequence, priority)
                if inbox.waiting:
                    await inbox.wait_to_put(envelope, self.unfeed)
                    continue
                try:
                    send_nowait(envelope)
                except WouldBlock:
                    await inbox.wait_to_put(envelope, self.unfeed)

    def unfeed(self, envelope: Envelope) -> None:
        """Feeding ``envelope`` was cancelled before it entered a queue: it was never fed."""
        self.fed -= 1
        self._done_one()

    def _envelope(self, raw: Any, priority: int) -> Envelope:
        """Wrap a fed item; from here on it counts as in flight."""
        item_id, value = split_item(raw)
        sequence = self._sequence
        self._sequence = sequence + 1
        self.fed += 1
        self.in_flight += 1
        return Envelope(sequence if item_id is _NO_ID else item_id, value, sequence, priority)

    async def advance(self, index: int, envelope: Envelope) -> None:
        """The item completed stage ``index``: queue it for the next stage, or deliver it."""
        if index < self._last:
            await self.runners[index + 1].enqueue(envelope)
            return
        result = PipelineResult(envelope.id, envelope.value, envelope.sequence)
        if self.output is not None:
            try:
                await send(self.output, result)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                # The consumer closed the stream: the run is over. Stop at the checkpoint.
                self.cancel()
                await anyio.lowlevel.checkpoint()
                raise  # not reached: the checkpoint raises the cancellation
        self.deliver(result)

    def deliver(self, result: PipelineResult) -> None:
        """The item went through every stage (and, when streaming, out to the consumer)."""
        self.processed += 1
        if self.collect and self.output is None:
            self.results.append(result)
        self._done_one()

    def item_failed(self, failure: FailedItem) -> None:
        self.failed += 1
        self.failures.append(failure)
        self._done_one()

    def _done_one(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self.drained()

    def drained(self) -> None:
        """``in_flight`` reached zero: wake :meth:`wait_drained`."""
        if self._drained is not None:
            self._drained.set()

    # -- reading -----------------------------------------------------------------------------

    def stats(self) -> PipelineStats:
        tracker_errors = self.tracker.callback_errors if self.tracker is not None else 0
        return PipelineStats(
            items_fed=self.fed,
            items_processed=self.processed,
            items_failed=self.failed,
            items_in_flight=self.in_flight,
            queue_sizes={runner.name: runner.inbox.size() for runner in self.runners},
            callback_errors=self.callbacks.count + tracker_errors,
        )
