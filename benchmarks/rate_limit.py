"""The stage's call rate: does it hold, and what does an unreachable one cost?

1. **Accuracy.** A stage of 20 workers whose task does ``async with rate_limit():`` with
   ``call_rate=1000, call_rate_period=1.0``, fed ``1000 + 1000 * 10`` items. Every admission is
   time-stamped. The bucket admits its burst of 1,000 at once (by design: a leaky bucket of
   capacity ``call_rate``), so the rate is measured on the *steady* part, from the 1,000th
   admission to the last: 10,000 admissions that should take 10 s. The overall figure
   (burst included) is printed beside it, to show how much the burst weighs. A second
   configuration, ``call_rate=10, call_rate_period=0.01`` (the same 1,000/s, a burst of 10),
   is measured over the whole run, burst included. Target: within 2% of 1,000/s on each backend.
2. **Overhead.** 100,000 items through 10 workers whose task passes one checkpoint (a stand-in
   for the awaited API call): inside ``async with rate_limit():`` with an unreachable
   ``call_rate=10**9`` per second, against the same task without ``rate_limit()`` and no limit
   configured, interleaved in the same run. Target: ours >= 0.95x the baseline's items/s.
   Beside them, the same task inside ``async with contextlib.nullcontext():`` shows what any
   ``async with`` costs on this no-op call (the floor for a limit used that way), and
   ``concurrency_limit()`` with an unreachable cap is shown for information.

Run: ``python -m benchmarks.rate_limit [--backend asyncio|trio] [--repeats N] [--quick]``
(``--quick``: a 1 s accuracy run and 10,000 items).
"""

from __future__ import annotations

import contextlib
import statistics
import time
from typing import Any

import anyio
import anyio.lowlevel

from antflow import Pipeline, Stage
from antflow.context import concurrency_limit, rate_limit
from benchmarks._harness import arguments, backends, measure_rates, print_table, record

#: An async context manager that does nothing: the floor any ``async with`` costs.
NOTHING = contextlib.nullcontext()

RATE = 1000.0  # calls per second, in both accuracy configurations
ACCURACY_WORKERS = 20
OVERHEAD_WORKERS = 10


async def admissions(call_rate: float, period: float, items: int) -> list[float]:
    """The time of every admission into rate_limit(), in order."""
    stamps: list[float] = []
    clock = time.perf_counter

    async def call(x: int) -> int:
        async with rate_limit():
            stamps.append(clock())
        await anyio.lowlevel.checkpoint()
        return x

    stage = Stage("Call", ACCURACY_WORKERS, [call], call_rate=call_rate, call_rate_period=period)
    await Pipeline(stages=[stage], collect_results=False).run(range(items))
    assert len(stamps) == items
    return stamps


def accuracy(backend: str, seconds: int, repeats: int) -> None:
    print(f"\ncall_rate accuracy over {seconds} s, target {RATE:,.0f}/s [{backend}]")
    rows: dict[str, list[float]] = {
        "call_rate=1000, period=1 (steady part)": [],
        "call_rate=1000, period=1 (burst included)": [],
        "call_rate=10, period=0.01 (burst included)": [],
    }
    burst = int(RATE)
    for _ in range(repeats):
        stamps: list[float] = []

        async def big(out: list[float] = stamps) -> None:
            out.extend(await admissions(RATE, 1.0, burst + int(RATE) * seconds))

        anyio.run(big, backend=backend)
        steady = len(stamps) - burst
        rows["call_rate=1000, period=1 (steady part)"].append(
            steady / (stamps[-1] - stamps[burst - 1])
        )
        rows["call_rate=1000, period=1 (burst included)"].append(
            (len(stamps) - 1) / (stamps[-1] - stamps[0])
        )
        small: list[float] = []

        async def little(out: list[float] = small) -> None:
            out.extend(await admissions(10.0, 0.01, int(RATE) * seconds))

        anyio.run(little, backend=backend)
        rows["call_rate=10, period=0.01 (burst included)"].append(
            (len(small) - 1) / (small[-1] - small[0])
        )
    print(f"{'':44} {'min/s':>9} {'median/s':>9} {'max/s':>9} {'median vs target':>17}")
    for name, rates in rows.items():
        median = statistics.median(rates)
        print(
            f"{name:44} {min(rates):>9,.1f} {median:>9,.1f} {max(rates):>9,.1f} "
            f"{median / RATE - 1:>+16.2%}"
        )
        record("call_rate accuracy", backend, name, rates, "calls/s", "target", RATE)


async def plain(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x


async def empty_async_with(x: int) -> int:
    async with NOTHING:
        await anyio.lowlevel.checkpoint()
    return x


async def rate_limited(x: int) -> int:
    async with rate_limit():
        await anyio.lowlevel.checkpoint()
    return x


async def concurrency_limited(x: int) -> int:
    async with concurrency_limit():
        await anyio.lowlevel.checkpoint()
    return x


async def run_stage(n: int, task: Any, **limits: Any) -> int:
    stage = Stage("Call", OVERHEAD_WORKERS, [task], **limits)
    results = await Pipeline(stages=[stage]).run(range(n))
    assert len(results) == n
    return n


def main() -> None:
    args = arguments(__doc__ or "", repeats=3)
    seconds = 1 if args.quick else 10
    n = 10_000 if args.quick else 100_000
    for backend in backends(args.backend):
        accuracy(backend, seconds, args.repeats)
        rows = measure_rates(
            backend,
            {
                "no limit": lambda: run_stage(n, plain),
                "async with nullcontext() (the floor)": lambda: run_stage(n, empty_async_with),
                "rate_limit(), call_rate=10**9/s": lambda: run_stage(
                    n, rate_limited, call_rate=10**9, call_rate_period=1.0
                ),
                "concurrency_limit(), 10**6": lambda: run_stage(
                    n, concurrency_limited, call_concurrency=10**6
                ),
            },
            max(args.repeats, 9),
        )
        print_table(
            f"{n:,} items, {OVERHEAD_WORKERS} workers, an unreachable limit",
            backend,
            rows,
            baseline="no limit",
        )


if __name__ == "__main__":
    main()
