"""AsyncExecutor.as_completed and AsyncExecutor.wait."""

from __future__ import annotations

import anyio
import pytest

from antflow import AsyncExecutor, AsyncFuture, WaitStrategy

from ._helpers import double, wait_for


async def test_as_completed_yields_in_completion_order() -> None:
    gates = [anyio.Event() for _ in range(4)]
    async with AsyncExecutor(max_workers=4) as executor:
        futures = [executor.submit(wait_for, gate) for gate in gates]
        order: list[AsyncFuture[str]] = []
        release_order = [2, 0, 3, 1]
        gates[release_order[0]].set()
        async for future in executor.as_completed(futures):
            order.append(future)
            if len(order) < 4:
                gates[release_order[len(order)]].set()
    assert order == [futures[i] for i in release_order]


async def test_as_completed_yields_done_futures_first_and_duplicates_once() -> None:
    async with AsyncExecutor() as executor:
        done = executor.submit(double, 1)
        await done.result()
        release = anyio.Event()
        pending = executor.submit(wait_for, release)
        seen = []
        async for future in executor.as_completed([done, pending, done]):
            seen.append(future)
            release.set()
    assert seen == [done, pending]


async def test_as_completed_timeout_raises_timeout_error() -> None:
    async with AsyncExecutor() as executor:
        future = executor.submit(wait_for, anyio.Event())
        with pytest.raises(TimeoutError, match=r"1 of 1 futures still pending after timeout=0\.01"):
            async for _ in executor.as_completed([future], timeout=0.01):
                pass
        future.cancel()


async def test_wait_all_completed() -> None:
    async with AsyncExecutor(max_workers=3) as executor:
        futures = [executor.submit(double, i) for i in range(6)]
        done, pending = await executor.wait(futures)
    assert done == set(futures)
    assert pending == set()


async def test_wait_first_completed_returns_when_one_is_done() -> None:
    release = anyio.Event()
    async with AsyncExecutor(max_workers=3) as executor:
        slow = executor.submit(wait_for, release)
        fast = executor.submit(double, 2)
        done, pending = await executor.wait([slow, fast], return_when=WaitStrategy.FIRST_COMPLETED)
        assert done == {fast}
        assert pending == {slow}
        release.set()


async def test_wait_first_exception_returns_when_one_raises() -> None:
    async def fail() -> None:
        raise OSError("disk")

    release = anyio.Event()
    async with AsyncExecutor(max_workers=3) as executor:
        slow = executor.submit(wait_for, release)
        ok = executor.submit(double, 1)
        await ok.result()
        failing = executor.submit(fail)
        done, pending = await executor.wait(
            [slow, ok, failing], return_when=WaitStrategy.FIRST_EXCEPTION
        )
        assert done == {ok, failing}
        assert pending == {slow}
        release.set()


async def test_wait_first_exception_without_exceptions_waits_for_all() -> None:
    async with AsyncExecutor(max_workers=2) as executor:
        futures = [executor.submit(double, i) for i in range(4)]
        done, pending = await executor.wait(futures, return_when="FIRST_EXCEPTION")
    assert done == set(futures)
    assert not pending


async def test_wait_timeout_returns_what_is_done() -> None:
    async with AsyncExecutor(max_workers=2) as executor:
        blocked = executor.submit(wait_for, anyio.Event())
        finished = executor.submit(double, 1)
        done, pending = await executor.wait([blocked, finished], timeout=0.01)
        assert done == {finished}
        assert pending == {blocked}
        blocked.cancel()


async def test_wait_rejects_an_unknown_strategy() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(ValueError, match="return_when must be one of"):
            await executor.wait([], return_when="SOMETIME")
