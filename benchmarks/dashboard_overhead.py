"""Pipeline.run throughput with each display on, against the same run with none.

Workload: 100,000 items through a no-op coroutine that passes one checkpoint, 3 stages of 10
workers, as in ``pipeline_throughput``. The displays draw on a rich Console writing to the null
device with ``force_terminal=True``, so rich ``Live`` really renders every update (at the
default ``dashboard_update_interval`` of 0.5 s); nothing reaches a screen, so what is measured is
the cost of sampling and rendering, not of a terminal. Target: with any display on, the run's
items/s stays >= 0.9x the run without one, on each backend.

Run: ``python -m benchmarks.dashboard_overhead [--backend asyncio|trio] [--repeats N]``
"""

from __future__ import annotations

import os
from typing import Any

import anyio.lowlevel
from rich.console import Console

from antflow import Pipeline, Stage
from benchmarks._harness import arguments, backends, measure_rates, print_table

WORKERS = 10
STAGES = 3
DISPLAYS: dict[str, dict[str, Any]] = {
    "no display": {},
    "progress=True": {"progress": True},
    "dashboard='compact'": {"dashboard": "compact"},
    "dashboard='detailed'": {"dashboard": "detailed"},
    "dashboard='full'": {"dashboard": "full"},
}


async def noop(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x


async def run_with(n: int, options: dict[str, Any], console: Console) -> int:
    pipeline = Pipeline(stages=[Stage(f"S{i}", WORKERS, [noop]) for i in range(STAGES)])
    if options:
        options = {**options, "console": console}
    results = await pipeline.run(range(n), **options)
    assert len(results) == n
    return n


def main() -> None:
    args = arguments(__doc__ or "")
    n = 10_000 if args.quick else 100_000
    with open(os.devnull, "w") as null:
        console = Console(file=null, force_terminal=True, width=120)
        for backend in backends(args.backend):
            rows = measure_rates(
                backend,
                {
                    name: lambda options=options: run_with(n, options, console)
                    for name, options in DISPLAYS.items()
                },
                args.repeats,
            )
            print_table(
                f"{n:,} no-op items, {STAGES} stages x {WORKERS} workers, display on /dev/null",
                backend,
                rows,
                baseline="no display",
            )


if __name__ == "__main__":
    main()
