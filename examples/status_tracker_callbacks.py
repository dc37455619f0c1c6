"""StatusTracker: status-change and task-event callbacks as items flow, then queries of the
tracker: counts, one item's history, the failures.

Run: ``python examples/status_tracker_callbacks.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys

import anyio

from antflow import Pipeline, Stage, StatusEvent, StatusTracker, TaskEvent

attempts: dict[int, int] = {}


async def fetch(x: int) -> int:
    attempts[x] = attempts.get(x, 0) + 1
    await anyio.sleep(0.005)
    if x == 3 and attempts[x] == 1:
        raise ConnectionError("flaky network")  # retried once, then fine
    if x == 5:
        raise ValueError("item 5 is invalid")  # fails every attempt
    return x * 10


async def save(x: int) -> int:
    await anyio.sleep(0.005)
    return x


async def on_status_change(event: StatusEvent) -> None:
    if event.status == "failed":
        error = f"{event.metadata['error_type']}: {event.metadata['error']}"
        print(f"  FAILED    item {event.item_id} @ {event.stage}: {error}")
    elif event.status == "completed" and event.stage == "Save":
        print(f"  completed item {event.item_id} by {event.worker}")


async def on_task_retry(event: TaskEvent) -> None:
    print(f"  retry     {event.task_name} for item {event.item_id}, attempt {event.attempt} failed")


async def on_task_fail(event: TaskEvent) -> None:
    print(f"  gave up   {event.task_name} for item {event.item_id} after {event.attempt} attempts")


async def main() -> None:
    tracker = StatusTracker(
        on_status_change=on_status_change, on_task_retry=on_task_retry, on_task_fail=on_task_fail
    )
    pipeline = Pipeline(
        stages=[
            Stage("Fetch", 3, [fetch], task_attempts=2, task_wait_seconds=0.01),
            Stage("Save", 2, [save]),
        ],
        status_tracker=tracker,
    )
    print("events:")
    await pipeline.run(range(8))
    print("counts by latest status:", tracker.get_stats())
    print("history of item 3:", [(e.stage, e.status) for e in tracker.get_history(3)])
    summary = tracker.get_error_summary()
    print(f"failed: {summary.total_failed}, by type: {summary.errors_by_type}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
