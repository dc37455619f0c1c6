"""Bounded queues: a stage never holds more than queue_capacity items; priority orders entry."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from antflow import Pipeline, PipelineError, Stage, StatusTracker

from ._helpers import all_parked


async def test_no_stage_ever_holds_more_than_its_capacity() -> None:
    peaks = {"Fast": 0, "Slow": 0}
    pipeline: Pipeline

    def sample() -> None:
        for name, size in pipeline.get_stats().queue_sizes.items():
            peaks[name] = max(peaks[name], size)

    async def fast(x: int) -> int:
        sample()
        await anyio.lowlevel.checkpoint()
        return x

    async def slow(x: int) -> int:
        sample()
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        return x

    pipeline = Pipeline(
        stages=[
            Stage("Fast", 4, [fast], queue_capacity=3),
            Stage("Slow", 1, [slow], queue_capacity=2),
        ]
    )
    results = await pipeline.run(range(300))
    assert len(results) == 300
    assert peaks == {"Fast": 3, "Slow": 2}  # reached, never exceeded


async def test_lower_priority_value_enters_a_full_queue_first() -> None:
    release = anyio.Event()
    order: list[int] = []

    async def gate(x: int) -> int:
        if x == -1:
            await release.wait()
        order.append(x)
        return x

    pipeline = Pipeline(stages=[Stage("S", 1, [gate], queue_capacity=1)])
    async with pipeline, anyio.create_task_group() as tg:
        await pipeline.start()
        await pipeline.feed([{"id": "block", "value": -1}])  # held by the worker
        await pipeline.feed([{"id": "queued", "value": 0}])  # fills the queue
        tg.start_soon(pipeline.feed, [{"id": "late", "value": 1}], None, 100)
        await all_parked()  # "late" waits for room
        tg.start_soon(pipeline.feed, [{"id": "urgent", "value": 2}], None, 1)
        await all_parked()  # "urgent" waits for room too
        release.set()
        await pipeline.join()
    assert order == [-1, 0, 2, 1]


@pytest.mark.parametrize("tracked", [False, True])
async def test_a_feed_cancelled_while_the_queue_is_full_leaves_no_trace(tracked: bool) -> None:
    release = anyio.Event()
    seen: list[int] = []

    async def gate(x: int) -> int:
        if x == -1:
            await release.wait()
        seen.append(x)
        return x

    pipeline = Pipeline(
        stages=[Stage("S", 1, [gate], queue_capacity=1)],
        status_tracker=StatusTracker() if tracked else None,
    )
    async with pipeline:
        await pipeline.start()
        await pipeline.feed([-1])  # held by the worker
        await pipeline.feed([0])  # fills the queue
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(pipeline.feed, [1])  # waits for room
                await all_parked()
                scope.cancel()
        release.set()
        with anyio.fail_after(5):
            await pipeline.feed([2])  # not queued behind the cancelled item
            await pipeline.join()  # the cancelled item is not counted in flight
    assert seen == [-1, 0, 2]
    stats = pipeline.get_stats()
    assert (stats.items_fed, stats.items_processed, stats.items_in_flight) == (3, 3, 0)


async def test_a_feed_waiting_for_room_raises_when_the_pipeline_shuts_down() -> None:
    release = anyio.Event()

    async def gate(x: int) -> int:
        await release.wait()
        return x

    pipeline = Pipeline(stages=[Stage("S", 1, [gate], queue_capacity=1)])
    errors: list[PipelineError] = []

    async def feed_one_more() -> None:
        with pytest.raises(
            PipelineError, match="while item 2 waited for room in stage 'S'"
        ) as info:
            await pipeline.feed([2])
        errors.append(info.value)

    async with pipeline:
        await pipeline.start()
        await pipeline.feed([0])  # held by the worker
        await pipeline.feed([1])  # fills the queue
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(feed_one_more)  # waits for room
                await all_parked()
                await pipeline.shutdown()  # used to leave that feed() waiting forever
    assert len(errors) == 1
    assert pipeline.get_stats().items_fed == 2  # the item that never entered is not counted
