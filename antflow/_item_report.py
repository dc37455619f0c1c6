"""What a stage tells of each item: to the run's observers, to the stage's callbacks, to the ledger.

The worker loop calls :class:`ItemReport` at each turn of an item's life in the stage (started,
retrying, succeeded or skipped, failed); this is the only place that builds item events and calls
``on_success`` / ``on_skip`` / ``on_failure``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ._callbacks import CallbackErrors
from ._inbox import Envelope
from ._observe import Event, EventKind, Hook, now
from ._outlet import Outlet
from ._records import FailedItem
from ._stage import Stage
from ._worker_state import Worker

__all__ = ["ItemFailed", "ItemReport"]


class ItemFailed(Exception):
    """An item used up its attempts in a stage (internal: the worker reports it).

    Attributes:
        task: The failing task's name (``None`` when ``skip_if`` raised).
        attempts: Attempts made (task calls in ``per_task`` mode, runs in ``per_stage``).
        error: The last attempt's exception, unchanged.
        duration: Seconds the last attempt took, when known.
    """

    def __init__(
        self, task: str | None, attempts: int, error: Exception, duration: float | None = None
    ) -> None:
        super().__init__(task, attempts, error)
        self.task = task
        self.attempts = attempts
        self.error = error
        self.duration = duration


class ItemReport:
    """The reports of one stage in one run.

    Attributes:
        observed: Something listens to starts, successes and skips (an observer, ``on_success``
            or ``on_skip``): without it the worker skips :meth:`started` and :meth:`succeeded`
            altogether.
        retries_observed: Some observer wants ``ITEM_RETRYING`` events.
    """

    __slots__ = (
        "callbacks",
        "hook",
        "observed",
        "on_failure",
        "on_skip",
        "on_success",
        "retries_observed",
        "stage",
    )

    def __init__(self, stage: Stage, hook: Hook | None, callbacks: CallbackErrors) -> None:
        self.stage = stage.name
        self.hook = hook if hook is not None and hook.items else None
        self.on_success: Callable[[Any, Any, dict[str, Any]], Any] | None = stage.on_success
        self.on_failure: Callable[[Any, Exception, dict[str, Any]], Any] | None = stage.on_failure
        self.on_skip: Callable[[Any, Any, dict[str, Any]], Any] | None = stage.on_skip
        self.callbacks = callbacks
        self.observed = (
            self.hook is not None or self.on_success is not None or self.on_skip is not None
        )
        self.retries_observed = hook is not None and EventKind.ITEM_RETRYING in hook.wanted

    async def started(self, envelope: Envelope, worker: Worker) -> None:
        if self.hook is not None:
            await self.hook.emit(
                Event(
                    EventKind.ITEM_STARTED,
                    self.stage,
                    envelope.id,
                    None,
                    worker.name,
                    worker.worker_id,
                    timestamp=now(),
                )
            )

    async def retrying(
        self,
        envelope: Envelope,
        worker: Worker,
        task: str | None,
        attempt: int,
        error: Exception,
        wait: float,
        duration: float | None,
        whole_stage: bool,
    ) -> None:
        hook = self.hook
        if hook is not None:
            await hook.emit(
                self._event(
                    EventKind.ITEM_RETRYING,
                    envelope,
                    worker,
                    task=task,
                    attempt=attempt,
                    error=error,
                    wait=wait,
                    duration=duration,
                    whole_stage=whole_stage,
                )
            )

    async def succeeded(
        self, envelope: Envelope, worker: Worker, value: Any, skipped: bool
    ) -> None:
        """Tell observers the item finished the stage (``ITEM_SUCCEEDED``, then ``on_success``)
        or that ``skip_if`` made it pass unchanged (``ITEM_SKIPPED``, then ``on_skip``; as in
        0.10, ``on_success`` is not called for a skipped item)."""
        if self.hook is not None:
            await self.hook.emit(
                Event(
                    EventKind.ITEM_SKIPPED if skipped else EventKind.ITEM_SUCCEEDED,
                    self.stage,
                    envelope.id,
                    None,
                    worker.name,
                    worker.worker_id,
                    value=value,
                    timestamp=now(),
                )
            )
        if skipped:
            if self.on_skip is not None:
                await self.callbacks.call(
                    "on_skip", self.on_skip, envelope.id, value, self._metadata(worker)
                )
        elif self.on_success is not None:
            await self.callbacks.call(
                "on_success", self.on_success, envelope.id, value, self._metadata(worker)
            )

    async def failed(
        self, envelope: Envelope, worker: Worker, failed: ItemFailed, outlet: Outlet
    ) -> None:
        """Tell observers and ``on_failure``, then record the failure: the item's end (recorded
        even if the run is cancelled while they are told)."""
        failure = FailedItem.of(
            envelope.id,
            self.stage,
            failed.task,
            failed.attempts,
            failed.error,
            envelope.value,
            time.time(),
        )
        try:
            if self.hook is not None:
                await self.hook.emit(
                    self._event(
                        EventKind.ITEM_FAILED,
                        envelope,
                        worker,
                        task=failed.task,
                        attempt=failed.attempts,
                        error=failed.error,
                        duration=failed.duration,
                        failure=failure,
                        timestamp=failure.timestamp,
                    )
                )
            if self.on_failure is not None:
                metadata = self._metadata(worker)
                metadata.update(task=failed.task, attempts=failed.attempts)
                await self.callbacks.call(
                    "on_failure", self.on_failure, envelope.id, failed.error, metadata
                )
        finally:
            # Even when cancelled while an observer or on_failure awaits: the item has failed,
            # and the ledger (the summary, items_failed) must agree with what the tracker and
            # on_failure may already have been told.
            outlet.fail(failure)

    def _event(
        self,
        kind: EventKind,
        envelope: Envelope,
        worker: Worker,
        *,
        timestamp: float | None = None,
        **fields: Any,
    ) -> Event:
        return Event(
            kind,
            self.stage,
            envelope.id,
            worker=worker.name,
            worker_id=worker.worker_id,
            timestamp=now() if timestamp is None else timestamp,
            **fields,
        )

    def _metadata(self, worker: Worker) -> dict[str, Any]:
        return {"stage": self.stage, "worker": worker.name, "worker_id": worker.worker_id}
