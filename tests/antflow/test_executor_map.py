"""AsyncExecutor.map and map_iter: order, laziness, failures, timeouts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import anyio
import anyio.lowlevel
import pytest

from antflow import AsyncExecutor, MapResult

from ._helpers import double


async def slow_first(x: int) -> int:
    # Item 0 finishes last: results must still come back in input order.
    for _ in range(20 if x == 0 else 1):
        await anyio.lowlevel.checkpoint()
    return x * x


async def test_await_map_returns_a_list_in_input_order() -> None:
    async with AsyncExecutor(max_workers=5) as executor:
        results = await executor.map(slow_first, range(10))
    assert results == [x * x for x in range(10)]


async def test_async_for_over_map_streams_in_input_order() -> None:
    async with AsyncExecutor(max_workers=5) as executor:
        result = executor.map(slow_first, range(10))
        assert isinstance(result, MapResult)
        assert [r async for r in result] == [x * x for x in range(10)]


async def test_map_iter_streams_in_input_order() -> None:
    async with AsyncExecutor(max_workers=5) as executor:
        assert [r async for r in executor.map_iter(slow_first, range(10))] == [
            x * x for x in range(10)
        ]


async def test_map_zips_several_iterables_and_stops_at_the_shortest() -> None:
    async def add(x: int, y: int) -> int:
        return x + y

    async with AsyncExecutor(max_workers=3) as executor:
        assert await executor.map(add, [1, 2, 3], [4, 5, 6]) == [5, 7, 9]
        assert await executor.map(add, [1, 2, 3], [4]) == [5]


async def test_map_of_nothing_is_an_empty_list() -> None:
    async with AsyncExecutor() as executor:
        assert await executor.map(double, []) == []


async def test_a_failing_call_raises_from_map_unchanged_and_cancels_the_rest() -> None:
    cancelled = 0

    async def fail_on_three(x: int) -> int:
        nonlocal cancelled
        if x == 3:
            await anyio.lowlevel.checkpoint()
            raise KeyError("three")
        try:
            if x > 3:
                await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise
        return x

    async with AsyncExecutor(max_workers=4) as executor:
        with pytest.raises(KeyError, match="three"):
            await executor.map(fail_on_three, range(20))
    assert cancelled > 0  # the calls in flight behind the failure were cancelled, not awaited


async def test_results_before_a_failure_are_streamed_first() -> None:
    async def fail_on_two(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    received: list[int] = []
    async with AsyncExecutor(max_workers=4) as executor:
        with pytest.raises(ValueError, match="two"):
            async for r in executor.map_iter(fail_on_two, range(5)):
                received.append(r)
    assert received == [0, 1]


async def test_map_iter_consumes_inputs_lazily() -> None:
    max_workers = 4
    produced = 0

    def numbers() -> Iterator[int]:
        nonlocal produced
        for i in range(10_000_000):
            produced += 1
            yield i

    consumed = 0
    async with AsyncExecutor(max_workers=max_workers) as executor:
        stream = executor.map_iter(double, numbers())
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for result in stream:
                assert result == consumed * 2
                consumed += 1
                # Never more than the window (3 per worker) ahead of what was consumed.
                assert produced - consumed <= 3 * max_workers
                if consumed == 2_000:
                    break
    assert produced <= 2_000 + 3 * max_workers


async def test_nothing_is_submitted_before_iteration() -> None:
    calls: list[int] = []

    async def record(x: int) -> int:
        calls.append(x)
        return x

    async with AsyncExecutor() as executor:
        executor.map(record, range(3))  # neither awaited nor iterated
        executor.map_iter(record, range(3))
    assert calls == []


async def test_closing_map_iter_early_cancels_the_calls_in_flight() -> None:
    cancelled = 0

    async def first_fast(x: int) -> int:
        nonlocal cancelled
        if x == 0:
            return x
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise
        raise AssertionError("unreachable")

    async with AsyncExecutor(max_workers=3) as executor:
        stream = executor.map_iter(first_fast, range(100))
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for result in stream:
                assert result == 0
                break
    assert cancelled == 3  # one per worker; the queued calls never started


async def test_map_timeout_raises_timeout_error_and_cancels_outstanding_calls() -> None:
    async def never(x: int) -> int:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with AsyncExecutor(max_workers=2) as executor:
        with pytest.raises(TimeoutError, match=r"map\(never\): a result was not ready within"):
            await executor.map(never, range(5), timeout=0.01)
    # Leaving the block did not hang: the timed-out calls were cancelled.


async def test_map_timeout_zero_takes_only_what_is_done_on_every_backend() -> None:
    # A call that returns without awaiting is not done before the map first looks: with
    # timeout=0 that is a timeout, on asyncio as on trio (it used to depend on the backend).
    async def at_once(x: int) -> int:
        return x

    async with AsyncExecutor(max_workers=4) as executor:
        with pytest.raises(TimeoutError, match="timeout=0"):
            await executor.map(at_once, range(10), timeout=0)


async def test_map_retries_each_call(no_retry_waits: None) -> None:
    attempts: dict[int, int] = {}

    async def flaky(x: int) -> int:
        attempts[x] = attempts.get(x, 0) + 1
        if attempts[x] < 3:
            raise ConnectionError("try again")
        return x

    async with AsyncExecutor(max_workers=3) as executor:
        assert await executor.map(flaky, range(4), retries=2, retry_delay=0.001) == [0, 1, 2, 3]
    assert attempts == {0: 3, 1: 3, 2: 3, 3: 3}


async def test_a_map_result_can_be_consumed_once() -> None:
    async with AsyncExecutor() as executor:
        result = executor.map(double, range(3))
        assert await result == [0, 2, 4]
        with pytest.raises(RuntimeError, match="already consumed"):
            await result


async def test_an_exception_from_the_inputs_propagates() -> None:
    def broken_inputs() -> Iterator[int]:
        yield 1
        raise LookupError("input broke")

    async with AsyncExecutor() as executor:
        with pytest.raises(LookupError, match="input broke"):
            await executor.map(double, broken_inputs())


async def test_map_rejects_bad_arguments_at_the_call() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError, match="at least one iterable"):
            executor.map(double)
        with pytest.raises(ValueError, match="retries"):
            executor.map_iter(double, [1], retries=-1)
        with pytest.raises(TypeError, match="timeout"):
            executor.map(double, [1], timeout="soon")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"timeout must be a number of seconds >= 0"):
            executor.map(double, [1], timeout=-1)
