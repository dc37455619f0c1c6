"""AsyncExecutor's ways to collect results: map (input order), as_completed (completion order),
and wait with FIRST_COMPLETED, FIRST_EXCEPTION and ALL_COMPLETED.

Run: ``python examples/executor_strategies.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
import time

import anyio

from antflow import AsyncExecutor, WaitStrategy


async def process(x: int) -> str:
    await anyio.sleep(0.3 if x == 0 else 0.05)  # item 0 is the slow one
    return f"Result-{x}"


async def maybe_fail(x: int) -> int:
    await anyio.sleep(0.02 * x)
    if x == 2:
        raise ValueError("item 2 failed")
    return x


async def main() -> None:
    async with AsyncExecutor(max_workers=5) as executor:
        start = time.perf_counter()
        results = await executor.map(process, range(5))
        print(f"map, input order, all at {time.perf_counter() - start:.2f} s: {results}")

        start = time.perf_counter()
        futures = [executor.submit(process, i) for i in range(5)]
        async for future in executor.as_completed(futures):
            print(f"as_completed at {time.perf_counter() - start:.2f} s: {await future.result()}")

        futures = [executor.submit(process, i) for i in range(5)]
        done, pending = await executor.wait(futures, return_when=WaitStrategy.FIRST_COMPLETED)
        print(f"FIRST_COMPLETED: {len(done)} done, {len(pending)} pending")
        done, pending = await executor.wait(futures, return_when=WaitStrategy.ALL_COMPLETED)
        print(f"ALL_COMPLETED: {len(done)} done, {len(pending)} pending")

        futures = [executor.submit(maybe_fail, i) for i in range(5)]
        done, pending = await executor.wait(futures, return_when=WaitStrategy.FIRST_EXCEPTION)
        errors = [f.exception() for f in done if f.exception() is not None]
        print(f"FIRST_EXCEPTION: {len(done)} done, {len(pending)} pending, raised {errors}")
        for future in pending:
            future.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
