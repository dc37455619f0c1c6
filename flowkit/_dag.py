"""DAG: runs tasks linked with ``>>``."""

from __future__ import annotations

from collections.abc import Iterable

from ._plan import Plan, compile_plan
from ._task import Task
from ._workflow import Workflow

__all__ = ["DAG"]


class DAG(Workflow):
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
        ValueError: an empty ``name`` or a bad ``max_workers``.
    """

    _kind = "DAG"

    def __init__(
        self,
        name: str = "workflow",
        max_workers: int | None = None,
        *,
        tasks: Iterable[Task] | None = None,
    ) -> None:
        super().__init__(name, max_workers)
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

    def __repr__(self) -> str:
        return f"DAG({self.name!r}, max_workers={self.max_workers!r})"
