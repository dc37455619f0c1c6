"""The one-line progress bar: what a display knows beyond a snapshot, and how the bar renders.

Renderers here and in :mod:`antflow._dashboard` are pure functions of a
:class:`~antflow.DashboardSnapshot` and a :class:`RunView`: they read nothing else, so they can be
rendered (and tested) without a pipeline.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.progress_bar import ProgressBar
from rich.segment import Segment
from rich.text import Text

from ._stats import DashboardSnapshot

__all__ = ["RateMeter", "RunView", "format_duration", "plain_line", "render_progress"]

#: Seconds of history the displayed rate (and so the ETA) is computed over.
RATE_WINDOW = 10.0


@dataclass(frozen=True, slots=True)
class RunView:
    """What a display knows about the run beyond one snapshot.

    Attributes:
        title: What runs (the stage names, the workflow's name ...).
        total: Items expected, or ``None`` when unknown (an iterator was fed).
        elapsed: Seconds since the display started.
        rate: Finished items per second, over the last few seconds (overall once finished).
        unit: What is counted (``"items"``, ``"tasks"``).
        finished: The run is over: show the elapsed time instead of an ETA.
    """

    title: str
    total: int | None
    elapsed: float
    rate: float
    unit: str = "items"
    finished: bool = False


class RateMeter:
    """Finished items per second over the last :data:`RATE_WINDOW` seconds of samples."""

    __slots__ = ("_samples", "_window")

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self._window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, elapsed: float, done: int) -> float:
        """Record ``done`` finished items at ``elapsed`` seconds; return the current rate."""
        samples = self._samples
        if not samples:
            samples.append((0.0, 0))
        samples.append((elapsed, done))
        while len(samples) > 2 and samples[1][0] <= elapsed - self._window:
            samples.popleft()
        start, start_done = samples[0]
        span = elapsed - start
        return (done - start_done) / span if span > 0 else 0.0


def finished_count(snapshot: DashboardSnapshot) -> int:
    """Items done either way: through every stage, or failed."""
    stats = snapshot.pipeline_stats
    return stats.items_processed + stats.items_failed


def format_duration(seconds: float) -> str:
    """``h:mm:ss``, e.g. ``0:01:05``."""
    minutes, secs = divmod(int(max(seconds, 0.0)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_rate(rate: float, unit: str) -> str:
    return f"{rate:,.1f} {unit}/s" if rate < 100 else f"{rate:,.0f} {unit}/s"


def completed(snapshot: DashboardSnapshot, view: RunView) -> bool:
    """The run is over and every item got through or failed (it was not stopped early)."""
    if not view.finished or snapshot.pipeline_stats.items_in_flight:
        return False
    return view.total is None or finished_count(snapshot) >= view.total


def eta(snapshot: DashboardSnapshot, view: RunView) -> str:
    """The time-left (or, once finished, the elapsed-time) text."""
    if view.finished:
        verb = "took" if completed(snapshot, view) else "stopped after"
        return f"{verb} {format_duration(view.elapsed)}"
    if view.total is None:
        return f"elapsed {format_duration(view.elapsed)}"
    left = view.total - finished_count(snapshot)
    if left <= 0:
        return "ETA 0:00:00"
    if view.rate <= 0:
        return "ETA --:--:--"
    return f"ETA {format_duration(left / view.rate)}"


def count_text(snapshot: DashboardSnapshot, view: RunView) -> str:
    """``"412/1,000 41%"``, or ``"412 items"`` when the total is unknown."""
    done = finished_count(snapshot)
    if view.total is None:
        return f"{done:,} {view.unit}"
    percent = 100.0 * done / view.total if view.total else 100.0
    return f"{done:,}/{view.total:,} {percent:3.0f}%"


def render_progress(snapshot: DashboardSnapshot, view: RunView) -> RenderableType:
    """The one-line bar: title, bar, done/total and percentage, rate, ETA, failures.

    With an unknown total there is no bar and no percentage: counts, rate and elapsed time.
    """
    failed = snapshot.pipeline_stats.items_failed
    line = Text()
    line.append(count_text(snapshot, view), style="bold")
    line.append(f"  {format_rate(view.rate, view.unit)}  {eta(snapshot, view)}")
    line.append(f"  failed {failed:,}", style="bold red" if failed else "dim")
    bar = None
    if view.total is not None:
        bar = ProgressBar(total=max(view.total, 1), completed=finished_count(snapshot))
    return _BarLine(Text(view.title, style="bold cyan"), bar, line)


class _BarLine:
    """Title, bar and figures on one line: the bar gets the room the text leaves (10 to 40
    cells); on a narrow console the title is shortened first, then the bar dropped."""

    def __init__(self, title: Text, bar: ProgressBar | None, figures: Text) -> None:
        self.title = title
        self.bar = bar
        self.figures = figures

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        title = self.title.copy()
        figures = self.figures.copy()
        bar_width = 0
        if self.bar is not None:
            room = width - figures.cell_len - 2  # two separating spaces
            if room - title.cell_len < 10:
                title.truncate(max(room - 10, 8), overflow="ellipsis")
            bar_width = min(40, room - title.cell_len)
            if bar_width < 10:
                bar_width = 0
        used = title.cell_len + 1 + (bar_width + 1 if bar_width else 0)
        figures.truncate(max(width - used, 1), overflow="ellipsis")
        yield from console.render(Text.assemble(title, " ", end=""), options)
        if self.bar is not None and bar_width:
            yield from console.render(self.bar, options.update(width=bar_width))
            yield Segment(" ")
        yield from console.render(figures, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(options.max_width, options.max_width)


def plain_line(snapshot: DashboardSnapshot, view: RunView) -> str:
    """The bar as plain text, for consoles that are not terminals (CI logs, pipes)."""
    stats = snapshot.pipeline_stats
    return (
        f"{view.title}: {count_text(snapshot, view)}, {format_rate(view.rate, view.unit)}, "
        f"{eta(snapshot, view)}, failed {stats.items_failed:,}, "
        f"in flight {stats.items_in_flight:,}"
    )
