"""PipelineBuilder: what with_tracker() and collect_results() hand to the built pipeline."""

from __future__ import annotations

import anyio.lowlevel
import pytest

from antflow import Pipeline, StatusEvent, StatusTracker


async def double(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x * 2


async def test_with_tracker_attaches_the_tracker() -> None:
    changes: list[StatusEvent] = []
    tracker = StatusTracker(on_status_change=changes.append)
    pipeline = Pipeline.create().add("A", double).with_tracker(tracker).build()
    await pipeline.run([1, 2])
    assert tracker.get_stats()["completed"] == 2
    assert [(e.item_id, e.status) for e in changes if e.item_id == 0] == [
        (0, "queued"),
        (0, "in_progress"),
        (0, "completed"),
    ]


async def test_collect_results_false_keeps_no_results_of_start_feed_join() -> None:
    pipeline = Pipeline.create().add("A", double).collect_results(False).build()
    await pipeline.start()
    await pipeline.feed(range(3))
    await pipeline.join()
    assert pipeline.results == []
    assert pipeline.get_stats().items_processed == 3


async def test_collect_results_false_makes_run_return_nothing_as_0_10_does() -> None:
    pipeline = Pipeline.create().add("A", double).collect_results(False).build()
    assert await pipeline.run(range(3)) == []
    assert pipeline.get_stats().items_processed == 3


@pytest.mark.parametrize("collect", [(), (True,)], ids=["default-arg", "True"])
async def test_collect_results_true_keeps_the_results_of_start_feed_join(
    collect: tuple[bool, ...],
) -> None:
    # Set to False first, so a builder that ignores the second call fails here.
    builder = Pipeline.create().collect_results(False).collect_results(*collect)
    pipeline = builder.add("A", double).build()
    await pipeline.start()
    await pipeline.feed(range(3))
    await pipeline.join()
    assert [(r.id, r.value) for r in pipeline.results] == [(0, 0), (1, 2), (2, 4)]
