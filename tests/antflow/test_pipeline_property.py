"""Property: every fed item ends exactly once, as a result or as a recorded failure.

And when a StatusTracker watches the run, it tells the same story: each item's last status is its
outcome, its error summary is the pipeline's, and its task events add up.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, given, settings
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

pytestmark = pytest.mark.usefixtures("no_retry_waits")

#: How a run is watched: no tracker, a tracker without callbacks, or one with every callback
#: (status and task events) as plain functions or as coroutine functions.
TRACKING = ["none", "bare", "sync", "async"]


class Recorder:
    """A StatusTracker's callbacks, keeping every event they get."""

    def __init__(self) -> None:
        self.status: list[StatusEvent] = []
        self.tasks: list[TaskEvent] = []

    def tracker(self, kind: str) -> StatusTracker | None:
        if kind == "none":
            return None
        if kind == "bare":
            return StatusTracker()
        if kind == "sync":
            on_status: Any = self.status.append
            on_task: Any = self.tasks.append
        else:

            async def on_status(event: StatusEvent) -> None:
                await anyio.lowlevel.checkpoint()
                self.status.append(event)

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


def failure_keys(summary: ErrorSummary) -> list[tuple[Any, str, str | None, int, int]]:
    def key(f: FailedItem) -> tuple[Any, str, str | None, int, int]:
        return (f.item_id, f.stage, f.task, f.attempts, id(f.error))

    return sorted(map(key, summary.failed_items))


def check_tracker(
    tracker: StatusTracker,
    recorder: Recorder,
    kind: str,
    stage_names: list[str],
    results: list[PipelineResult],
    summary: ErrorSummary,
) -> None:
    for result in results:
        status = tracker.get_status(result.id)
        assert status is not None
        assert (status.stage, status.status) == (stage_names[-1], "completed")
    for failure in summary.failed_items:
        status = tracker.get_status(failure.item_id)
        assert status is not None
        assert (status.stage, status.status) == (failure.stage, "failed")
        assert status.metadata["error"] is failure.error
    assert tracker.get_stats() == {
        "queued": 0,
        "in_progress": 0,
        "completed": len(results),
        "failed": summary.total_failed,
    }
    mine = tracker.get_error_summary()
    assert (mine.total_failed, mine.errors_by_type, mine.errors_by_stage) == (
        summary.total_failed,
        summary.errors_by_type,
        summary.errors_by_stage,
    )
    assert failure_keys(mine) == failure_keys(summary)
    assert mine.callback_errors == summary.callback_errors == 0
    if kind == "bare":  # no callbacks: nothing more to compare
        return
    # on_status_change saw each item's history, in order.
    seen: dict[Any, list[StatusEvent]] = {}
    for event in recorder.status:
        seen.setdefault(event.item_id, []).append(event)
    for item_id in [r.id for r in results] + [f.item_id for f in summary.failed_items]:
        assert seen.pop(item_id) == tracker.get_history(item_id)
    assert seen == {}
    # Each task start ends once: complete, retry (another attempt follows) or fail (none does).
    kinds = Counter((e.item_id, e.stage, e.event_type) for e in recorder.tasks)
    for item_id, stage, _ in list(kinds):
        assert kinds[item_id, stage, "start"] == (
            kinds[item_id, stage, "complete"]
            + kinds[item_id, stage, "retry"]
            + kinds[item_id, stage, "fail"]
        )
    # One task per stage: it completes once in each stage the item passed, never elsewhere.
    passed = {(r.id, stage) for r in results for stage in stage_names}
    for failure in summary.failed_items:
        before = stage_names[: stage_names.index(failure.stage)]
        passed.update((failure.item_id, stage) for stage in before)
    completes = {key[:2]: n for key, n in kinds.items() if key[2] == "complete"}
    assert completes == dict.fromkeys(passed, 1)
    # A "fail" event for exactly the failures, with the number of attempts made.
    fails = [e for e in recorder.tasks if e.event_type == "fail"]
    assert sorted((e.item_id, e.stage, e.task_name, e.attempt, id(e.error)) for e in fails) == (
        failure_keys(summary)
    )


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n_items=st.integers(0, 40),
    stages=st.lists(
        st.tuples(
            st.integers(1, 4),  # workers
            st.integers(1, 3),  # queue capacity
            st.sampled_from(["per_task", "per_stage"]),
            st.integers(1, 3),  # attempts
            st.integers(0, 4),  # fail when (item + stage) % 5 == this, 4 retries then succeed
            st.booleans(),  # the task awaits a checkpoint (else it returns without awaiting)
        ),
        min_size=1,
        max_size=3,
    ),
    streaming=st.booleans(),
    tracking=st.sampled_from(TRACKING),
)
async def test_every_item_ends_exactly_once(
    n_items: int,
    stages: list[tuple[int, int, str, int, int, bool]],
    streaming: bool,
    tracking: str,
) -> None:
    calls: dict[tuple[int, int], int] = {}

    def make_task(index: int, fail_mod: int, checkpoints: bool) -> Any:
        async def task(x: int) -> int:
            key = (index, x)
            calls[key] = calls.get(key, 0) + 1
            if checkpoints:
                await anyio.lowlevel.checkpoint()
            if (x + index) % 5 == fail_mod:
                raise RuntimeError("always")  # fails every attempt
            if (x + index) % 5 == (fail_mod + 1) % 5 and calls[key] == 1:
                raise RuntimeError("once")  # succeeds on a retry, if there is one
            return x

        return task

    recorder = Recorder()
    tracker = recorder.tracker(tracking)
    pipeline = Pipeline(
        stages=[
            Stage(
                f"S{i}",
                workers,
                [make_task(i, fail_mod, checkpoints)],
                retry=retry,
                task_attempts=attempts,
                stage_attempts=attempts,
                queue_capacity=capacity,
            )
            for i, (workers, capacity, retry, attempts, fail_mod, checkpoints) in enumerate(stages)
        ],
        status_tracker=tracker,
    )
    if streaming:
        results = [r async for r in pipeline.stream(range(n_items))]
    else:
        results = await pipeline.run(range(n_items))
    summary = pipeline.get_error_summary()
    failed = [f.item_id for f in summary.failed_items]
    ended = [r.id for r in results] + failed
    assert sorted(ended) == list(range(n_items))  # each item exactly once
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (
        len(results),
        len(failed),
        0,
    )
    if not streaming:
        assert [r.id for r in results] == sorted(r.id for r in results)
    if tracker is not None:
        names = [stage.name for stage in pipeline.stages]
        check_tracker(tracker, recorder, tracking, names, results, summary)
