"""The exceptions flowkit raises itself.

A task's own exception is never wrapped: when a task fails, ``run()`` raises that exception
unchanged. The classes below are for mistakes in the workflow or its configuration, detected
before any task runs.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "DAGCycleError",
    "FlowkitError",
    "TaskExecutionError",
    "TaskNotFoundError",
    "TaskNotPicklableError",
    "TaskRedefinedWarning",
    "WorkflowDefinitionError",
]


class FlowkitError(Exception):
    """Base class of every exception flowkit raises itself."""


class WorkflowDefinitionError(FlowkitError, ValueError):
    """The workflow cannot run as defined (duplicate names, a dependency left out, ...).

    A :class:`ValueError` too, so ``except ValueError`` keeps working.
    """


class DAGCycleError(WorkflowDefinitionError):
    """The tasks' dependencies form a cycle; raised before any task runs.

    Attributes:
        cycle: The names of the tasks on one cycle, in dependency order, the first repeated at
            the end (``["a", "b", "a"]`` for ``a >> b >> a``).
    """

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        super().__init__(
            "the task dependencies form a cycle: "
            + " >> ".join(self.cycle)
            + "; remove one of these links"
        )


class TaskNotPicklableError(FlowkitError, TypeError):
    """A task, or a value it takes or returns, cannot cross to a worker process
    (``executor="process"``).

    Raised before any task runs when a task function itself does not pickle; during the run
    when a task's arguments (its upstream results) or its result do not, naming the task. A
    :class:`TypeError` too.
    """


class TaskNotFoundError(WorkflowDefinitionError, KeyError):
    """A workflow was asked for a task it does not have: a Flow parameter that names no earlier
    task, a DAG task whose upstream task is left out of ``tasks=``, or
    :meth:`~flowkit.DAG.get_task` with an unknown name.

    A :class:`WorkflowDefinitionError` (so a :class:`ValueError`) and a :class:`KeyError`.

    Attributes:
        name: The task name that was looked for.
    """

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)

    def __str__(self) -> str:
        # KeyError would show the message quoted, as if it were the missing key.
        return str(self.args[0]) if self.args else ""


class TaskExecutionError(FlowkitError):
    """A task failed: its name and the exception it raised.

    flowkit itself raises a failing task's own exception unchanged (so ``except ValueError``
    and the traceback lead to your code); this class is here for code written against the
    published flowkit that raises or catches it, e.g. to wrap a failure with the task's name::

        try:
            results = dag.run()
        except Exception as exc:
            raise TaskExecutionError("load", exc, f"task 'load' failed: {exc}") from exc

    Attributes:
        task_name: The task's name.
        original_exception: The exception the task raised.
    """

    def __init__(self, task_name: str, original_exception: BaseException, message: str) -> None:
        self.task_name = task_name
        self.original_exception = original_exception
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.task_name, self.original_exception, str(self)))


class TaskRedefinedWarning(UserWarning):
    """A task was created with the module, qualified name and name of a registered task (a
    notebook cell run again); the new task replaces the old one in the registry."""
