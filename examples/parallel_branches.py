"""Fan-out and fan-in: three batches processed in parallel threads, then aggregated. Each batch
sleeps 0.2 s; the run takes about 0.2 s, not 0.6 s.

Run: ``python examples/parallel_branches.py [--backend asyncio|trio]``
"""

from __future__ import annotations

import argparse
import sys
import time

from flowkit import DAG, task


@task()
def fetch_data() -> range:
    return range(1000)


@task()
def process_batch_1(data: range) -> int:
    time.sleep(0.2)  # blocking work: runs in a worker thread
    return sum(list(data)[:333])


@task()
def process_batch_2(data: range) -> int:
    time.sleep(0.2)
    return sum(list(data)[333:666])


@task()
def process_batch_3(data: range) -> int:
    time.sleep(0.2)
    return sum(list(data)[666:])


@task()
def aggregate_results(data: range, b1: int, b2: int, b3: int) -> str:
    total = b1 + b2 + b3
    assert total == sum(data)
    return f"Total: {total}"


fetch_data >> [process_batch_1, process_batch_2, process_batch_3]
[fetch_data, process_batch_1, process_batch_2, process_batch_3] >> aggregate_results


def main(backend: str) -> None:
    dag = DAG("parallel_processing", max_workers=3)
    start = time.perf_counter()
    results = dag.run(executor="thread", backend=backend)
    print(f"{results['aggregate_results']} in {time.perf_counter() - start:.2f} s")
    print(dag.to_mermaid())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    try:
        main(parser.parse_args().backend)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, with the usual status
        sys.exit(130)
