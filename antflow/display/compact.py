"""``CompactDashboard``: one panel with the progress bar, rate, ETA and counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._rich_display import RichDashboard

if TYPE_CHECKING:
    from .._builtin_display import Renderer

__all__ = ["CompactDashboard"]


class CompactDashboard(RichDashboard):
    """The ``dashboard="compact"`` display as a class, for ``custom_dashboard=``.

    One panel: the progress bar, the rate and ETA, and the succeeded, failed and in-flight
    counts.

    Args:
        refresh_rate: 0.10's redraws per second of its refresh thread. Checked (a number > 0)
            and kept as ``refresh_rate``; antflow has no refresh thread: it redraws on each
            ``on_update``, every ``dashboard_update_interval`` seconds of the run.
        console: The rich Console to draw on (keyword-only; an addition to 0.10). Default: a
            console on stderr, shared by the displays.
    """

    def _renderer(self) -> Renderer:
        from .._dashboard import render_compact

        return render_compact
