"""What a pipeline must do with each item, worked out from the example's plan alone.

The property tests (``test_pipeline_property.py``) draw a :class:`Scenario`: stages with random
workers, queue capacities, retry modes and attempts, a deterministic fault plan per task, a
``skip_if`` plan, ``on_success``/``on_skip``/``on_failure`` plans, and how the items are fed.
:func:`expect` then says, for one item and the stage it enters, everything the run must show of
it: its result or its failure (stage, task, attempts, the exception of the last attempt), every task
call in order, the stage callbacks it causes, its status history and its task events. Nothing
here looks at a run: the model is computed from the parameters, so a test that compares a run
with it checks the pipeline against an independent account.

Naming: stage ``i`` is ``"S{i}"``; task ``j`` of stage ``i`` is ``"s{i}t{j}"``; item ``x`` has id
``x`` and enters its first stage with the value ``(x, ())``. Each task appends its name to the
value's trace, so a result's value says which tasks made it, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

__all__ = [
    "Batch",
    "CallbackFault",
    "CallbackPlan",
    "Expected",
    "Fault",
    "Rule",
    "Scenario",
    "SkipFault",
    "SkipPlan",
    "StagePlan",
    "TaskPlan",
    "expect",
    "scenarios",
    "stage_name",
    "task_name",
]

RetryMode = Literal["per_task", "per_stage"]
#: How a stage's tasks are written: ``async def`` awaiting a checkpoint, ``async def`` returning
#: without awaiting, or a plain function (run in a worker thread).
TaskKind = Literal["await", "plain", "thread"]
CallbackKind = Literal["sync", "async"]
Mode = Literal["run", "stream", "feed"]
#: How a run is watched: no tracker, a tracker without callbacks, or one with every callback
#: (status and task events) as plain functions or as coroutine functions.
Tracking = Literal["none", "bare", "sync", "async"]

#: A trace of the tasks that made a value: ``(item, ("s0t0", "s0t1", ...))``.
Value = tuple[int, tuple[str, ...]]


class Fault(Exception):
    """A task's planned failure. ``args``: ``(stage, task, item, call)``, ``call`` counting the
    calls of that task for that item from 1."""


class SkipFault(Exception):
    """A ``skip_if`` that raises, as planned. ``args``: ``(stage, item)``."""


class CallbackFault(Exception):
    """A callback that raises, as planned (the item's outcome must not change)."""


def stage_name(stage: int) -> str:
    return f"S{stage}"


def task_name(stage: int, task: int) -> str:
    return f"s{stage}t{task}"


@dataclass(frozen=True)
class Rule:
    """Holds for item ``x`` when ``x % modulus == residue`` (never when ``residue >= modulus``)."""

    modulus: int
    residue: int

    def __call__(self, item: int) -> bool:
        return item % self.modulus == self.residue


@dataclass(frozen=True)
class TaskPlan:
    """Item ``x``'s first ``fails[x % len(fails)]`` calls of the task raise :class:`Fault`."""

    fails: tuple[int, ...]

    def failures_for(self, item: int) -> int:
        return self.fails[item % len(self.fails)]


@dataclass(frozen=True)
class SkipPlan:
    """``skip_if`` raises :class:`SkipFault` where ``raises`` holds, else is true where ``skip``
    holds."""

    skip: Rule
    raises: Rule


@dataclass(frozen=True)
class CallbackPlan:
    """A stage callback, sync or async, raising :class:`CallbackFault` where ``raises`` holds."""

    kind: CallbackKind
    raises: Rule


@dataclass(frozen=True)
class StagePlan:
    workers: int
    capacity: int
    retry: RetryMode
    attempts: int  # task_attempts in per_task mode, stage_attempts in per_stage mode
    kind: TaskKind
    tasks: tuple[TaskPlan, ...]
    skip: SkipPlan | None = None
    on_success: CallbackPlan | None = None
    on_failure: CallbackPlan | None = None
    on_skip: CallbackPlan | None = None
    #: Make it a pull stage (taken only when it is not the first stage and retries per task).
    pull: bool = False


@dataclass(frozen=True)
class Batch:
    """One ``feed()`` call (``start()``/``feed()``/``join()`` mode): ``size`` items into stage
    ``entry`` (modulo the number of stages) with ``priority``. ``run()`` and ``stream()`` take
    every batch's items, in order, into the first stage."""

    entry: int
    priority: int
    size: int


@dataclass(frozen=True)
class Scenario:
    stages: tuple[StagePlan, ...]
    mode: Mode
    batches: tuple[Batch, ...]
    #: Run the workers inside ``async with pipeline`` (else in the background of the loop).
    owned: bool
    #: Make the ``feed()`` calls at the same time, from a task group (else one after another).
    concurrent: bool
    tracking: Tracking
    #: The tracker's ``on_status_change`` raises on ``in_progress`` events of these items.
    tracker_raises: Rule | None
    #: ``stream()``'s ``buffer_size``.
    buffer: int | None = 64
    #: In ``feed`` mode, how many of the first ``feed()`` calls come before ``start()``.
    early: int = 0

    def items(self) -> list[tuple[int, int]]:
        """Every item with the index of the stage it enters, in feed order (batch by batch)."""
        entries: list[tuple[int, int]] = []
        for batch in self.batches:
            entry = batch.entry % len(self.stages) if self.mode == "feed" else 0
            first = len(entries)
            entries.extend((first + i, entry) for i in range(batch.size))
        return entries

    def feeds(self) -> list[tuple[list[int], int, int]]:
        """``(items, entry stage, priority)`` of each ``feed()`` call."""
        calls: list[tuple[list[int], int, int]] = []
        first = 0
        for batch in self.batches:
            calls.append(
                (
                    list(range(first, first + batch.size)),
                    batch.entry % len(self.stages),
                    batch.priority,
                )
            )
            first += batch.size
        return calls


@dataclass
class Expected:
    """Everything a run must show of one item (each list in the order it happens).

    Attributes:
        value: The result's value, if the item goes through every stage.
        failure: ``(stage, task, attempts, error type, error args, value entering the stage)``
            if the item fails a stage.
        calls: ``(stage, task)`` of every task call.
        callbacks: ``("success", stage, value)`` for each ``on_success`` call,
            ``("skip", stage, value)`` for ``on_skip`` and
            ``("failure", stage, task, attempts, error args)`` for ``on_failure``.
        callback_errors: How many of those calls raise.
        statuses: ``(stage, status)`` of each status event (a tracker's history): a skipped
            item has ``"skipped"`` alone in that stage (no ``"in_progress"``), and each re-run of
            a ``per_stage`` stage a ``"retrying"`` (a ``per_task`` retry changes no status, as
            in 0.10).
        task_events: ``(stage, task, event type, attempt)`` of each task event.
    """

    item: int
    value: Value | None = None
    failure: tuple[str, str | None, int, str, tuple[Any, ...], Value] | None = None
    calls: list[tuple[int, int]] = field(default_factory=list)
    callbacks: list[tuple[Any, ...]] = field(default_factory=list)
    callback_errors: int = 0
    statuses: list[tuple[str, str]] = field(default_factory=list)
    task_events: list[tuple[str, str, str, int]] = field(default_factory=list)

    @property
    def failure_callback(self) -> bool:
        """Whether the item's last callback is an ``on_failure`` call."""
        return bool(self.callbacks) and self.callbacks[-1][0] == "failure"


def expect(stages: tuple[StagePlan, ...], item: int, entry: int = 0) -> Expected:
    """What the pipeline of ``stages`` does with ``item`` fed into stage ``entry``."""
    expected = Expected(item)
    value: Value = (item, ())
    for index in range(entry, len(stages)):
        stage = stages[index]
        name = stage_name(index)
        expected.statuses.append((name, "queued"))
        if stage.skip is not None:
            if stage.skip.raises(item):
                _fail(expected, stage, name, None, 1, SkipFault(index, item), value)
                return expected
            if stage.skip.skip(item):
                expected.statuses.append((name, "skipped"))
                if stage.on_skip is not None:
                    expected.callbacks.append(("skip", name, value))
                    expected.callback_errors += stage.on_skip.raises(item)
                continue
        expected.statuses.append((name, "in_progress"))
        run = _per_task if stage.retry == "per_task" else _per_stage
        ended = run(expected, stage, index, value)
        if isinstance(ended, _Failed):
            _fail(expected, stage, name, ended.task, ended.attempts, ended.error, value)
            return expected
        value = ended
        expected.statuses.append((name, "completed"))
        _succeed(expected, stage, name, value)
    expected.value = value
    return expected


@dataclass(frozen=True)
class _Failed:
    """A stage's tasks used up their attempts: the failing task, the attempts, the error."""

    task: str
    attempts: int
    error: Fault


def _per_task(expected: Expected, stage: StagePlan, index: int, value: Value) -> _Failed | Value:
    """Each task in turn, each called up to ``stage.attempts`` times."""
    name = stage_name(index)
    item, trace = value
    for position, task in enumerate(stage.tasks):
        fails = task.failures_for(item)
        label = task_name(index, position)
        for attempt in range(1, stage.attempts + 1):
            expected.calls.append((index, position))
            expected.task_events.append((name, label, "start", attempt))
            if attempt > fails:
                expected.task_events.append((name, label, "complete", attempt))
                trace = (*trace, label)
                break
            if attempt == stage.attempts:
                expected.task_events.append((name, label, "fail", attempt))
                return _Failed(label, attempt, Fault(index, position, item, attempt))
            expected.task_events.append((name, label, "retry", attempt))
    return item, trace


def _per_stage(expected: Expected, stage: StagePlan, index: int, value: Value) -> _Failed | Value:
    """The whole task list up to ``stage.attempts`` times, each run from the stage's input."""
    name = stage_name(index)
    item = value[0]
    calls = [0] * len(stage.tasks)
    failed = 0
    for run in range(1, stage.attempts + 1):
        trace = value[1]
        for position, task in enumerate(stage.tasks):
            label = task_name(index, position)
            calls[position] += 1
            expected.calls.append((index, position))
            expected.task_events.append((name, label, "start", run))
            if calls[position] <= task.failures_for(item):
                failed = position
                if run < stage.attempts:
                    expected.task_events.append((name, label, "retry", run))
                    expected.statuses.append((name, "retrying"))
                break
            expected.task_events.append((name, label, "complete", run))
            trace = (*trace, label)
        else:
            return item, trace
    label = task_name(index, failed)
    expected.task_events.append((name, label, "fail", stage.attempts))
    return _Failed(label, stage.attempts, Fault(index, failed, item, calls[failed]))


def _succeed(expected: Expected, stage: StagePlan, name: str, value: Value) -> None:
    if stage.on_success is not None:
        expected.callbacks.append(("success", name, value))
        expected.callback_errors += stage.on_success.raises(expected.item)


def _fail(
    expected: Expected,
    stage: StagePlan,
    name: str,
    task: str | None,
    attempts: int,
    error: Exception,
    value: Value,
) -> None:
    expected.statuses.append((name, "failed"))
    expected.failure = (name, task, attempts, type(error).__name__, error.args, value)
    if stage.on_failure is not None:
        expected.callbacks.append(("failure", name, task, attempts, error.args))
        expected.callback_errors += stage.on_failure.raises(expected.item)


# -- strategies ------------------------------------------------------------------------------

rules = st.builds(Rule, st.integers(1, 4), st.integers(0, 4))
task_plans = st.builds(TaskPlan, st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple))
callback_plans = st.none() | st.builds(CallbackPlan, st.sampled_from(["sync", "async"]), rules)
stage_plans = st.builds(
    StagePlan,
    workers=st.integers(1, 3),
    capacity=st.integers(0, 3),  # 0: no limit
    retry=st.sampled_from(["per_task", "per_stage"]),
    attempts=st.integers(1, 3),
    kind=st.sampled_from(["await", "await", "plain", "thread"]),
    tasks=st.lists(task_plans, min_size=1, max_size=3).map(tuple),
    skip=st.none() | st.builds(SkipPlan, rules, rules),
    on_success=callback_plans,
    on_failure=callback_plans,
    on_skip=callback_plans,
    pull=st.booleans(),
)
batches = st.builds(
    Batch,
    entry=st.integers(0, 2),
    priority=st.sampled_from([0, 50, 100, 200]),
    size=st.integers(1, 8),
)


def scenarios(modes: tuple[Mode, ...] = ("run", "stream", "feed")) -> st.SearchStrategy[Scenario]:
    return st.builds(
        Scenario,
        stages=st.lists(stage_plans, min_size=1, max_size=3).map(tuple),
        mode=st.sampled_from(modes),
        batches=st.lists(batches, min_size=1, max_size=4).map(tuple),
        owned=st.booleans(),
        concurrent=st.booleans(),
        tracking=st.sampled_from(["none", "bare", "sync", "async"]),
        tracker_raises=st.none() | rules,
        buffer=st.sampled_from([None, 0, 1, 64]),
        early=st.integers(0, 2),
    )
