"""The exceptions flowkit raises itself.

A task's own exception is never wrapped: when a task fails, ``run()`` raises that exception
unchanged. The classes below are for mistakes in the workflow or its configuration, detected
before any task runs.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DAGCycleError", "FlowkitError", "TaskNotPicklableError", "WorkflowDefinitionError"]


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
