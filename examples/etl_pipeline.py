"""A three-stage ETL pipeline: extract with per-task retries, a transactional transform with
per-stage retries, and a load stage; flaky calls are retried, one bad record fails for good.

Run: ``python examples/etl_pipeline.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import random
import sys

import anyio

from antflow import Pipeline, Stage


class ETLProcessor:
    def __init__(self) -> None:
        self.rng = random.Random(3)
        self.saved: list[int] = []

    async def extract(self, item_id: int) -> dict[str, object]:
        await anyio.sleep(self.rng.uniform(0.005, 0.02))  # an API call
        if self.rng.random() < 0.2:
            raise ConnectionError(f"timeout fetching {item_id}")  # transient: retried
        return {"id": item_id, "data": f"raw_{item_id}"}

    async def validate(self, record: dict[str, object]) -> dict[str, object]:
        if record["id"] == 13:
            raise ValueError("record 13 is corrupt")  # permanent: fails after 2 runs
        return record

    async def transform(self, record: dict[str, object]) -> dict[str, object]:
        return {**record, "processed": str(record["data"]).upper()}

    async def load(self, record: dict[str, object]) -> dict[str, object]:
        await anyio.sleep(0.01)  # a database write
        self.saved.append(int(str(record["id"])))
        return {**record, "saved": True}


async def main() -> None:
    etl = ETLProcessor()
    pipeline = Pipeline(
        stages=[
            Stage("Extract", 10, [etl.extract], task_attempts=5, task_wait_seconds=0.01),
            Stage(
                "Transform",
                5,
                [etl.validate, etl.transform],
                retry="per_stage",
                stage_attempts=2,
                task_wait_seconds=0.01,
            ),
            Stage("Load", 3, [etl.load], task_attempts=5, task_wait_seconds=0.01),
        ]
    )
    results = await pipeline.run(range(40))
    stats = pipeline.get_stats()
    print(f"loaded {len(results)} of {stats.items_fed} records ({stats.items_failed} failed)")
    print("first result:", results[0].value)
    for failure in pipeline.get_error_summary().failed_items:
        print(
            f"item {failure.item_id} failed in {failure.stage} at {failure.task} "
            f"after {failure.attempts} runs: {failure.error_type}: {failure.error}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
