"""Shared helpers for the benchmark scripts: repeated timing and a ratio table.

Every benchmark measures ours and its baseline in the same process, interleaved repeat by repeat,
so that drift of the machine hits both alike; the figure that matters is the ratio.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

BACKENDS = ("asyncio", "trio")

#: When set, every table row is also appended as one JSON object per line to the file it names:
#: ``python -m benchmarks`` reads them back to build its report.
RECORD_ENV = "ANTFLOW_BENCH_RECORD"


def record(
    workload: str,
    backend: str,
    name: str,
    values: list[float],
    unit: str,
    baseline: str,
    baseline_median: float,
    higher_is_better: bool = True,
) -> None:
    """Hand one contender's figures to ``python -m benchmarks`` (does nothing when run alone)."""
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    row = {
        "workload": workload,
        "backend": backend,
        "name": name,
        "unit": unit,
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "baseline": baseline,
        "baseline_median": baseline_median,
        "higher_is_better": higher_is_better,
    }
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(row) + "\n")


@dataclass
class Measurement:
    """Rates (items per second) of one contender over the repeats."""

    name: str
    rates: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    def spread(self) -> str:
        return f"{min(self.rates):>10,.0f} {self.median:>10,.0f} {max(self.rates):>10,.0f}"


def arguments(description: str, repeats: int = 5) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--quick", action="store_true", help="a tenth of the work, for smoke runs")
    return parser.parse_args()


def backends(chosen: str) -> tuple[str, ...]:
    return BACKENDS if chosen == "all" else (chosen,)


def measure_rates(
    backend: str,
    contenders: dict[str, Callable[[], Awaitable[int]]],
    repeats: int,
) -> list[Measurement]:
    """Run each contender ``repeats`` times, interleaved, each in a fresh event loop.

    A contender returns how many items it processed; the rate is items per wall second. The
    order rotates by one each repeat, so that no contender always runs first or last (with as
    many repeats as contenders, each takes every place once), and garbage left by one run is
    collected before the next starts, outside the timing.
    """
    results = {name: Measurement(name) for name in contenders}
    order = list(contenders.items())
    for repeat in range(repeats):
        shift = repeat % len(order)
        for name, run in order[shift:] + order[:shift]:
            gc.collect()
            items = 0

            async def timed(run: Callable[[], Awaitable[int]] = run) -> None:
                nonlocal items
                items = await run()

            start = time.perf_counter()
            anyio.run(timed, backend=backend)
            results[name].rates.append(items / (time.perf_counter() - start))
    return list(results.values())


def print_table(title: str, backend: str, rows: list[Measurement], baseline: str) -> None:
    base = next(r for r in rows if r.name == baseline).median
    print(
        f"\n{title} [{backend}] on {platform.python_implementation()} {platform.python_version()}"
    )
    print(f"{'':34} {'min/s':>10} {'median/s':>10} {'max/s':>10} {'vs ' + baseline:>18}")
    for row in rows:
        print(f"{row.name:34} {row.spread()} {row.median / base:>17.2f}x")
        unit = "nodes/s" if "nodes/s" in title else "items/s"
        record(title, backend, row.name, row.rates, unit, baseline, base)
