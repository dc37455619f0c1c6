"""flowkit: decorator-based workflows (``@task``, ``>>``, ``DAG``, ``Flow``) on anyio.

Sync tasks run on worker threads or processes, ``async def`` tasks on the event loop, each task as
soon as its upstream tasks are done; the same code runs under asyncio and trio. Retries and
capacity-limited execution come from antflow's engine.
"""

from __future__ import annotations

from ._dag import DAG
from ._flow import Flow
from ._logging import FlowkitLogger, LogLevel, configure_logging
from ._scheduler import RunResult
from ._state import StateManager
from ._task import MappedTask, Task, task
from .exceptions import (
    DAGCycleError,
    FlowkitError,
    TaskNotPicklableError,
    WorkflowDefinitionError,
)

__all__ = [
    "DAG",
    "DAGCycleError",
    "Flow",
    "FlowkitError",
    "FlowkitLogger",
    "LogLevel",
    "MappedTask",
    "RunResult",
    "StateManager",
    "Task",
    "TaskNotPicklableError",
    "WorkflowDefinitionError",
    "configure_logging",
    "task",
]
