"""Flow: a Keras-style builder (add, branch, merge) with arguments injected by name."""

from __future__ import annotations

from ._plan import Plan, compile_plan
from ._task import Task
from ._workflow import Workflow

__all__ = ["Flow"]


class Flow(Workflow):
    """Builds a pipeline step by step; each step depends on the whole step before it.

    * ``add(task)``: a step of one task, after the previous step (after every branch, if the
      previous step was a ``branch``);
    * ``branch(*tasks)``: a step of tasks running in parallel, each after the previous step;
    * ``merge(task)``: one task after every task of the preceding ``branch``.

    Arguments are injected by parameter name: a parameter named after a task of an earlier step
    receives that task's result (any earlier step, not only the one just before; a skipped task
    gives ``None``). A parameter that names no earlier task must have a default, else the run
    fails before any task runs. A task's ``when`` condition gets the results of the previous
    step's tasks positionally. The tasks' own ``>>`` links play no part in a Flow.

    Args:
        name: The flow's name (in logs, the text view, and state keys).
        max_workers: As for :class:`~flowkit.DAG`.
    """

    _kind = "Flow"

    def __init__(self, name: str = "flow", max_workers: int | None = None) -> None:
        super().__init__(name, max_workers)
        self._steps: list[list[Task]] = []
        self._last_is_branch = False
        self._upstream: dict[int, list[Task]] = {}

    def add(self, task: Task) -> Flow:
        """Append ``task`` as the next step. Returns the flow, for chaining."""
        self._append([_check_task(task, "add()")], branch=False)
        return self

    def branch(self, *branch_tasks: Task) -> Flow:
        """Append parallel tasks, each depending on the previous step.

        Raises:
            ValueError: no task given, or nothing was added before (a flow starts with add()).
        """
        if not branch_tasks:
            raise ValueError("branch() needs at least one task: flow.branch(task_a, task_b)")
        if not self._steps:
            raise ValueError(
                "branch() needs a step before it to branch from; start the flow with add(task)"
            )
        self._append([_check_task(t, "branch()") for t in branch_tasks], branch=True)
        return self

    def merge(self, merge_task: Task) -> Flow:
        """Append ``merge_task`` after every task of the preceding ``branch()``.

        Raises:
            ValueError: the previous step is not a ``branch()``.
        """
        if not self._last_is_branch:
            raise ValueError(
                "merge() joins the tasks of a branch(), but the previous step is not a branch; "
                "call branch(task_a, task_b) before merge(task), or use add(task)"
            )
        self._append([_check_task(merge_task, "merge()")], branch=False)
        return self

    @property
    def tasks(self) -> list[Task]:
        """Every task of the flow, in the order they were added."""
        return [t for step in self._steps for t in step]

    def plan(self) -> Plan:
        """Compile the flow into a checked graph (see :meth:`DAG.plan`).

        Raises:
            WorkflowDefinitionError: a required parameter names no earlier task.
        """
        tasks = self.tasks
        return compile_plan(
            self.name, tasks, [self._upstream[id(t)] for t in tasks], inject_by_name=True
        )

    def _append(self, step: list[Task], branch: bool) -> None:
        for t in step:
            if id(t) in self._upstream or step.count(t) > 1:
                raise ValueError(f"task {t.name!r} is already in flow {self.name!r}; add it once")
        previous = self._steps[-1] if self._steps else []
        for t in step:
            self._upstream[id(t)] = list(previous)
        self._steps.append(step)
        self._last_is_branch = branch

    def __repr__(self) -> str:
        return f"Flow({self.name!r}, {len(self.tasks)} tasks)"


def _check_task(value: object, where: str) -> Task:
    if not isinstance(value, Task):
        raise TypeError(f"{where} takes tasks (functions decorated with @task()), got {value!r}")
    return value
