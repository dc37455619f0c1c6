"""AsyncExecutor's queue: idle workers park, wake up for new work, and exit at shutdown."""

from __future__ import annotations

import anyio
import anyio.lowlevel

from antflow import AsyncExecutor

from ._helpers import Concurrency, double, wait_for


def task_count() -> int:
    return len(anyio.get_running_tasks())


async def test_parked_workers_wake_up_for_every_burst_of_work() -> None:
    counter = Concurrency()
    before = task_count()
    async with AsyncExecutor(max_workers=3) as executor:
        for burst in range(5):
            await anyio.wait_all_tasks_blocked()  # every worker ran out of work and parked
            futures = [executor.submit(counter.call, burst * 10 + i) for i in range(burst * 2)]
            with anyio.fail_after(5):
                results = [await f.result() for f in futures]
            assert results == [burst * 10 + i for i in range(burst * 2)]
        assert task_count() == before + 3  # parked workers were reused, none added
    assert counter.peak == 3


async def test_one_future_wakes_one_parked_worker_and_all_of_them_run() -> None:
    release = anyio.Event()
    async with AsyncExecutor(max_workers=4) as executor:
        await executor.map(double, range(8))  # starts the four workers
        await anyio.wait_all_tasks_blocked()  # they all park
        blocked = [executor.submit(wait_for, release) for _ in range(4)]
        with anyio.fail_after(5):
            while not all(f.running() for f in blocked):
                await anyio.lowlevel.checkpoint()
        queued = executor.submit(double, 21)
        await anyio.wait_all_tasks_blocked()
        assert not queued.running()  # every worker is busy
        assert not queued.done()
        release.set()
        with anyio.fail_after(5):
            assert await queued.result() == 42
    assert [await f.result() for f in blocked] == ["released"] * 4


async def test_a_future_cancelled_in_the_queue_does_not_strand_the_next_one() -> None:
    async with AsyncExecutor(max_workers=1) as executor:
        await executor.submit(double, 1).result()
        await anyio.wait_all_tasks_blocked()  # the worker parks
        cancelled = executor.submit(double, 2)
        cancelled.cancel()  # it woke the worker, which finds it cancelled and moves on
        later = executor.submit(double, 3)
        with anyio.fail_after(5):
            assert await later.result() == 6
    assert cancelled.cancelled()


async def test_leaving_the_block_releases_parked_workers_promptly() -> None:
    before = task_count()
    with anyio.fail_after(5):
        async with AsyncExecutor(max_workers=5) as executor:
            await executor.map(double, range(20))
            await anyio.wait_all_tasks_blocked()  # every worker parked
    assert task_count() == before


async def test_manual_shutdown_releases_parked_workers() -> None:
    executor = AsyncExecutor(max_workers=3)
    futures = [executor.submit(double, i) for i in range(6)]
    assert [await f.result() for f in futures] == [0, 2, 4, 6, 8, 10]
    await anyio.wait_all_tasks_blocked()  # every worker parked
    with anyio.fail_after(5):
        await executor.shutdown(wait=True)
