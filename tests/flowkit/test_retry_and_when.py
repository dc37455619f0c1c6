from __future__ import annotations

import pytest

from flowkit import DAG, task


@pytest.mark.usefixtures("no_retry_waits")
async def test_sync_task_is_retried_until_it_succeeds() -> None:
    calls = 0

    @task(retries=3, delay=0.01)
    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("try again")
        return "ok"

    assert (await DAG().run_async())["flaky"] == "ok"
    assert calls == 3


@pytest.mark.usefixtures("no_retry_waits")
async def test_async_task_gives_up_after_retries_with_the_last_exception() -> None:
    calls = 0

    @task(retries=2, delay=0.01)
    async def hopeless() -> None:
        nonlocal calls
        calls += 1
        raise ValueError(f"attempt {calls}")

    with pytest.raises(ValueError, match="attempt 3"):
        await DAG().run_async()
    assert calls == 3


async def test_no_retries_means_one_call() -> None:
    calls = 0

    @task()
    def once() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await DAG().run_async()
    assert calls == 1


async def test_false_condition_skips_the_task_and_passes_none_downstream() -> None:
    @task()
    def size() -> int:
        return 1500

    @task(when=lambda x: x > 1000)
    def large(value: int) -> str:
        return f"large {value}"

    @task(when=lambda x: x <= 1000)
    def small(value: int) -> str:
        return f"small {value}"

    @task()
    async def report(value: int, large_result: str | None, small_result: str | None) -> str:
        return f"{value}: {large_result or small_result} ({small_result})"

    size >> [large, small]
    [size, large, small] >> report
    results = await DAG().run_async()
    assert results["large"] == "large 1500"
    assert "small" not in results
    assert results["report"] == "1500: large 1500 (None)"
    assert results.skipped == frozenset({"small"})


async def test_condition_of_an_async_task_sees_the_upstream_result() -> None:
    @task()
    async def zero() -> int:
        return 0

    @task(when=bool)
    async def only_if_truthy(value: int) -> str:
        return "ran"

    zero >> only_if_truthy
    results = await DAG().run_async()
    assert results.skipped == frozenset({"only_if_truthy"})
