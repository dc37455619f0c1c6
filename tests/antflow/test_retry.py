"""RetryPolicy (antflow/_retry.py) and the executor's retries, which go through it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from antflow import AsyncExecutor
from antflow._retry import RetryPolicy


class Flaky:
    """Fails with a fresh exception until its ``failures`` are used up."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.raised: list[Exception] = []

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            error = ConnectionError(f"attempt {self.calls}")
            self.raised.append(error)
            raise error
        return "ok"


class _Waits(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.waits: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.waits.append(record.wait)


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """Record each wait between attempts, from the one log record of each retry."""
    handler = _Waits()
    logger = logging.getLogger("antflow.retry")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.waits
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_succeeds_after_failures_within_attempts(no_retry_waits: None) -> None:
    flaky = Flaky(failures=2)
    assert await RetryPolicy(attempts=3, wait_initial=0.001).call(flaky) == "ok"
    assert flaky.calls == 3


async def test_the_last_attempts_exception_propagates_unwrapped(no_retry_waits: None) -> None:
    flaky = Flaky(failures=10)
    with pytest.raises(ConnectionError) as info:
        await RetryPolicy(attempts=4, wait_initial=0.001).call(flaky)
    assert flaky.calls == 4
    assert info.value is flaky.raised[-1]


async def test_one_attempt_means_no_retry() -> None:
    flaky = Flaky(failures=1)
    with pytest.raises(ConnectionError):
        await RetryPolicy(attempts=1).call(flaky)
    assert flaky.calls == 1


async def test_waits_grow_exponentially_with_bounded_jitter(retry_waits: list[float]) -> None:
    flaky = Flaky(failures=3)
    await RetryPolicy(attempts=4, wait_initial=0.001, wait_exp_base=2).call(flaky)
    assert len(retry_waits) == 3
    for n, wait in enumerate(retry_waits):
        base = 0.001 * 2**n
        assert base <= wait <= base + 0.0005  # jitter: up to half the initial wait


async def test_cancellation_is_not_retried() -> None:
    calls = 0

    async def blocks() -> None:
        nonlocal calls
        calls += 1
        await anyio.sleep_forever()

    with anyio.move_on_after(0.01):
        await RetryPolicy(attempts=5, wait_initial=0).call(blocks)
    assert calls == 1


async def test_base_exceptions_are_not_retried() -> None:
    calls = 0

    async def exits() -> None:
        nonlocal calls
        calls += 1
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        await RetryPolicy(attempts=5, wait_initial=0).call(exits)
    assert calls == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"attempts": 0}, "attempts must be an int >= 1"),
        ({"attempts": 2.0}, "attempts must be an int"),
        ({"wait_initial": -1}, "wait_initial must be a finite number"),
        ({"wait_initial": float("nan")}, "wait_initial must be a finite number"),
        ({"wait_exp_base": 0.5}, "wait_exp_base must be a finite number >= 1"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        RetryPolicy(**kwargs)


async def test_submit_retries_count_extra_attempts(retry_waits: list[float]) -> None:
    flaky = Flaky(failures=3)
    async with AsyncExecutor() as executor:
        future = executor.submit(flaky, retries=3, retry_delay=0.001)
        assert await future.result() == "ok"
    assert flaky.calls == 4
    assert len(retry_waits) == 3
    assert retry_waits[0] >= 0.001


async def test_submit_surfaces_the_tasks_own_exception_after_the_last_retry(
    no_retry_waits: None,
) -> None:
    flaky = Flaky(failures=10)
    async with AsyncExecutor() as executor:
        future = executor.submit(flaky, retries=2, retry_delay=0.001)
        with pytest.raises(ConnectionError, match="attempt 3"):
            await future.result()
    assert future.exception() is flaky.raised[-1]


async def test_semaphore_is_released_between_attempts(no_retry_waits: None) -> None:
    semaphore = anyio.Semaphore(1)
    flaky = Flaky(failures=2)
    async with AsyncExecutor() as executor:
        future = executor.submit(flaky, retries=2, semaphore=semaphore)
        assert await future.result() == "ok"
    assert semaphore.value == 1
