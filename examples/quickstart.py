"""The slowest-task bottleneck, shown in a few seconds.

A heavy-tailed workload (most items take ~20 ms, one in twenty takes ~250 ms) is processed twice
with 10 concurrent slots:

1. chunked gather: start 10 items, wait for all 10, start the next 10 (the usual batching);
2. antflow: 10 workers, each picking up the next item the moment it finishes one.

Both get exactly the same items. Run it with ``python examples/quickstart.py`` (asyncio) or
``python examples/quickstart.py --backend trio``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from antflow import AsyncExecutor

WORKERS = 10
ITEMS = 150


def heavy_tailed_durations(n: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [
        rng.uniform(0.2, 0.3) if rng.random() < 0.05 else rng.uniform(0.01, 0.03) for _ in range(n)
    ]


async def process(duration: float) -> float:
    await anyio.sleep(duration)  # stands for an API call, a query, a file operation ...
    return duration


async def chunked_gather(durations: list[float], progress: Progress) -> float:
    task = progress.add_task("chunked gather", total=len(durations))
    start = time.perf_counter()
    for i in range(0, len(durations), WORKERS):
        async with anyio.create_task_group() as tg:  # the trio/anyio spelling of gather()
            for duration in durations[i : i + WORKERS]:
                tg.start_soon(process, duration)
        progress.advance(task, len(durations[i : i + WORKERS]))
    return time.perf_counter() - start


async def with_antflow(durations: list[float], progress: Progress) -> float:
    task = progress.add_task("antflow", total=len(durations))
    start = time.perf_counter()
    async with AsyncExecutor(max_workers=WORKERS) as executor:
        futures = [executor.submit(process, d) for d in durations]
        async for _ in executor.as_completed(futures):
            progress.advance(task)
    return time.perf_counter() - start


async def main(console: Console) -> None:
    durations = heavy_tailed_durations(ITEMS)
    slow = sum(d > 0.1 for d in durations)
    console.print(
        f"{ITEMS} items, {slow} of them slow (~250 ms), the rest ~20 ms; {WORKERS} at a time.\n"
    )
    columns = (
        TextColumn("{task.description:>15}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        gather_time = await chunked_gather(durations, progress)
        antflow_time = await with_antflow(durations, progress)
    table = Table(title="Same items, same concurrency")
    table.add_column("approach")
    table.add_column("seconds", justify="right")
    table.add_row("chunked gather", f"{gather_time:.2f}")
    table.add_row("antflow", f"{antflow_time:.2f}")
    console.print(table)
    console.print(f"antflow finished {gather_time / antflow_time:.1f}x sooner.")


def is_ctrl_c(exc: BaseException) -> bool:
    """Ctrl-C, bare or wrapped in exception groups (trio raises it inside our task group)."""
    inner = getattr(exc, "exceptions", None)
    return isinstance(exc, KeyboardInterrupt) or (bool(inner) and all(map(is_ctrl_c, inner)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    backend = parser.parse_args().backend
    console = Console()
    try:
        anyio.run(main, console, backend=backend)
    except BaseException as exc:
        if not is_ctrl_c(exc):
            raise
        sys.exit(130)  # Ctrl-C: stop quietly, with the usual status
