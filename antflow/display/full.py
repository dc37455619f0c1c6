"""``FullDashboard``: the detailed panel plus a row per worker and the most recent errors."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .._validation import check_int
from ._rich_display import RichDashboard

if TYPE_CHECKING:
    from rich.console import Console

    from .._builtin_display import Renderer

__all__ = ["FullDashboard"]


class FullDashboard(RichDashboard):
    """The ``dashboard="full"`` display as a class, for ``custom_dashboard=``.

    The detailed panel plus a row per worker (its state, the item it holds, the task it runs
    and for how long) and the most recent errors. It needs no
    :class:`~antflow.StatusTracker`: the workers' rows show the items in progress.

    Args:
        refresh_rate: As for :class:`~antflow.display.CompactDashboard`.
        max_items_shown: Rows of the worker table, so items in progress shown (default 20, as
            in 0.10). With more workers than that, the busy workers that have held their item
            the longest are shown.
        console: The rich Console to draw on (keyword-only; an addition to 0.10).
    """

    def __init__(
        self,
        refresh_rate: float = 4.0,
        max_items_shown: int = 20,
        *,
        console: Console | None = None,
    ) -> None:
        self.max_items_shown = check_int(
            max_items_shown, "max_items_shown", type_error=TypeError, hint="default 20"
        )
        super().__init__(refresh_rate, console=console)

    def _renderer(self) -> Renderer:
        from .._dashboard import render_full

        return functools.partial(render_full, max_rows=self.max_items_shown)
