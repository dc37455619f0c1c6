"""The Keras-style Flow API: ``add``, ``branch``, ``merge``; each task receives the results of
earlier tasks through parameters named after them. Runs inside async code with ``run_async``.

Run: ``python examples/flow_api.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import anyio

from flowkit import Flow, task


@task()
async def fetch_user() -> dict[str, Any]:
    await anyio.sleep(0.01)
    return {"id": 1, "name": "Alice"}


@task()
async def fetch_orders(fetch_user: dict[str, Any]) -> list[str]:
    await anyio.sleep(0.02)
    return [f"order{i}-{fetch_user['id']}" for i in range(2)]


@task()
def fetch_recommendations(fetch_user: dict[str, Any]) -> list[str]:
    return ["item1", "item2"]


@task()
def combine(
    fetch_user: dict[str, Any], fetch_orders: list[str], fetch_recommendations: list[str]
) -> dict[str, Any]:
    return {"user": fetch_user, "orders": fetch_orders, "recommendations": fetch_recommendations}


async def main() -> None:
    pipeline = (
        Flow("user_pipeline", max_workers=5)
        .add(fetch_user)
        .branch(fetch_orders, fetch_recommendations)
        .merge(combine)
    )
    print(pipeline.visualize())
    results = await pipeline.run_async()
    print("combine ->", results["combine"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        anyio.run(main, backend=parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
