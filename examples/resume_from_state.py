"""Resuming a failed workflow from its saved state: the first run fails at ``load``; after the
fix the second run reuses the cached results of ``extract`` and ``transform`` and runs ``load``
only. The state lives in a JSON file in a temporary directory.

Run: ``python examples/resume_from_state.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from flowkit import DAG, StateManager, task

calls: dict[str, int] = {"extract": 0, "transform": 0, "load": 0}
database_up = False


@task()
def extract() -> list[int]:
    calls["extract"] += 1
    return [1, 2, 3]


@task()
def transform(rows: list[int]) -> list[int]:
    calls["transform"] += 1
    return [r * 100 for r in rows]


@task()
def load(rows: list[int]) -> str:
    calls["load"] += 1
    if not database_up:
        raise ConnectionError("database is down")
    return f"loaded {rows}"


extract >> transform >> load


def main(backend: str) -> None:
    global database_up
    with tempfile.TemporaryDirectory() as directory:
        state = StateManager(storage_path=str(Path(directory) / "state.json"))
        try:
            DAG("nightly").run(state=state, backend=backend)
        except ConnectionError as exc:
            print(f"first run failed: {exc}")
        print("saved:", sorted(state.get_all()))

        database_up = True  # the fix
        reopened = StateManager(storage_path=str(Path(directory) / "state.json"))
        results = DAG("nightly").run(state=reopened, backend=backend)
        print("second run:", results["load"])
        print("calls per task over both runs:", calls)
        assert calls == {"extract": 1, "transform": 1, "load": 2}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        main(parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
