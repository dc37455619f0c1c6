"""AsyncExecutor yields to the event loop: calls that never await do not starve the other tasks.

A ticker task loops on checkpoints and records, at each tick, how many calls had completed. The
largest number of calls completed between two ticks is how long the executor kept the ticker off
the event loop, counted in calls instead of seconds: deterministic, on every backend.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import pairwise

import anyio
import anyio.lowlevel

from antflow import AsyncExecutor
from antflow._fairness import CHECKPOINT_EVERY

CALLS = 200_000
#: For map() (which with one worker already yields once per window of 3 calls, so it is ten
#: times slower per call than submit() here) and as_completed (which needs every future done
#: first): fewer calls keep the tests fast, still a hundred times the bound.
FEWER_CALLS = 20_000
#: A few intervals: the worker's own, the consumer's, one of slack for the scheduler's order.
BOUND = 3 * CHECKPOINT_EVERY


class Calls:
    """A coroutine function that never awaits, counting the calls that completed.

    ``completed`` is what the ticker samples: the progress made between two of its ticks.
    """

    def __init__(self) -> None:
        self.completed = 0

    async def __call__(self, x: int) -> int:
        self.completed += 1
        return x


async def largest_gap_between_ticks(
    work: Callable[[AsyncExecutor, Calls], Awaitable[None]], calls_made: int = CALLS
) -> int:
    """Run ``work`` beside a ticker; return the most calls completed between two ticks."""
    calls = Calls()
    seen = [0]
    done = False

    async def ticker() -> None:
        while not done:
            await anyio.lowlevel.checkpoint()
            seen.append(calls.completed)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        async with AsyncExecutor(max_workers=1) as executor:
            await work(executor, calls)
        done = True
    assert calls.completed == calls_made
    seen.append(calls.completed)
    return max(later - earlier for earlier, later in pairwise(seen))


async def test_map_yields_while_calls_never_await() -> None:
    async def work(executor: AsyncExecutor, calls: Calls) -> None:
        assert len(await executor.map(calls, range(FEWER_CALLS))) == FEWER_CALLS

    assert await largest_gap_between_ticks(work, FEWER_CALLS) <= BOUND


async def test_map_iter_yields_while_calls_never_await() -> None:
    async def work(executor: AsyncExecutor, calls: Calls) -> None:
        count = 0
        async for _ in executor.map_iter(calls, range(FEWER_CALLS)):
            count += 1
        assert count == FEWER_CALLS

    assert await largest_gap_between_ticks(work, FEWER_CALLS) <= BOUND


async def test_submitted_calls_yield_while_they_never_await() -> None:
    async def work(executor: AsyncExecutor, calls: Calls) -> None:
        futures = [executor.submit(calls, i) for i in range(CALLS)]
        assert await futures[-1].result() == CALLS - 1

    assert await largest_gap_between_ticks(work) <= BOUND


async def test_as_completed_yields_over_futures_already_done() -> None:
    async def work(executor: AsyncExecutor, calls: Calls) -> None:
        futures = [executor.submit(calls, i) for i in range(FEWER_CALLS)]
        await executor.wait(futures)
        # From here on the ticker counts futures handed out by as_completed, not calls.
        calls.completed = 0
        async for _ in executor.as_completed(futures):
            calls.completed += 1

    assert await largest_gap_between_ticks(work, FEWER_CALLS) <= BOUND
