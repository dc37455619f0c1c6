"""Worker-level tracking: worker names, custom item ids, which worker took which item, the task
status a worker reports, and per-worker metrics after the run.

Run: ``python examples/worker_tracking.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import anyio

from antflow import Pipeline, Stage, StatusEvent, StatusTracker, set_task_status


async def download(user: dict[str, str]) -> dict[str, str]:
    set_task_status(f"downloading {user['name']}")  # shown as the worker's current task
    await anyio.sleep(0.02 if user["name"] != "Carol" else 0.08)
    return {**user, "avatar": f"{user['name'].lower()}.png"}


async def main() -> None:
    taken_by: dict[str, str] = {}

    async def on_status_change(event: StatusEvent) -> None:
        if event.status == "in_progress" and event.worker is not None:
            taken_by[event.item_id] = event.worker

    pipeline = Pipeline(
        stages=[Stage("Download", 3, [download])],
        status_tracker=StatusTracker(on_status_change=on_status_change),
    )
    print("workers:", pipeline.get_worker_names())
    names = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi"]
    items = [{"id": f"user_{i}", "value": {"name": name}} for i, name in enumerate(names)]

    async def watch() -> None:
        await anyio.sleep(0.01)
        for state in pipeline.get_worker_states().values():
            print(f"  {state.worker}: {state.status}, {state.current_task}")

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        results = await pipeline.run(items)
    print("results keep their ids:", [r.id for r in results][:3], "...")
    for item_id, worker in sorted(taken_by.items()):
        print(f"  {item_id} was processed by {worker}")
    print("items per worker:", dict(Counter(taken_by.values())))
    for name, metrics in pipeline.get_worker_metrics().items():
        print(
            f"  {name}: {metrics.items_processed} items, "
            f"average {metrics.avg_processing_time * 1000:.0f} ms"
        )


def is_ctrl_c(exc: BaseException) -> bool:
    """Ctrl-C, bare or wrapped in exception groups (trio raises it inside our task group)."""
    inner = getattr(exc, "exceptions", None)
    return isinstance(exc, KeyboardInterrupt) or (bool(inner) and all(map(is_ctrl_c, inner)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except BaseException as exc:
        if not is_ctrl_c(exc):
            raise
        sys.exit(130)  # Ctrl-C: stop quietly, with the usual status
