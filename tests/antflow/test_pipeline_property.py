"""Properties of a pipeline run, checked against a model of what must happen to each item.

Each example draws a :class:`~tests.antflow._pipeline_model.Scenario` (random stages, queue
capacities, faults, retries of both kinds, ``skip_if``, callbacks, a tracker, and how the items
are fed: ``run()``, ``stream()``, or ``start()``/``feed()``/``join()`` with priorities and
target stages) and runs it. The model (``_pipeline_model.expect``) says from the scenario alone
how each item ends and everything it causes on the way; the tests compare the run with it:

- a run left alone: every item ends exactly once, as the model says (value, or stage, task,
  attempts and exception), after exactly the task calls, callbacks, status history and task
  events the model lists; raising callbacks are logged and counted and change nothing;
- a run cancelled at a random moment: every item ends at most once, the ones that ended are
  exactly the results and failures and ended as the model says, nothing was delivered twice,
  the counts add up, and no worker is left running;
- priorities: items fed into a full queue (of any stage, through ``target_stage``) enter it
  lowest value first, ties in arrival order, after the items already queued.

``ANTFLOW_HYPOTHESIS_PROFILE=soak`` (``nox -s soak``) runs many more examples.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import pytest
import stamina.instrumentation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from antflow import (
    ErrorSummary,
    FailedItem,
    Pipeline,
    PipelineResult,
    Stage,
    StatusEvent,
    StatusTracker,
    TaskEvent,
)

from ._helpers import all_parked
from ._pipeline_model import (
    CallbackFault,
    CallbackPlan,
    Expected,
    Fault,
    Rule,
    Scenario,
    SkipFault,
    StagePlan,
    TaskPlan,
    expect,
    scenarios,
    stage_name,
    task_name,
)

pytestmark = pytest.mark.usefixtures("no_retry_waits", "quiet_retries")


@pytest.fixture
def quiet_retries() -> Iterator[None]:
    """No stamina log line per retry: the examples make thousands of planned retries."""
    hooks = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([])
    try:
        yield
    finally:
        stamina.instrumentation.set_on_retry_hooks(hooks)


def examples(plain_run: int) -> int:
    """``plain_run`` examples, unless a profile asking for another count is loaded (the soak)."""
    loaded = settings().max_examples
    return plain_run if loaded == settings.get_profile("default").max_examples else loaded


def property_settings(plain_run: int) -> settings:
    return settings(
        max_examples=examples(plain_run),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- what a run is watched with ----------------------------------------------------------------


class Recorder:
    """A StatusTracker's callbacks, keeping every event they get (and raising as planned)."""

    def __init__(self, raises: Rule | None) -> None:
        self.status: list[StatusEvent] = []
        self.tasks: list[TaskEvent] = []
        self.raises = raises
        #: How many times ``on_status_change`` raised.
        self.raised = 0

    def tracker(self, kind: str) -> StatusTracker | None:
        if kind == "none":
            return None
        if kind == "bare":
            return StatusTracker()
        if kind == "sync":
            on_status: Any = self.on_status
            on_task: Any = self.tasks.append
        else:

            async def on_status(event: StatusEvent) -> None:
                await anyio.lowlevel.checkpoint()
                self.on_status(event)

            async def on_task(event: TaskEvent) -> None:
                await anyio.lowlevel.checkpoint()
                self.tasks.append(event)

        return StatusTracker(
            on_status_change=on_status,
            on_task_start=on_task,
            on_task_complete=on_task,
            on_task_retry=on_task,
            on_task_fail=on_task,
        )

    def on_status(self, event: StatusEvent) -> None:
        self.status.append(event)
        raises = self.raises
        if raises is not None and event.status == "in_progress" and raises(event.item_id):
            self.raised += 1
            raise CallbackFault("on_status_change", event.item_id)


class ErrorLog(logging.Handler):
    """Counts the records logged on the ``"antflow"`` logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@contextmanager
def antflow_errors() -> Iterator[ErrorLog]:
    log = ErrorLog()
    logger = logging.getLogger("antflow")
    logger.addHandler(log)
    propagate, logger.propagate = logger.propagate, False  # expected errors: keep them quiet
    try:
        yield log
    finally:
        logger.propagate = propagate
        logger.removeHandler(log)


# -- one example's pipeline --------------------------------------------------------------------


class Harness:
    """The pipeline of a scenario, and everything its tasks and callbacks saw.

    ``cancel_after`` ticks: every task call, ``skip_if`` call and stage callback is a tick, and
    the tick with that number cancels :attr:`scope`, around the run.
    """

    def __init__(self, scenario: Scenario, cancel_after: int | None = None) -> None:
        self.scenario = scenario
        self.scope = anyio.CancelScope()
        self.cancel_after = cancel_after
        self.ticks = 0
        #: Each item's task calls, ``(stage, task)``, in order.
        self.calls: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        self.counts: Counter[tuple[int, int, int]] = Counter()
        #: Each item's stage callbacks, as the model writes them.
        self.callbacks: defaultdict[int, list[tuple[Any, ...]]] = defaultdict(list)
        #: Metadata a callback got that does not name its stage and worker.
        self.bad_metadata: list[dict[str, Any]] = []
        #: How many stage callbacks raised.
        self.raised = 0
        self.recorder = Recorder(scenario.tracker_raises)
        self.tracker = self.recorder.tracker(scenario.tracking)
        self.pipeline = Pipeline(
            stages=[self.stage(i, plan) for i, plan in enumerate(scenario.stages)],
            status_tracker=self.tracker,
        )

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks == self.cancel_after:
            self.scope.cancel()

    def stage(self, index: int, plan: StagePlan) -> Stage:
        skip_if: Callable[[Any], bool] | None = None
        if plan.skip is not None:
            skip, raises = plan.skip.skip, plan.skip.raises

            def skip_if(value: Any) -> bool:
                self.tick()
                if raises(value[0]):
                    raise SkipFault(index, value[0])
                return skip(value[0])

        return Stage(
            stage_name(index),
            plan.workers,
            [self.task(index, i, task, plan.kind) for i, task in enumerate(plan.tasks)],
            retry=plan.retry,
            task_attempts=plan.attempts,
            stage_attempts=plan.attempts,
            queue_capacity=plan.capacity,
            pull=plan.pull and index > 0 and plan.retry == "per_task",
            skip_if=skip_if,
            on_success=self.callback(index, plan.on_success, self.succeeded),
            on_failure=self.callback(index, plan.on_failure, self.failed),
            on_skip=self.callback(index, plan.on_skip, self.skipped),
        )

    def task(self, stage: int, position: int, plan: TaskPlan, kind: str) -> Callable[..., Any]:
        label = task_name(stage, position)

        def call(value: Any) -> Any:
            item, trace = value
            self.calls[item].append((stage, position))
            self.counts[stage, position, item] += 1
            count = self.counts[stage, position, item]
            if count <= plan.failures_for(item):
                raise Fault(stage, position, item, count)
            return item, (*trace, label)

        task: Callable[..., Any]
        if kind == "thread":

            def task(value: Any) -> Any:
                anyio.from_thread.run_sync(self.tick)
                return call(value)

        elif kind == "plain":

            async def task(value: Any) -> Any:
                self.tick()
                return call(value)

        else:

            async def task(value: Any) -> Any:
                self.tick()
                await anyio.lowlevel.checkpoint()
                return call(value)

        task.__name__ = task.__qualname__ = label
        return task

    def callback(
        self, stage: int, plan: CallbackPlan | None, record: Callable[..., tuple[Any, ...]]
    ) -> Callable[..., Any] | None:
        if plan is None:
            return None
        raises = plan.raises

        def call(item: int, outcome: Any, metadata: dict[str, Any]) -> None:
            name = stage_name(stage)
            worker = f"{name}-W{metadata.get('worker_id')}"
            if metadata.get("stage") != name or metadata.get("worker") != worker:
                self.bad_metadata.append(metadata)
            self.callbacks[item].append(record(name, outcome, metadata))
            self.tick()
            if raises(item):
                self.raised += 1
                raise CallbackFault(name, item)

        if plan.kind == "sync":
            return call

        async def async_call(item: int, outcome: Any, metadata: dict[str, Any]) -> None:
            await anyio.lowlevel.checkpoint()
            call(item, outcome, metadata)

        return async_call

    @staticmethod
    def succeeded(stage: str, value: Any, metadata: dict[str, Any]) -> tuple[Any, ...]:
        return ("success", stage, value)

    @staticmethod
    def skipped(stage: str, value: Any, metadata: dict[str, Any]) -> tuple[Any, ...]:
        return ("skip", stage, value)

    @staticmethod
    def failed(stage: str, error: Exception, metadata: dict[str, Any]) -> tuple[Any, ...]:
        return ("failure", stage, metadata.get("task"), metadata.get("attempts"), error.args)

    # -- running ---------------------------------------------------------------------------

    async def run(self, cancel_after_yields: int | None = None) -> list[PipelineResult]:
        """Run the scenario in its mode, inside :attr:`scope`; return the results it gave.

        With ``cancel_after_yields``, a task beside the run cancels the scope after yielding to
        the event loop that many times (unless the run is over first).
        """
        results: list[PipelineResult] = []
        with self.scope:
            async with anyio.create_task_group() as tg:
                if cancel_after_yields is not None:
                    tg.start_soon(self._cancel_after, cancel_after_yields)
                await self._run(results)
                tg.cancel_scope.cancel()
        if self.scenario.mode == "feed" and not self.scenario.owned:
            await self.pipeline.shutdown()  # the cancelled run's workers, in the background
        if self.scenario.mode != "stream":
            results = self.pipeline.results
        return results

    async def _cancel_after(self, yields: int) -> None:
        for _ in range(yields):
            await anyio.lowlevel.checkpoint()
        self.scope.cancel()

    async def _run(self, results: list[PipelineResult]) -> None:
        scenario, pipeline = self.scenario, self.pipeline
        items = ((x, ()) for x, _ in scenario.items())  # plain values: item x gets id x
        if scenario.mode == "run":
            results.extend(await pipeline.run(items))
        elif scenario.mode == "stream":
            if scenario.owned:
                async with pipeline:
                    await self._stream(items, results)
            else:
                await self._stream(items, results)
        elif scenario.owned:
            async with pipeline:
                await self._feed()
        else:
            await self._feed()

    async def _stream(self, items: Any, results: list[PipelineResult]) -> None:
        async with self.pipeline.stream(items, buffer_size=self.scenario.buffer) as stream:
            async for result in stream:
                results.append(result)

    async def _feed(self) -> None:
        pipeline = self.pipeline
        names = [stage.name for stage in pipeline.stages]
        feeds = [
            ([{"id": x, "value": (x, ())} for x in items], names[entry], priority)
            for items, entry, priority in self.scenario.feeds()
        ]
        early, feeds = feeds[: self.scenario.early], feeds[self.scenario.early :]
        for items, target, priority in early:  # wait for start() in the stages' queues
            await pipeline.feed(items, target, priority)
        await pipeline.start()
        if self.scenario.concurrent:
            async with anyio.create_task_group() as tg:
                for items, target, priority in feeds:
                    tg.start_soon(pipeline.feed, items, target, priority)
        else:
            for items, target, priority in feeds:
                await pipeline.feed(items, target, priority)
        await pipeline.join()


# -- comparing a run with the model ------------------------------------------------------------


@dataclass
class Outcome:
    """What a run showed: its results, its failures, and the model of every item."""

    harness: Harness
    results: list[PipelineResult]
    summary: ErrorSummary
    expected: dict[int, Expected]

    @classmethod
    def of(cls, harness: Harness, results: list[PipelineResult]) -> Outcome:
        summary = harness.pipeline.get_error_summary()
        return cls(harness, results, summary, model_of(harness.scenario))

    @property
    def result_ids(self) -> list[Any]:
        return [r.id for r in self.results]

    @property
    def failure_ids(self) -> list[Any]:
        return [f.item_id for f in self.summary.failed_items]


def failure_of(failure: FailedItem) -> tuple[Any, ...]:
    error = failure.exception
    assert error is not None
    assert (failure.error, failure.error_type) == (str(error), type(error).__name__)
    return (
        failure.stage,
        failure.task,
        failure.attempts,
        type(error).__name__,
        error.args,
        failure.value,
    )


def check_ended(outcome: Outcome) -> None:
    """Each item ended at most once, as the model says, after the task calls it says."""
    harness, expected = outcome.harness, outcome.expected
    ended = outcome.result_ids + outcome.failure_ids
    assert len(ended) == len(set(ended)), "an item ended twice"
    assert set(ended) <= set(expected)
    for result in outcome.results:
        assert expected[result.id].value == result.value, result.id
        assert harness.calls[result.id] == expected[result.id].calls
    for failure in outcome.summary.failed_items:
        model = expected[failure.item_id]
        assert model.failure == failure_of(failure), failure.item_id
        assert harness.calls[failure.item_id] == model.calls
    assert harness.bad_metadata == []


def check_worker_metrics(pipeline: Pipeline, expected: dict[int, Expected]) -> None:
    """Each stage's workers completed and failed as many items as the model says."""
    passed: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for model in expected.values():
        for stage, status in model.statuses:
            if status in ("completed", "skipped"):  # a skip counts as the worker's success
                passed[stage] += 1
            elif status == "failed":
                failed[stage] += 1
    done: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    for metrics in pipeline.get_worker_metrics().values():
        done[metrics.stage] += metrics.items_processed
        lost[metrics.stage] += metrics.items_failed
    assert (done, lost) == (passed, failed)


def check_workers_stopped(pipeline: Pipeline) -> None:
    assert not pipeline.is_running
    states = pipeline.get_worker_states()
    assert len(states) == sum(stage.workers for stage in pipeline.stages)
    assert {state.status for state in states.values()} == {"stopped"}


def check_complete(outcome: Outcome, log: ErrorLog) -> None:
    """A run left alone: every item ended exactly once, and did all the model says."""
    harness, expected = outcome.harness, outcome.expected
    pipeline, scenario = harness.pipeline, harness.scenario
    check_ended(outcome)
    assert sorted(outcome.result_ids + outcome.failure_ids) == sorted(expected)
    for item, model in expected.items():
        assert harness.calls.get(item, []) == model.calls, item
        assert harness.callbacks.get(item, []) == model.callbacks, item
    stage_errors = sum(model.callback_errors for model in expected.values())
    tracker_errors = 0
    if harness.tracker is not None and scenario.tracking != "bare" and scenario.tracker_raises:
        rule = scenario.tracker_raises
        tracker_errors = sum(
            rule(item) * sum(status == "in_progress" for _, status in model.statuses)
            for item, model in expected.items()
        )
    assert (harness.raised, harness.recorder.raised) == (stage_errors, tracker_errors)
    stats = pipeline.get_stats()
    assert (
        stats.items_fed,
        stats.items_processed,
        stats.items_failed,
        stats.items_in_flight,
        stats.callback_errors,
    ) == (len(expected), len(outcome.results), len(outcome.failure_ids), 0, log.count)
    assert log.count == stage_errors + tracker_errors
    assert outcome.summary.callback_errors == log.count
    assert set(stats.queue_sizes.values()) <= {0}
    check_worker_metrics(pipeline, expected)
    sequences = [r.sequence for r in outcome.results]
    if scenario.mode != "stream":
        assert sequences == sorted(sequences)  # input (feed) order
    if scenario.mode == "run":
        assert outcome.result_ids == sorted(outcome.result_ids)  # item x is the x-th fed
    check_workers_stopped(pipeline)
    if harness.tracker is not None:
        check_tracker(outcome, tracker_errors)


def check_tracker(outcome: Outcome, tracker_errors: int) -> None:
    """The tracker tells the run's story, as the model has it."""
    harness, summary, expected = outcome.harness, outcome.summary, outcome.expected
    tracker, recorder = harness.tracker, harness.recorder
    assert tracker is not None
    last = stage_name(len(harness.scenario.stages) - 1)
    ended: Counter[str] = Counter()
    for result in outcome.results:
        status = tracker.get_status(result.id)
        assert status is not None
        assert (status.stage, status.status) == expected[result.id].statuses[-1]
        assert status.stage == last
        ended[status.status] += 1
    for failure in summary.failed_items:
        status = tracker.get_status(failure.item_id)
        assert status is not None
        assert (status.stage, status.status) == (failure.stage, "failed")
        assert status.metadata["exception"] is failure.exception
        assert (status.metadata["error"], status.metadata["error_type"]) == (
            failure.error,
            failure.error_type,
        )
        assert (status.metadata["task"], status.metadata["attempts"]) == (
            failure.task,
            failure.attempts,
        )
    assert tracker.get_stats() == {
        "queued": 0,
        "in_progress": 0,
        "completed": ended["completed"],
        "failed": summary.total_failed,
        "retrying": 0,
        "skipped": ended["skipped"],
    }
    assert sum(ended.values()) == len(outcome.results)
    mine = tracker.get_error_summary()
    assert (mine.total_failed, mine.errors_by_type, mine.errors_by_stage) == (
        summary.total_failed,
        summary.errors_by_type,
        summary.errors_by_stage,
    )
    assert failure_keys(mine) == failure_keys(summary)
    assert mine.callback_errors == tracker_errors
    for item, model in expected.items():
        assert statuses(tracker.get_history(item)) == model.statuses, item
    if harness.scenario.tracking == "bare":  # no callbacks: nothing more to compare
        return
    seen: dict[Any, list[StatusEvent]] = defaultdict(list)
    for change in recorder.status:
        seen[change.item_id].append(change)
    assert {item: seen[item] for item in expected} == {
        item: tracker.get_history(item) for item in expected
    }
    assert set(seen) <= set(expected)
    events = task_events(recorder.tasks)
    for item, model in expected.items():
        assert events.get(item, []) == model.task_events, item
    fails = [e for e in recorder.tasks if e.event_type == "fail"]
    assert sorted((e.item_id, e.stage, e.task_name, e.attempt, id(e.error)) for e in fails) == [
        key for key in failure_keys(summary) if key[2] is not None
    ]


def check_cancelled(outcome: Outcome, log: ErrorLog, yielded: int | None) -> None:
    """A run cancelled at some moment: what ended, ended once and as the model says; what did
    not end did a prefix of what the model says; the counts add up; no worker is left."""
    harness, expected = outcome.harness, outcome.expected
    pipeline = harness.pipeline
    check_ended(outcome)
    results, failures = set(outcome.result_ids), set(outcome.failure_ids)
    for item, model in expected.items():
        calls = harness.calls.get(item, [])
        assert calls == model.calls[: len(calls)], item
        callbacks = harness.callbacks.get(item, [])
        assert callbacks == model.callbacks[: len(callbacks)], item
        if item in results:
            assert callbacks == model.callbacks, item
        elif item in failures:  # cancelled while on_failure awaited: it may be missing
            assert len(callbacks) >= len(model.callbacks) - model.failure_callback, item
    stats = pipeline.get_stats()
    assert stats.items_fed == stats.items_processed + stats.items_failed + stats.items_in_flight
    assert stats.items_fed <= len(expected)
    touched = set(harness.calls) | set(harness.callbacks) | results | failures
    assert stats.items_fed >= len(touched)
    assert stats.items_failed == len(failures)
    if yielded is None:
        assert stats.items_processed == len(results)
    else:  # stream(): results handed out but still in the stream's buffer were not yielded
        buffer = harness.scenario.buffer
        bound = math.inf if buffer is None else buffer
        assert yielded <= stats.items_processed <= yielded + bound
    assert stats.callback_errors == harness.raised + harness.recorder.raised == log.count
    check_workers_stopped(pipeline)
    tracker = harness.tracker
    if tracker is None:
        return
    mine = {f.item_id for f in tracker.get_error_summary().failed_items}
    assert mine <= failures
    events = task_events(harness.recorder.tasks)
    for item, model in expected.items():
        history = statuses(tracker.get_history(item))
        assert history == model.statuses[: len(history)], item
        if item in results:
            assert history == model.statuses, item
        if harness.scenario.tracking != "bare":
            seen = events.get(item, [])
            assert seen == model.task_events[: len(seen)], item
            if item in results:
                assert seen == model.task_events, item


def statuses(history: list[StatusEvent]) -> list[tuple[str, str]]:
    return [(e.stage, e.status) for e in history]


def task_events(events: list[TaskEvent]) -> dict[Any, list[tuple[str, str, str, int]]]:
    by_item: dict[Any, list[tuple[str, str, str, int]]] = defaultdict(list)
    for e in events:
        by_item[e.item_id].append((e.stage, e.task_name, e.event_type, e.attempt))
    return dict(by_item)


def failure_keys(summary: ErrorSummary) -> list[tuple[Any, str, str | None, int, int]]:
    def key(f: FailedItem) -> tuple[Any, str, str | None, int, int]:
        return (f.item_id, f.stage, f.task, f.attempts, id(f.exception))

    return sorted(map(key, summary.failed_items))


def model_of(scenario: Scenario) -> dict[int, Expected]:
    return {x: expect(scenario.stages, x, entry) for x, entry in scenario.items()}


def tell(outcome: Outcome) -> None:
    """Label the example for ``--hypothesis-show-statistics``."""
    scenario = outcome.harness.scenario
    event(f"mode={scenario.mode}")
    event(f"items={min(len(outcome.expected), 10) // 5 * 5}+")
    event(f"failed={'some' if outcome.summary.failed_items else 'none'}")
    event(f"callback errors={'some' if outcome.summary.callback_errors else 'none'}")
    if outcome.harness.cancel_after is not None or scenario.mode == "feed":
        event(f"cancelled={outcome.harness.scope.cancel_called}")


# -- the properties ----------------------------------------------------------------------------


@property_settings(150)
@given(scenario=scenarios())
async def test_every_item_ends_exactly_once_as_the_model_says(scenario: Scenario) -> None:
    harness = Harness(scenario)
    with antflow_errors() as log:
        with anyio.fail_after(30):
            results = await harness.run()
        outcome = Outcome.of(harness, results)
        tell(outcome)
        check_complete(outcome, log)


@property_settings(200)
@given(
    scenario=scenarios(),
    cancel=st.one_of(
        st.tuples(st.just("tick"), st.integers(1, 40)),
        st.tuples(st.just("yield"), st.integers(0, 80)),
    ),
)
async def test_a_cancelled_run_ends_each_item_at_most_once_as_the_model_says(
    scenario: Scenario, cancel: tuple[str, int]
) -> None:
    how, when = cancel
    harness = Harness(scenario, cancel_after=when if how == "tick" else None)
    with antflow_errors() as log:
        with anyio.fail_after(30):
            results = await harness.run(when if how == "yield" else None)
        outcome = Outcome.of(harness, results)
        tell(outcome)
        event(f"cancelled={harness.scope.cancel_called}, ended={_share(outcome)}")
        if harness.scope.cancel_called:
            check_cancelled(outcome, log, len(results) if scenario.mode == "stream" else None)
        else:
            check_complete(outcome, log)


def _share(outcome: Outcome) -> str:
    ended = len(outcome.result_ids) + len(outcome.failure_ids)
    if not ended:
        return "none"
    return "all" if ended == len(outcome.expected) else "some"


@property_settings(50)
@given(
    stages=st.integers(1, 3),
    gated=st.integers(0, 2),
    capacity=st.integers(1, 3),
    priorities=st.lists(st.sampled_from([0, 1, 2, 100]), min_size=1, max_size=6),
)
async def test_items_waiting_for_a_full_queue_enter_lowest_priority_first(
    stages: int, gated: int, capacity: int, priorities: list[int]
) -> None:
    gated %= stages
    release = anyio.Event()
    order: list[Any] = []

    async def gate(value: Any) -> Any:
        if value == "block":
            await release.wait()
        order.append(value)
        return value

    async def passing(value: Any) -> Any:
        return value

    pipeline = Pipeline(
        stages=[
            Stage(stage_name(i), 1, [gate if i == gated else passing], queue_capacity=capacity)
            for i in range(stages)
        ]
    )
    target = stage_name(gated)
    queued = [f"queued{i}" for i in range(capacity)]
    waiting = [(priority, f"waiting{i}") for i, priority in enumerate(priorities)]
    with anyio.fail_after(10):
        async with pipeline, anyio.create_task_group() as tg:
            await pipeline.start()
            await pipeline.feed(["block"], target_stage=target)
            await all_parked()  # the worker holds "block"
            await pipeline.feed(queued, target_stage=target)  # fills the queue
            for priority, value in waiting:
                tg.start_soon(pipeline.feed, [value], target, priority)
                await all_parked()  # waits for room, after the ones before it
            release.set()
            await pipeline.join()
    assert order == ["block", *queued, *(value for _, value in sorted(waiting))]
    assert [r.value for r in pipeline.results] == ["block", *queued, *(v for _, v in waiting)]
