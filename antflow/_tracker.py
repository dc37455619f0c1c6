"""StatusTracker: per-item status history and event callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ._callbacks import CallbackErrors
from ._observe import Event, EventKind
from ._records import ErrorSummary, FailedItem

__all__ = ["StatusEvent", "StatusTracker", "StatusType", "TaskEvent", "TaskEventType"]

StatusType = Literal["queued", "in_progress", "completed", "failed", "retrying", "skipped"]
TaskEventType = Literal["start", "complete", "retry", "fail"]

#: Every status, in :data:`StatusType`'s order (the keys of :meth:`StatusTracker.get_stats`).
STATUSES: tuple[StatusType, ...] = get_args(StatusType)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """An item changed status in a stage.

    The fields are 0.10's, in 0.10's order.

    Attributes:
        item_id: The item.
        stage: The stage.
        status: ``"queued"`` (entered the stage's queue), ``"in_progress"`` (a worker took it),
            ``"completed"`` (it finished the stage), ``"failed"`` (it failed the stage for
            good), ``"retrying"`` (an attempt failed and another follows) or ``"skipped"``
            (``skip_if`` made it pass the stage unchanged: no ``"in_progress"`` nor
            ``"completed"`` for that stage).
        worker: The worker's name, ``"{stage}-W{i}"`` (``None`` while queued).
        timestamp: ``time.time()`` of the change.
        metadata: On ``"failed"``: ``error`` (``str()`` of the exception), ``error_type`` (its
            class name), ``exception`` (the exception itself), ``task`` and ``attempts``. On
            ``"retrying"``: ``attempt`` (the attempt about to be made, so 2 on the first
            retry), ``retry`` (``True``), ``error``, ``error_type``, ``exception`` and ``task``
            (the task that raised). Empty otherwise.
    """

    item_id: Any
    stage: str
    status: StatusType
    worker: str | None
    timestamp: float
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def worker_id(self) -> int | None:
        """The worker's index in its stage, read from :attr:`worker` (``"Fetch-W5"`` gives 5);
        ``None`` without a worker or when the name does not end in ``-W<number>``."""
        if self.worker is None:
            return None
        try:
            return int(self.worker.rsplit("-W", 1)[-1])
        except ValueError:
            return None


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

    An item's statuses in one stage are ``"queued"``, ``"in_progress"``, then ``"completed"``
    or ``"failed"``, with a ``"retrying"`` before each retry (of a task in ``per_task`` mode, of
    the stage's run in ``per_stage`` mode); or ``"queued"`` then ``"skipped"`` when ``skip_if``
    made it pass the stage. After a ``"completed"`` or ``"skipped"`` comes the next stage's
    ``"queued"``. So :meth:`get_stats` counts an item that went through every stage as
    ``"completed"``, or ``"skipped"`` if the last stage skipped it.

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

    Raises:
        TypeError: An argument is neither callable nor ``None``.
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
        #: Each failed item's latest failure.
        self._failures: dict[Any, FailedItem] = {}
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
        stats: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for event in self._current.values():
            stats[event.status] += 1
        return stats

    def get_status(self, item_id: Any) -> StatusEvent | None:
        """The item's latest event, or ``None`` if the tracker never saw it."""
        return self._current.get(item_id)

    def get_tracked_ids(self) -> list[Any]:
        """The ids of every item the tracker has seen, in the order it first saw them."""
        return list(self._current)

    def get_by_status(self, status: StatusType) -> list[StatusEvent]:
        """The latest event of every item whose latest status is ``status``, in first-seen
        order.

        Raises:
            ValueError: ``status`` is not one of :data:`StatusType`'s values.
        """
        if status not in STATUSES:
            raise ValueError(
                f"status must be one of {', '.join(map(repr, STATUSES))}, got {status!r}"
            )
        return [event for event in self._current.values() if event.status == status]

    def get_history(self, item_id: Any) -> list[StatusEvent]:
        """Every event of the item, oldest first (empty if never seen)."""
        return list(self._history.get(item_id, ()))

    def get_failed_items(self) -> list[FailedItem]:
        """The failure of every item whose latest status is ``"failed"``, in the order the
        tracker first saw the items (as 0.10: an item fed again under the same id and then
        completed is no longer listed)."""
        failures = self._failures
        return [
            failures[item_id]
            for item_id, event in self._current.items()
            if event.status == "failed"
        ]

    def get_error_summary(self) -> ErrorSummary:
        """:meth:`get_failed_items`, aggregated (in that order), with this tracker's callback
        errors."""
        return ErrorSummary.of(self.get_failed_items(), self._errors.count)

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
            if event.whole_stage:  # as in 0.10: the item's status changes on a stage re-run only
                # 0.10's keys first, in its order: the attempt to come, then the error.
                details: dict[str, Any] = {"attempt": (event.attempt or 0) + 1, "retry": True}
                details.update(_error_details(event.error), task=event.task)
                await self._record(event, "retrying", details)
        elif kind is EventKind.ITEM_FAILED:
            failure = event.failure
            assert failure is not None
            if self.wants_task_events and event.task is not None:
                await self._task_event(event, "fail")
            self._failures[failure.item_id] = failure
            details = _error_details(failure.exception)
            details.update(task=failure.task, attempts=failure.attempts)
            await self._record(event, "failed", details)
        elif kind is EventKind.ITEM_SKIPPED:
            await self._record(event, "skipped", {})
        else:
            await self._record(event, _STATUS_OF[kind], {})

    async def _record(self, event: Event, status: StatusType, metadata: dict[str, Any]) -> None:
        """Store the item's new status and call ``on_status_change``."""
        change = StatusEvent(
            event.item_id, event.source, status, event.worker, event.timestamp, metadata
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
_STATUS_KINDS = frozenset(
    {*_STATUS_OF, EventKind.ITEM_RETRYING, EventKind.ITEM_SKIPPED, EventKind.ITEM_FAILED}
)
_TASK_KINDS = frozenset({EventKind.TASK_STARTED, EventKind.TASK_ENDED})


def _error_details(error: BaseException | None) -> dict[str, Any]:
    """The metadata 0.10 gives an error (``error``: its text, ``error_type``: its class
    name), and ours: ``exception``, the exception itself."""
    if error is None:
        return {"error": "Unknown error", "error_type": "Exception", "exception": None}
    return {"error": str(error), "error_type": type(error).__name__, "exception": error}
