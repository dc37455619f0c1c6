"""Throttling one call inside a bigger pool: a semaphore shared by ``submit`` calls, and a
stage's ``task_concurrency_limits``. The highest concurrency seen never exceeds the limit.

Run: ``python examples/semaphore_throttling.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys

import anyio

from antflow import AsyncExecutor, Pipeline, Stage


class Gauge:
    """Counts calls running at once and remembers the peak."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def call(self, seconds: float) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await anyio.sleep(seconds)
        finally:
            self.now -= 1


async def main() -> None:
    api = Gauge()

    async def call_api(x: int) -> int:
        await api.call(0.02)  # the rate-limited API
        return x

    api_limit = anyio.Semaphore(5)
    async with AsyncExecutor(max_workers=50) as executor:
        futures = [executor.submit(call_api, i, semaphore=api_limit) for i in range(50)]
        results = [await f.result() for f in futures]
    print(f"executor: {len(results)} calls, 50 workers, at most {api.peak} at once (limit 5)")

    fetches = Gauge()

    async def fetch_data(x: int) -> int:
        await fetches.call(0.02)
        return x

    async def process_data(x: int) -> int:
        await anyio.sleep(0.001)
        return x * 2

    stage = Stage(
        "ETL",
        workers=20,
        tasks=[fetch_data, process_data],
        task_concurrency_limits={"fetch_data": 3},
    )
    processed = await Pipeline(stages=[stage]).run(range(30))
    print(
        f"pipeline: {len(processed)} items, 20 workers, "
        f"at most {fetches.peak} fetch_data calls at once (limit 3)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
