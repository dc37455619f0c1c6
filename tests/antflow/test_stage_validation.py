"""Stage configuration is checked at construction, with errors naming the field and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from antflow import Pipeline, PipelineError, Stage, StageValidationError


async def fetch(x: int) -> int:
    return x


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"workers": 0}, "workers"),
        ({"workers": True}, "workers"),
        ({"tasks": []}, "tasks"),
        ({"tasks": [42]}, "tasks[0]"),
        ({"retry": "sometimes"}, "retry"),
        ({"task_attempts": 0}, "task_attempts"),
        ({"stage_attempts": -1}, "stage_attempts"),
        ({"task_wait_seconds": -1.0}, "task_wait_seconds"),
        ({"task_wait_seconds": float("inf")}, "task_wait_seconds"),
        ({"task_concurrency_limits": {"nope": 2}}, "task_concurrency_limits"),
        ({"task_concurrency_limits": {"fetch": 0}}, "task_concurrency_limits['fetch']"),
        ({"on_success": "print"}, "on_success"),
        ({"skip_if": 3}, "skip_if"),
        ({"queue_capacity": -1}, "queue_capacity"),
        ({"unpack_args": "yes"}, "unpack_args"),
        ({"on_skip": "log"}, "on_skip"),
        ({"pull": 1}, "pull"),
        ({"pull": True, "retry": "per_stage"}, "pull=True cannot be combined"),
        ({"call_concurrency": 0}, "call_concurrency"),
        ({"call_rate": 0}, "call_rate"),
        ({"call_rate": float("nan")}, "call_rate"),
        ({"call_rate": "60/min"}, "call_rate"),
        ({"call_rate_period": 0}, "call_rate_period"),
    ],
)
def test_invalid_field_is_named(changes: dict[str, Any], field: str) -> None:
    options: dict[str, Any] = {"name": "S", "workers": 2, "tasks": [fetch], **changes}
    with pytest.raises(StageValidationError, match=field.replace("[", r"\[")):
        Stage(**options)


def test_stage_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="workers"):
        Stage(name="S", workers=0, tasks=[fetch])


def test_default_queue_capacity_is_bounded() -> None:
    assert Stage(name="S", workers=2, tasks=[fetch]).capacity == 64
    assert Stage(name="S", workers=100, tasks=[fetch]).capacity == 400
    assert Stage(name="S", workers=2, tasks=[fetch], queue_capacity=3).capacity == 3


def test_mutated_stage_is_revalidated_by_pipeline() -> None:
    stage = Stage(name="S", workers=1, tasks=[fetch])
    stage.workers = 0
    with pytest.raises(StageValidationError, match="workers"):
        Pipeline(stages=[stage])


def test_pipeline_needs_stages() -> None:
    with pytest.raises(PipelineError, match="at least one Stage"):
        Pipeline(stages=[])


def test_pipeline_rejects_duplicate_stage_names_with_a_stage_validation_error() -> None:
    with pytest.raises(StageValidationError, match="unique"):  # 0.10's class
        Pipeline(stages=[Stage("S", 1, [fetch]), Stage("S", 1, [fetch])])


def test_the_first_stage_cannot_pull() -> None:
    with pytest.raises(PipelineError, match=r"first stage .* cannot be a pull stage"):
        Pipeline(stages=[Stage("S", 1, [fetch], pull=True)])


def test_stage_takes_0_10_fields_positionally_in_0_10_order() -> None:
    # 0.10: ..., on_success, on_failure, on_skip, skip_if, queue_capacity, pull,
    # call_concurrency, call_rate, call_rate_period
    stage = Stage(
        "S", 2, [fetch], "per_task", 3, 1.0, 3, False, {}, None, None, None, None, 0, True, 4, 10.0,
        1.0,
    )  # fmt: skip
    assert (stage.queue_capacity, stage.pull, stage.call_concurrency) == (0, True, 4)
    assert (stage.call_rate, stage.call_rate_period) == (10.0, 1.0)


def test_task_wait_is_the_overviews_alias_of_task_wait_seconds() -> None:
    stage = Stage(name="APICall", workers=10, tasks=[fetch], task_attempts=5, task_wait=2.0)
    assert stage.task_wait_seconds == 2.0
    assert stage == Stage(
        name="APICall", workers=10, tasks=[fetch], task_attempts=5, task_wait_seconds=2.0
    )


def test_task_wait_and_task_wait_seconds_together_must_agree() -> None:
    with pytest.raises(StageValidationError, match="task_wait is an alias of task_wait_seconds"):
        Stage(name="S", workers=1, tasks=[fetch], task_wait=2.0, task_wait_seconds=3.0)


def test_task_wait_is_validated_like_task_wait_seconds() -> None:
    with pytest.raises(StageValidationError, match="task_wait_seconds"):
        Stage(name="S", workers=1, tasks=[fetch], task_wait=-1.0)


async def test_a_stage_changed_after_the_pipeline_was_built_is_refused_when_a_run_begins() -> None:
    pipeline = Pipeline([Stage(name="S", workers=1, tasks=[fetch])])
    pipeline.stages[0].workers = 0
    with pytest.raises(StageValidationError, match="workers must be an int >= 1, got 0"):
        await pipeline.run([1, 2])
    assert not pipeline.is_running
    pipeline.stages[0].workers = 1
    assert [r.value for r in await pipeline.run([1, 2])] == [await fetch(1), await fetch(2)]
