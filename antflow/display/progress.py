"""``ProgressDisplay``: 0.10's one-line progress bar, with its bar characters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._validation import check_int
from ._rich_display import RichDisplay

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from .._builtin_display import Renderer
    from .._progress import RunView
    from .._stats import DashboardSnapshot

__all__ = ["ProgressDisplay"]


class ProgressDisplay(RichDisplay):
    """A one-line progress bar, for ``custom_dashboard=``::

        [████████████░░░░░░░░░░░░░░░░░░]  42.0% | 126/300 | 24.5/s | 2 failed

    The bar and percentage count items finished (through every stage, or failed) out of the
    total; the rate is finished items per second over the last few seconds. On a terminal the
    line is redrawn in place on each update; elsewhere (a pipe, a CI log) a plain line is
    printed at most every 10 seconds, and the bar at the end.

    Args:
        total: Items expected. ``on_start`` replaces it with the run's count when the input has
            a length; for an iterator (count unknown) it keeps this one if it is above 0, else
            the line shows counts without a bar.
        width: Characters of the bar (an int >= 1).
        fill_char: The character of the done part of the bar.
        empty_char: The character of the rest.
        console: The rich Console to draw on (keyword-only; an addition to 0.10).
    """

    def __init__(
        self,
        total: int,
        width: int = 30,
        fill_char: str = "█",
        empty_char: str = "░",
        *,
        console: Console | None = None,
    ) -> None:
        self.width = check_int(width, "width", type_error=TypeError, hint="default 30")
        for value, name in ((fill_char, "fill_char"), (empty_char, "empty_char")):
            if not isinstance(value, str) or len(value) != 1:
                raise ValueError(f"{name} must be one character, got {value!r}")
        self.fill_char = fill_char
        self.empty_char = empty_char
        super().__init__(console)
        self.total = check_int(total, "total", minimum=0, type_error=TypeError)

    def on_start(self, pipeline: object, total_items: int | None) -> None:
        """Start drawing; the run's item count replaces ``total`` when it is known."""
        if total_items is None and self.total:
            total_items = self.total
        super().on_start(pipeline, total_items)

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        """Redraw the line with ``snapshot``."""
        self._draw(snapshot)

    def _renderer(self) -> Renderer:
        return self._render_line

    def _render_line(self, snapshot: DashboardSnapshot, view: RunView) -> RenderableType:
        """The line for ``snapshot``: bar, percentage, finished/total, rate, failures.

        On a narrow console the bar goes first, then the rate; the rest stays.
        """
        from rich.text import Text

        from .._narrow import FittedLine, Piece
        from .._progress import finished_count

        done = finished_count(snapshot)
        failed = snapshot.pipeline_stats.items_failed
        sep = " | "
        if view.total is None:
            pieces = [Piece(Text(f"{done} {view.unit}"), sep=sep)]
        else:
            share = min(done / view.total, 1.0) if view.total else 1.0
            filled = int(self.width * share)
            bar = self.fill_char * filled + self.empty_char * (self.width - filled)
            pieces = [
                Piece(Text(f"[{bar}]"), drop=1),
                Piece(Text(f"{share * 100:5.1f}%"), sep=" "),
                Piece(Text(f"{done}/{view.total}"), sep=sep),
            ]
        if view.rate > 0:
            pieces.append(Piece(Text(f"{view.rate:.1f}/s"), drop=2, sep=sep))
        if failed:
            pieces.append(Piece(Text(f"{failed} failed"), sep=sep))
        return FittedLine(pieces)
