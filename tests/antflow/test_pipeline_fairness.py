"""A pipeline of tasks that never await still lets the rest of the event loop run.

Taking a queued item and calling a task that returns at once are not checkpoints, so a worker
(or the feeder, into a roomy queue) could run for ever without yielding. They checkpoint every
``CHECKPOINT_EVERY`` items; these tests count how many items go by between two turns of another
task. Counting, not timing: deterministic on both backends.
"""

from __future__ import annotations

import itertools

import anyio
import anyio.lowlevel

from antflow import Pipeline, Stage
from antflow._fairness import CHECKPOINT_EVERY


class _Ticker:
    """Another task of the loop: at each of its turns, notes how many items were done."""

    def __init__(self) -> None:
        self.done = 0
        self.seen: list[int] = []
        self.stop = anyio.Event()

    async def never_awaits(self, value: int) -> int:
        self.done += 1
        return value

    async def tick(self) -> None:
        while not self.stop.is_set():
            self.seen.append(self.done)
            await anyio.lowlevel.checkpoint()

    def longest_gap(self) -> int:
        points = [*self.seen, self.done]
        return max(b - a for a, b in itertools.pairwise(points))


async def _run_beside_ticker(pipeline: Pipeline, items: int) -> _Ticker:
    ticker = _Ticker()
    for stage in pipeline.stages:
        stage.tasks = [ticker.never_awaits]
    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker.tick)
        results = await pipeline.run(range(items))
        ticker.stop.set()
    assert len(results) == items
    return ticker


async def test_a_roomy_queue_and_tasks_that_never_await_let_others_run() -> None:
    # The feeder fills a queue with room for everything, one worker empties it: neither waits.
    pipeline = Pipeline([Stage("Only", workers=1, tasks=[abs], queue_capacity=300_000)])
    ticker = await _run_beside_ticker(pipeline, 200_000)
    assert ticker.longest_gap() <= 2 * CHECKPOINT_EVERY


async def test_several_stages_of_tasks_that_never_await_let_others_run() -> None:
    pipeline = Pipeline(
        [Stage(f"S{i}", workers=2, tasks=[abs], queue_capacity=1_000) for i in range(3)]
    )
    ticker = await _run_beside_ticker(pipeline, 30_000)
    # Each of the six workers may take CHECKPOINT_EVERY items in one turn of the loop.
    assert ticker.longest_gap() <= 2 * 6 * CHECKPOINT_EVERY
