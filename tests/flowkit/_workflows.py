"""Small workflows shared by the flowkit tests."""

from __future__ import annotations

import anyio.lowlevel

from flowkit import Task, task


def etl_chain() -> list[Task]:
    """``extract >> transform >> load`` (a sync, a sync and an ``async def`` task), registered;
    a run returns ``{"extract": 2, "transform": 20, "load": "loaded 20"}``."""

    @task()
    def extract() -> int:
        return 2

    @task()
    def transform(x: int) -> int:
        return x * 10

    @task()
    async def load(x: int) -> str:
        await anyio.lowlevel.checkpoint()
        return f"loaded {x}"

    extract >> transform >> load
    return [extract, transform, load]
