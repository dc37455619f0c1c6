"""AsyncExecutor.map throughput against a hand-written anyio worker pool.

Workload: 100,000 calls of a no-op coroutine that passes one checkpoint, 10 workers, results in
input order. The baseline is the fastest pool one writes by hand on anyio: 10 workers on a memory
object stream, ``receive_nowait`` first and awaiting only on ``WouldBlock``, results written into
a preallocated list. It has no futures, no lazy input, no cancellation or error handling: the
honest upper limit for this work on anyio. Target: ours >= 0.6x its items/s on each backend.

Run: ``python -m benchmarks.executor_throughput [--backend asyncio|trio] [--repeats N]``
"""

from __future__ import annotations

import math

import anyio
import anyio.lowlevel
from anyio import EndOfStream, WouldBlock

from antflow import AsyncExecutor
from benchmarks._harness import arguments, backends, measure_rates, print_table

WORKERS = 10


async def noop(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x


async def hand_written_pool(n: int) -> int:
    send, receive = anyio.create_memory_object_stream[int](math.inf)
    results: list[int | None] = [None] * n

    async def worker() -> None:
        while True:
            try:
                i = receive.receive_nowait()
            except WouldBlock:
                try:
                    i = await receive.receive()
                except EndOfStream:
                    return
            except EndOfStream:
                return
            results[i] = await noop(i)

    async with anyio.create_task_group() as tg:
        for _ in range(WORKERS):
            tg.start_soon(worker)
        for i in range(n):
            send.send_nowait(i)
        send.close()
    assert results[-1] == n - 1
    return n


async def executor_map(n: int) -> int:
    async with AsyncExecutor(max_workers=WORKERS) as executor:
        results = await executor.map(noop, range(n))
    assert len(results) == n
    assert results[-1] == n - 1
    return n


def main() -> None:
    args = arguments(__doc__ or "")
    n = 10_000 if args.quick else 100_000
    for backend in backends(args.backend):
        rows = measure_rates(
            backend,
            {
                "hand-written anyio pool": lambda: hand_written_pool(n),
                "AsyncExecutor.map": lambda: executor_map(n),
            },
            args.repeats,
        )
        print_table(
            f"map over {n:,} no-op coroutines, {WORKERS} workers",
            backend,
            rows,
            baseline="hand-written anyio pool",
        )


if __name__ == "__main__":
    main()
