"""Streaming: results as they complete from ``Pipeline.stream()`` and ``map_iter()``, an async
generator as input, and an early exit that shuts the workers down at once.

Run: ``python examples/streaming_results.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator

import anyio

from antflow import AsyncExecutor, Pipeline, Stage


async def readings(n: int) -> AsyncIterator[int]:
    for i in range(n):
        await anyio.sleep(0.002)  # a sensor, a queue, a paginated API ...
        yield i


async def measure(x: int) -> int:
    await anyio.sleep(0.05 if x % 4 == 0 else 0.01)
    return x * x


async def main() -> None:
    pipeline = Pipeline(stages=[Stage("Measure", 4, [measure])])
    order = []
    async for result in pipeline.stream(readings(12)):
        order.append(result.id)
    print("stream(), completion order:", order)

    async with contextlib.aclosing(pipeline.stream(readings(1_000))) as results:
        async for result in results:
            if result.value > 50:
                print(f"stream(): item {result.id} gave {result.value}, stopping early")
                break
    print(f"  fed {pipeline.get_stats().items_fed} of 1,000 readings before the stop")

    async with AsyncExecutor(max_workers=4) as executor:
        squares = executor.map_iter(measure, range(8))
        print("map_iter(), input order:", [s async for s in squares])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
