"""``from flowkit.task import task, Task``: the ``@task`` decorator and the :class:`Task` class.

The same objects as ``flowkit.task`` and ``flowkit.Task`` (this module re-exports them; the code
lives in flowkit's private modules). The attribute ``flowkit.task`` is the decorator, as
``from flowkit import task`` expects, not this module: import from it with
``from flowkit.task import ...``.
"""

from __future__ import annotations

from ._task import Task, task

__all__ = ["Task", "task"]
