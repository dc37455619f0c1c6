"""Conditional tasks: ``when=`` sends a large dataset to manual approval and a small one to
auto-approval; the skipped branch's result is ``None`` for ``load``.

Run: ``python examples/approval_workflow.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys

from flowkit import DAG, Task, task


def build(size: int) -> None:
    @task()
    def extract() -> int:
        return size

    @task()
    def transform(data_size: int) -> int:
        return data_size * 2

    @task(when=lambda x: x > 2000)
    def require_manual_approval(size: int) -> str:
        print(f"  large dataset ({size}): manual approval required")
        return "MANUAL_APPROVAL"

    @task(when=lambda x: x <= 2000)
    def auto_approve(size: int) -> str:
        print(f"  small dataset ({size}): auto-approved")
        return "AUTO_APPROVED"

    @task()
    def load(transform_result: int, manual: str | None = None, auto: str | None = None) -> str:
        approval = manual or auto
        return f"LOADED_{transform_result}_{approval}"

    extract >> transform
    transform >> [require_manual_approval, auto_approve]
    [transform, require_manual_approval, auto_approve] >> load


def main(backend: str) -> None:
    for size in (1500, 500):
        Task.clear_registry()  # a fresh workflow for each dataset
        build(size)
        print(f"dataset of {size} rows:")
        results = DAG("approval_workflow").run(backend=backend)
        print(f"  load -> {results['load']}; skipped: {sorted(results.skipped)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        main(parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
