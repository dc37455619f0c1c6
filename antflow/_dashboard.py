"""The built-in dashboards, compact, detailed and full: pure functions snapshot -> rich renderable.

* compact: one panel with the progress bar, the rate, the ETA and the succeeded / failed /
  in-flight counts;
* detailed: adds a row per stage (queue size, workers busy and idle, done, failed, mean time);
* full: adds a row per worker (state, current item, current task, for how long) and the most
  recent errors.

Each renderer returns a panel laid out when it is drawn, for the width it gets: below the width
its content needs, whole columns and tables are left out in the order each table's builder
states (:mod:`antflow._narrow`), and a failed item's id is never cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.text import Text

from ._durations import format_seconds
from ._narrow import Column, FittedLine, Piece, fit_table, table_width
from ._progress import RunView, completed, finished_count, progress_pieces
from ._stats import DashboardSnapshot, WorkerState

__all__ = [
    "RENDERERS",
    "StageRow",
    "render_compact",
    "render_detailed",
    "render_full",
    "stage_rows",
]

#: Rows of the full dashboard's worker table; past it, the busy workers that have held their
#: item the longest are shown (the ones most likely stuck).
MAX_WORKER_ROWS = 20
#: Errors shown by the full dashboard, the most recent last.
RECENT_ERRORS = 5


@dataclass(frozen=True, slots=True)
class StageRow:
    """One stage's line in the detailed dashboard."""

    name: str
    queued: int
    busy: int
    idle: int
    done: int
    failed: int
    mean_time: float


def stage_rows(snapshot: DashboardSnapshot) -> list[StageRow]:
    """Per-stage figures from the snapshot, stages in pipeline order."""
    names = list(snapshot.pipeline_stats.queue_sizes)
    for state in snapshot.worker_states.values():
        if state.stage not in names:
            names.append(state.stage)
    busy = dict.fromkeys(names, 0)
    idle = dict.fromkeys(names, 0)
    for state in snapshot.worker_states.values():
        if state.status == "busy":
            busy[state.stage] += 1
        elif state.status == "idle":
            idle[state.stage] += 1
    done = dict.fromkeys(names, 0)
    failed = dict.fromkeys(names, 0)
    seconds = dict.fromkeys(names, 0.0)
    for metrics in snapshot.worker_metrics.values():
        if metrics.stage in done:
            done[metrics.stage] += metrics.items_processed
            failed[metrics.stage] += metrics.items_failed
            seconds[metrics.stage] += metrics.total_processing_time
    return [
        StageRow(
            name=name,
            queued=snapshot.pipeline_stats.queue_sizes.get(name, 0),
            busy=busy[name],
            idle=idle[name],
            done=done[name],
            failed=failed[name],
            mean_time=seconds[name] / (done[name] + failed[name])
            if done[name] + failed[name]
            else 0.0,
        )
        for name in names
    ]


def render_compact(snapshot: DashboardSnapshot, view: RunView) -> RenderableType:
    """One panel: the progress bar and rate/ETA, and the succeeded, failed, in-flight counts."""
    return _Dashboard(snapshot, view, [])


def render_detailed(snapshot: DashboardSnapshot, view: RunView) -> RenderableType:
    """The compact panel plus a table with a row per stage."""
    return _Dashboard(snapshot, view, [_stage_table(snapshot)])


def render_full(
    snapshot: DashboardSnapshot, view: RunView, *, max_rows: int = MAX_WORKER_ROWS
) -> RenderableType:
    """The detailed panel plus a row per worker (at most ``max_rows``) and the most recent
    errors."""
    parts = [_stage_table(snapshot), _worker_table(snapshot, max_rows)]
    if snapshot.error_summary.failed_items:
        parts.append(_error_table(snapshot))
    return _Dashboard(snapshot, view, parts)


#: The renderer of each level of :data:`~antflow._display_protocol.LEVELS`.
RENDERERS: dict[str, Callable[[DashboardSnapshot, RunView], RenderableType]] = {
    "compact": render_compact,
    "detailed": render_detailed,
    "full": render_full,
}

#: Cells the panel's border and padding take: a border and a space on each side.
_PANEL_FRAME = 4


@dataclass(frozen=True, slots=True)
class _TablePart:
    """A titled table of a dashboard: its columns give way as :func:`fit_table` says; if even
    the columns that always stay do not fit, the table goes, unless it is ``kept``."""

    title: str
    columns: list[Column]
    caption: str = ""
    kept: bool = False

    def natural_width(self) -> int:
        return max(table_width(c.width for c in self.columns), cell_len(self.title))

    def render(self, width: int) -> RenderableType | None:
        table = fit_table(self.columns, width, always=self.kept)
        if table is None:
            return None
        if self.caption:
            table.caption = Text(self.caption, style="dim")
            table.caption_justify = "left"
        return Group(Text(self.title, style="table.title"), table)


class _Dashboard:
    """A dashboard panel laid out for the width it is drawn at (see :mod:`antflow._narrow`)."""

    def __init__(self, snapshot: DashboardSnapshot, view: RunView, parts: list[_TablePart]) -> None:
        self.snapshot = snapshot
        self.view = view
        self.bar = FittedLine(progress_pieces(snapshot, view))
        self.counts = FittedLine(_count_pieces(snapshot, view))
        self.parts = parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        inner = max(options.max_width - _PANEL_FRAME, 1)
        shown: list[RenderableType] = [self.bar, self.counts]
        for part in self.parts:
            if (table := part.render(inner)) is not None:
                shown.append(table)
        snapshot, view = self.snapshot, self.view
        status = "running"
        if view.finished:
            status = "finished" if completed(snapshot, view) else "stopped"
        yield Panel(
            Group(*shown),
            title=f"antflow · {status}",
            title_align="left",
            subtitle=f"{finished_count(snapshot):,} done",
            subtitle_align="right",
            box=box.ROUNDED,
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        natural = _PANEL_FRAME + max(
            [self.bar.needed_width(), self.counts.needed_width()]
            + [part.natural_width() for part in self.parts]
        )
        return Measurement(min(natural, options.max_width), natural)


def _count_pieces(snapshot: DashboardSnapshot, view: RunView) -> list[Piece]:
    """The counts line; on a narrow console the fed count goes first, then the in-flight one."""
    stats = snapshot.pipeline_stats
    failed_style = "bold red" if stats.items_failed else ""
    pieces = [
        Piece(Text(f"succeeded {stats.items_processed:,}", style="green")),
        Piece(Text(f"failed {stats.items_failed:,}", style=failed_style)),
        Piece(Text(f"in flight {stats.items_in_flight:,}"), drop=2),
    ]
    if view.total is None:
        pieces.append(Piece(Text(f"fed {stats.items_fed:,} (total unknown)", style="dim"), drop=1))
    return pieces


def _texts(values: list[str], style: str = "") -> list[Text]:
    return [Text(value, style=style) for value in values]


def _stage_table(snapshot: DashboardSnapshot) -> _TablePart:
    """Stages; on a narrow console the columns go in this order: mean time, idle, busy, done,
    queue (the stage and its failures stay)."""
    rows = stage_rows(snapshot)
    return _TablePart(
        "Stages",
        [
            Column("stage", _texts([r.name for r in rows])),
            Column("queue", _texts([f"{r.queued:,}" for r in rows]), drop=5, justify="right"),
            Column("busy", _texts([str(r.busy) for r in rows]), drop=3, justify="right"),
            Column("idle", _texts([str(r.idle) for r in rows]), drop=2, justify="right"),
            Column("done", _texts([f"{r.done:,}" for r in rows]), drop=4, justify="right"),
            Column(
                "failed",
                [Text(f"{r.failed:,}", style="red" if r.failed else "") for r in rows],
                justify="right",
            ),
            Column(
                "mean time",
                _texts([format_seconds(r.mean_time) if r.done + r.failed else "-" for r in rows]),
                drop=1,
                justify="right",
            ),
        ],
    )


def _shown_workers(snapshot: DashboardSnapshot, max_rows: int) -> tuple[list[WorkerState], int]:
    states = list(snapshot.worker_states.values())
    if len(states) <= max_rows:
        return states, 0
    busy = [s for s in states if s.status == "busy"]
    busy.sort(key=lambda s: s.processing_since or snapshot.timestamp)
    shown = busy[:max_rows]
    return shown, len(states) - len(shown)


def _worker_table(snapshot: DashboardSnapshot, max_rows: int) -> _TablePart:
    """Workers; on a narrow console the columns go in this order: task, for, state (the worker
    and its item stay), then the whole table."""
    shown, hidden = _shown_workers(snapshot, max_rows)
    items, tasks, held = [], [], []
    for state in shown:
        busy = state.status == "busy"
        since = state.processing_since
        items.append(str(state.current_item_id) if busy else "")
        tasks.append((state.current_task or "") if busy else "")
        held.append(
            format_seconds(snapshot.timestamp - since) if busy and since is not None else ""
        )
    states = [Text(s.status, style="yellow" if s.status == "busy" else "dim") for s in shown]
    return _TablePart(
        "Workers",
        [
            Column("worker", _texts([s.worker_name for s in shown])),
            Column("state", states, drop=3),
            Column("item", _texts(items), fold=True),
            Column("task", _texts(tasks), drop=1, shrink_to=_MIN_TEXT),
            Column("for", _texts(held), drop=2, justify="right"),
        ],
        caption=f"... {hidden} more (not busy or busy for less long)" if hidden else "",
    )


def _error_table(snapshot: DashboardSnapshot) -> _TablePart:
    """The most recent errors; on a narrow console the message is shortened (to
    :data:`_MIN_TEXT` cells) then goes, then the stage, then the error type; the item id always
    stays, whole."""
    summary = snapshot.error_summary
    recent = summary.failed_items[-RECENT_ERRORS:]
    return _TablePart(
        f"Recent errors ({summary.total_failed:,} failed)",
        [
            Column("item", _texts([str(f.item_id) for f in recent]), fold=True),
            Column("stage", _texts([f.stage for f in recent]), drop=2),
            Column("error", _texts([f.error_type for f in recent], "red"), drop=3),
            Column("message", _texts([str(f.error) for f in recent]), drop=1, shrink_to=_MIN_TEXT),
        ],
        kept=True,
    )


#: The fewest cells a free text (a task's status, an error message) is shortened to before its
#: column is dropped instead.
_MIN_TEXT = 12
