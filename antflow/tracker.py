"""Item tracking, under antflow 0.10's module name (``antflow.tracker``).

Re-exports from ``antflow._tracker`` (:class:`StatusTracker`, :class:`StatusEvent`,
:class:`TaskEvent` and their literal types) and ``antflow._records`` (:class:`FailedItem`,
:class:`ErrorSummary`, which a tracker hands back); the same objects are importable from
:mod:`antflow`.
"""

from __future__ import annotations

from ._records import ErrorSummary, FailedItem
from ._tracker import StatusEvent, StatusTracker, StatusType, TaskEvent, TaskEventType

__all__ = [
    "ErrorSummary",
    "FailedItem",
    "StatusEvent",
    "StatusTracker",
    "StatusType",
    "TaskEvent",
    "TaskEventType",
]
