"""The built-in dashboards, compact, detailed and full: pure functions snapshot -> rich renderable.

* compact: one panel with the progress bar, the rate, the ETA and the succeeded / failed /
  in-flight counts;
* detailed: adds a row per stage (queue size, workers busy and idle, done, failed, mean time);
* full: adds a row per worker (state, current item, current task, for how long) and the most
  recent errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ._progress import RunView, completed, finished_count, format_duration, render_progress
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
    return _panel(snapshot, view, [])


def render_detailed(snapshot: DashboardSnapshot, view: RunView) -> RenderableType:
    """The compact panel plus a table with a row per stage."""
    return _panel(snapshot, view, [_stage_table(snapshot)])


def render_full(
    snapshot: DashboardSnapshot, view: RunView, *, max_rows: int = MAX_WORKER_ROWS
) -> RenderableType:
    """The detailed panel plus a row per worker (at most ``max_rows``) and the most recent
    errors."""
    parts: list[RenderableType] = [_stage_table(snapshot), _worker_table(snapshot, max_rows)]
    if snapshot.error_summary.failed_items:
        parts.append(_error_table(snapshot))
    return _panel(snapshot, view, parts)


#: The renderer of each level of :data:`~antflow._display_protocol.LEVELS`.
RENDERERS: dict[str, Callable[[DashboardSnapshot, RunView], RenderableType]] = {
    "compact": render_compact,
    "detailed": render_detailed,
    "full": render_full,
}


def _panel(
    snapshot: DashboardSnapshot, view: RunView, parts: list[RenderableType]
) -> RenderableType:
    stats = snapshot.pipeline_stats
    counts = Text()
    counts.append(f"succeeded {stats.items_processed:,}", style="green")
    counts.append("  ")
    counts.append(f"failed {stats.items_failed:,}", style="bold red" if stats.items_failed else "")
    counts.append(f"  in flight {stats.items_in_flight:,}")
    if view.total is None:
        counts.append(f"  fed {stats.items_fed:,} (total unknown)", style="dim")
    status = "running"
    if view.finished:
        status = "finished" if completed(snapshot, view) else "stopped"
    return Panel(
        Group(render_progress(snapshot, view), counts, *parts),
        title=f"antflow · {status}",
        title_align="left",
        subtitle=f"{finished_count(snapshot):,} done",
        subtitle_align="right",
        box=box.ROUNDED,
    )


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, expand=False)


def _stage_table(snapshot: DashboardSnapshot) -> Table:
    table = _table("Stages")
    for header in ("stage", "queue", "busy", "idle", "done", "failed", "mean time"):
        table.add_column(header, justify="left" if header == "stage" else "right", no_wrap=True)
    for row in stage_rows(snapshot):
        table.add_row(
            row.name,
            f"{row.queued:,}",
            str(row.busy),
            str(row.idle),
            f"{row.done:,}",
            Text(f"{row.failed:,}", style="red" if row.failed else ""),
            _seconds(row.mean_time) if row.done + row.failed else "-",
        )
    return table


def _shown_workers(snapshot: DashboardSnapshot, max_rows: int) -> tuple[list[WorkerState], int]:
    states = list(snapshot.worker_states.values())
    if len(states) <= max_rows:
        return states, 0
    busy = [s for s in states if s.status == "busy"]
    busy.sort(key=lambda s: s.processing_since or snapshot.timestamp)
    shown = busy[:max_rows]
    return shown, len(states) - len(shown)


def _worker_table(snapshot: DashboardSnapshot, max_rows: int) -> Table:
    table = _table("Workers")
    table.add_column("worker", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("item", no_wrap=True, overflow="ellipsis", max_width=16)
    table.add_column("task", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("for", justify="right", no_wrap=True)
    shown, hidden = _shown_workers(snapshot, max_rows)
    for state in shown:
        busy = state.status == "busy"
        since = state.processing_since
        table.add_row(
            state.worker_name,
            Text(state.status, style="yellow" if busy else "dim"),
            str(state.current_item_id) if busy else "",
            (state.current_task or "") if busy else "",
            _seconds(snapshot.timestamp - since) if busy and since is not None else "",
        )
    if hidden:
        table.add_row(Text(f"... {hidden} more (not busy or busy for less long)", style="dim"))
    return table


def _error_table(snapshot: DashboardSnapshot) -> Table:
    summary = snapshot.error_summary
    table = _table(f"Recent errors ({summary.total_failed:,} failed)")
    recent = summary.failed_items[-RECENT_ERRORS:]
    # The message gives way first on a narrow console: the other columns keep their width.
    table.add_column("item", no_wrap=True, overflow="ellipsis", max_width=16)
    table.add_column("stage", no_wrap=True, min_width=max(len(f.stage) for f in recent))
    table.add_column(
        "error", no_wrap=True, style="red", min_width=max(len(f.error_type) for f in recent)
    )
    table.add_column("message", overflow="ellipsis", no_wrap=True, max_width=60)
    for failure in recent:
        table.add_row(str(failure.item_id), failure.stage, failure.error_type, str(failure.error))
    return table


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 0.0):.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    return format_duration(seconds)
