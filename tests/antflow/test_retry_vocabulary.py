"""One vocabulary for retry counts: "attempts" count every call, "retries" the extra calls
after a failed one; the other spellings antflow 0.10 used are accepted and must agree."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from antflow import Pipeline, Stage

pytestmark = pytest.mark.usefixtures("no_retry_waits")


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, value: Any) -> Any:
        self.calls += 1
        raise ConnectionError("down")


@pytest.mark.parametrize(
    ("kwargs", "calls"),
    [
        ({"retries": 2}, 3),
        ({"task_attempts": 3}, 3),
        ({"retries": 1, "task_attempts": 2}, 2),
        ({"task_attempts": 1}, 1),
        ({}, 4),  # the default: retries=3
    ],
)
async def test_quick_retries_and_task_attempts_say_the_same(
    kwargs: dict[str, Any], calls: int
) -> None:
    task = Counting()
    assert await Pipeline.quick([1], task, workers=1, **kwargs) == []
    assert task.calls == calls


async def test_quick_refuses_a_conflicting_pair() -> None:
    with pytest.raises(ValueError, match="retries=1 and task_attempts=5 disagree"):
        await Pipeline.quick([1], Counting(), retries=1, task_attempts=5)
    with pytest.raises(ValueError, match="task_attempts must be an int >= 1"):
        await Pipeline.quick([1], Counting(), task_attempts=0)


async def test_the_builders_retries_count_extra_calls() -> None:
    task = Counting()
    pipeline = Pipeline.create().add("S", task, retries=1).build()
    assert pipeline.stages[0].task_attempts == 2
    await pipeline.run([1])
    assert task.calls == 2
    same = Pipeline.create().add("S", task, retries=1, task_attempts=2).build()
    assert same.stages[0].task_attempts == 2
    with pytest.raises(ValueError, match="retries=2 and task_attempts=2 disagree"):
        Pipeline.create().add("S", task, retries=2, task_attempts=2)
    with pytest.raises(ValueError, match="retries must be an int >= 0"):
        Pipeline.create().add("S", task, retries=-1)


async def test_stage_attempts_count_every_call() -> None:
    task = Counting()
    await Pipeline([Stage("S", 1, [task], task_attempts=1)]).run([1])
    assert task.calls == 1


async def test_a_run_with_failures_logs_one_summary_line(caplog: pytest.LogCaptureFixture) -> None:
    async def parse(value: int) -> int:
        if value % 3 == 0:
            raise ValueError(f"bad {value}")
        if value % 2 == 0:
            raise KeyError(value)
        return value

    stages = [Stage("Fetch", 2, [parse], task_attempts=1), Stage("Save", 1, [abs])]
    pipeline = Pipeline(stages)
    with caplog.at_level(logging.INFO, logger="antflow"):
        await pipeline.run(range(10))
    (summary,) = [r for r in caplog.records if r.name == "antflow.pipeline"]
    assert summary.levelno == logging.WARNING
    message = summary.getMessage()
    assert message.startswith("pipeline 'Fetch → Save': 7 of 10 items failed")
    assert "(4 ValueError, 3 KeyError)" in message
    assert "pipeline.get_error_summary().failed_items" in message
    assert "raise_for_failures()" in message
    assert summary.errors_by_type == {"ValueError": 4, "KeyError": 3}  # type: ignore[attr-defined]
    summary_now = pipeline.get_error_summary()
    assert summary_now.total_failed == 7


async def test_a_run_without_failures_logs_no_summary(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="antflow"):
        await Pipeline([Stage("S", 1, [abs])]).run([1, -2])
    assert [r for r in caplog.records if r.name == "antflow.pipeline"] == []
