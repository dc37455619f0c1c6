"""DAG: runs tasks linked with ``>>``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console

from ._plan import Plan, compile_plan, render_mermaid, render_text
from ._scheduler import RunResult, check_max_workers
from ._state import StateManager
from ._task import Task
from ._workflow import prepare_plan, run_sync, run_workflow

__all__ = ["DAG"]


class DAG:
    """Runs tasks in dependency order, each as soon as its upstream tasks are done.

    Each task gets its upstream tasks' results as positional arguments, in the order the links
    were made (``[a, b] >> c`` calls ``c(result_a, result_b)``).

    Args:
        name: The workflow's name (in logs, the text view, and state keys).
        max_workers: How many sync tasks run at the same time (threads or processes), and
            separately how many ``async def`` tasks; ``None``: ``min(32, cpus + 4)`` for threads
            (ThreadPoolExecutor's default), the CPU count for processes.
        tasks: The tasks to run. ``None`` (the default): every registered task (see
            :meth:`Task.registry`) at the time of the run. Give a list to keep tasks defined
            elsewhere out of this run; each listed task's upstream tasks must be listed too.

    Raises:
        ValueError: a bad ``max_workers``.
    """

    def __init__(
        self,
        name: str = "workflow",
        max_workers: int | None = None,
        *,
        tasks: Iterable[Task] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        self.name = name
        self.max_workers = check_max_workers(max_workers)
        self._tasks = None if tasks is None else list(tasks)

    @property
    def tasks(self) -> list[Task]:
        """The tasks a run would run now."""
        return Task.registry() if self._tasks is None else list(self._tasks)

    def plan(self) -> Plan:
        """Compile the tasks into a checked graph.

        Raises:
            DAGCycleError: the links form a cycle (names the tasks on it).
            WorkflowDefinitionError: duplicate task names, or a listed task depends on one left
                out.
        """
        return compile_plan(self.name, self.tasks)

    def run(
        self,
        executor: str = "thread",
        *,
        state: StateManager | None = None,
        backend: str = "asyncio",
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
            backend: ``"asyncio"`` or ``"trio"`` (beyond the seed's signature).
            backend_options: Passed to ``anyio.run`` (e.g. ``{"use_uvloop": True}``).
            progress: Show antflow's one-line progress bar of the tasks (done/total, rate,
                ETA, failure), refreshed every 0.5 s and finished, terminal restored, however
                the run ends. On a console that is not a terminal: plain lines.
            console: The rich Console the bar draws on (default: rich's console on stdout).

        Returns:
            A :class:`RunResult`: a dict of every task's result by name (``None`` for a skipped
            task), with ``.skipped``, the names of the skipped tasks.

        Raises:
            Exception: The first failing task's own exception, unchanged, after the tasks
                running at that moment finished; nothing else started after it.
            FlowkitError: A definition error (``DAGCycleError``, ``WorkflowDefinitionError``,
                ``TaskNotPicklableError``), before any task runs.
        """
        plan = self._prepare(executor, state)
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
        running sync calls, and leaves no thread or task behind. ``progress`` and ``console``
        are as in :meth:`run`.
        """
        plan = self._prepare(executor, state)
        return await run_workflow(plan, executor, self.max_workers, state, progress, console, self)

    def visualize(self) -> str:
        """A text view: one line per task in dependency order, with what it waits for."""
        return render_text("DAG", self.plan())

    def to_mermaid(self) -> str:
        """The graph as a Mermaid ``flowchart`` (for docs)."""
        return render_mermaid(self.plan())

    def _prepare(self, executor: str, state: StateManager | None) -> Plan:
        return prepare_plan(self.plan, executor, state)

    def __repr__(self) -> str:
        return f"DAG({self.name!r}, max_workers={self.max_workers!r})"
