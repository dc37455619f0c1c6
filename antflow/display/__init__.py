"""The displays of antflow 0.10, as classes: pass one as ``custom_dashboard=`` to
:meth:`Pipeline.run <antflow.Pipeline.run>` or ``Pipeline.quick``.

- :class:`BaseDashboard`: subclass it and implement ``render`` for a display of your own.
- :class:`ProgressDisplay`: the one-line progress bar, with 0.10's bar characters.
- :class:`CompactDashboard`, :class:`DetailedDashboard`, :class:`FullDashboard`: the
  ``dashboard="compact"``/``"detailed"``/``"full"`` displays, drawn by the same code.

Importing this package does not import rich; constructing one of the rich-drawn displays does.
"""

from __future__ import annotations

from .base import BaseDashboard
from .compact import CompactDashboard
from .detailed import DetailedDashboard
from .full import FullDashboard
from .progress import ProgressDisplay

__all__ = [
    "BaseDashboard",
    "CompactDashboard",
    "DetailedDashboard",
    "FullDashboard",
    "ProgressDisplay",
]
