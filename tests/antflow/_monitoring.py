"""Consoles, tasks and snapshots shared by the monitoring tests."""

from __future__ import annotations

import io
import time
from typing import Any

import anyio
import anyio.lowlevel
from rich.console import Console

from antflow import (
    DashboardSnapshot,
    ErrorSummary,
    FailedItem,
    PipelineStats,
    Stage,
    WorkerMetrics,
    WorkerState,
)

#: Small enough that several updates happen while a test's run is held open by an Event.
FAST = 0.001


def terminal_console() -> Console:
    """A console that believes it is a terminal (so rich Live renders), recording its output."""
    return Console(file=io.StringIO(), record=True, width=100, force_terminal=True)


def pipe_console() -> Console:
    """A console writing to something that is not a terminal, like a CI log or a pipe."""
    return Console(file=io.StringIO(), width=100)


def render(renderable: object, width: int = 100) -> str:
    """``renderable`` as the text a console of ``width`` columns shows."""
    console = Console(file=io.StringIO(), record=True, width=width)
    console.print(renderable)
    return console.export_text()


def written(console: Console) -> str:
    """Everything written to the console's file, escape codes included."""
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


async def echo(x: Any) -> Any:
    await anyio.lowlevel.checkpoint()
    return x


async def fail_on_three(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    if x % 5 == 3:
        raise ValueError(f"item {x} is broken")
    return x


def two_stages() -> list[Stage]:
    return [
        Stage("Fetch", 3, [fail_on_three], task_attempts=1),
        Stage("Save", 2, [echo], task_attempts=1),
    ]


def sample_snapshot() -> DashboardSnapshot:
    """A hand-made snapshot of a two-stage run in progress, with one failure."""
    now = time.time()
    states = {
        "Fetch-W0": WorkerState("Fetch-W0", "Fetch", "busy", "item-7", "downloading", now - 2),
        "Fetch-W1": WorkerState("Fetch-W1", "Fetch", "idle"),
        "Save-W0": WorkerState("Save-W0", "Save", "busy", "item-3", None, now - 0.5),
    }
    metrics = {
        "Fetch-W0": WorkerMetrics("Fetch-W0", "Fetch", 3, 1, 2.0, now),
        "Fetch-W1": WorkerMetrics("Fetch-W1", "Fetch", 2, 0, 1.0, now),
        "Save-W0": WorkerMetrics("Save-W0", "Save", 4, 0, 0.4, now),
    }
    failure = FailedItem.of("item-5", "Fetch", "fetch", 1, TimeoutError("server gone"), 5, now)
    stats = PipelineStats(
        items_fed=9,
        items_processed=4,
        items_failed=1,
        items_in_flight=4,
        queue_sizes={"Fetch": 2, "Save": 0},
    )
    return DashboardSnapshot(states, metrics, stats, ErrorSummary.of([failure]), now)


def with_failure(item_id: object, message: str = "server gone") -> DashboardSnapshot:
    """:func:`sample_snapshot` with one failure: ``item_id``'s ``TimeoutError(message)``."""
    failure = FailedItem.of(item_id, "Fetch", "fetch", 1, TimeoutError(message), 5, time.time())
    snapshot = sample_snapshot()
    return DashboardSnapshot(
        snapshot.worker_states,
        snapshot.worker_metrics,
        snapshot.pipeline_stats,
        ErrorSummary.of([failure]),
        snapshot.timestamp,
    )
