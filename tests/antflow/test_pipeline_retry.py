"""Retries through stamina: per_task and per_stage, and what happens when attempts run out."""

from __future__ import annotations

from typing import Any

import pytest

from antflow import Pipeline, Stage, StatusTracker, TaskEvent, TaskFailedError

pytestmark = pytest.mark.usefixtures("no_retry_waits")


class Flaky:
    """Fails the first ``failures`` calls for each item, then returns the item."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: dict[Any, int] = {}

    async def __call__(self, x: Any) -> Any:
        self.calls[x] = self.calls.get(x, 0) + 1
        if self.calls[x] <= self.failures:
            raise ConnectionError(f"flaky {x}")
        return x


async def test_per_task_retries_until_success() -> None:
    flaky = Flaky(failures=2)
    pipeline = Pipeline(stages=[Stage("S", 2, [flaky], task_attempts=3)])
    results = await pipeline.run(range(4))
    assert [r.value for r in results] == [0, 1, 2, 3]
    assert flaky.calls == {0: 3, 1: 3, 2: 3, 3: 3}


async def test_exhausted_item_is_recorded_and_others_go_on() -> None:
    always = Flaky(failures=10)

    async def maybe(x: int) -> int:
        return await always(x) if x == 2 else x

    failures: list[tuple[Any, BaseException, dict[str, Any]]] = []
    pipeline = Pipeline(
        stages=[
            Stage(
                "S",
                2,
                [maybe],
                task_attempts=3,
                on_failure=lambda i, e, m: failures.append((i, e, m)),
            )
        ]
    )
    results = await pipeline.run(range(4))
    assert [r.id for r in results] == [0, 1, 3]
    assert always.calls == {2: 3}
    (item_id, error, metadata) = failures[0]
    assert (item_id, type(error), metadata["attempts"], metadata["task"]) == (
        2,
        ConnectionError,
        3,
        "maybe",
    )
    summary = pipeline.get_error_summary()
    assert summary.total_failed == 1
    assert summary.errors_by_type == {"ConnectionError": 1}
    assert summary.failed_items[0].value == 2
    assert pipeline.get_stats().items_failed == 1
    with pytest.raises(TaskFailedError, match="item 2 failed in stage 'S'") as info:
        summary.raise_for_failures()
    assert info.value.__cause__ is error


async def test_per_task_retries_only_the_failing_task() -> None:
    first_calls = 0

    async def first(x: int) -> int:
        nonlocal first_calls
        first_calls += 1
        return x

    flaky = Flaky(failures=1)
    pipeline = Pipeline(stages=[Stage("S", 1, [first, flaky], task_attempts=2)])
    assert [r.value for r in await pipeline.run([7])] == [7]
    assert (first_calls, flaky.calls) == (1, {7: 2})


async def test_per_stage_reruns_the_whole_task_list() -> None:
    first_calls = 0

    async def first(x: int) -> int:
        nonlocal first_calls
        first_calls += 1
        return x

    flaky = Flaky(failures=2)
    pipeline = Pipeline(stages=[Stage("S", 1, [first, flaky], retry="per_stage", stage_attempts=3)])
    assert [r.value for r in await pipeline.run([7])] == [7]
    assert (first_calls, flaky.calls) == (3, {7: 3})


async def test_per_stage_exhausted_reports_stage_attempts() -> None:
    flaky = Flaky(failures=5)
    pipeline = Pipeline(stages=[Stage("S", 1, [flaky], retry="per_stage", stage_attempts=2)])
    assert await pipeline.run([1]) == []
    failed = pipeline.get_error_summary().failed_items[0]
    assert (failed.task, failed.attempts, flaky.calls) == ("Flaky", 2, {1: 2})


async def test_task_events_for_retry_and_fail() -> None:
    events: list[TaskEvent] = []

    async def record(event: TaskEvent) -> None:
        events.append(event)

    tracker = StatusTracker(
        on_task_start=record, on_task_complete=record, on_task_retry=record, on_task_fail=record
    )
    flaky = Flaky(failures=5)
    pipeline = Pipeline(stages=[Stage("S", 1, [flaky], task_attempts=2)], status_tracker=tracker)
    await pipeline.run(["x"])
    kinds = [(e.event_type, e.attempt) for e in events]
    assert kinds == [("start", 1), ("retry", 1), ("start", 2), ("fail", 2)]
    assert isinstance(events[1].error, ConnectionError)
    assert events[1].duration is not None
    assert events[0].duration is None
    assert {(e.item_id, e.stage, e.task_name, e.worker) for e in events} == {
        (0, "S", "Flaky", "S-W0")
    }


async def test_task_events_on_success() -> None:
    events: list[TaskEvent] = []
    tracker = StatusTracker(on_task_start=events.append, on_task_complete=events.append)
    flaky = Flaky(failures=1)
    pipeline = Pipeline(stages=[Stage("S", 1, [flaky], task_attempts=2)], status_tracker=tracker)
    await pipeline.run([1])
    assert [(e.event_type, e.attempt) for e in events] == [
        ("start", 1),
        ("start", 2),
        ("complete", 2),
    ]


def recording_tracker(events: list[TaskEvent]) -> StatusTracker:
    """A tracker whose four task callbacks append every TaskEvent to ``events``."""
    return StatusTracker(
        on_task_start=events.append,
        on_task_complete=events.append,
        on_task_retry=events.append,
        on_task_fail=events.append,
    )


async def test_per_stage_task_events_when_a_rerun_succeeds() -> None:
    # "start"/"complete" carry the run number, for every task of the run; "retry" names the
    # task that failed and the run it failed in, and comes before the next run's first "start".
    events: list[TaskEvent] = []

    async def prepare(x: int) -> int:
        return x

    send = Flaky(failures=1)
    pipeline = Pipeline(
        stages=[Stage("S", 1, [prepare, send], retry="per_stage", stage_attempts=3)],
        status_tracker=recording_tracker(events),
    )
    assert [r.value for r in await pipeline.run([7])] == [7]
    assert [(e.event_type, e.task_name, e.attempt) for e in events] == [
        ("start", "prepare", 1),
        ("complete", "prepare", 1),
        ("start", "Flaky", 1),
        ("retry", "Flaky", 1),
        ("start", "prepare", 2),
        ("complete", "prepare", 2),
        ("start", "Flaky", 2),
        ("complete", "Flaky", 2),
    ]
    assert isinstance(events[3].error, ConnectionError)
    assert {(e.item_id, e.stage, e.worker) for e in events} == {(0, "S", "S-W0")}


async def test_per_stage_task_events_when_every_run_fails() -> None:
    # "fail" names the failing task with the number of runs made; the same error and count as
    # the FailedItem.
    events: list[TaskEvent] = []

    async def prepare(x: int) -> int:
        return x

    send = Flaky(failures=10)
    pipeline = Pipeline(
        stages=[Stage("S", 1, [prepare, send], retry="per_stage", stage_attempts=2)],
        status_tracker=recording_tracker(events),
    )
    assert await pipeline.run([7]) == []
    assert [(e.event_type, e.task_name, e.attempt) for e in events] == [
        ("start", "prepare", 1),
        ("complete", "prepare", 1),
        ("start", "Flaky", 1),
        ("retry", "Flaky", 1),
        ("start", "prepare", 2),
        ("complete", "prepare", 2),
        ("start", "Flaky", 2),
        ("fail", "Flaky", 2),
    ]
    failed = pipeline.get_error_summary().failed_items[0]
    assert (failed.task, failed.attempts) == ("Flaky", 2)
    assert events[-1].error is failed.exception
    assert events[3].error is not failed.exception  # each retry event carries its own run's error
