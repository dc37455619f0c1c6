"""flowkit: decorator-based workflows (``@task``, ``>>``, ``DAG``, ``Flow``) on anyio.

Sync tasks run on worker threads or processes, ``async def`` tasks on the event loop, each task as
soon as its upstream tasks are done; the same code runs under asyncio and trio. Retries and
capacity-limited execution come from antflow's engine.

The published flowkit's modules are here too: ``flowkit.task``, ``flowkit.dag``, ``flowkit.flow``,
``flowkit.state``, ``flowkit.logging``, ``flowkit.functional`` and ``flowkit.exceptions``.
"""

from __future__ import annotations

from ._scheduler import RunResult
from ._task import MappedTask
from .dag import DAG
from .exceptions import (
    DAGCycleError,
    FlowkitError,
    TaskExecutionError,
    TaskNotFoundError,
    TaskNotPicklableError,
    TaskRedefinedWarning,
    WorkflowDefinitionError,
)
from .flow import Flow
from .functional import AppliedTask, FunctionalFlow, Layer
from .logging import FlowkitLogger, LogLevel, configure_logging, get_logger
from .state import StateManager, TaskCache

# Last, and after every other submodule: importing the submodule flowkit.task sets the package
# attribute ``task`` to the module; the name bound here replaces it with the decorator.
from .task import Task, task  # isort: skip

__all__ = [
    "AppliedTask",
    "DAG",
    "DAGCycleError",
    "Flow",
    "FlowkitError",
    "FlowkitLogger",
    "FunctionalFlow",
    "Layer",
    "LogLevel",
    "MappedTask",
    "RunResult",
    "StateManager",
    "Task",
    "TaskCache",
    "TaskExecutionError",
    "TaskNotFoundError",
    "TaskNotPicklableError",
    "TaskRedefinedWarning",
    "WorkflowDefinitionError",
    "configure_logging",
    "get_logger",
    "task",
]
