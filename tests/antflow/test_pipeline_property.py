"""Property: every fed item ends exactly once, as a result or as a recorded failure."""

from __future__ import annotations

from typing import Any

import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antflow import Pipeline, Stage

pytestmark = pytest.mark.usefixtures("no_retry_waits")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n_items=st.integers(0, 40),
    stages=st.lists(
        st.tuples(
            st.integers(1, 4),  # workers
            st.integers(1, 3),  # queue capacity
            st.sampled_from(["per_task", "per_stage"]),
            st.integers(1, 3),  # attempts
            st.integers(0, 4),  # fail when (item + stage) % 5 == this, 4 retries then succeed
        ),
        min_size=1,
        max_size=3,
    ),
    streaming=st.booleans(),
)
async def test_every_item_ends_exactly_once(
    n_items: int, stages: list[tuple[int, int, str, int, int]], streaming: bool
) -> None:
    calls: dict[tuple[int, int], int] = {}

    def make_task(index: int, fail_mod: int) -> Any:
        async def task(x: int) -> int:
            key = (index, x)
            calls[key] = calls.get(key, 0) + 1
            await anyio.lowlevel.checkpoint()
            if (x + index) % 5 == fail_mod:
                raise RuntimeError("always")  # fails every attempt
            if (x + index) % 5 == (fail_mod + 1) % 5 and calls[key] == 1:
                raise RuntimeError("once")  # succeeds on a retry, if there is one
            return x

        return task

    pipeline = Pipeline(
        stages=[
            Stage(
                f"S{i}",
                workers,
                [make_task(i, fail_mod)],
                retry=retry,
                task_attempts=attempts,
                stage_attempts=attempts,
                queue_capacity=capacity,
            )
            for i, (workers, capacity, retry, attempts, fail_mod) in enumerate(stages)
        ]
    )
    if streaming:
        results = [r async for r in pipeline.stream(range(n_items))]
    else:
        results = await pipeline.run(range(n_items))
    failed = [f.item_id for f in pipeline.get_error_summary().failed_items]
    ended = [r.id for r in results] + failed
    assert sorted(ended) == list(range(n_items))  # each item exactly once
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (
        len(results),
        len(failed),
        0,
    )
    if not streaming:
        assert [r.id for r in results] == sorted(r.id for r in results)
