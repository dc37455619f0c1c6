"""Pull stages: an item is handed over only when one of the stage's workers is free to take it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import Pipeline, PipelineError, Stage, StatusTracker

from ._helpers import all_parked

pytestmark = pytest.mark.usefixtures("no_retry_waits")


class Gate:
    """A task that counts the items inside it and holds each until ``release`` is set."""

    def __init__(self) -> None:
        self.inside = 0
        self.entered: Counter[Any] = Counter()
        self.release = anyio.Event()

    async def __call__(self, x: Any) -> Any:
        self.inside += 1
        self.entered[x] += 1
        try:
            await self.release.wait()
        finally:
            self.inside -= 1
        return x


def holding(pipeline: Pipeline, stage: str) -> list[Any]:
    """The items the workers of ``stage`` hold now."""
    return [
        state.current_item_id
        for state in pipeline.get_worker_states().values()
        if state.stage == stage and state.status == "busy"
    ]


async def test_items_never_queue_in_front_of_a_pull_stage() -> None:
    made: list[int] = []

    async def make(x: int) -> int:
        made.append(x)
        return x

    gate = Gate()
    pipeline = Pipeline(
        [Stage("Make", 3, [make], queue_capacity=100), Stage("Pull", 2, [gate], pull=True)]
    )
    async with pipeline:
        await pipeline.start()
        await pipeline.feed(range(20))
        await all_parked()
        stats = pipeline.get_stats()
        assert gate.inside == 2  # one item per pull worker, no more
        assert stats.queue_sizes["Pull"] == 0  # nothing waits in front of the stage
        assert len(holding(pipeline, "Make")) == 3  # the stage before holds one each ...
        assert len(made) == 2 + 3  # ... and made no more than that
        assert stats.queue_sizes["Make"] == 20 - 5
        assert stats.items_in_flight == 20
        gate.release.set()
        await pipeline.join()
    assert sorted(r.value for r in pipeline.results) == list(range(20))
    assert set(gate.entered.values()) == {1}


async def test_upstream_hands_over_in_priority_order() -> None:
    # Items fed straight into a pull stage wait for a free worker by priority.
    gate = Gate()
    order: list[str] = []

    async def record(x: str) -> str:
        order.append(x)
        return x

    pipeline = Pipeline([Stage("A", 1, [record]), Stage("P", 1, [gate, record], pull=True)])
    async with pipeline, anyio.create_task_group() as tg:
        await pipeline.start()
        tg.start_soon(pipeline.feed, ["busy"], "P")
        await all_parked()
        tg.start_soon(pipeline.feed, ["late"], "P", 100)
        await all_parked()
        tg.start_soon(pipeline.feed, ["urgent"], "P", 1)
        await all_parked()
        assert gate.inside == 1
        gate.release.set()
        await all_parked()
        await pipeline.join()
    assert order == ["busy", "urgent", "late"]


async def test_a_pull_stage_in_the_middle() -> None:
    async def add_one(x: int) -> int:
        return x + 1

    async def double(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x * 2

    pipeline = Pipeline(
        [
            Stage("A", 2, [add_one]),
            Stage("B", 3, [double], pull=True),
            Stage("C", 2, [add_one]),
        ]
    )
    results = await pipeline.run([1, 2, 3])
    assert [r.value for r in results] == [5, 7, 9]


async def test_no_item_lost_or_duplicated_through_many_pull_workers() -> None:
    calls: Counter[int] = Counter()

    async def work(x: int) -> int:
        calls[x] += 1
        for _ in range(x % 3):
            await anyio.lowlevel.checkpoint()
        return x

    pipeline = Pipeline(
        [Stage("Feed", 10, [work]), Stage("Poll", 50, [work], pull=True, queue_capacity=1)]
    )
    results = await pipeline.run(range(500))
    assert [r.value for r in results] == list(range(500))
    assert set(calls.values()) == {2}


async def test_per_task_retries_in_a_pull_stage() -> None:
    attempts: Counter[int] = Counter()

    async def flaky(x: int) -> int:
        attempts[x] += 1
        if attempts[x] < 2:
            raise ValueError("transient")
        return x * 10

    async def identity(x: int) -> int:
        return x

    pipeline = Pipeline(
        [Stage("Feed", 2, [identity]), Stage("Poll", 4, [flaky], pull=True, task_attempts=3)]
    )
    results = await pipeline.run(range(8))
    assert [r.value for r in results] == [i * 10 for i in range(8)]
    assert set(attempts.values()) == {2}


async def test_failures_in_a_pull_stage_are_recorded_and_the_others_go_on() -> None:
    async def fail_odd(x: int) -> int:
        if x % 2:
            raise RuntimeError(f"odd {x}")
        return x

    async def identity(x: int) -> int:
        return x

    failed: list[Any] = []
    pipeline = Pipeline(
        [
            Stage("Feed", 2, [identity]),
            Stage(
                "Poll",
                3,
                [fail_odd],
                pull=True,
                task_attempts=2,
                on_failure=lambda item, error, meta: failed.append(item),
            ),
        ]
    )
    results = await pipeline.run(range(10))
    assert [r.value for r in results] == [0, 2, 4, 6, 8]
    assert sorted(failed) == [1, 3, 5, 7, 9]
    stats = pipeline.get_stats()
    assert (stats.items_failed, stats.items_in_flight) == (5, 0)
    assert pipeline.get_error_summary().total_failed == 5


async def test_tracker_sees_items_queued_for_and_taken_by_a_pull_stage() -> None:
    tracker = StatusTracker()

    async def identity(x: int) -> int:
        return x

    pipeline = Pipeline(
        [Stage("A", 1, [identity]), Stage("P", 2, [identity], pull=True)],
        status_tracker=tracker,
    )
    await pipeline.run(range(3))
    history = [(e.status, e.stage) for e in tracker.get_history(1)]
    assert history == [
        ("queued", "A"),
        ("in_progress", "A"),
        ("completed", "A"),
        ("queued", "P"),
        ("in_progress", "P"),
        ("completed", "P"),
    ]


async def test_cancelling_a_run_with_items_at_the_rendezvous_leaves_nothing_behind() -> None:
    gate = Gate()

    async def make(x: int) -> int:
        return x

    pipeline = Pipeline([Stage("Make", 2, [make]), Stage("Pull", 2, [gate], pull=True)])
    async with anyio.create_task_group() as tg:

        async def cancel_when_parked() -> None:
            await all_parked()
            tg.cancel_scope.cancel()

        tg.start_soon(cancel_when_parked)
        await pipeline.run(range(10))
    assert all(s.status == "stopped" for s in pipeline.get_worker_states().values())
    assert not pipeline.is_running
    stats = pipeline.get_stats()
    assert stats.items_fed == 10
    assert stats.items_in_flight == 10
    assert gate.inside == 0
    assert set(gate.entered.values()) == {1}
    # The pipeline runs again.
    gate.release.set()
    results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 1, 2]


async def test_shutdown_while_pull_workers_and_upstream_wait() -> None:
    gate = Gate()

    async def make(x: int) -> int:
        return x

    pipeline = Pipeline([Stage("Make", 2, [make]), Stage("Pull", 3, [gate], pull=True)])
    async with pipeline:
        await pipeline.start()
        await pipeline.feed(range(20))
        await all_parked()
        assert gate.inside == 3
        assert len(holding(pipeline, "Make")) == 2
        await pipeline.shutdown()
    assert all(s.status == "stopped" for s in pipeline.get_worker_states().values())
    assert gate.inside == 0
    assert pipeline.get_stats().items_in_flight == 20


async def test_a_feed_into_a_pull_stage_waiting_at_shutdown_is_told() -> None:
    gate = Gate()
    pipeline = Pipeline([Stage("A", 1, [gate]), Stage("P", 1, [gate], pull=True)])
    async with pipeline, anyio.create_task_group() as tg:
        await pipeline.start()
        await pipeline.feed(["busy"], target_stage="P")
        await all_parked()

        async def feed_waiting() -> None:
            with pytest.raises(PipelineError, match="free worker of pull stage 'P'"):
                await pipeline.feed(["waits"], target_stage="P")

        tg.start_soon(feed_waiting)
        await all_parked()
        await pipeline.shutdown()
    stats = pipeline.get_stats()
    assert stats.items_fed == 1  # the one refused was not fed
    assert gate.entered == Counter({"busy": 1})


def test_a_pull_stage_has_no_queue() -> None:
    assert Stage("P", 2, [abs], pull=True, queue_capacity=10).capacity == 0
