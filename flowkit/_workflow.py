"""What DAG and Flow share around a run: the entry points and the process-executor check."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from typing import Any

import anyio
from rich.console import Console

from ._plan import Plan
from ._progress import run_with_progress
from ._scheduler import RunResult, check_executor, run_plan
from ._state import StateManager
from ._task import _load_task
from .exceptions import TaskNotPicklableError

__all__ = ["BACKENDS", "check_process_ready", "prepare_plan", "run_sync", "run_workflow"]

BACKENDS = ("asyncio", "trio")


async def run_workflow(
    plan: Plan,
    executor: str,
    max_workers: int | None,
    state: StateManager | None,
    progress: bool = False,
    console: Console | None = None,
    source: Any = None,
) -> RunResult:
    """Run ``plan`` in the running event loop, under antflow's progress bar if ``progress``."""
    if progress:
        return await run_with_progress(plan, executor, max_workers, state, console, source)
    return await run_plan(plan, executor, max_workers, state)


def run_sync(
    plan: Plan,
    executor: str,
    max_workers: int | None,
    state: StateManager | None,
    backend: str,
    backend_options: dict[str, Any] | None,
    progress: bool = False,
    console: Console | None = None,
    source: Any = None,
) -> RunResult:
    """:func:`run_workflow` in a fresh event loop of ``backend``."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'asyncio' or 'trio', got {backend!r}")
    return anyio.run(
        functools.partial(
            run_workflow, plan, executor, max_workers, state, progress, console, source
        ),
        backend=backend,
        backend_options=backend_options,
    )


def prepare_plan(make_plan: Callable[[], Plan], executor: str, state: StateManager | None) -> Plan:
    """Check a run's arguments, then build the workflow's plan (shared by DAG and Flow)."""
    check_executor(executor)
    if state is not None and not isinstance(state, StateManager):
        raise TypeError(f"state must be a StateManager or None, got {state!r}")
    plan = make_plan()
    if executor == "process":
        check_process_ready(plan)
    return plan


def check_process_ready(plan: Plan) -> None:
    """Check that every sync task can be found again by a worker process.

    Raises:
        TaskNotPicklableError: a sync task's function is not reachable at module level (a
            lambda, a nested function, or one whose module name no longer leads to the task).
    """
    for t in plan.tasks:
        if t.is_async:
            continue
        module = getattr(t.func, "__module__", None)
        qualname = getattr(t.func, "__qualname__", None)
        problem = None
        if not module or not qualname or "<" in qualname:
            problem = f"its function is {qualname or t.func!r}, not defined at module level"
        else:
            try:
                found = _load_task(module, qualname)
            except Exception as exc:
                problem = f"{module}.{qualname} does not lead back to it ({exc})"
            else:
                if found is not t:
                    problem = f"{module}.{qualname} is another task"
        if problem is None:
            try:
                pickle.dumps(t)
            except Exception as exc:
                problem = f"it cannot be pickled ({exc})"
        if problem is not None:
            raise TaskNotPicklableError(
                f"task {t.name!r} cannot run with executor='process': {problem}; define it with "
                "@task() at the top level of a module, or use executor='thread'"
            )
