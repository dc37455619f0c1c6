"""The one-line progress bar: what a display knows beyond a snapshot, and how the bar renders.

Renderers here and in :mod:`antflow._dashboard` are pure functions of a
:class:`~antflow.DashboardSnapshot` and a :class:`RunView`: they read nothing else, so they can be
rendered (and tested) without a pipeline.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.text import Text

from ._durations import format_seconds
from ._narrow import FittedLine, Piece
from ._records import FailedItem
from ._stats import DashboardSnapshot

__all__ = [
    "RateMeter",
    "RunView",
    "last_failure",
    "plain_line",
    "progress_pieces",
    "render_progress",
]

#: Seconds of history the displayed rate (and so the ETA) is computed over.
RATE_WINDOW = 10.0

#: The drop ranks of the bar's pieces: on a narrow console the lowest goes first.
_ERROR_TYPE, _TITLE, _BAR, _RATE, _ETA = range(1, 6)


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


def format_rate(rate: float, unit: str) -> str:
    return f"{rate:,.1f} {unit}/s" if rate < 100 else f"{rate:,.0f} {unit}/s"


def completed(snapshot: DashboardSnapshot, view: RunView) -> bool:
    """The run is over and every item got through or failed (it was not stopped early)."""
    if not view.finished or snapshot.pipeline_stats.items_in_flight:
        return False
    return view.total is None or finished_count(snapshot) >= view.total


def eta(snapshot: DashboardSnapshot, view: RunView) -> str:
    """The time-left (or, once finished, the elapsed-time) text; a time left is rounded up."""
    if view.finished:
        verb = "took" if completed(snapshot, view) else "stopped after"
        return f"{verb} {format_seconds(view.elapsed)}"
    if view.total is None:
        return f"elapsed {format_seconds(view.elapsed)}"
    left = view.total - finished_count(snapshot)
    if left <= 0:
        return "ETA 0 s"
    if view.rate <= 0:
        return "ETA --:--:--"
    return f"ETA {format_seconds(left / view.rate, round_up=True)}"


def count_text(snapshot: DashboardSnapshot, view: RunView) -> str:
    """``"412/1,000 41%"``, or ``"412 items"`` when the total is unknown."""
    done = finished_count(snapshot)
    if view.total is None:
        return f"{done:,} {view.unit}"
    percent = 100.0 * done / view.total if view.total else 100.0
    return f"{done:,}/{view.total:,} {percent:3.0f}%"


def last_failure(snapshot: DashboardSnapshot) -> FailedItem | None:
    """The most recent failure the snapshot records, if any."""
    failures = snapshot.error_summary.failed_items
    return failures[-1] if failures else None


def render_progress(snapshot: DashboardSnapshot, view: RunView) -> RenderableType:
    """The one-line bar: title, bar, done/total and percentage, rate, ETA, failures and the id
    (and error type) of the last failed item.

    With an unknown total there is no bar and no percentage: counts, rate and elapsed time.
    On a narrow console, pieces go in this order until the line fits: the bar narrows to 10
    cells, then the error type goes, the title, the bar, the rate, the ETA; the count and the
    failures (with the last failed item's id) always stay.
    """
    return FittedLine(progress_pieces(snapshot, view))


def progress_pieces(snapshot: DashboardSnapshot, view: RunView) -> list[Piece]:
    """The pieces of :func:`render_progress`'s line, with their drop ranks."""
    failed = snapshot.pipeline_stats.items_failed
    pieces = [Piece(Text(view.title, style="bold cyan"), drop=_TITLE, sep="")]
    if view.total is not None:
        bar = ProgressBar(total=max(view.total, 1), completed=finished_count(snapshot))
        pieces.append(Piece(bar, drop=_BAR, sep=" "))
    pieces += [
        Piece(Text(count_text(snapshot, view), style="bold"), sep=" "),
        Piece(Text(format_rate(view.rate, view.unit)), drop=_RATE),
        Piece(Text(eta(snapshot, view)), drop=_ETA),
        Piece(Text(f"failed {failed:,}", style="bold red" if failed else "dim")),
    ]
    if (failure := last_failure(snapshot)) is not None:
        pieces += [
            Piece(Text(f"(last {failure.item_id}", style="red"), sep=" "),
            Piece(Text(failure.error_type, style="red"), drop=_ERROR_TYPE, sep=" "),
            Piece(Text(")", style="red"), sep=""),
        ]
    return pieces


def plain_line(snapshot: DashboardSnapshot, view: RunView) -> str:
    """The bar as plain text, for consoles that are not terminals (CI logs, pipes): every
    figure, never shortened."""
    stats = snapshot.pipeline_stats
    line = (
        f"{view.title}: {count_text(snapshot, view)}, {format_rate(view.rate, view.unit)}, "
        f"{eta(snapshot, view)}, failed {stats.items_failed:,}"
    )
    if (failure := last_failure(snapshot)) is not None:
        line += f" (last {failure.item_id} {failure.error_type})"
    return f"{line}, in flight {stats.items_in_flight:,}"
