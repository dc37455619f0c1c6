"""retry_on: only the errors worth another attempt are retried; any other fails at once."""

from __future__ import annotations

from typing import Any

import pytest

from antflow import AsyncExecutor, Pipeline, Stage, StageValidationError
from antflow._retry import RetryPolicy

pytestmark = pytest.mark.usefixtures("no_retry_waits")


class Failing:
    """Raises ``error`` on each of the first ``failures`` calls."""

    def __init__(self, error: type[Exception], failures: int = 100) -> None:
        self.error = error
        self.failures = failures
        self.calls = 0

    async def __call__(self, value: Any = None) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"call {self.calls}")
        return value


async def test_a_stage_fails_an_error_outside_retry_on_at_once() -> None:
    bug = Failing(KeyError)
    pipeline = Pipeline([Stage("S", 1, [bug], task_attempts=5, retry_on=ConnectionError)])
    assert await pipeline.run([1]) == []
    assert bug.calls == 1
    (failure,) = pipeline.get_error_summary().failed_items
    assert (failure.error_type, failure.attempts) == ("KeyError", 1)


async def test_a_stage_retries_an_error_in_retry_on() -> None:
    flaky = Failing(TimeoutError, failures=2)
    stage = Stage("S", 1, [flaky], task_attempts=3, retry_on=(ConnectionError, TimeoutError))
    assert [r.value for r in await Pipeline([stage]).run([7])] == [7]
    assert flaky.calls == 3


async def test_per_stage_retries_follow_retry_on_too() -> None:
    bug = Failing(ValueError)
    stage = Stage("S", 1, [bug], retry="per_stage", stage_attempts=4, retry_on=ConnectionError)
    await Pipeline([stage]).run([1])
    assert bug.calls == 1


@pytest.mark.parametrize(
    "bad", [ValueError("x"), int, (ConnectionError, "x"), (), KeyboardInterrupt]
)
def test_a_bad_retry_on_is_refused_naming_the_field(bad: Any) -> None:
    with pytest.raises(StageValidationError, match="Stage 'S': retry_on must be an exception"):
        Stage("S", 1, [abs], retry_on=bad)
    with pytest.raises(TypeError, match="retry_on must be an exception class"):
        RetryPolicy(retry_on=bad)


async def test_submit_and_map_fail_an_error_outside_retry_on_at_once() -> None:
    bug = Failing(KeyError)
    flaky = Failing(ConnectionError, failures=1)
    async with AsyncExecutor() as executor:
        with pytest.raises(KeyError, match="call 1"):
            await executor.submit(bug, retries=3, retry_on=ConnectionError).result()
        assert await executor.map(flaky, [5], retries=3, retry_on=ConnectionError) == [5]
        with pytest.raises(TypeError, match="retry_on must be"):
            executor.map_iter(flaky, [5], retries=3, retry_on="ConnectionError")  # type: ignore[arg-type]
    assert (bug.calls, flaky.calls) == (1, 2)


async def test_the_policy_retries_only_matching_errors_and_a_subclass_matches() -> None:
    policy = RetryPolicy(attempts=3, retry_on=OSError)
    flaky = Failing(ConnectionError, failures=2)  # a subclass of OSError
    assert await policy.call(flaky) is None
    bug = Failing(ValueError)
    with pytest.raises(ValueError, match="call 1"):
        await policy.call(bug, first_failure=None)
    assert (flaky.calls, bug.calls) == (3, 1)
