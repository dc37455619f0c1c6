"""A flowkit ETL workflow: extract (retried), transform, load, notify, linked with ``>>``.

Run: ``python examples/flowkit_etl.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

from flowkit import DAG, task

calls = {"extract": 0}
DATABASE: list[dict[str, object]] = []


@task(retries=3, delay=0.01)
def extract_from_api() -> list[dict[str, int]]:
    """Extract data from an API that times out on the first call."""
    calls["extract"] += 1
    time.sleep(0.02)
    if calls["extract"] == 1:
        raise ConnectionError("API timeout")
    return [{"id": i, "value": i * 10} for i in range(5)]


@task()
def transform_data(raw: list[dict[str, int]]) -> list[dict[str, object]]:
    """Clean and transform."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return [{"id": r["id"], "value": r["value"] * 2, "timestamp": now} for r in raw]


@task()
async def load_to_database(rows: list[dict[str, object]]) -> str:
    """An async task: runs on the event loop beside the threaded ones."""
    DATABASE.extend(rows)
    return f"Loaded {len(rows)} records"


@task()
def send_notification(result: str) -> str:
    return f"Notification sent: ETL completed, {result}"


extract_from_api >> transform_data >> load_to_database >> send_notification


def main(backend: str) -> None:
    dag = DAG("etl_pipeline", max_workers=2)
    print(dag.visualize())
    results = dag.run(backend=backend)
    print(f"extract was called {calls['extract']} times (one retry)")
    print("transform:", results["transform_data"][:2], "...")
    print(results["send_notification"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        main(parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
