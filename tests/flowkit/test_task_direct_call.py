"""Calling a Task directly applies its condition and its retries, sync and async alike."""

from __future__ import annotations

import pytest

from flowkit import DAG, Task, task

pytestmark = pytest.mark.usefixtures("no_retry_waits")


def test_a_false_condition_returns_none_without_calling() -> None:
    calls: list[int] = []

    @task(when=lambda x: x > 10)
    def big(x: int) -> str:
        calls.append(x)
        return f"big {x}"

    assert big(3) is None
    assert big(30) == "big 30"
    assert calls == [30]


def test_the_condition_gets_the_call_arguments() -> None:
    seen: list[tuple[object, ...]] = []

    def condition(*args: object, **kwargs: object) -> bool:
        seen.append((args, kwargs))
        return True

    @task(when=condition)
    def add(x: int, y: int = 0) -> int:
        return x + y

    assert add(1, y=2) == 3
    assert seen == [((1,), {"y": 2})]


def test_a_failing_call_is_retried_then_returns() -> None:
    attempts: list[int] = []

    @task(retries=2, delay=0.001)
    def flaky() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)}")
        return "ok"

    assert flaky() == "ok"
    assert attempts == [1, 2, 3]


def test_the_last_failure_propagates_unchanged_after_every_attempt() -> None:
    errors: list[ValueError] = []

    @task(retries=1, delay=0.001)
    def broken() -> None:
        errors.append(ValueError(len(errors)))
        raise errors[-1]

    with pytest.raises(ValueError, match="1") as info:
        broken()
    assert len(errors) == 2
    assert info.value is errors[-1]


def test_without_retries_a_failure_is_not_repeated() -> None:
    calls: list[int] = []

    @task()
    def once() -> None:
        calls.append(1)
        raise KeyError("x")

    with pytest.raises(KeyError):
        once()
    assert calls == [1]


def test_keyboard_interrupt_is_not_retried() -> None:
    calls: list[int] = []

    @task(retries=3, delay=0.001)
    def interrupted() -> None:
        calls.append(1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert calls == [1]


async def test_an_async_task_called_directly_returns_a_coroutine_that_retries() -> None:
    attempts: list[int] = []

    @task(retries=2, delay=0.001)
    async def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 2:
            raise ConnectionError("again")
        return x * 2

    coroutine = flaky(21)
    assert attempts == []  # nothing runs before it is awaited
    assert await coroutine == 42
    assert attempts == [21, 21]


async def test_an_async_task_called_directly_applies_its_condition() -> None:
    calls: list[int] = []

    @task(when=lambda x: x > 0)
    async def positive(x: int) -> int:
        calls.append(x)
        return x

    assert await positive(-1) is None
    assert await positive(5) == 5
    assert calls == [5]


def test_a_run_does_not_apply_the_condition_or_the_retries_twice() -> None:
    attempts: list[int] = []
    conditions: list[int] = []

    @task()
    def source() -> int:
        return 4

    def check(x: int) -> bool:
        conditions.append(x)
        return True

    @task(retries=3, delay=0.001, when=check)
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 2:
            raise ConnectionError("again")
        return x + 1

    source >> flaky
    assert DAG("once").run() == {"source": 4, "flaky": 5}
    assert attempts == [4, 4]
    assert conditions == [4]


def test_repr_shows_upstream_and_downstream() -> None:
    @task()
    def extract() -> int:
        return 1

    @task()
    def transform(x: int) -> int:
        return x

    @task()
    def load(x: int) -> int:
        return x

    extract >> transform >> load
    assert repr(transform) == "Task(name='transform', upstream=['extract'], downstream=['load'])"
    assert repr(extract) == "Task(name='extract', upstream=[], downstream=['transform'])"
    assert isinstance(transform, Task)


def test_a_direct_retry_is_logged_once_naming_the_task(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    @task(retries=1, delay=0.001)
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("reset")
        return 1

    with caplog.at_level("INFO", logger="flowkit.retry"):
        assert flaky() == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "flowkit.retry"]
    assert len(messages) == 1
    assert messages[0].startswith("task 'flaky' (called directly) failed with ConnectionError")
