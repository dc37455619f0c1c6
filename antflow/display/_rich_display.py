"""What the rich-drawn public displays share: one of antflow's built-in displays, started by
``on_start`` and stopped by ``on_finish``.

rich is imported when one of them is constructed (for its ``console``), not when
:mod:`antflow.display` is imported.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._display import _check_console
from .._validation import check_number
from .base import BaseDashboard

if TYPE_CHECKING:
    from rich.console import Console

    from .._builtin_display import BuiltinDisplay, Renderer
    from .._records import ErrorSummary, PipelineResult
    from .._stats import DashboardSnapshot

__all__ = ["RichDashboard", "RichDisplay", "title_of"]


def title_of(pipeline: Any) -> str:
    """What the display calls the run: the pipeline's stage names, ``"A → B"``."""
    names = [getattr(stage, "name", None) for stage in getattr(pipeline, "stages", None) or ()]
    if names and all(isinstance(name, str) for name in names):
        return " → ".join(str(name) for name in names)
    return "antflow"


class RichDisplay:
    """Draws what ``_renderer()`` returns on ``console`` through one run, as the built-in
    displays do: a live region redrawn on each update on a terminal; plain lines elsewhere (a
    pipe, a CI log, a file); the final state left on screen at the end.

    Attributes:
        console: The rich Console drawn on (by default a console on stderr, shared by the
            displays).
        total: Items of the current run (``None`` when unknown), set by ``on_start``.
        start_time: ``time.time()`` when the run started, set by ``on_start``.
    """

    def __init__(self, console: Console | None) -> None:
        _check_console(console)
        if console is None:
            from .._builtin_display import default_console

            console = default_console()
        self.console: Console = console
        self.total: int | None = 0
        self.start_time: float | None = None
        self._display: BuiltinDisplay | None = None

    def _renderer(self) -> Renderer:
        """The function (snapshot, run view) -> renderable this display draws."""
        raise NotImplementedError

    def on_start(self, pipeline: Any, total_items: int | None) -> None:
        """Start drawing: a live region on a terminal, a first plain line elsewhere."""
        from .._builtin_display import BuiltinDisplay

        self.total = total_items
        self.start_time = time.time()
        self._display = BuiltinDisplay(self._renderer(), self.console, title_of(pipeline))
        self._display.on_start(pipeline, total_items)

    def on_finish(self, results: list[PipelineResult], summary: ErrorSummary) -> None:
        """Draw the final state and release the terminal (the cursor is shown again)."""
        display, self._display = self._display, None
        if display is not None:
            display.on_finish(results, summary)

    def _draw(self, snapshot: DashboardSnapshot) -> None:
        if self._display is not None:
            self._display.on_update(snapshot)


class RichDashboard(RichDisplay, BaseDashboard):
    """A :class:`BaseDashboard` drawn with one of antflow's dashboard renderers.

    Args:
        refresh_rate: 0.10's redraws per second of its refresh thread. Checked (a number > 0)
            and kept as ``refresh_rate``; antflow has no refresh thread: it redraws on each
            ``on_update``, every ``dashboard_update_interval`` seconds of the run.
        console: The rich Console to draw on (keyword-only; an addition to 0.10).
    """

    def __init__(self, refresh_rate: float = 4.0, *, console: Console | None = None) -> None:
        self.refresh_rate = check_number(
            refresh_rate, "refresh_rate", positive=True, type_error=TypeError, hint="default 4.0"
        )
        super().__init__(console)

    def render(self, snapshot: DashboardSnapshot) -> None:
        """Redraw with ``snapshot`` (``on_update`` calls this)."""
        self._draw(snapshot)
