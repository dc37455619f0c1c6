"""StatusTracker and its records as antflow 0.10 has them: "skipped" and "retrying" statuses,
on_skip, get_tracked_ids, get_failed_items, FailedItem's and StatusEvent's fields, and the
text of an ErrorSummary."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import anyio.lowlevel
import pytest

from antflow import (
    ErrorSummary,
    FailedItem,
    Pipeline,
    Stage,
    StatusEvent,
    StatusTracker,
    TaskEvent,
    TaskFailedError,
)

from .test_pipeline_retry import Flaky

pytestmark = pytest.mark.usefixtures("no_retry_waits")


async def double(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x * 2


def is_even(x: int) -> bool:
    return x % 2 == 0


def history(tracker: StatusTracker, item: Any) -> list[tuple[str, str]]:
    return [(e.stage, e.status) for e in tracker.get_history(item)]


# -- skipped -----------------------------------------------------------------------------------


async def test_a_skipped_item_is_skipped_in_that_stage_alone_then_goes_on() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        [Stage("A", 1, [double], skip_if=is_even), Stage("B", 1, [double])],
        status_tracker=tracker,
    )
    results = await pipeline.run([2, 3])
    assert [(r.id, r.value) for r in results] == [(0, 4), (1, 12)]
    # as 0.10: no in_progress and no completed in the stage that skipped it
    assert history(tracker, 0) == [
        ("A", "queued"),
        ("A", "skipped"),
        ("B", "queued"),
        ("B", "in_progress"),
        ("B", "completed"),
    ]
    steps = ("queued", "in_progress", "completed")
    assert history(tracker, 1) == [(stage, step) for stage in "AB" for step in steps]
    skipped = tracker.get_history(0)[1]
    assert (skipped.worker, skipped.worker_id, skipped.metadata) == ("A-W0", 0, {})


async def test_an_item_skipped_by_the_last_stage_counts_as_skipped_and_processed() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline([Stage("S", 2, [double], skip_if=is_even)], status_tracker=tracker)
    results = await pipeline.run(range(5))
    assert [r.value for r in results] == [0, 2, 2, 6, 4]
    assert tracker.get_stats() == {
        "queued": 0,
        "in_progress": 0,
        "completed": 2,
        "failed": 0,
        "retrying": 0,
        "skipped": 3,
    }
    assert [e.item_id for e in tracker.get_by_status("skipped")] == [0, 2, 4]
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_failed) == (5, 0)
    assert sum(m.items_processed for m in pipeline.get_worker_metrics().values()) == 5


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_on_skip_is_called_instead_of_on_success(kind: str) -> None:
    skips: list[tuple[Any, Any, dict[str, Any]]] = []
    successes: list[Any] = []

    def record(item_id: Any, value: Any, metadata: dict[str, Any]) -> None:
        skips.append((item_id, value, metadata))

    async def record_async(item_id: Any, value: Any, metadata: dict[str, Any]) -> None:
        await anyio.lowlevel.checkpoint()
        record(item_id, value, metadata)

    stage = Stage(
        "S",
        1,
        [double],
        skip_if=is_even,
        on_skip=record if kind == "sync" else record_async,
        on_success=lambda i, v, m: successes.append(i),
    )
    await Pipeline([stage]).run([{"id": "a", "value": 2}, {"id": "b", "value": 3}])
    assert skips == [("a", 2, {"stage": "S", "worker": "S-W0", "worker_id": 0})]
    assert successes == ["b"]


async def test_on_skip_without_a_tracker_or_on_success_is_still_called() -> None:
    skipped: list[Any] = []
    stage = Stage("S", 1, [double], skip_if=is_even, on_skip=lambda i, v, m: skipped.append(i))
    results = await Pipeline([stage]).run([1, 2, 4])
    assert [r.value for r in results] == [2, 2, 4]
    assert skipped == [1, 2]


async def test_an_on_skip_that_raises_is_logged_and_counted_and_the_item_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(item_id: Any, value: Any, metadata: dict[str, Any]) -> None:
        raise RuntimeError("on_skip bug")

    tracker = StatusTracker()
    pipeline = Pipeline(
        [Stage("A", 1, [double], skip_if=is_even, on_skip=broken), Stage("B", 1, [double])],
        status_tracker=tracker,
    )
    with caplog.at_level(logging.ERROR, logger="antflow"):
        results = await pipeline.run([2, 4, 5])
    assert [r.value for r in results] == [4, 8, 20]
    assert pipeline.get_stats().callback_errors == 2
    assert len(caplog.records) == 2
    assert all("on_skip" in r.getMessage() for r in caplog.records)
    assert tracker.get_stats()["completed"] == 3  # all went through stage B


# -- retrying ----------------------------------------------------------------------------------


async def test_per_stage_retries_give_retrying_statuses_and_retry_task_events() -> None:
    changes: list[StatusEvent] = []
    retries: list[TaskEvent] = []
    flaky = Flaky(failures=2)
    tracker = StatusTracker(on_status_change=changes.append, on_task_retry=retries.append)
    stage = Stage("S", 1, [double, flaky], retry="per_stage", stage_attempts=3)
    results = await Pipeline([stage], status_tracker=tracker).run([5])
    assert [r.value for r in results] == [10]
    assert [c.status for c in changes] == [
        "queued",
        "in_progress",
        "retrying",
        "retrying",
        "completed",
    ]
    first, second = (c for c in changes if c.status == "retrying")
    # 0.10's keys, in its order: the attempt to come, retry=True, the error's text and class
    assert list(first.metadata)[:4] == ["attempt", "retry", "error", "error_type"]
    assert (first.metadata["attempt"], first.metadata["retry"]) == (2, True)
    assert (first.metadata["error"], first.metadata["error_type"]) == (
        "flaky 10",
        "ConnectionError",
    )
    assert first.metadata["exception"] is retries[0].error
    assert (first.metadata["task"], first.worker) == ("Flaky", "S-W0")
    assert second.metadata["attempt"] == 3
    assert second.metadata["exception"] is retries[1].error
    assert [(e.task_name, e.event_type, e.attempt) for e in retries] == [
        ("Flaky", "retry", 1),
        ("Flaky", "retry", 2),
    ]
    assert all(e.duration is not None for e in retries)


async def test_per_task_retries_give_retry_task_events_and_no_retrying_status() -> None:
    # 0.10 records "retrying" only when a per_stage stage runs the item again.
    changes: list[StatusEvent] = []
    tasks: list[TaskEvent] = []
    flaky = Flaky(failures=1)
    tracker = StatusTracker(
        on_status_change=changes.append,
        on_task_start=tasks.append,
        on_task_complete=tasks.append,
        on_task_retry=tasks.append,
    )
    stage = Stage("S", 1, [flaky, double], task_attempts=2)
    results = await Pipeline([stage], status_tracker=tracker).run([7])
    assert [r.value for r in results] == [14]
    assert [(c.status, c.metadata.get("attempt")) for c in changes] == [
        ("queued", None),
        ("in_progress", None),
        ("completed", None),
    ]
    assert [(e.task_name, e.event_type, e.attempt) for e in tasks] == [
        ("Flaky", "start", 1),
        ("Flaky", "retry", 1),
        ("Flaky", "start", 2),
        ("Flaky", "complete", 2),
        ("double", "start", 1),
        ("double", "complete", 1),
    ]


async def test_the_last_attempt_gives_failed_not_retrying() -> None:
    tracker = StatusTracker()
    stage = Stage("S", 1, [Flaky(failures=5)], retry="per_stage", stage_attempts=2)
    assert await Pipeline([stage], status_tracker=tracker).run([1]) == []
    assert [s for _, s in history(tracker, 0)] == ["queued", "in_progress", "retrying", "failed"]
    status = tracker.get_status(0)
    assert status is not None
    assert status.metadata["attempts"] == 2
    assert (status.metadata["error"], status.metadata["error_type"]) == (
        "flaky 1",
        "ConnectionError",
    )


# -- queries -----------------------------------------------------------------------------------


async def test_get_tracked_ids_in_first_seen_order() -> None:
    tracker = StatusTracker()
    assert tracker.get_tracked_ids() == []
    items = [{"id": f"item-{i}", "value": i} for i in (3, 1, 2)]
    await Pipeline([Stage("S", 1, [double])], status_tracker=tracker).run(items)
    assert tracker.get_tracked_ids() == ["item-3", "item-1", "item-2"]


async def test_get_failed_items_lists_each_failed_item_with_0_10_fields() -> None:
    async def picky(x: int) -> int:
        if x in (1, 3):
            raise ValueError(f"no {x}")
        return x

    tracker = StatusTracker()
    stages = [Stage("A", 1, [picky], task_attempts=2), Stage("B", 1, [double])]
    await Pipeline(stages, status_tracker=tracker).run(range(5))
    failed = tracker.get_failed_items()
    assert [f.item_id for f in failed] == [1, 3]  # the order the tracker first saw them
    first = failed[0]
    assert (first.error, first.error_type, first.stage, first.attempts) == (
        "no 1",
        "ValueError",
        "A",
        2,
    )
    assert (first.task, first.value) == ("picky", 1)
    assert isinstance(first.exception, ValueError)
    assert first.timestamp == tracker.get_history(1)[-1].timestamp
    assert tracker.get_error_summary().failed_items == failed


def test_failed_item_fields_are_0_10s_in_0_10s_order_then_ours() -> None:
    names = [f.name for f in dataclasses.fields(FailedItem)]
    assert names == [
        "item_id",
        "error",
        "error_type",
        "stage",
        "attempts",
        "timestamp",
        "task",
        "value",
        "exception",
    ]
    positional = FailedItem(7, "boom", "RuntimeError", "S", 3, 1.5)
    assert (positional.task, positional.value, positional.exception) == (None, None, None)
    error = KeyError("k")
    built = FailedItem.of(7, "S", "fetch", 2, error, "v", 1.5)
    assert (built.error, built.error_type, built.exception) == ("'k'", "KeyError", error)


def test_status_event_takes_0_10s_fields_and_reads_the_worker_id_from_the_name() -> None:
    event = StatusEvent(item_id=1, stage="s", status="retrying", worker="Fetch-W12", timestamp=0)
    assert (event.worker_id, event.metadata) == (12, {})
    assert StatusEvent(1, "s", "queued", None, 0.0).worker_id is None
    assert StatusEvent(1, "s", "queued", "custom", 0.0).worker_id is None


def test_get_stats_has_every_status_and_get_by_status_checks_its_argument() -> None:
    tracker = StatusTracker()
    assert tracker.get_stats() == dict.fromkeys(
        ["queued", "in_progress", "completed", "failed", "retrying", "skipped"], 0
    )
    assert tracker.get_by_status("retrying") == []
    with pytest.raises(ValueError, match="'skipped'"):
        tracker.get_by_status("done")  # type: ignore[arg-type]


# -- ErrorSummary's text -----------------------------------------------------------------------


def test_error_summary_text_without_errors() -> None:
    assert str(ErrorSummary()) == "No errors occurred"
    assert str(ErrorSummary(callback_errors=3)) == "No errors occurred"


def test_error_summary_text_lists_types_and_stages_most_frequent_first() -> None:
    summary = ErrorSummary(
        total_failed=6,
        errors_by_type={"KeyError": 1, "ValueError": 3, "TimeoutError": 2},
        errors_by_stage={"Fetch": 2, "Save": 4},
    )
    assert str(summary) == (
        "ErrorSummary: 6 failed items\n"
        "\n"
        "By type:\n"
        "  ValueError: 3\n"
        "  TimeoutError: 2\n"
        "  KeyError: 1\n"
        "\n"
        "By stage:\n"
        "  Save: 4\n"
        "  Fetch: 2"
    )


def test_error_summary_text_keeps_equal_counts_in_their_first_seen_order() -> None:
    failures = [
        FailedItem.of(i, stage, None, 1, error, None, 0.0)
        for i, (stage, error) in enumerate(
            [("B", KeyError()), ("A", OSError()), ("A", KeyError()), ("B", OSError())]
        )
    ]
    summary = ErrorSummary.of(failures)
    assert str(summary).splitlines() == [
        "ErrorSummary: 4 failed items",
        "",
        "By type:",
        "  KeyError: 2",
        "  OSError: 2",
        "",
        "By stage:",
        "  B: 2",
        "  A: 2",
    ]
    assert "1 failed items" in str(ErrorSummary.of(failures[:1]))  # 0.10's wording, kept


def test_raise_for_failures_without_the_exception_uses_the_text() -> None:
    summary = ErrorSummary.of([FailedItem("x", "gone", "TimeoutError", "Fetch", 2, 0.0)])
    with pytest.raises(TaskFailedError, match="TimeoutError: gone") as caught:
        summary.raise_for_failures()
    assert (caught.value.item_id, caught.value.attempts) == ("x", 2)
