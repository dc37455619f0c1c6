"""antflow's live displays on a three-stage pipeline that runs for a few seconds.

Some items are slow, some fail, and every task says what it is doing with ``set_task_status``,
so each part of the dashboard has something to show. Run it with one of::

    python examples/dashboard_levels.py --level compact
    python examples/dashboard_levels.py --level detailed --backend trio
    python examples/dashboard_levels.py --level full
    python examples/dashboard_levels.py --level progress

On a terminal the display redraws in place; piped (``| cat``) it prints plain lines instead.
"""

from __future__ import annotations

import argparse
import random
import sys

import anyio

from antflow import Pipeline, Stage, set_task_status

ITEMS = 120


class Flaky(Exception):
    """A record the parser cannot read."""


async def fetch(record: dict[str, float]) -> dict[str, float]:
    set_task_status(f"GET /records/{int(record['n'])}")
    await anyio.sleep(record["fetch"])  # a slow server now and then
    return record


async def parse(record: dict[str, float]) -> dict[str, float]:
    set_task_status("parsing JSON")
    await anyio.sleep(0.02)
    if record["broken"]:
        raise Flaky(f"record {int(record['n'])}: unexpected end of JSON at byte 812")
    set_task_status("validating schema")
    await anyio.sleep(0.01)
    return record


async def store(record: dict[str, float]) -> int:
    set_task_status("INSERT INTO records")
    await anyio.sleep(0.03)
    return int(record["n"])


def records(seed: int = 4) -> list[dict[str, float]]:
    rng = random.Random(seed)
    return [
        {
            "n": n,
            "fetch": rng.uniform(0.5, 0.9) if rng.random() < 0.06 else rng.uniform(0.02, 0.08),
            "broken": float(rng.random() < 0.07),
        }
        for n in range(ITEMS)
    ]


async def main(level: str) -> None:
    pipeline = Pipeline(
        stages=[
            Stage("Fetch", workers=6, tasks=[fetch], task_attempts=1),
            Stage("Parse", workers=3, tasks=[parse], task_attempts=1),
            Stage("Store", workers=2, tasks=[store], task_attempts=1),
        ]
    )
    if level == "progress":
        results = await pipeline.run(records(), progress=True, dashboard_update_interval=0.1)
    else:
        results = await pipeline.run(records(), dashboard=level, dashboard_update_interval=0.1)  # type: ignore[arg-type]
    summary = pipeline.get_error_summary()
    print(f"{len(results)} records stored, {summary.total_failed} failed: {summary.errors_by_type}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--level", choices=["compact", "detailed", "full", "progress"], default="full"
    )
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    try:
        anyio.run(main, args.level, backend=args.backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
