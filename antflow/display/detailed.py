"""``DetailedDashboard``: the compact panel plus a row per stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._rich_display import RichDashboard

if TYPE_CHECKING:
    from .._builtin_display import Renderer

__all__ = ["DetailedDashboard"]


class DetailedDashboard(RichDashboard):
    """The ``dashboard="detailed"`` display as a class, for ``custom_dashboard=``.

    The compact panel plus a table with a row per stage: queue size, workers busy and idle,
    items done and failed, mean time per item.

    Args:
        refresh_rate: 0.10's redraws per second of its refresh thread. Checked (a number > 0)
            and kept as ``refresh_rate``; antflow has no refresh thread: it redraws on each
            ``on_update``, every ``dashboard_update_interval`` seconds of the run.
        console: The rich Console to draw on (keyword-only; an addition to 0.10). Default: rich's
            shared console.
    """

    def renderer(self) -> Renderer:
        from .._dashboard import render_detailed

        return render_detailed
