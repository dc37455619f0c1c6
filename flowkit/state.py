"""``from flowkit.state import StateManager, TaskCache``: storing results.

:class:`StateManager` caches a workflow's task results (``run(state=...)``), in memory or in a
file; :class:`TaskCache` keeps a function's results by its arguments for a while. The same
objects as ``flowkit.StateManager`` and ``flowkit.TaskCache`` (this module re-exports them).
"""

from __future__ import annotations

from ._cache import TaskCache
from ._state import StateManager

__all__ = ["StateManager", "TaskCache"]
