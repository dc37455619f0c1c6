"""What a display is, without rich: the protocol, the dashboard levels, the default interval.

Everything here is importable without importing rich, so that ``import antflow`` stays cheap; the
rich-drawn displays live in :mod:`antflow._builtin_display` and are imported only when a run asks
for one.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._records import ErrorSummary, PipelineResult
    from ._stats import DashboardSnapshot

__all__ = ["DEFAULT_UPDATE_INTERVAL", "LEVELS", "DashboardProtocol"]

#: ``dashboard_update_interval`` when none is given, in seconds.
DEFAULT_UPDATE_INTERVAL = 0.5

#: The built-in dashboards (``dashboard=``), from the least to the most detailed.
LEVELS = ("compact", "detailed", "full")


@runtime_checkable
class DashboardProtocol(Protocol):
    """What ``custom_dashboard=`` accepts: three callbacks, each sync or ``async def``.

    Runtime-checkable, as in antflow 0.10: ``isinstance(obj, DashboardProtocol)`` is true when
    ``obj`` has the three methods (their signatures are not checked).

    Guarantees of the driver that calls them:

    - ``on_start`` is called once, before the first item is fed, with what runs (the
      :class:`~antflow.Pipeline`; for an executor's ``map`` and a flowkit run, the executor or
      the workflow) and ``total_items``: the number of items when the input has a length,
      ``None`` for an iterator or async iterator.
    - ``on_update`` is called every ``dashboard_update_interval`` seconds with a fresh
      :class:`~antflow.DashboardSnapshot`, from a task of its own: the workers do not wait for
      it (a slow sync callback does block the event loop while it runs), and once more with the
      final state just before ``on_finish``.
    - ``on_finish`` is called once at the end whether the run succeeded, raised or was
      cancelled, so a dashboard can always release the terminal. It gets the results collected
      (``run()``: in input order, those so far if the run did not complete; ``stream()``:
      none, as stream keeps none) and the run's :class:`~antflow.ErrorSummary`.
    - An exception raised by a callback is logged on the ``"antflow"`` logger and counted in
      ``get_stats().callback_errors``; it never stops the run or loses an item. The dashboard
      then gets no more ``on_update`` calls; ``on_finish`` is still called unless ``on_start``
      raised.
    """

    def on_start(self, pipeline: Any, total_items: int | None) -> Awaitable[None] | None:
        """The run is starting: ``pipeline`` (what runs) with ``total_items`` items (``None``:
        unknown)."""

    def on_update(self, snapshot: DashboardSnapshot) -> Awaitable[None] | None:
        """The state of the run at ``snapshot.timestamp``."""

    def on_finish(
        self, results: list[PipelineResult], summary: ErrorSummary
    ) -> Awaitable[None] | None:
        """The run is over."""
