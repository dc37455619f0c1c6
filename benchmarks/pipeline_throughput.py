"""Pipeline.run throughput against a hand-written anyio pipeline, 1 stage and 3 stages.

Workload: 100,000 items through a no-op coroutine that passes one checkpoint, 10 workers a stage,
results in input order. The baseline is the pipeline one writes by hand on anyio: per stage 10
workers on a bounded memory object stream (capacity 64, our default for 10 workers), the
``*_nowait`` fast path first, the last stage writing into a preallocated list. It has no ids,
no retries, no tracking, no error handling: the honest upper limit for this work on anyio.
Target: ours >= 0.6x its items/s on each backend.

Run: ``python -m benchmarks.pipeline_throughput [--backend asyncio|trio] [--repeats N]``
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
from anyio import EndOfStream, WouldBlock

from antflow import Pipeline, Stage
from benchmarks._harness import arguments, backends, measure_rates, print_table

WORKERS = 10
CAPACITY = 64


async def noop(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x


async def hand_written_pipeline(n: int, n_stages: int) -> int:
    streams = [anyio.create_memory_object_stream[Any](CAPACITY) for _ in range(n_stages)]
    results: list[int | None] = [None] * n

    async def worker(index: int) -> None:
        receive = streams[index][1]
        out = streams[index + 1][0] if index + 1 < n_stages else None
        while True:
            try:
                i, value = receive.receive_nowait()
            except WouldBlock:
                try:
                    i, value = await receive.receive()
                except EndOfStream:
                    return
            except EndOfStream:
                return
            value = await noop(value)
            if out is None:
                results[i] = value
            else:
                try:
                    out.send_nowait((i, value))
                except WouldBlock:
                    await out.send((i, value))

    async def stage(index: int) -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(WORKERS):
                tg.start_soon(worker, index)
        if index + 1 < n_stages:
            streams[index + 1][0].close()

    async with anyio.create_task_group() as tg:
        for index in range(n_stages):
            tg.start_soon(stage, index)
        send = streams[0][0]
        for i in range(n):
            try:
                send.send_nowait((i, i))
            except WouldBlock:
                await send.send((i, i))
        send.close()
    assert results[-1] == n - 1
    return n


async def antflow_pipeline(n: int, n_stages: int) -> int:
    pipeline = Pipeline(stages=[Stage(f"S{i}", WORKERS, [noop]) for i in range(n_stages)])
    results = await pipeline.run(range(n))
    assert len(results) == n
    assert results[-1].value == n - 1
    return n


def main() -> None:
    args = arguments(__doc__ or "")
    n = 10_000 if args.quick else 100_000
    for backend in backends(args.backend):
        for n_stages in (1, 3):
            rows = measure_rates(
                backend,
                {
                    "hand-written anyio pipeline": lambda s=n_stages: hand_written_pipeline(n, s),
                    "antflow Pipeline.run": lambda s=n_stages: antflow_pipeline(n, s),
                },
                args.repeats,
            )
            print_table(
                f"{n:,} no-op items, {n_stages} stage(s) x {WORKERS} workers",
                backend,
                rows,
                baseline="hand-written anyio pipeline",
            )


if __name__ == "__main__":
    main()
