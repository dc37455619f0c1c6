"""StatusTracker: status events, queries, and callbacks that raise."""

from __future__ import annotations

import logging

import anyio.lowlevel
import pytest

from antflow import Pipeline, Stage, StatusEvent, StatusTracker


async def double(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x * 2


async def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


async def test_status_history_across_stages() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("A", 1, [double]), Stage("B", 1, [double])], status_tracker=tracker
    )
    await pipeline.run([3])
    history = [(e.stage, e.status) for e in tracker.get_history(0)]
    assert history == [
        ("A", "queued"),
        ("A", "in_progress"),
        ("A", "completed"),
        ("B", "queued"),
        ("B", "in_progress"),
        ("B", "completed"),
    ]
    status = tracker.get_status(0)
    assert status is not None
    assert (status.worker, status.worker_id) == ("B-W0", 0)


async def test_failed_status_carries_the_error() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("S", 2, [fail_on_odd], task_attempts=1)], status_tracker=tracker
    )
    await pipeline.run(range(4))
    assert tracker.get_stats() == {
        "queued": 0,
        "in_progress": 0,
        "completed": 2,
        "failed": 2,
        "retrying": 0,
        "skipped": 0,
    }
    failed = sorted(tracker.get_by_status("failed"), key=lambda e: e.item_id)
    assert [e.item_id for e in failed] == [1, 3]
    # 0.10's metadata (the error's text and class name), and the exception itself
    assert (failed[0].metadata["error"], failed[0].metadata["error_type"]) == (
        "odd 1",
        "ValueError",
    )
    assert isinstance(failed[0].metadata["exception"], ValueError)
    assert tracker.get_error_summary().errors_by_stage == {"S": 2}


async def test_sync_and_async_status_callbacks() -> None:
    seen_sync: list[str] = []
    seen_async: list[str] = []

    async def on_change(event: StatusEvent) -> None:
        seen_async.append(event.status)

    for callback in (lambda e: seen_sync.append(e.status), on_change):
        tracker = StatusTracker(on_status_change=callback)
        await Pipeline(stages=[Stage("S", 1, [double])], status_tracker=tracker).run([1])
    assert seen_sync == seen_async == ["queued", "in_progress", "completed"]


async def test_raising_callbacks_are_logged_counted_and_harmless(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("callback bug")

    tracker = StatusTracker(on_status_change=broken, on_task_start=broken)
    pipeline = Pipeline(
        stages=[
            Stage("S", 2, [fail_on_odd], task_attempts=1, on_success=broken, on_failure=broken)
        ],
        status_tracker=tracker,
    )
    with caplog.at_level(logging.ERROR, logger="antflow"):
        results = await pipeline.run(range(4))
    assert [r.id for r in results] == [0, 2]
    # per item: 3 status events + 1 task start + on_success/on_failure
    assert pipeline.get_stats().callback_errors == 4 * 5
    assert pipeline.get_error_summary().callback_errors == 20
    assert tracker.callback_errors == 4 * 4
    assert len(caplog.records) == 20
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


async def test_on_success_gets_id_result_and_metadata() -> None:
    calls: list[tuple[object, object, dict[str, object]]] = []
    pipeline = Pipeline(
        stages=[Stage("S", 1, [double], on_success=lambda i, r, m: calls.append((i, r, m)))]
    )
    await pipeline.run([{"id": "k", "value": 4}])
    assert calls == [("k", 8, {"stage": "S", "worker": "S-W0", "worker_id": 0})]


def test_get_by_status_rejects_unknown_status() -> None:
    with pytest.raises(ValueError, match="status must be"):
        StatusTracker().get_by_status("done")  # type: ignore[arg-type]


async def test_an_unhashable_id_with_a_tracker_is_refused_with_a_clear_error() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline([Stage("S", workers=1, tasks=[double])], status_tracker=tracker)
    with pytest.raises(TypeError, match=r"item id \[1, 2\] is not hashable.*StatusTracker"):
        await pipeline.run([{"id": "fine", "value": 1}, {"id": [1, 2], "value": 2}])
    assert not pipeline.is_running


async def test_unhashable_ids_without_a_tracker_are_kept_as_given() -> None:
    pipeline = Pipeline([Stage("S", workers=1, tasks=[double])])
    results = await pipeline.run([{"id": [1, 2], "value": 5}])
    assert [(r.id, r.value) for r in results] == [([1, 2], 10)]
