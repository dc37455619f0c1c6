"""feed() before start(), and queue_capacity=0 (no limit): items wait, nothing hangs."""

from __future__ import annotations

import logging
import math

import anyio
import pytest

from antflow import Pipeline, PipelineError, Stage, StatusTracker

from ._helpers import all_parked


class Gate:
    def __init__(self) -> None:
        self.release = anyio.Event()
        self.order: list[int] = []

    async def __call__(self, x: int) -> int:
        await self.release.wait()
        self.order.append(x)
        return x


async def test_items_fed_before_start_are_processed_once_it_runs() -> None:
    gate = Gate()
    gate.release.set()
    pipeline = Pipeline([Stage("S", 1, [gate], queue_capacity=4)])
    await pipeline.feed(range(100))  # far more than the queue holds: held, no waiting
    stats = pipeline.get_stats()
    assert (stats.items_fed, stats.queue_sizes["S"], stats.items_in_flight) == (100, 100, 100)
    assert not pipeline.is_running
    assert {s.status for s in pipeline.get_worker_states().values()} == {"stopped"}
    async with pipeline:
        await pipeline.start()
        await pipeline.feed(range(100, 110))  # after start(): waits its turn, behind them
        await pipeline.join()
    assert [r.value for r in pipeline.results] == list(range(110))
    assert gate.order == list(range(110))
    assert pipeline.get_stats().items_in_flight == 0


async def test_items_held_before_start_enter_by_priority() -> None:
    gate = Gate()
    gate.release.set()
    pipeline = Pipeline([Stage("S", 1, [gate], queue_capacity=1)])
    await pipeline.feed([0])  # in the queue
    await pipeline.feed([1, 2], priority=100)  # held
    await pipeline.feed([3], priority=1)  # held, ahead of them
    async with pipeline:
        await pipeline.start()
        await pipeline.join()
    assert gate.order == [0, 3, 1, 2]


async def test_a_feed_started_before_start_waits_for_room_once_the_workers_run() -> None:
    gate = Gate()
    pipeline = Pipeline([Stage("S", 1, [gate], queue_capacity=2)])
    async with pipeline, anyio.create_task_group() as tg:
        await pipeline.feed(range(5))  # 2 queued, 3 held
        await pipeline.start()
        tg.start_soon(pipeline.feed, range(5, 10))
        await all_parked()
        stats = pipeline.get_stats()
        # The worker holds one; two are queued; two held ones are left; the new feed waits.
        assert stats.queue_sizes["S"] == 4
        assert stats.items_fed == 6
        gate.release.set()
        await all_parked()
        await pipeline.join()
    assert sorted(gate.order) == list(range(10))


async def test_feed_before_start_into_later_and_pull_stages() -> None:
    gate = Gate()
    gate.release.set()

    async def add_ten(x: int) -> int:
        return x + 10

    pipeline = Pipeline(
        [
            Stage("A", 1, [add_ten]),
            Stage("B", 1, [add_ten], queue_capacity=1),
            Stage("P", 1, [gate], pull=True),
        ]
    )
    await pipeline.feed([1, 2, 3], target_stage="B")
    await pipeline.feed([100, 200], target_stage="P")
    await pipeline.feed([0])
    assert pipeline.get_stats().queue_sizes == {"A": 1, "B": 3, "P": 2}
    async with pipeline:
        await pipeline.start()
        await pipeline.join()
    assert sorted(r.value for r in pipeline.results) == [11, 12, 13, 20, 100, 200]


async def test_feed_before_start_with_a_tracker_reports_items_queued() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline([Stage("S", 1, [abs], queue_capacity=1)], status_tracker=tracker)
    await pipeline.feed(range(3))
    statuses = [tracker.get_status(i) for i in range(3)]
    assert [s.status if s is not None else None for s in statuses] == ["queued"] * 3
    async with pipeline:
        await pipeline.start()
        await pipeline.join()
    assert [r.value for r in pipeline.results] == [0, 1, 2]


async def test_shutdown_before_start_drops_the_items_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pipeline = Pipeline([Stage("S", 1, [abs], queue_capacity=2)])
    await pipeline.feed(range(5))
    with caplog.at_level(logging.WARNING, logger="antflow"):
        await pipeline.shutdown()
    assert "5 items fed before start() were never processed" in caplog.text
    assert pipeline.get_stats().items_in_flight == 5
    assert [r.value for r in await pipeline.run([-1])] == [1]  # the next run is a new one


async def test_run_and_stream_refuse_while_items_wait_for_start() -> None:
    pipeline = Pipeline([Stage("S", 1, [abs])])
    await pipeline.feed([1])
    with pytest.raises(PipelineError, match="1 items were fed before start"):
        await pipeline.run([2])
    with pytest.raises(PipelineError, match="fed before start"):
        async for _ in pipeline.stream([2]):
            pass
    with pytest.raises(PipelineError, match="not running"):
        await pipeline.join()
    async with pipeline:
        await pipeline.start()
        await pipeline.join()
    assert [r.value for r in pipeline.results] == [1]


async def test_a_cancelled_start_abandons_the_items_fed_before_it_like_any_run() -> None:
    pipeline = Pipeline([Stage("S", 1, [abs], queue_capacity=1)])
    await pipeline.feed([-1, -2, -3])
    async with pipeline:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await pipeline.start()
        assert not pipeline.is_running
        assert pipeline.get_stats().items_in_flight == 3  # abandoned, and reported
        assert {s.status for s in pipeline.get_worker_states().values()} == {"stopped"}
        await pipeline.start()  # a new run
        await pipeline.feed([-4])
        await pipeline.join()
    assert [r.value for r in pipeline.results] == [4]


async def test_an_empty_feed_before_start_holds_nothing_back() -> None:
    pipeline = Pipeline([Stage("S", 1, [abs])])
    await pipeline.feed([])
    assert [r.value for r in await pipeline.run([-1])] == [1]


# -- queue_capacity=0: no limit ----------------------------------------------------------------


def test_queue_capacity_0_means_no_limit() -> None:
    assert Stage("S", 1, [abs], queue_capacity=0).capacity == math.inf


async def test_an_unbounded_queue_takes_everything_without_waiting() -> None:
    gate = Gate()
    pipeline = Pipeline([Stage("S", 1, [gate], queue_capacity=0)])
    async with pipeline:
        await pipeline.start()
        await all_parked()
        # 100 times the default capacity, with the one worker stuck: a bounded queue would
        # make this feed wait for good.
        with anyio.fail_after(30):
            await pipeline.feed(range(6400))
        stats = pipeline.get_stats()
        assert stats.queue_sizes["S"] == 6400 - 1
        assert stats.items_in_flight == 6400
        gate.release.set()
        await pipeline.join()
    assert len(pipeline.results) == 6400
    assert gate.order == list(range(6400))  # no limit, so no waiting: feed order


async def test_an_unbounded_queue_between_stages() -> None:
    gate = Gate()

    async def passing(x: int) -> int:
        return x

    pipeline = Pipeline(
        [Stage("A", 2, [passing], queue_capacity=1), Stage("B", 1, [gate], queue_capacity=0)]
    )
    async with pipeline:
        await pipeline.start()
        await pipeline.feed(range(500))
        await all_parked()
        assert pipeline.get_stats().queue_sizes == {"A": 0, "B": 499}
        gate.release.set()
        await pipeline.join()
    assert [r.value for r in pipeline.results] == list(range(500))
