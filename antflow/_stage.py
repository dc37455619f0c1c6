"""Stage: the validated configuration of one pipeline step."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from ._limits import check_call_limits
from ._retry import RetryOn, check_retry_on
from ._validation import (
    async_generator_hint,
    call_shape,
    check_bool,
    check_callable,
    check_int,
    check_seconds,
    is_async_generator_function,
)
from .exceptions import StageValidationError

__all__ = ["DEFAULT_QUEUE_CAPACITY_MIN", "Stage", "TaskFunc"]

#: A task: an ``async def`` function, or a plain function (run in a worker thread).
TaskFunc = Callable[..., Any]

#: With ``queue_capacity=None`` a stage queues at most ``max(64, 4 * workers)`` items.
DEFAULT_QUEUE_CAPACITY_MIN = 64
_DEFAULT_QUEUE_CAPACITY_PER_WORKER = 4


@dataclass
class Stage:
    """One step of a :class:`~antflow.Pipeline`: ``workers`` workers running ``tasks`` in turn.

    Each item that enters the stage is taken by the first free worker, which calls every task in
    ``tasks`` in order, each task receiving the previous task's return value (the first one gets
    the item's value). The last task's return value goes on to the next stage.

    Args:
        name: Unique name of the stage within its pipeline; workers are named ``"{name}-W{i}"``.
        workers: How many items the stage processes at the same time (at least 1).
        tasks: The task functions, called in order. ``async def`` functions are awaited; plain
            functions run in a worker thread (``anyio.to_thread.run_sync``) so they never block
            the event loop (a running thread cannot be interrupted: cancellation waits for it).
            Each task is called with one argument, the value (unless ``unpack_args``): a task
            whose signature cannot take it, and an async generator function, are refused here.
        retry: ``"per_task"`` retries the failing task alone, up to ``task_attempts`` calls;
            ``"per_stage"`` re-runs the whole task list from the start, up to ``stage_attempts``
            times. Waits between attempts grow exponentially from ``task_wait_seconds`` (with
            jitter), in both modes.
        task_attempts: Calls per task in ``per_task`` mode, the first included (``1``: no
            retry; ``3``: at most two retries).
        task_wait_seconds: Seconds before the first retry; later waits grow exponentially.
        task_wait: The overview's spelling of ``task_wait_seconds`` (``Stage(..., task_wait=2.0)``),
            accepted as an alias: give one or the other. It is folded into
            ``task_wait_seconds`` at construction and reads ``None`` afterwards.
        stage_attempts: Runs of the task list per item in ``per_stage`` mode, the first
            included (``1``: no retry).
        unpack_args: Call each task as ``task(*value)`` when the value is a tuple or list and as
            ``task(**value)`` when it is a dict (otherwise ``task(value)``).
        task_concurrency_limits: ``{task_name: n}``: at most ``n`` concurrent calls of that task
            across the stage's workers (a worker waiting for a slot keeps its item).
        on_success: ``on_success(item_id, result, metadata)`` after the item completes the stage.
        on_failure: ``on_failure(item_id, error, metadata)`` after the item fails the stage
            (every attempt used). ``metadata`` holds ``stage``, ``worker``, ``worker_id``, and on
            failure ``task`` and ``attempts``. Callbacks may be sync or async; an exception they
            raise is logged on the ``"antflow"`` logger and counted, and the item's outcome stands.
        on_skip: ``on_skip(item_id, value, metadata)`` when ``skip_if`` made the item pass the
            stage unchanged (its status is then ``"skipped"``).
        skip_if: ``skip_if(value) -> bool``: when true the item passes this stage unchanged.
            If it raises, the item fails the stage with that exception.
        queue_capacity: Items that may wait in the stage's queue. ``None`` means
            ``max(64, 4 * workers)``; ``0`` means no limit (as in antflow 0.10, whose queues
            took ``maxsize=0`` as unbounded). A full queue makes whatever feeds the stage wait.
        pull: Hand items to this stage only when one of its workers is free to take one: no
            queue, the stage before waits (a rendezvous). Not for the first stage, and not with
            ``retry="per_stage"``.
        call_concurrency: At most this many calls at once inside
            ``async with antflow.concurrency_limit():`` across the stage's workers.
        call_rate: At most this many entries per ``call_rate_period`` seconds into
            ``async with antflow.rate_limit():`` across the stage's workers.
        call_rate_period: The period, in seconds, ``call_rate`` counts over (default 60).
        retry_on: The exceptions worth another attempt: an exception class or a tuple of them
            (default :class:`Exception`: any error). An error that does not match fails the
            item at once, whatever the attempts left: pass the transient errors
            (``retry_on=(ConnectionError, TimeoutError)``) so that a bug in a task fails fast.

    Counting: ``task_attempts`` and ``stage_attempts`` count calls (runs), the first included;
    ``retries`` elsewhere (``Pipeline.quick``, ``AsyncExecutor.submit``) counts the extra calls
    after the first, so ``task_attempts=3`` is ``retries=2``.

    Raises:
        StageValidationError: at construction, naming the invalid field and the fix.
    """

    name: str
    workers: int
    tasks: Sequence[TaskFunc]
    retry: str = "per_task"
    task_attempts: int = 3
    task_wait_seconds: float = 1.0
    stage_attempts: int = 3
    unpack_args: bool = False
    task_concurrency_limits: dict[str, int] = field(default_factory=dict)
    on_success: Optional[Callable[[Any, Any, dict[str, Any]], Any]] = None  # noqa: UP045
    on_failure: Optional[Callable[[Any, Exception, dict[str, Any]], Any]] = None  # noqa: UP045
    on_skip: Optional[Callable[[Any, Any, dict[str, Any]], Any]] = None  # noqa: UP045
    skip_if: Optional[Callable[[Any], bool]] = None  # noqa: UP045
    queue_capacity: Optional[int] = None  # noqa: UP045
    pull: bool = False
    call_concurrency: Optional[int] = None  # noqa: UP045
    call_rate: Optional[float] = None  # noqa: UP045
    call_rate_period: float = 60.0
    task_wait: Optional[float] = field(default=None, repr=False, compare=False)  # noqa: UP045
    retry_on: RetryOn = Exception

    def __post_init__(self) -> None:
        if self.task_wait is not None:
            if self.task_wait_seconds not in (1.0, self.task_wait):
                raise StageValidationError(
                    f"Stage {self.name!r}: task_wait is an alias of task_wait_seconds; "
                    f"give one of them, not both (got {self.task_wait!r} and "
                    f"{self.task_wait_seconds!r})"
                )
            self.task_wait_seconds = self.task_wait
            self.task_wait = None  # consumed: task_wait_seconds holds the value
        if self.retry_on is not Exception:
            self.retry_on = check_retry_on(
                self.retry_on, f"Stage {self.name!r}", error=StageValidationError
            )
        tasks: object = self.tasks
        if isinstance(tasks, Sequence) and not isinstance(tasks, (str, bytes)):
            self.tasks = list(tasks)
        self.validate()

    @property
    def capacity(self) -> float:
        """The number of items the stage's queue holds at most: ``0`` for a pull stage (it has
        no queue), ``math.inf`` for ``queue_capacity=0`` (no limit)."""
        if self.pull:
            return 0
        if self.queue_capacity is not None:
            return self.queue_capacity or math.inf
        return max(DEFAULT_QUEUE_CAPACITY_MIN, _DEFAULT_QUEUE_CAPACITY_PER_WORKER * self.workers)

    def validate(self) -> None:
        """Validate the stage configuration.

        Raises:
            StageValidationError: If configuration is invalid; the message names the field.
        """
        if not isinstance(self.name, str) or not self.name.strip():
            raise StageValidationError(
                f"Stage name must be a non-empty string, got {self.name!r}; "
                'give each stage a unique name such as "Fetch"'
            )
        where = f"Stage {self.name!r}"
        _check_int(where, "workers", self.workers, "the number of items processed at once")
        tasks: object = self.tasks
        if not isinstance(tasks, Sequence) or isinstance(tasks, (str, bytes)) or not tasks:
            raise StageValidationError(
                f"{where}: tasks must be a non-empty list of functions, got {tasks!r}; "
                "pass tasks=[my_function]"
            )
        for position, task in enumerate(self.tasks):
            if not callable(task):
                raise StageValidationError(
                    f"{where}: tasks[{position}] is not callable ({task!r}); "
                    "pass functions, not their results (tasks=[fetch], not tasks=[fetch()])"
                )
            _check_task_shape(where, position, task, self.unpack_args)
        if self.retry not in ("per_task", "per_stage"):
            raise StageValidationError(
                f"{where}: retry must be 'per_task' or 'per_stage', got {self.retry!r}"
            )
        _check_int(where, "task_attempts", self.task_attempts, "1 means no retry")
        _check_int(where, "stage_attempts", self.stage_attempts, "1 means no retry")
        check_seconds(
            self.task_wait_seconds, "task_wait_seconds", where=where, error=StageValidationError
        )
        check_bool(self.unpack_args, "unpack_args", where=where, error=StageValidationError)
        self._validate_limits(where)
        for name in ("on_success", "on_failure", "on_skip", "skip_if"):
            check_callable(getattr(self, name), name, where=where, error=StageValidationError)
        if self.queue_capacity is not None:
            check_int(
                self.queue_capacity,
                "queue_capacity",
                where=where,
                hint="None picks a bounded default, 0 means no limit",
                error=StageValidationError,
                minimum=0,
            )
        check_bool(self.pull, "pull", where=where, error=StageValidationError)
        if self.pull and self.retry == "per_stage":
            raise StageValidationError(
                f"{where}: pull=True cannot be combined with retry='per_stage' (a re-run would "
                "need a queue to wait in); use retry='per_task' or pull=False"
            )
        check_call_limits(
            where,
            self.call_rate,
            self.call_rate_period,
            self.call_concurrency,
            error=StageValidationError,
        )

    def _validate_limits(self, where: str) -> None:
        limits = self.task_concurrency_limits
        if not isinstance(limits, dict):
            raise StageValidationError(
                f"{where}: task_concurrency_limits must be a dict of task name to int, "
                f"got {limits!r}"
            )
        names = [task_name(task) for task in self.tasks]
        for name, limit in limits.items():
            if name not in names:
                raise StageValidationError(
                    f"{where}: task_concurrency_limits names {name!r}, which is not one of the "
                    f"stage's tasks {names}; use the task function's __name__"
                )
            _check_int(where, f"task_concurrency_limits[{name!r}]", limit, "at most n calls")


def _check_task_shape(where: str, position: int, task: TaskFunc, unpack_args: object) -> None:
    """Refuse a task that cannot work: an async generator function, or (without
    ``unpack_args``) a function that cannot be called with one argument, the item's value."""
    name = task_name(task)
    if is_async_generator_function(task):
        raise StageValidationError(f"{where}: tasks[{position}] {async_generator_hint(repr(name))}")
    if unpack_args is True:
        return  # called with the value spread over its parameters: known only per item
    shape = call_shape(task)
    reason = shape.refuses((None,), {}) if shape is not None else None
    if reason is not None:
        raise StageValidationError(
            f"{where}: tasks[{position}] {name!r} cannot be called with one argument, the "
            f"item's value ({reason}); give it one parameter for the value "
            f"(def {name}(value): ...), or pass unpack_args=True to spread a tuple or dict "
            "value over its parameters"
        )


def _check_int(where: str, field_name: str, value: object, hint: str) -> None:
    check_int(value, field_name, where=where, hint=hint, error=StageValidationError)


def task_name(task: Callable[..., Any]) -> str:
    """The name events, limits and worker states use for a task function."""
    while isinstance(task, functools.partial):
        task = task.func
    name = getattr(task, "__name__", None)
    return name if isinstance(name, str) else type(task).__name__


def is_async_callable(task: Callable[..., Any]) -> bool:
    """True when calling ``task`` returns a coroutine (``async def``, or an async ``__call__``)."""
    while isinstance(task, functools.partial):
        task = task.func
    return inspect.iscoroutinefunction(task) or inspect.iscoroutinefunction(
        getattr(task, "__call__", None)  # noqa: B004 - an async __call__ is what we look for
    )
