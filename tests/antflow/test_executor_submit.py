"""AsyncExecutor.submit and the AsyncFuture it returns."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import AsyncExecutor, AsyncFuture, FutureCancelledError

from ._helpers import Concurrency, double, wait_for


async def test_submit_returns_a_future_with_the_result() -> None:
    async with AsyncExecutor(max_workers=3) as executor:
        future = executor.submit(double, 42)
        assert isinstance(future, AsyncFuture)
        assert await future.result() == 84
        assert future.done()
        assert not future.cancelled()
        assert future.exception() is None


async def test_submit_passes_positional_and_keyword_arguments() -> None:
    async def join(a: str, b: str, *, sep: str) -> str:
        return f"{a}{sep}{b}"

    async with AsyncExecutor() as executor:
        assert await executor.submit(join, "x", "y", sep="-").result() == "x-y"


async def test_task_exception_is_reraised_unchanged() -> None:
    raised: list[BaseException] = []

    async def failing(x: int) -> int:
        error = ValueError("Negative value not allowed")
        raised.append(error)
        raise error

    async with AsyncExecutor(max_workers=2) as executor:
        future = executor.submit(failing, -5)
        with pytest.raises(ValueError, match=r"^Negative value not allowed$") as info:
            await future.result()
    assert info.value is raised[0]
    assert future.exception() is raised[0]


async def test_a_failing_task_does_not_affect_the_others() -> None:
    async def maybe_fail(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        if x % 3 == 0:
            raise RuntimeError(f"bad {x}")
        return x

    async with AsyncExecutor(max_workers=2) as executor:
        futures = [executor.submit(maybe_fail, x) for x in range(9)]
    for x, future in enumerate(futures):
        if x % 3 == 0:
            assert str(future.exception()) == f"bad {x}"
        else:
            assert await future.result() == x


async def test_exception_is_none_while_pending() -> None:
    release = anyio.Event()
    async with AsyncExecutor(max_workers=1) as executor:
        future = executor.submit(wait_for, release)
        assert not future.done()
        assert future.exception() is None
        release.set()


async def test_result_timeout_raises_builtin_timeout_error_and_the_call_goes_on() -> None:
    release = anyio.Event()
    async with AsyncExecutor() as executor:
        future = executor.submit(wait_for, release)
        with pytest.raises(TimeoutError, match=r"was not done within 0.01 s; the call goes on"):
            await future.result(timeout=0.01)
        assert not future.done()
        release.set()
        assert await future.result(timeout=5) == "released"


async def test_the_seeds_asyncio_timeout_error_catches_it_too() -> None:
    # The seed's guide catches asyncio.TimeoutError: an alias of TimeoutError since 3.11.
    async with AsyncExecutor() as executor:
        future = executor.submit(wait_for, anyio.Event())
        with pytest.raises(asyncio.TimeoutError):
            await future.result(timeout=0)
        future.cancel()


async def test_a_negative_timeout_is_refused_before_waiting() -> None:
    async with AsyncExecutor() as executor:
        future = executor.submit(double, 2)
        with pytest.raises(ValueError, match=r"timeout must be .* >= 0 or None, got -0.5"):
            await future.result(timeout=-0.5)
        with pytest.raises(ValueError, match="timeout"):
            executor.as_completed([future], timeout=-1)
        with pytest.raises(ValueError, match="timeout"):
            await executor.wait([future], timeout=float("nan"))
        assert await future.result() == 4


async def test_cancel_a_queued_future() -> None:
    release = anyio.Event()
    started: list[int] = []

    async def record(x: int) -> int:
        started.append(x)
        return x

    async with AsyncExecutor(max_workers=1) as executor:
        blocker = executor.submit(wait_for, release)
        queued = executor.submit(record, 1)
        assert queued.cancel() is True
        assert queued.cancelled()
        assert queued.done()
        release.set()
        await blocker.result()
    assert started == []
    with pytest.raises(FutureCancelledError):
        await queued.result()
    with pytest.raises(concurrent.futures.CancelledError):
        queued.exception()


async def test_cancel_a_running_future_interrupts_it_and_the_worker_goes_on() -> None:
    started = anyio.Event()
    interrupted: list[bool] = []

    async def long_call() -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            interrupted.append(True)
            raise

    async with AsyncExecutor(max_workers=1) as executor:
        running = executor.submit(long_call)
        await started.wait()
        assert running.running()
        assert running.cancel() is True
        assert running.cancelled()
        # The single worker survives the cancellation and runs the next call.
        assert await executor.submit(double, 4).result() == 8
    assert interrupted == [True]


async def test_cancel_a_done_future_returns_false() -> None:
    async with AsyncExecutor() as executor:
        future = executor.submit(double, 1)
        await future.result()
        assert future.cancel() is False
        assert not future.cancelled()


async def test_done_callbacks_run_once_done_and_at_once_when_already_done() -> None:
    seen: list[Any] = []
    async with AsyncExecutor() as executor:
        future = executor.submit(double, 3)
        future.add_done_callback(lambda f: seen.append(("first", f)))
        await future.result()
        future.add_done_callback(lambda f: seen.append(("late", f)))
    assert seen == [("first", future), ("late", future)]


async def test_an_exception_in_a_done_callback_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(_: AsyncFuture[int]) -> None:
        raise RuntimeError("callback broke")

    seen: list[int] = []
    async with AsyncExecutor() as executor:
        future = executor.submit(double, 3)
        future.add_done_callback(broken)
        future.add_done_callback(lambda f: seen.append(1))
        with caplog.at_level(logging.ERROR, logger="antflow"):
            assert await future.result() == 6
    assert seen == [1]
    assert "callback broke" in caplog.text


async def test_a_callable_returning_a_non_awaitable_fails_its_future_clearly() -> None:
    # A lambda may return an awaitable, so it is only found out when called.
    async with AsyncExecutor() as executor:
        future = executor.submit(lambda x: x, 1)
        with pytest.raises(TypeError, match="<lambda> returned int, not an awaitable"):
            await future.result()


async def test_a_lambda_returning_a_coroutine_is_fine() -> None:
    async with AsyncExecutor() as executor:
        assert await executor.submit(lambda: double(5)).result() == 10


@pytest.mark.parametrize("kind", ["anyio.Semaphore", "anyio.CapacityLimiter", "native"])
async def test_semaphore_caps_concurrency_across_tasks(kind: str, anyio_backend_name: str) -> None:
    semaphore: Any
    if kind == "anyio.Semaphore":
        semaphore = anyio.Semaphore(2)
    elif kind == "anyio.CapacityLimiter":
        semaphore = anyio.CapacityLimiter(2)
    elif anyio_backend_name == "asyncio":
        semaphore = asyncio.Semaphore(2)
    else:
        import trio

        semaphore = trio.Semaphore(2)
    throttled, free = Concurrency(), Concurrency()
    async with AsyncExecutor(max_workers=10) as executor:
        for i in range(20):
            executor.submit(throttled.call, i, semaphore=semaphore)
            executor.submit(free.call, i)
    assert throttled.peak == 2
    assert free.peak > 2  # the same work without the semaphore does overlap more


async def test_max_workers_caps_concurrency() -> None:
    counter = Concurrency()
    async with AsyncExecutor(max_workers=4) as executor:
        futures = [executor.submit(counter.call, i) for i in range(40)]
    assert counter.peak == 4
    assert [await f.result() for f in futures] == list(range(40))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"retries": -1}, ValueError, "retries must be an int >= 0"),
        ({"retries": 1.5}, ValueError, "retries must be an int >= 0"),
        ({"retry_delay": -0.1}, ValueError, "retry_delay must be a number of seconds >= 0"),
        ({"semaphore": object()}, TypeError, "semaphore must be an async context manager"),
    ],
)
async def test_submit_rejects_bad_options_at_once(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(error, match=match):
            executor.submit(double, 1, **kwargs)


async def test_submit_rejects_a_non_callable() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError, match="needs a coroutine function"):
            executor.submit(42)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-3, ValueError), ("4", TypeError), (True, TypeError)]
)
def test_max_workers_is_validated_at_construction(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_workers"):
        AsyncExecutor(max_workers=value)
