"""StatusTracker: per-item status history and event callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._callbacks import CallbackErrors
from ._observe import Event, EventKind
from ._records import ErrorSummary, FailedItem

__all__ = ["StatusEvent", "StatusTracker", "StatusType", "TaskEvent", "TaskEventType"]

StatusType = Literal["queued", "in_progress", "completed", "failed"]
TaskEventType = Literal["start", "complete", "retry", "fail"]


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """An item changed status in a stage.

    Attributes:
        item_id: The item.
        stage: The stage.
        status: ``"queued"`` (entered the stage's queue), ``"in_progress"`` (a worker took it),
            ``"completed"`` (it finished the stage) or ``"failed"`` (it failed the stage).
        worker: The worker's name (``None`` while queued).
        worker_id: The worker's index in its stage (``None`` while queued).
        timestamp: ``time.time()`` of the change.
        metadata: On ``"failed"``: ``error`` (the exception, unchanged), ``task`` and
            ``attempts``. On a ``"completed"`` that ``skip_if`` caused: ``skipped=True``.
    """

    item_id: Any
    stage: str
    status: StatusType
    worker: str | None
    worker_id: int | None
    timestamp: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """A task call started, completed, is about to be retried, or failed for good.

    Attributes:
        item_id: Item being processed.
        stage: Stage name.
        task_name: The task function's name.
        worker: Worker processing the task.
        event_type: ``"start"``, ``"complete"``, ``"retry"`` or ``"fail"``.
        attempt: 1-indexed. For ``"start"``/``"complete"`` the attempt running; for
            ``"retry"`` the attempt that failed (the retry follows, after the backoff); for
            ``"fail"`` the last attempt, so the number of attempts made.
        timestamp: ``time.time()`` of the event.
        error: The exception, for ``"retry"`` and ``"fail"`` (``None`` otherwise).
        duration: Seconds the attempt took (``None`` for ``"start"``).
    """

    item_id: Any
    stage: str
    task_name: str
    worker: str
    event_type: TaskEventType
    attempt: int
    timestamp: float
    error: Exception | None = None
    duration: float | None = None


Callback = Callable[[Any], Any]


class StatusTracker:
    """Records every item's status changes and calls your callbacks as they happen.

    Give it to ``Pipeline(status_tracker=...)``. Callbacks may be sync or async; they run inside
    the worker that caused the event, in event order for a given item, so keep them quick. An
    exception a callback raises is logged on the ``"antflow"`` logger and counted
    (:attr:`callback_errors`); it never changes the item's outcome.

    The tracker keeps each item's full history: memory grows with the number of items tracked.
    It is a consumer of the engine's one observation hook (:mod:`antflow._observe`): the
    pipeline reports each event to it, and the tracker turns them into its records.

    Args:
        on_status_change: Called with each :class:`StatusEvent`.
        on_task_start: Called with a :class:`TaskEvent` before each task attempt.
        on_task_complete: Called after a task attempt returns.
        on_task_retry: Called when a task attempt failed and is about to be retried (before
            the backoff wait).
        on_task_fail: Called when a task failed its last attempt.
    """

    def __init__(
        self,
        on_status_change: Callback | None = None,
        on_task_start: Callback | None = None,
        on_task_complete: Callback | None = None,
        on_task_retry: Callback | None = None,
        on_task_fail: Callback | None = None,
    ) -> None:
        for name, value in (
            ("on_status_change", on_status_change),
            ("on_task_start", on_task_start),
            ("on_task_complete", on_task_complete),
            ("on_task_retry", on_task_retry),
            ("on_task_fail", on_task_fail),
        ):
            if value is not None and not callable(value):
                raise TypeError(f"StatusTracker {name} must be a function or None, got {value!r}")
        self.on_status_change = on_status_change
        self.on_task_start = on_task_start
        self.on_task_complete = on_task_complete
        self.on_task_retry = on_task_retry
        self.on_task_fail = on_task_fail
        self._current: dict[Any, StatusEvent] = {}
        self._history: dict[Any, list[StatusEvent]] = {}
        self._failures: list[FailedItem] = []
        self._errors = CallbackErrors()

    @property
    def callback_errors(self) -> int:
        """How many times one of this tracker's callbacks raised."""
        return self._errors.count

    @property
    def wants_task_events(self) -> bool:
        """True if a task-level callback is set (else the pipeline builds no TaskEvent)."""
        return (
            self.on_task_start is not None
            or self.on_task_complete is not None
            or self.on_task_retry is not None
            or self.on_task_fail is not None
        )

    def get_stats(self) -> dict[str, int]:
        """Number of items in each status (their latest one), with every status present."""
        stats = {"queued": 0, "in_progress": 0, "completed": 0, "failed": 0}
        for event in self._current.values():
            stats[event.status] += 1
        return stats

    def get_status(self, item_id: Any) -> StatusEvent | None:
        """The item's latest event, or ``None`` if the tracker never saw it."""
        return self._current.get(item_id)

    def get_by_status(self, status: StatusType) -> list[StatusEvent]:
        """The latest event of every item whose latest status is ``status``."""
        if status not in ("queued", "in_progress", "completed", "failed"):
            raise ValueError(
                f"status must be 'queued', 'in_progress', 'completed' or 'failed', got {status!r}"
            )
        return [event for event in self._current.values() if event.status == status]

    def get_history(self, item_id: Any) -> list[StatusEvent]:
        """Every event of the item, oldest first (empty if never seen)."""
        return list(self._history.get(item_id, ()))

    def get_error_summary(self) -> ErrorSummary:
        """Every failure this tracker recorded, aggregated."""
        return ErrorSummary.of(self._failures, self._errors.count)

    # -- the observer protocol (antflow._observe): the pipeline reports through these ------

    def wants(self, kind: EventKind) -> bool:
        """Which engine events the tracker consumes: every item status change, and the task
        events when a task-level callback is set."""
        if kind in _STATUS_KINDS:
            return True
        return self.wants_task_events and kind in _TASK_KINDS

    async def __call__(self, event: Event) -> None:
        """Turn one engine event into the tracker's records and callbacks."""
        kind = event.kind
        if kind is EventKind.TASK_STARTED:
            await self._task_event(event, "start")
        elif kind is EventKind.TASK_ENDED:
            if event.error is None:
                await self._task_event(event, "complete")
        elif kind is EventKind.ITEM_RETRYING:
            if event.task is not None:
                await self._task_event(event, "retry")
        elif kind is EventKind.ITEM_FAILED:
            failure = event.failure
            assert failure is not None
            if self.wants_task_events and event.task is not None:
                await self._task_event(event, "fail")
            self._failures.append(failure)
            details = {"error": failure.error, "task": failure.task, "attempts": failure.attempts}
            await self._record(event, "failed", details)
        elif kind is EventKind.ITEM_SKIPPED:
            await self._record(event, "completed", {"skipped": True})
        else:
            await self._record(event, _STATUS_OF[kind], {})

    async def _record(self, event: Event, status: StatusType, metadata: dict[str, Any]) -> None:
        """Store the item's new status and call ``on_status_change``."""
        change = StatusEvent(
            event.item_id,
            event.source,
            status,
            event.worker,
            event.worker_id,
            event.timestamp,
            metadata,
        )
        self._current[change.item_id] = change
        history = self._history.get(change.item_id)
        if history is None:
            self._history[change.item_id] = [change]
        else:
            history.append(change)
        if self.on_status_change is not None:
            await self._errors.call("on_status_change", self.on_status_change, change)

    async def _task_event(self, event: Event, event_type: TaskEventType) -> None:
        """Dispatch a :class:`TaskEvent` to the matching task callback."""
        callback = {
            "start": self.on_task_start,
            "complete": self.on_task_complete,
            "retry": self.on_task_retry,
            "fail": self.on_task_fail,
        }[event_type]
        if callback is None:
            return
        error = event.error if isinstance(event.error, Exception) else None
        task_event = TaskEvent(
            event.item_id,
            event.source,
            event.task or "",
            event.worker or "",
            event_type,
            event.attempt or 0,
            event.timestamp,
            error if event_type in ("retry", "fail") else None,
            event.duration,
        )
        await self._errors.call(f"on_task_{event_type}", callback, task_event)


_STATUS_OF: dict[EventKind, StatusType] = {
    EventKind.ITEM_QUEUED: "queued",
    EventKind.ITEM_STARTED: "in_progress",
    EventKind.ITEM_SUCCEEDED: "completed",
}
_STATUS_KINDS = frozenset({*_STATUS_OF, EventKind.ITEM_SKIPPED, EventKind.ITEM_FAILED})
_TASK_KINDS = frozenset({EventKind.TASK_STARTED, EventKind.TASK_ENDED, EventKind.ITEM_RETRYING})
