"""The built-in displays, drawn with rich: the progress bar and the three dashboards.

Imported by :func:`antflow._display.choose_display` only when a run asks for one of them
(``progress=True``, ``dashboard=...``): this is where antflow starts needing rich.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console, RenderableType
from rich.constrain import Constrain
from rich.live import Live
from rich.measure import Measurement
from rich.segment import Segments

from ._dashboard import RENDERERS
from ._progress import RateMeter, RunView, finished_count, plain_line, render_progress
from ._records import ErrorSummary, PipelineResult
from ._stats import DashboardSnapshot

__all__ = ["PLAIN_LINE_PERIOD", "BuiltinDisplay", "builtin_display", "default_console"]

#: On a console that is not a terminal, the built-in displays print a plain line at most this
#: often (seconds), so that a CI log of a long run stays readable.
PLAIN_LINE_PERIOD = 10.0

Renderer = Callable[[DashboardSnapshot, RunView], RenderableType]


def builtin_display(
    dashboard: str | None, console: Console | None, title: str, unit: str
) -> BuiltinDisplay:
    """The one-line progress bar (``dashboard=None``) or the dashboard of that level."""
    render = render_progress if dashboard is None else RENDERERS[dashboard]
    return BuiltinDisplay(render, console or default_console(), title, unit)


@functools.cache
def default_console() -> Console:
    """The console the displays draw on when given none: one shared console on stderr.

    stderr, so that a program's output on stdout stays clean data (``> out.jsonl``) while the
    display shows on the terminal. Shared, so that two displays at once are drawn one above
    the other. It writes to whatever ``sys.stderr`` is at the time of writing.
    """
    return Console(stderr=True)


class BuiltinDisplay:
    """A :class:`DashboardProtocol` that draws ``render`` with rich.

    On a terminal it updates a rich ``Live`` region in place (no refresh thread: it redraws
    on each ``on_update``) and stops it in ``on_finish``, leaving the final state on screen and
    the cursor visible. On anything else (a pipe, a CI log, a file) it prints one plain line at
    the start, at most one every :data:`PLAIN_LINE_PERIOD` seconds, and the final render at the
    end: never a cursor-control escape code.
    """

    def __init__(
        self,
        render: Renderer,
        console: Console,
        title: str,
        unit: str = "items",
        *,
        plain_period: float = PLAIN_LINE_PERIOD,
    ) -> None:
        self.render = render
        self.console = console
        self.title = title
        self.unit = unit
        self.plain_period = plain_period
        self._total: int | None = None
        self._started = 0.0
        self._last_plain = 0.0
        self._meter = RateMeter()
        self._rate = 0.0
        self._snapshot: DashboardSnapshot | None = None
        self._live: Live | None = None

    def on_start(self, pipeline: Any, total_items: int | None) -> None:
        self._total = total_items
        self._started = self._last_plain = time.monotonic()
        console = self.console
        if console.is_terminal:
            live = Live(
                console=console,
                auto_refresh=False,
                redirect_stdout=_redirects(console, sys.stdout),
                redirect_stderr=_redirects(console, sys.stderr),
            )
            live.start()
            self._live = live
        else:
            total = "unknown number of" if total_items is None else f"{total_items:,}"
            self._print(f"{self.title}: started, {total} {self.unit}")

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        self._snapshot = snapshot
        now = time.monotonic()
        self._rate = self._meter.add(now - self._started, finished_count(snapshot))
        if self._live is not None:
            self._live.update(
                self._fit(self.render(snapshot, self._view(now, False))), refresh=True
            )
        elif now - self._last_plain >= self.plain_period:
            self._last_plain = now
            self._print(plain_line(snapshot, self._view(now, finished=False)))

    def on_finish(self, results: list[PipelineResult], summary: ErrorSummary) -> None:
        live, self._live = self._live, None
        snapshot = self._snapshot
        try:
            if snapshot is None:
                return
            view = self._view(time.monotonic(), finished=True)
            if live is not None:
                live.update(self._fit(self.render(snapshot, view)), refresh=False)
            elif self.render is render_progress:
                self._print(plain_line(snapshot, view))
            else:
                self._print_whole(self.render(snapshot, view))
        finally:
            if live is not None:
                live.stop()  # draws the last update, shows the cursor again

    def _view(self, now: float, finished: bool) -> RunView:
        elapsed = now - self._started
        rate = self._rate
        if finished and self._snapshot is not None:
            rate = finished_count(self._snapshot) / elapsed if elapsed > 0 else 0.0
        return RunView(self.title, self._total, elapsed, rate, self.unit, finished)

    def _fit(self, renderable: RenderableType) -> RenderableType:
        # A few columns short of the terminal's width: if the region reached the last columns,
        # whatever the terminal echoes after it (the ``^C`` of a Ctrl-C) would wrap to a new
        # line, shifting the region so that its last redraw leaves a stray line behind.
        return Constrain(renderable, width=max(self.console.width - 3, 1))

    def _print(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _print_whole(self, renderable: RenderableType) -> None:
        """Print ``renderable`` on a console that is not a terminal, at the width its content
        needs if that is wider than the console and nobody chose the console's width: a log
        or a pipe then gets whole lines, not lines cut at rich's default of 80 columns."""
        console = self.console
        # rich keeps a width given to Console(width=...) or by $COLUMNS in ``_width``: a width
        # chosen that way is respected; rich's fallback for a non-terminal is not.
        if getattr(console, "_width", None) is not None:
            console.print(renderable)
            return
        options = console.options.update_width(_WIDEST)
        width = max(console.width, Measurement.get(console, options, renderable).maximum)
        # print(width=) cannot go past the console's width: render at ours, print as drawn.
        lines = console.render(renderable, options.update_width(width))
        console.print(Segments(lines), crop=False)


#: The widest a dashboard is printed on a console that is not a terminal, in cells.
_WIDEST = 400


def _redirects(console: Console, stream: object) -> bool:
    """Whether a live display on ``console`` should capture what is printed to ``stream``
    (``sys.stdout`` or ``sys.stderr``) and print it above the display.

    Only when that lands on the terminal anyway: the console's own stream, or another stream
    that is a terminal too. A stream redirected to a file or a pipe (``> out.jsonl``) keeps
    its output.
    """
    if console.file is stream:
        return True
    if console.file not in (sys.stdout, sys.stderr):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False
