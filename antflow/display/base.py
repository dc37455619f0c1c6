"""``BaseDashboard``: antflow 0.10's base class for dashboards that draw themselves.

This module does not import rich: a dashboard that prints or logs can subclass it without it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._records import ErrorSummary, PipelineResult
    from .._stats import DashboardSnapshot

__all__ = ["BaseDashboard"]


class BaseDashboard(ABC):
    """A :class:`~antflow.DashboardProtocol` whose ``on_update`` calls :meth:`render`.

    Subclass it and implement :meth:`render`; override ``on_start``/``on_finish`` when you need
    them (both do nothing here). Pass an instance as ``custom_dashboard=`` to
    :meth:`Pipeline.run <antflow.Pipeline.run>` (or ``Pipeline.quick``): the run calls
    ``on_start`` once before the first item, ``on_update`` every ``dashboard_update_interval``
    seconds and once more at the end, then ``on_finish``, on asyncio and trio alike (the
    guarantees of :class:`~antflow.DashboardProtocol`). The hooks may also be ``async def`` in a
    subclass; the run awaits them.
    """

    def on_start(self, pipeline: Any, total_items: int | None) -> None:  # noqa: B027 - optional
        """The run is starting: ``pipeline`` (the :class:`~antflow.Pipeline`) with
        ``total_items`` items (``None`` when the input has no length). Does nothing here."""

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        """The state of the run at ``snapshot.timestamp``: calls :meth:`render`."""
        self.render(snapshot)

    def on_finish(  # noqa: B027 - an optional hook
        self, results: list[PipelineResult], summary: ErrorSummary
    ) -> None:
        """The run is over, with its collected ``results`` and error ``summary``. Does nothing
        here."""

    @abstractmethod
    def render(self, snapshot: DashboardSnapshot) -> None:
        """Draw ``snapshot``."""
