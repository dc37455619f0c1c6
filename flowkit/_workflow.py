"""What DAG and Flow share: the run entry points, the views, and the process-executor check."""

from __future__ import annotations

import abc
import functools
import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from ._loop_thread import loop_running_here, run_on_new_thread
from ._plan import Plan, render_mermaid, render_text
from ._progress import run_with_progress
from ._scheduler import RunResult, check_executor, check_max_workers, run_plan
from ._state import StateManager
from ._task import MappedTask, Task, _load_task
from .exceptions import TaskNotFoundError, TaskNotPicklableError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "BACKENDS",
    "Workflow",
    "check_process_ready",
    "prepare_plan",
    "run_sync",
    "run_workflow",
]

BACKENDS = ("asyncio", "trio")


class Workflow(abc.ABC):
    """The base of :class:`~flowkit.DAG` and :class:`~flowkit.Flow`: a name, a worker cap, and
    the ways to run and show a workflow. Subclasses say how their tasks compile (:meth:`plan`).

    Args:
        name: The workflow's name (in logs, the text view, and state keys).
        max_workers: How many sync tasks run at the same time (threads or processes), and
            separately how many ``async def`` tasks; ``None``: ``min(32, cpus + 4)`` for threads
            (ThreadPoolExecutor's default), the CPU count for processes.

    Raises:
        ValueError: an empty ``name`` or a bad ``max_workers``.
    """

    #: What :meth:`visualize` calls the workflow.
    _kind = "Workflow"

    def __init__(self, name: str, max_workers: int | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        self.name = name
        self.max_workers = check_max_workers(max_workers)

    @abc.abstractmethod
    def plan(self) -> Plan:
        """Compile the tasks into a checked graph."""

    @property
    def tasks(self) -> list[Task]:
        """The tasks of the workflow (by default: those of its :meth:`plan`)."""
        return list(self.plan().tasks)

    @property
    def graph(self) -> dict[str, list[str]]:
        """The dependency graph a run follows: ``{task name: names of its upstream tasks}``,
        the tasks in dependency order, each one's upstream tasks in the order their results
        are passed to it. For a :class:`~flowkit.Flow` these are its steps, not the tasks'
        ``>>`` links.

        Raises:
            FlowkitError: as :meth:`plan` (a cycle, a missing or duplicate task).
        """
        plan = self.plan()
        names = plan.names
        return {names[i]: [names[j] for j in plan.upstream[i]] for i in plan.order}

    def get_task(self, name: str) -> Task:
        """The workflow's task called ``name``.

        Raises:
            TaskNotFoundError: no task of the workflow has that name (the message lists them).
        """
        for t in self.tasks:
            if t.name == name:
                return t
        known = ", ".join(repr(t.name) for t in self.tasks) or "none"
        raise TaskNotFoundError(
            name, f"{self._kind} {self.name!r} has no task named {name!r} (its tasks: {known})"
        )

    def run(
        self,
        executor: str = "thread",
        *,
        state: StateManager | None = None,
        backend: str | None = None,
        backend_options: dict[str, Any] | None = None,
        progress: bool = False,
        console: Console | None = None,
    ) -> RunResult:
        """Run the workflow in a new event loop (``anyio.run``) and return ``{name: result}``.

        Args:
            executor: ``"thread"`` or ``"process"``: where sync tasks run. ``async def`` tasks
                always run on the event loop.
            state: Cache each task's result there; a task whose result is cached is not run
                again (so a failed run, re-run, resumes at the failed task).
            backend: ``"asyncio"`` or ``"trio"`` (beyond the published signature). ``None``
                (the default): asyncio, or, called inside a running event loop, that loop's
                library.
            backend_options: Passed to ``anyio.run`` (e.g. ``{"use_uvloop": True}``).
            progress: Show antflow's one-line progress bar of the tasks (done/total, rate,
                ETA, failure), refreshed every 0.5 s and finished, terminal restored, however
                the run ends. On a console that is not a terminal: plain lines.
            console: The rich Console the bar draws on (default: a console on stderr).

        Returns:
            A :class:`RunResult`: a dict of every task's result by name (``None`` for a skipped
            task), with ``.skipped``, the names of the skipped tasks.

        Raises:
            Exception: The first failing task's own exception, unchanged, after the tasks
                running at that moment finished; nothing else started after it.
            FlowkitError: A definition error (``DAGCycleError``, ``WorkflowDefinitionError``,
                ``TaskNotPicklableError``), before any task runs.

        Called where an event loop already runs in this thread (a Jupyter cell, async code),
        the run gets a new thread with an event loop of its own, and this call blocks until it
        ends (``KeyboardInterrupt`` while it waits cancels the run, waits for the thread to
        end, and propagates). In async code, ``await ....run_async(...)`` runs on the caller's
        loop instead, without blocking it.
        """
        plan = prepare_plan(self.plan, executor, state)
        return run_sync(
            plan,
            executor,
            self.max_workers,
            state,
            backend,
            backend_options,
            progress,
            console,
            self,
        )

    async def run_async(
        self,
        executor: str = "thread",
        *,
        state: StateManager | None = None,
        progress: bool = False,
        console: Console | None = None,
    ) -> RunResult:
        """Like :meth:`run`, inside the running event loop (asyncio or trio).

        Cancelling it cancels running ``async def`` tasks, starts nothing more, waits for
        running sync calls (and keeps the result of each that returned), and leaves no thread,
        task or worker process behind. ``progress`` and ``console``
        are as in :meth:`run`.
        """
        plan = prepare_plan(self.plan, executor, state)
        return await run_workflow(plan, executor, self.max_workers, state, progress, console, self)

    def visualize(self) -> str:
        """A text view: one line per task in dependency order, with what it waits for."""
        return render_text(self._kind, self.plan())

    def to_mermaid(self) -> str:
        """The graph as a Mermaid ``flowchart`` (for docs)."""
        return render_mermaid(self.plan())


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
    backend: str | None,
    backend_options: dict[str, Any] | None,
    progress: bool = False,
    console: Console | None = None,
    source: Any = None,
) -> RunResult:
    """:func:`run_workflow` in a fresh event loop of ``backend``: in this thread, or on a new
    one when an event loop already runs here (``None``: that loop's library, else asyncio)."""
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be 'asyncio', 'trio' or None, got {backend!r}")
    running = loop_running_here()
    run = functools.partial(
        run_workflow, plan, executor, max_workers, state, progress, console, source
    )
    if running is not None:
        chosen = backend or (running if running in BACKENDS else "asyncio")
        return run_on_new_thread(run, chosen, backend_options, f"flowkit-run:{plan.name}")
    return anyio.run(run, backend=backend or "asyncio", backend_options=backend_options)


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
    for node in plan.tasks:
        # A mapped task's elements run its template, which is what a worker process loads.
        t = node.template if isinstance(node, MappedTask) else node
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
