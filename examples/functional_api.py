"""The Functional API: a graph with three inputs and two outputs, built by calling layers.

Each ``Layer(task)(*nodes)`` call adds a node; the task's parameters are named after the nodes
it takes. ``fetch_user`` fails once and is retried; ``flag_big_spender`` runs only when its
condition holds. ``summary()`` prints the graph as a table; the flow runs inside async code
with ``run_async`` and returns its two outputs as a tuple.

Run: ``python examples/functional_api.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import anyio

from flowkit import task
from flowkit.functional import FunctionalFlow, Layer

attempts = {"fetch_user": 0}


@task(retries=2, delay=0.01)
async def fetch_user() -> dict[str, Any]:
    attempts["fetch_user"] += 1
    await anyio.sleep(0.01)
    if attempts["fetch_user"] == 1:
        raise ConnectionError("user service timed out")
    return {"id": 123, "name": "Alice"}


@task()
def fetch_orders() -> list[float]:
    return [120.0, 35.5, 980.0]


@task()
async def fetch_recommendations() -> list[str]:
    await anyio.sleep(0.01)
    return ["bookA", "movieX"]


@task()
def build_profile(fetch_user: dict[str, Any], fetch_orders: list[float]) -> dict[str, Any]:
    return {"name": fetch_user["name"], "spent": sum(fetch_orders)}


@task()
def personalize(fetch_user: dict[str, Any], fetch_recommendations: list[str]) -> list[str]:
    return [f"{item} for #{fetch_user['id']}" for item in fetch_recommendations]


@task(when=lambda profile: profile["spent"] > 1000)
def flag_big_spender(build_profile: dict[str, Any]) -> str:
    return f"{build_profile['name']} spent {build_profile['spent']:.2f}"


@task()
def summarize(build_profile: dict[str, Any], personalize: list[str]) -> str:
    return f"{build_profile['name']}: {', '.join(personalize)}"


@task()
def log_activity(build_profile: dict[str, Any], flag_big_spender: str | None) -> str:
    return f"logged {build_profile['name']} (big spender: {flag_big_spender or 'no'})"


def build_flow() -> FunctionalFlow:
    user = Layer(fetch_user)()
    orders = Layer(fetch_orders)()
    recs = Layer(fetch_recommendations)()
    profile = Layer(build_profile)(user, orders)
    personalized = Layer(personalize)(user, recs)
    flagged = Layer(flag_big_spender)(profile)
    return FunctionalFlow(
        inputs=(user, orders, recs),
        outputs=(Layer(summarize)(profile, personalized), Layer(log_activity)(profile, flagged)),
        name="multi_head_pipeline",
        max_workers=4,
    )


async def main() -> None:
    flow = build_flow()
    flow.summary()
    summary, log = await flow.run_async()
    print("summary ->", summary)
    print("log     ->", log)
    print(f"fetch_user took {attempts['fetch_user']} attempts (one retry)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    backend = parser.parse_args().backend
    try:
        anyio.run(main, backend=backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
