"""The records a run hands back have antflow 0.10's fields, in 0.10's order."""

from __future__ import annotations

from antflow import Pipeline, PipelineStats, Stage, WorkerMetrics, WorkerState
from antflow.types import StageStats


async def double(x: int) -> int:
    return 2 * x


def test_worker_state_takes_0_10_fields_positionally() -> None:
    state = WorkerState("Fetch-W3", "Fetch", "busy", "item-1", "downloading", 12.5)
    assert (state.worker_name, state.stage, state.status) == ("Fetch-W3", "Fetch", "busy")
    assert (state.current_item_id, state.current_task, state.processing_since) == (
        "item-1",
        "downloading",
        12.5,
    )
    assert (state.worker, state.worker_id) == ("Fetch-W3", 3)
    assert WorkerState("odd name", "S", "idle").worker_id is None


def test_worker_metrics_take_0_10_fields_positionally() -> None:
    metrics = WorkerMetrics("Save-W0", "Save", 3, 1, 2.0, 99.0)
    assert (metrics.worker_name, metrics.worker, metrics.stage) == ("Save-W0", "Save-W0", "Save")
    assert (metrics.items_processed, metrics.items_failed) == (3, 1)
    assert metrics.avg_processing_time == 0.5  # 2.0 s over the 4 items handled


async def test_a_run_reports_workers_by_worker_name() -> None:
    pipeline = Pipeline([Stage("A", 2, [double])])
    assert {s.worker_name for s in pipeline.get_worker_states().values()} == {"A-W0", "A-W1"}
    await pipeline.run(range(5))
    states = pipeline.get_worker_states()
    metrics = pipeline.get_worker_metrics()
    assert set(states) == set(metrics) == {"A-W0", "A-W1"}
    assert all(name == s.worker_name for name, s in states.items())
    assert sorted(s.worker_id for s in states.values()) == [0, 1]
    assert sum(m.items_processed for m in metrics.values()) == 5


async def test_stats_hold_each_stages_counts_as_0_10s_stage_stats() -> None:
    pipeline = Pipeline([Stage("A", 2, [double]), Stage("B", 1, [double])])
    assert pipeline.get_stats().stage_stats == {}
    await pipeline.run(range(6))
    stats = pipeline.get_stats()
    assert list(stats.stage_stats) == ["A", "B"]
    assert stats.stage_stats["A"] == StageStats("A", 0, 0, 6, 0)
    assert stats.stage_stats["B"] == StageStats("B", 0, 0, 6, 0)


async def test_a_stages_failures_and_skips_are_in_its_stage_stats() -> None:
    async def fail_big(x: int) -> int:
        if x >= 4:
            raise ValueError(x)
        return x

    pipeline = Pipeline(
        [Stage("A", 1, [fail_big], task_attempts=1, skip_if=lambda x: x == 0)],
    )
    await pipeline.run(range(6))
    a = pipeline.get_stats().stage_stats["A"]
    # 0 skipped (counts as completed, as in 0.10), 1-3 completed, 4-5 failed
    assert (a.completed_items, a.failed_items, a.pending_items, a.in_progress_items) == (4, 2, 0, 0)


def test_pipeline_stats_take_0_10_fields_positionally() -> None:
    stats = PipelineStats(5, 1, 2, {"A": 3}, {"A": StageStats("A", 3, 2, 5, 1)})
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (5, 1, 2)
    assert stats.queue_sizes == {"A": 3}
    assert stats.stage_stats["A"].in_progress_items == 2
    assert (stats.items_fed, stats.callback_errors) == (0, 0)  # ours, after 0.10's
