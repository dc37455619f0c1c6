"""Makespan with heavy-tailed durations: chunked gather vs a hand-written pool vs the pipeline.

Workload: 1,000 items, 10 workers. Durations are heavy-tailed: most items take 2-5 ms, one in
fifty takes 100 ms (seeded, the same in every run). Chunked gather processes 10 at a time and
waits for the slowest of each chunk; the hand-written anyio pool (10 workers on a memory object
stream) and the pipeline let each worker take the next item at once.
Targets: pipeline within 5% of the pool's makespan, and >= 3x faster than chunked gather.

Figures are items per second (higher is better; makespan = 1000 / rate).

Run: ``python -m benchmarks.makespan [--backend asyncio|trio] [--repeats N]``
"""

from __future__ import annotations

import math
import random

import anyio
from anyio import EndOfStream

from antflow import Pipeline, Stage
from benchmarks._harness import arguments, backends, measure_rates, print_table

WORKERS = 10


def durations(n: int) -> list[float]:
    rng = random.Random(42)
    return [0.1 if rng.random() < 0.02 else rng.uniform(0.002, 0.005) for _ in range(n)]


async def work(seconds: float) -> float:
    await anyio.sleep(seconds)
    return seconds


async def chunked_gather(items: list[float]) -> int:
    for start in range(0, len(items), WORKERS):
        async with anyio.create_task_group() as tg:
            for seconds in items[start : start + WORKERS]:
                tg.start_soon(work, seconds)
    return len(items)


async def hand_written_pool(items: list[float]) -> int:
    send, receive = anyio.create_memory_object_stream[float](math.inf)

    async def worker() -> None:
        while True:
            try:
                seconds = await receive.receive()
            except EndOfStream:
                return
            await work(seconds)

    async with anyio.create_task_group() as tg:
        for _ in range(WORKERS):
            tg.start_soon(worker)
        for seconds in items:
            send.send_nowait(seconds)
        send.close()
    return len(items)


async def antflow_pipeline(items: list[float]) -> int:
    results = await Pipeline(stages=[Stage("Work", WORKERS, [work])]).run(items)
    assert len(results) == len(items)
    return len(items)


def main() -> None:
    args = arguments(__doc__ or "", repeats=3)
    items = durations(100 if args.quick else 1_000)
    for backend in backends(args.backend):
        rows = measure_rates(
            backend,
            {
                "chunked gather (10 at a time)": lambda: chunked_gather(items),
                "hand-written anyio pool": lambda: hand_written_pool(items),
                "antflow Pipeline.run": lambda: antflow_pipeline(items),
            },
            args.repeats,
        )
        print_table(
            f"{len(items):,} heavy-tailed items, {WORKERS} workers (items/s)",
            backend,
            rows,
            baseline="hand-written anyio pool",
        )


if __name__ == "__main__":
    main()
