"""Peak memory of Pipeline.stream() over 1,000,000 items vs 10,000 items.

Each run is a fresh subprocess: an async generator yields N items into
``Pipeline(..., collect_results=False).stream(...)`` (2 stages x 10 workers, no-op tasks) and
the consumer counts the results. The figure is the peak RSS (``ru_maxrss``) of the 1,000,000
item run minus that of the 10,000 item run. Target: at most 30 MiB.

Run: ``python -m benchmarks.stream_memory [--backend asyncio|trio] [--quick]`` (``--quick``:
100,000 items instead of 1,000,000).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel

from antflow import Pipeline, Stage
from benchmarks._harness import BACKENDS, record

WORKERS = 10


async def noop(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def consume(n: int) -> None:
    pipeline = Pipeline(
        stages=[Stage("A", WORKERS, [noop]), Stage("B", WORKERS, [noop])],
        collect_results=False,
    )
    count = 0
    async for _ in pipeline.stream(numbers(n)):
        count += 1
    assert count == n, count


def peak_rss_mib(backend: str, n: int) -> float:
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.stream_memory", "--child", backend, str(n)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="100,000 items, for smoke runs")
    parser.add_argument("--child", nargs=2, metavar=("BACKEND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, n = args.child[0], int(args.child[1])
        anyio.run(consume, n, backend=backend)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux
        return
    n = 100_000 if args.quick else 1_000_000
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        small = peak_rss_mib(backend, 10_000)
        large = peak_rss_mib(backend, n)
        print(
            f"stream() peak RSS [{backend}]: 10,000 items {small:.1f} MiB, "
            f"{n:,} items {large:.1f} MiB, difference {large - small:+.1f} MiB "
            "(target <= 30 MiB)"
        )
        record(
            f"peak RSS, stream() of {n:,} items, 2 stages x 10 workers (MiB)",
            backend,
            "Pipeline.stream()",
            [large],
            "MiB",
            "the same over 10,000 items",
            small,
            higher_is_better=False,
        )


if __name__ == "__main__":
    main()
