"""The engine's one observation hook: what happens to items, tasks and workers, told to observers.

In the spirit of stamina's ``RetryHook``: the engine (pipeline stages, the executor's ``map``,
flowkit's scheduler) reports each fact as one :class:`Event` record to one small protocol,
:class:`Observer`, and knows nothing of who listens. The status tracker, the progress bar and
OpenTelemetry (``antflow/_otel_observer.py``, added to a run's observers when telemetry is on)
are consumers of it.

The cost when nothing observes is one ``is not None`` test per reporting site: a run with no
observer holds ``hook = None`` and builds no event. A run with observers builds each event once,
and only the kinds some observer :meth:`~Observer.wants`.

Order: events of one item are reported in the order they happen, by the task that made them
happen (the stage worker holding the item), and an awaitable an observer returns is awaited
before the engine goes on, so the item's next event waits for it. Events of different items
interleave as their workers run.
"""

from __future__ import annotations

import enum
import inspect
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ._callbacks import CallbackErrors

if TYPE_CHECKING:
    from ._records import FailedItem

__all__ = ["Event", "EventKind", "Hook", "Observer", "hook_of"]


class EventKind(enum.Enum):
    """What happened. ``ITEM_*`` are about one item in one stage (or one call, one task)."""

    #: The item entered the stage's queue.
    ITEM_QUEUED = "item_queued"
    #: A worker took the item.
    ITEM_STARTED = "item_started"
    #: An attempt failed and another follows after ``wait`` seconds (``attempt``: the failed one).
    ITEM_RETRYING = "item_retrying"
    #: The item finished the stage (``value``: what it passes on).
    ITEM_SUCCEEDED = "item_succeeded"
    #: The item passes the stage unchanged: its skip condition said so.
    ITEM_SKIPPED = "item_skipped"
    #: The item used up its attempts (``failure``: the record kept for the error summary).
    ITEM_FAILED = "item_failed"
    #: One attempt of one task begins (``attempt``, 1-based).
    TASK_STARTED = "task_started"
    #: That attempt returned (``error`` is None) or raised (``error``), after ``duration`` s.
    TASK_ENDED = "task_ended"
    #: A worker began serving (``worker``, ``worker_id``).
    WORKER_STARTED = "worker_started"
    #: A worker stopped serving: its queue was closed and drained, or the run was cancelled.
    WORKER_STOPPED = "worker_stopped"
    #: A run began, before any item of it is taken (``source``: the stages' names joined by
    #: ``" → "``, or the workflow's name).
    RUN_STARTED = "run_started"
    #: The run ended: done, failed or cancelled; no event of it follows. ``value``: a pipeline
    #: run's final :class:`~antflow.PipelineStats`, ``None`` for a workflow. ``error``: what
    #: stopped a workflow early (its first failure), or ``None``.
    RUN_ENDED = "run_ended"

    # Members are singletons compared by identity: hash them by identity too, in C. Enum's
    # own __hash__ is a Python function, and kinds are looked up once per event.
    __hash__ = object.__hash__


#: The kinds reported per attempt of a task: the costliest to build, so asked for separately.
TASK_KINDS = frozenset({EventKind.TASK_STARTED, EventKind.TASK_ENDED})


@dataclass(slots=True)
class Event:
    """One fact the engine reports. Fields that do not apply to a kind are ``None``.

    Read-only by contract, not frozen: a frozen dataclass of this size costs five times as
    much to build (2.6 against 0.5 microseconds), and one is built per event. Every observer
    gets the same object: do not change it.

    Attributes:
        kind: What happened.
        source: Where: the stage's name, or the workflow's, or the executor map's title.
        item_id: The item (a pipeline item's id, a flowkit task's name).
        task: The task function's name (task events, retrying, failed).
        worker: The worker's name, ``"{stage}-W{i}"``.
        worker_id: The worker's index in its stage.
        attempt: Task events: the attempt, 1-based. Retrying: the attempt that failed.
            Failed: the attempts made.
        error: The exception of a failed attempt (task ended, retrying, failed).
        duration: Seconds the attempt took (task ended, retrying).
        wait: Retrying: seconds before the next attempt (stamina's backoff, jitter included).
        value: Succeeded, skipped: the value passed on.
        failure: Failed: the record kept for the error summary.
        timestamp: ``time.time()`` when it happened.
        whole_stage: Retrying: True when the whole task list runs again (``retry="per_stage"``),
            False when one task is retried (``"per_task"``, flowkit, the executor).
    """

    kind: EventKind
    source: str
    item_id: Any = None
    task: str | None = None
    worker: str | None = None
    worker_id: int | None = None
    attempt: int | None = None
    error: BaseException | None = None
    duration: float | None = None
    wait: float | None = None
    value: Any = None
    failure: FailedItem | None = None
    timestamp: float = 0.0
    whole_stage: bool = False


class Observer(Protocol):
    """What the engine reports to. Two methods; a consumer implements both.

    ``wants`` is asked once per run for each kind, never per event: return True for the kinds
    you consume, and the engine builds no event of the other kinds for you. ``__call__`` gets
    each event; it may return an awaitable (an ``async def __call__``), which the engine awaits
    before going on. An exception it raises is logged on the ``"antflow"`` logger and counted
    among the run's callback errors; it never changes an item's outcome. Events reported from a
    worker thread (flowkit's sync tasks) go only to observers that return ``None``.
    """

    def wants(self, kind: EventKind) -> bool:
        """Whether this observer consumes events of ``kind``."""
        ...

    def __call__(self, event: Event) -> Awaitable[None] | None:
        """Consume one event."""
        ...


class Hook:
    """The engine's side of the protocol: the observers of one run, and what they want.

    Build it with :func:`hook_of`, which gives ``None`` when nobody observes, so that a
    reporting site costs one ``is not None`` test in the common case.

    Attributes:
        items: Some observer wants ``ITEM_*`` events.
        tasks: Some observer wants ``TASK_*`` events (per attempt: build them only then).
        workers: Some observer wants ``WORKER_*`` events.
    """

    __slots__ = ("_by_kind", "_errors", "items", "tasks", "wanted", "workers")

    def __init__(self, observers: Iterable[Observer], errors: CallbackErrors) -> None:
        observers = list(observers)
        #: For each kind, the observers that want it, in the order given.
        self._by_kind: dict[EventKind, tuple[Observer, ...]] = {
            kind: tuple(o for o in observers if o.wants(kind)) for kind in EventKind
        }
        self._errors = errors
        self.wanted = frozenset(kind for kind, wanting in self._by_kind.items() if wanting)
        self.items = any(kind.name.startswith("ITEM_") for kind in self.wanted)
        self.tasks = bool(self.wanted & TASK_KINDS)
        self.workers = any(kind.name.startswith("WORKER_") for kind in self.wanted)

    async def emit(self, event: Event) -> None:
        """Tell every observer that wants ``event.kind``, in the order they were given."""
        for observer in self._by_kind[event.kind]:
            try:
                result = observer(event)
                if result is not None:
                    await result
            except Exception as exc:
                self._errors.record(f"observer {observer!r}", exc)

    def emit_nowait(self, event: Event) -> None:
        """:meth:`emit` for places that cannot await (a worker thread): sync observers only.

        An observer that returns an awaitable here is a misuse: the awaitable is closed unrun
        and counted as a callback error.
        """
        for observer in self._by_kind[event.kind]:
            try:
                result = observer(event)
                if result is not None:
                    if inspect.iscoroutine(result):
                        result.close()
                    raise TypeError(
                        f"{observer!r} returned an awaitable for an event reported from a "
                        "worker thread; observers of flowkit runs must be synchronous"
                    )
            except Exception as exc:
                self._errors.record(f"observer {observer!r}", exc)


def hook_of(observers: Iterable[Observer | None], errors: CallbackErrors) -> Hook | None:
    """The hook for ``observers`` (``None`` entries ignored), or ``None`` if none wants anything."""
    hook = Hook([o for o in observers if o is not None], errors)
    return hook if hook.wanted else None


def now() -> float:
    """The timestamp events carry: ``time.time()``."""
    return time.time()
