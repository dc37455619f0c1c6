"""``progress=True`` for DAG and Flow runs: antflow's progress bar, fed by the run's hook.

The bar counts tasks: done (finished or skipped) out of the workflow's tasks, the rate, the ETA
and the failures. Each element of a mapped task counts as a task; as their number is known only
at run time, a workflow with a mapped task has no total (counts, rate and elapsed time).
A :class:`~antflow._tally.Tally` observes the run (the scheduler reports each task to it) and,
like antflow's displays, the bar samples the tally periodically from a task of its own.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import anyio

from antflow._display import DEFAULT_UPDATE_INTERVAL, DisplayDriver, choose_display
from antflow._interrupts import bare_interrupts
from antflow._observe import Event, EventKind
from antflow._tally import Tally

from ._scheduler import RunResult, run_plan

if TYPE_CHECKING:
    from rich.console import Console

    from antflow import DashboardSnapshot

    from ._plan import Plan
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
    tally = _LockedTally()
    driver = DisplayDriver(display, DEFAULT_UPDATE_INTERVAL, tally.snapshot)
    # A mapped task counts its elements, known only at run time: then the total is unknown.
    await driver.start(source, None if plan.mapped else len(plan.tasks))
    result: RunResult | None = None
    error: Exception | None = None
    try:
        stopped = anyio.Event()
        # An interrupt (Ctrl-C on trio, or one a task raised) crosses this task group too:
        # it comes out bare, as from a run without progress.
        with bare_interrupts():
            async with anyio.create_task_group() as tg:
                tg.start_soon(driver.follow, stopped, name="flowkit progress")
                try:
                    result = await run_plan(plan, executor, max_workers, state, observers=[tally])
                except Exception as exc:  # raised below, unchanged (not wrapped in a group)
                    error = exc
                finally:
                    stopped.set()
    finally:
        await driver.finish([], tally.snapshot().error_summary)
    if error is not None:
        raise error
    assert result is not None
    return result


class _LockedTally:
    """A :class:`~antflow._tally.Tally` behind a lock: worker threads report tasks to it while
    the event loop samples it."""

    __slots__ = ("_lock", "_tally")

    def __init__(self) -> None:
        self._tally = Tally()
        self._lock = threading.Lock()

    def wants(self, kind: EventKind) -> bool:
        return self._tally.wants(kind)

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._tally(event)

    def snapshot(self) -> DashboardSnapshot:
        with self._lock:
            return self._tally.snapshot()
