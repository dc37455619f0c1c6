"""The published antflow 0.10.0 (asyncio.Queue + tenacity) on pipeline_throughput's workload.

For scale beside our figures: the same no-op items through 1 and 3 stages of 10 workers, against
the same hand-written anyio pipeline, in the same run. It needs antflow 0.10.0 installed from PyPI
*instead of* this repository's antflow, so it runs in a venv of its own: ``nox -s
bench_published``. It runs on asyncio only (the published antflow is asyncio-only).

Fewer items than pipeline_throughput (20,000 by default): the published pipeline runs a few
thousand items a second, and items/s does not depend on the count.

Run: ``python benchmarks/published_antflow.py [--repeats N] [--quick]`` (a path, not ``-m``:
the repository's own ``antflow/`` must not shadow the installed one).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The repository root goes *last* on sys.path: ``benchmarks`` becomes importable while
# ``antflow`` still resolves to the installed (published) distribution.
sys.path.append(str(Path(__file__).resolve().parent.parent))

import antflow
from antflow import Pipeline, Stage
from benchmarks._harness import arguments, measure_rates, print_table
from benchmarks.pipeline_throughput import WORKERS, hand_written_pipeline, noop

PUBLISHED = "0.10.0"


async def published_pipeline(n: int, n_stages: int) -> int:
    pipeline = Pipeline(stages=[Stage(f"S{i}", WORKERS, [noop]) for i in range(n_stages)])
    results = await pipeline.run(list(range(n)))
    assert len(results) == n
    return n


def main() -> None:
    version = getattr(antflow, "__version__", "?")
    if version != PUBLISHED:
        sys.exit(
            f"this measures the published antflow {PUBLISHED}, but antflow {version} is "
            f"installed ({antflow.__file__}); run it with `nox -s bench_published`"
        )
    args = arguments(__doc__ or "", repeats=3)
    n = 2_000 if args.quick else 20_000
    for n_stages in (1, 3):
        rows = measure_rates(
            "asyncio",
            {
                "hand-written anyio pipeline": lambda s=n_stages: hand_written_pipeline(n, s),
                f"published antflow {PUBLISHED}": lambda s=n_stages: published_pipeline(n, s),
            },
            args.repeats,
        )
        print_table(
            f"{n:,} no-op items, {n_stages} stage(s) x {WORKERS} workers",
            "asyncio",
            rows,
            baseline="hand-written anyio pipeline",
        )


if __name__ == "__main__":
    main()
