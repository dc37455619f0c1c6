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

    ``DetailedDashboard(refresh_rate=4.0, *, console=None)``: the arguments of
    :class:`~antflow.display.CompactDashboard`.
    """

    def _renderer(self) -> Renderer:
        from .._dashboard import render_detailed

        return render_detailed
