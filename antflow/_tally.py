"""Tally: an observer that counts items by outcome, for the progress bars that have no run state.

A pipeline's displays read the run's own records (worker slots, queue sizes); an executor
``map`` and a flowkit run have none worth reading, so their progress bars are fed by this
consumer of the engine's hook (:mod:`antflow._observe`) instead. It counts; it never blocks.
"""

from __future__ import annotations

import time

from ._observe import Event, EventKind
from ._records import ErrorSummary
from ._stats import DashboardSnapshot, PipelineStats

__all__ = ["Tally"]

_WANTED = frozenset(
    {
        EventKind.ITEM_STARTED,
        EventKind.ITEM_SUCCEEDED,
        EventKind.ITEM_SKIPPED,
        EventKind.ITEM_FAILED,
    }
)


class Tally:
    """Items started, done (succeeded or skipped) and failed, as the hook reported them.

    Invariant: the counts are written only by :meth:`__call__`.
    """

    __slots__ = ("done", "failed", "started")

    def __init__(self) -> None:
        self.started = 0
        self.done = 0
        self.failed = 0

    def wants(self, kind: EventKind) -> bool:
        return kind in _WANTED

    def __call__(self, event: Event) -> None:
        kind = event.kind
        if kind is EventKind.ITEM_STARTED:
            self.started += 1
        elif kind is EventKind.ITEM_FAILED:
            self.failed += 1
        else:
            self.done += 1

    @property
    def in_flight(self) -> int:
        """Items started and not yet done or failed."""
        return max(self.started - self.done - self.failed, 0)

    def snapshot(self) -> DashboardSnapshot:
        """The counts as a :class:`~antflow.DashboardSnapshot` (no workers, no stages)."""
        stats = PipelineStats(
            items_fed=self.done + self.failed + self.in_flight,
            items_processed=self.done,
            items_failed=self.failed,
            items_in_flight=self.in_flight,
        )
        return DashboardSnapshot({}, {}, stats, ErrorSummary(total_failed=self.failed), time.time())
