"""rate_limit(), concurrency_limit() and call_rate_has_capacity() inside pipeline tasks and
executor calls: the limits are the stage's (or executor's), shared by its workers, and hold only
around the block. No timing: rates are set so that the limiter's answer does not depend on how
fast the machine is (a burst admitted at once, the next entry an hour away)."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import AsyncExecutor, Pipeline, Stage
from antflow import set_task_status as top_level_set_task_status
from antflow.context import (
    call_rate_has_capacity,
    concurrency_limit,
    get_worker_state,
    rate_limit,
    set_task_status,
)

from ._helpers import all_parked

HOUR = 3600.0


class Section:
    """A task whose limited section holds until released; counts who is where."""

    def __init__(self) -> None:
        self.started = 0  # tasks past their unlimited first part
        self.inside = 0
        self.peak = 0
        self.release = anyio.Event()

    async def call(self, x: int) -> int:
        self.started += 1
        async with concurrency_limit():
            self.inside += 1
            self.peak = max(self.peak, self.inside)
            await self.release.wait()
            self.inside -= 1
        await anyio.lowlevel.checkpoint()
        return x


async def test_call_concurrency_caps_only_the_section_across_the_stage_workers() -> None:
    section = Section()
    pipeline = Pipeline(stages=[Stage("Call", 6, [section.call], call_concurrency=2)])
    results: list[Any] = []

    async def run() -> None:
        results.extend(await pipeline.run(range(10)))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await all_parked()
        assert section.started == 6  # every worker is in its task...
        assert section.inside == 2  # ...and two of them in the section
        section.release.set()
    assert section.peak == 2
    assert sorted(r.value for r in results) == list(range(10))


async def test_call_rate_admits_the_burst_and_holds_the_rest() -> None:
    entered: list[int] = []
    capacity_seen: list[bool] = []

    async def call(x: int) -> int:
        async with rate_limit():
            entered.append(x)
            capacity_seen.append(call_rate_has_capacity())
        return x

    pipeline = Pipeline(stages=[Stage("Call", 5, [call], call_rate=3, call_rate_period=HOUR)])
    async with anyio.create_task_group() as tg:
        tg.start_soon(pipeline.run, range(5))
        await all_parked()
        assert len(entered) == 3
        assert capacity_seen == [True, True, False]
        tg.cancel_scope.cancel()


async def test_rate_limit_takes_an_amount() -> None:
    entered: list[int] = []

    async def call(x: int) -> int:
        assert call_rate_has_capacity(2) is (not entered)
        async with rate_limit(2):
            entered.append(x)
        return x

    pipeline = Pipeline(stages=[Stage("Call", 3, [call], call_rate=3, call_rate_period=HOUR)])
    async with anyio.create_task_group() as tg:
        tg.start_soon(pipeline.run, range(3))
        await all_parked()
        assert len(entered) == 1  # 2 of 3 taken; the next 2 do not fit
        tg.cancel_scope.cancel()


async def test_the_limits_are_per_stage() -> None:
    entered: dict[str, int] = {"A": 0, "B": 0}

    def counting(stage: str) -> Any:
        async def call(x: int) -> int:
            async with rate_limit():
                entered[stage] += 1
            return x

        return call

    pipeline = Pipeline(
        stages=[
            Stage("A", 4, [counting("A")], call_rate=4, call_rate_period=HOUR),
            Stage("B", 4, [counting("B")], call_rate=1, call_rate_period=HOUR),
        ]
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(pipeline.run, range(4))
        await all_parked()
        assert entered == {"A": 4, "B": 1}
        tg.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("stage_limits", "use", "field"),
    [
        ({}, "rate", "call_rate"),
        ({"call_concurrency": 2}, "rate", "call_rate"),
        ({}, "concurrency", "call_concurrency"),
        ({"call_rate": 5}, "concurrency", "call_concurrency"),
    ],
)
async def test_a_limit_the_stage_lacks_fails_the_item_naming_the_field(
    stage_limits: dict[str, Any], use: str, field: str
) -> None:
    async def call(x: int) -> int:
        async with rate_limit() if use == "rate" else concurrency_limit():
            return x

    pipeline = Pipeline(stages=[Stage("Fetch", 1, [call], task_attempts=1, **stage_limits)])
    assert await pipeline.run([1]) == []
    (failed,) = pipeline.get_error_summary().failed_items
    assert isinstance(failed.exception, RuntimeError)
    assert failed.error_type == "RuntimeError"
    message = failed.error
    assert f"Stage 'Fetch' has no {field} configured" in message
    assert f"set Stage(..., {field}=N" in message


@pytest.mark.parametrize("use", ["rate", "concurrency"])
async def test_outside_any_task_the_limits_raise_naming_the_field(use: str) -> None:
    field = "call_rate" if use == "rate" else "call_concurrency"
    with pytest.raises(RuntimeError, match=f"outside a pipeline task.*no {field}"):
        async with rate_limit() if use == "rate" else concurrency_limit():
            pass
    assert call_rate_has_capacity()  # no limit: always free, as in 0.10


async def test_executor_call_concurrency_caps_the_section() -> None:
    section = Section()
    async with AsyncExecutor(5, call_concurrency=2) as executor:
        futures = [executor.submit(section.call, i) for i in range(8)]
        await all_parked()
        assert section.started == 5
        assert section.inside == 2
        section.release.set()
    assert section.peak == 2
    assert [f.exception() for f in futures] == [None] * 8


async def test_executor_call_rate_admits_the_burst_and_holds_the_rest() -> None:
    entered: list[int] = []

    async def call(x: int) -> int:
        async with rate_limit():
            entered.append(x)
        return x

    with anyio.CancelScope() as scope:
        async with AsyncExecutor(4, call_rate=2, call_rate_period=HOUR) as executor:
            for i in range(4):
                executor.submit(call, i)
            await all_parked()
            assert len(entered) == 2
            scope.cancel()


async def test_an_executor_without_limits_raises_naming_its_argument() -> None:
    async def call() -> None:
        async with rate_limit():
            pass

    async with AsyncExecutor(2) as executor:
        future = executor.submit(call)
    error = future.exception()
    assert isinstance(error, RuntimeError)
    assert "AsyncExecutor has no call_rate configured" in str(error)
    assert "set AsyncExecutor(..., call_rate=N" in str(error)


async def test_an_executor_in_a_stage_task_uses_its_own_limits_not_the_stage_s() -> None:
    errors: list[BaseException | None] = []

    async def inner() -> None:
        async with rate_limit():
            pass

    async def outer(x: int) -> int:
        async with AsyncExecutor(1) as executor:
            future = executor.submit(inner)
        errors.append(future.exception())
        return x

    pipeline = Pipeline(stages=[Stage("S", 1, [outer], call_rate=5)])
    await pipeline.run([1])
    (error,) = errors
    assert isinstance(error, RuntimeError)
    assert "AsyncExecutor has no call_rate" in str(error)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"call_rate": 0}, ValueError, "AsyncExecutor: call_rate must be a finite number"),
        ({"call_rate": "10"}, TypeError, "AsyncExecutor: call_rate must be"),
        ({"call_rate_period": -1.0}, ValueError, "AsyncExecutor: call_rate_period must be"),
        ({"call_concurrency": 0}, ValueError, "AsyncExecutor: call_concurrency must be an int"),
        ({"call_concurrency": 2.0}, TypeError, "AsyncExecutor: call_concurrency must be an int"),
    ],
)
def test_executor_limits_are_checked_at_construction(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^{message}"):
        AsyncExecutor(2, **kwargs)


async def test_get_worker_state_is_the_running_worker_s() -> None:
    seen: list[Any] = []

    async def call(x: int) -> int:
        set_task_status("calling")
        seen.append(get_worker_state())
        return x

    await Pipeline(stages=[Stage("S", 1, [call])]).run([{"id": "job", "value": 1}])
    (state,) = seen
    assert (state.worker_name, state.status, state.current_item_id, state.current_task) == (
        "S-W0",
        "busy",
        "job",
        "calling",
    )
    assert get_worker_state() is None
    assert set_task_status is top_level_set_task_status
