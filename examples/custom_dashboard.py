"""A custom dashboard: any object with on_start, on_update and on_finish.

This one suits a log file or a chat channel more than a terminal: it reports each quarter of
the run once, the slowest worker at that moment, and a summary of the failures at the end. Its
``on_update`` is ``async def`` (it could post to a web hook); the other two are plain methods:
antflow accepts either. Run it with ``python examples/custom_dashboard.py [--backend trio]``.
"""

from __future__ import annotations

import argparse
import random
import sys

import anyio

from antflow import DashboardSnapshot, ErrorSummary, Pipeline, PipelineResult, Stage


class MilestoneDashboard:
    """Reports at 25%, 50%, 75% and the end (implements antflow.DashboardProtocol)."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.reported = 0

    def on_start(self, pipeline: Pipeline, total_items: int | None) -> None:
        self.total = total_items
        stages = " -> ".join(stage.name for stage in pipeline.stages)
        print(f"started {stages} with {total_items} items")

    async def on_update(self, snapshot: DashboardSnapshot) -> None:
        stats = snapshot.pipeline_stats
        if not self.total:
            return
        quarter = 4 * (stats.items_processed + stats.items_failed) // self.total
        if quarter <= self.reported or quarter >= 4:
            return
        self.reported = quarter
        busy = [s for s in snapshot.worker_states.values() if s.processing_since is not None]
        slowest = min(busy, key=lambda s: s.processing_since or 0.0, default=None)
        note = ""
        if slowest is not None and slowest.processing_since is not None:
            held = snapshot.timestamp - slowest.processing_since
            note = f"; {slowest.worker} has held item {slowest.current_item_id} for {held:.2f}s"
        print(f"{25 * quarter}%: {stats.items_processed} ok, {stats.items_failed} failed{note}")

    def on_finish(self, results: list[PipelineResult], summary: ErrorSummary) -> None:
        print(f"done: {len(results)} ok, {summary.total_failed} failed")
        for error_type, count in summary.errors_by_type.items():
            print(f"  {count} x {error_type}")


async def work(n: int) -> int:
    await anyio.sleep(0.4 if n % 17 == 0 else 0.02)
    if n % 11 == 5:
        raise ConnectionError(f"item {n}: connection reset")
    return n


async def main() -> None:
    pipeline = Pipeline(stages=[Stage("Work", workers=8, tasks=[work], task_attempts=1)])
    items = list(range(160))
    random.Random(1).shuffle(items)
    await pipeline.run(items, custom_dashboard=MilestoneDashboard(), dashboard_update_interval=0.05)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
