"""custom_dashboard: the DashboardProtocol callbacks, sync and async, and their failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import (
    DashboardProtocol,
    DashboardSnapshot,
    ErrorSummary,
    Pipeline,
    PipelineResult,
    Stage,
)

from ._monitoring import FAST, echo, two_stages


class Recorder:
    """A sync DashboardProtocol implementation that records every call."""

    def __init__(self) -> None:
        self.started: list[tuple[Any, int | None]] = []
        self.snapshots: list[DashboardSnapshot] = []
        self.finished: list[tuple[list[PipelineResult], ErrorSummary]] = []
        self.updated = anyio.Event()
        self.wanted = 3

    def on_start(self, pipeline: Pipeline, total_items: int | None) -> None:
        self.started.append((pipeline, total_items))

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        self.snapshots.append(snapshot)
        if len(self.snapshots) >= self.wanted:
            self.updated.set()

    def on_finish(self, results: list[PipelineResult], summary: ErrorSummary) -> None:
        self.finished.append((results, summary))


class AsyncRecorder(Recorder):
    """The same with ``async def`` callbacks."""

    async def on_start(self, pipeline: Pipeline, total_items: int | None) -> None:  # type: ignore[override]
        await anyio.lowlevel.checkpoint()
        super().on_start(pipeline, total_items)

    async def on_update(self, snapshot: DashboardSnapshot) -> None:  # type: ignore[override]
        await anyio.lowlevel.checkpoint()
        super().on_update(snapshot)

    async def on_finish(  # type: ignore[override]
        self, results: list[PipelineResult], summary: ErrorSummary
    ) -> None:
        await anyio.lowlevel.checkpoint()
        super().on_finish(results, summary)


def test_the_protocol_is_exported_and_structural() -> None:
    dashboard: DashboardProtocol = Recorder()
    assert callable(dashboard.on_update)


@pytest.mark.parametrize("kind", [Recorder, AsyncRecorder])
async def test_callbacks_get_the_pipeline_snapshots_results_and_summary(kind: type) -> None:
    dashboard = kind()
    pipeline = Pipeline(stages=two_stages())
    results = await pipeline.run(
        range(10), custom_dashboard=dashboard, dashboard_update_interval=FAST
    )
    assert dashboard.started == [(pipeline, 10)]
    assert dashboard.snapshots  # at least the final one
    final = dashboard.snapshots[-1]
    assert isinstance(final, DashboardSnapshot)
    assert final.pipeline_stats.items_processed == 8
    assert final.pipeline_stats.items_failed == 2
    assert set(final.worker_states) == {"Fetch-W0", "Fetch-W1", "Fetch-W2", "Save-W0", "Save-W1"}
    assert sum(m.items_processed for m in final.worker_metrics.values()) == 8 + 8
    assert final.error_summary.errors_by_stage == {"Fetch": 2}
    assert final.timestamp > 0
    [(finished_results, summary)] = dashboard.finished
    assert finished_results == results
    assert summary.total_failed == 2


@pytest.mark.parametrize("kind", [Recorder, AsyncRecorder])
async def test_updates_arrive_periodically_while_the_run_is_going(kind: type) -> None:
    dashboard = kind()

    async def wait_for_updates(x: int) -> int:
        await dashboard.updated.wait()  # held until three updates happened mid-run
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [wait_for_updates])])
    await pipeline.run(range(4), custom_dashboard=dashboard, dashboard_update_interval=FAST)
    mid_run = dashboard.snapshots[: dashboard.wanted]
    assert all(s.pipeline_stats.items_processed == 0 for s in mid_run)
    assert all(s.pipeline_stats.items_in_flight == 4 for s in mid_run)
    assert any(s.status == "busy" for s in mid_run[-1].worker_states.values())
    assert dashboard.snapshots[-1].pipeline_stats.items_processed == 4


async def test_total_is_none_for_an_iterator() -> None:
    dashboard = Recorder()

    def items() -> Iterator[int]:
        yield from range(3)

    await Pipeline(stages=[Stage("S", 1, [echo])]).run(items(), custom_dashboard=dashboard)
    assert dashboard.started[0][1] is None


class BrokenUpdate(Recorder):
    def on_update(self, snapshot: DashboardSnapshot) -> None:
        super().on_update(snapshot)
        raise RuntimeError("dashboard bug")


async def test_a_raising_on_update_is_logged_and_the_run_completes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dashboard = BrokenUpdate()
    dashboard.wanted = 1

    async def held(x: int) -> int:
        await dashboard.updated.wait()
        await anyio.sleep(FAST * 5)  # room for more updates, were they still made
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [held])])
    with caplog.at_level(logging.ERROR, logger="antflow"):
        results = await pipeline.run(
            range(6), custom_dashboard=dashboard, dashboard_update_interval=FAST
        )
    assert len(results) == 6  # no item lost
    assert len(dashboard.snapshots) == 1  # detached after its first exception
    assert len(dashboard.finished) == 1  # still told the run is over
    assert pipeline.get_stats().callback_errors == 1
    assert dashboard.finished[0][1].callback_errors == 1
    assert "dashboard on_update" in caplog.text
    assert "dashboard bug" in caplog.text


class BrokenStart(Recorder):
    def on_start(self, pipeline: Pipeline, total_items: int | None) -> None:
        raise ValueError("no terminal")


async def test_a_raising_on_start_detaches_the_dashboard() -> None:
    dashboard = BrokenStart()
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    results = await pipeline.run(range(5), custom_dashboard=dashboard)
    assert len(results) == 5
    assert dashboard.snapshots == []
    assert dashboard.finished == []
    assert pipeline.get_stats().callback_errors == 1


class BrokenFinish(Recorder):
    async def on_finish(  # type: ignore[override]
        self, results: list[PipelineResult], summary: ErrorSummary
    ) -> None:
        raise OSError("disk full")


async def test_a_raising_on_finish_does_not_change_the_result() -> None:
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    results = await pipeline.run(range(5), custom_dashboard=BrokenFinish())
    assert [r.value for r in results] == list(range(5))
    assert pipeline.get_stats().callback_errors == 1


async def test_on_finish_is_called_when_the_run_is_cancelled() -> None:
    dashboard = AsyncRecorder()
    dashboard.wanted = 1

    async def park(x: int) -> int:
        await anyio.sleep_forever()
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [park])])
    async with anyio.create_task_group() as tg:

        async def cancel_after_an_update() -> None:
            await dashboard.updated.wait()
            tg.cancel_scope.cancel()

        tg.start_soon(cancel_after_an_update)
        await pipeline.run(range(3), custom_dashboard=dashboard, dashboard_update_interval=FAST)
    [(results, summary)] = dashboard.finished
    assert results == []
    assert summary.total_failed == 0
    assert dashboard.snapshots[-1].pipeline_stats.items_in_flight == 3


async def test_on_finish_is_called_when_the_input_raises() -> None:
    dashboard = Recorder()

    def items() -> Iterator[int]:
        yield 1
        raise LookupError("input broke")

    with pytest.raises(LookupError):
        await Pipeline(stages=[Stage("S", 1, [echo])]).run(items(), custom_dashboard=dashboard)
    assert len(dashboard.finished) == 1


class Incomplete:
    def on_start(self, pipeline: Any, total_items: Any) -> None: ...


async def test_a_dashboard_lacking_methods_is_a_type_error_naming_them() -> None:
    with pytest.raises(TypeError, match="custom_dashboard must implement DashboardProtocol") as e:
        await Pipeline(stages=[Stage("S", 1, [echo])]).run(
            [1],
            custom_dashboard=Incomplete(),  # type: ignore[arg-type]
        )
    assert "lacks on_update, on_finish" in str(e.value)


async def test_quick_accepts_a_custom_dashboard() -> None:
    dashboard = AsyncRecorder()
    results = await Pipeline.quick(range(4), echo, workers=2, custom_dashboard=dashboard)
    assert len(results) == 4
    assert dashboard.started[0][1] == 4
    assert len(dashboard.finished[0][0]) == 4
