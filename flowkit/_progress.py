"""``progress=True`` for DAG and Flow runs: antflow's progress bar over the scheduler's counters.

The bar counts tasks: done (finished or skipped) out of the workflow's tasks, the rate, the ETA
and whether a task failed. Like antflow's displays it samples the run's counters periodically
from a task of its own; the tasks' path is untouched.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from rich.console import Console

from antflow import DashboardSnapshot, ErrorSummary, PipelineStats
from antflow._display import DEFAULT_UPDATE_INTERVAL, DisplayDriver, choose_display

from ._plan import Plan
from ._scheduler import RunResult, _Run, run_plan
from ._state import StateManager

__all__ = ["run_with_progress"]


async def run_with_progress(
    plan: Plan,
    executor: str,
    max_workers: int | None,
    state: StateManager | None,
    console: Console | None,
    source: Any = None,
) -> RunResult:
    """``run_plan`` with a progress bar on ``console``; same results, same exceptions."""
    display = choose_display(
        True, None, None, DEFAULT_UPDATE_INTERVAL, console, title=plan.name, unit="tasks"
    )
    assert display is not None
    total = len(plan.tasks)
    runs: list[_Run] = []

    def snapshot() -> DashboardSnapshot:
        done = failed = running = 0
        if runs:
            run = runs[0]
            done = total - run.remaining
            failed = 0 if run.failure is None else 1
            running = run.pending
        stats = PipelineStats(
            items_fed=done + failed + running,
            items_processed=done,
            items_failed=failed,
            items_in_flight=running,
        )
        return DashboardSnapshot({}, {}, stats, ErrorSummary(total_failed=failed), time.time())

    driver = DisplayDriver(display, DEFAULT_UPDATE_INTERVAL, snapshot)
    await driver.start(source, total)
    result: RunResult | None = None
    error: Exception | None = None
    try:
        stopped = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(driver.follow, stopped, name="flowkit progress")
            try:
                result = await run_plan(plan, executor, max_workers, state, observe=runs.append)
            except Exception as exc:  # raised below, unchanged (not wrapped in a group)
                error = exc
            finally:
                stopped.set()
    finally:
        await driver.finish([], snapshot().error_summary)
    if error is not None:
        raise error
    assert result is not None
    return result
