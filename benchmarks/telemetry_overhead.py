"""What OpenTelemetry costs: no-op runs with telemetry absent, off and on, in one process.

Workloads (each a no-op coroutine that passes one checkpoint):

* ``Pipeline.run``: 50,000 items through 3 stages of 10 workers (as ``pipeline_throughput``);
* ``AsyncExecutor.map``: 100,000 calls on 10 workers;
* ``AsyncExecutor.submit``: 50,000 calls on 10 workers, then each future awaited.

Contenders, interleaved repeat by repeat in one process:

* ``absent``: what a run does when ``opentelemetry`` is not installed (the switch finds no
  package: ``antflow.telemetry`` is told so, which is the exact path it takes without one);
* ``off``: ``configure_telemetry(enabled=False)``, with the package installed and an SDK set up;
* ``on``: ``configure_telemetry(enabled=True)`` with an SDK tracer provider (always sampling, no
  exporter: spans are built and recorded, then dropped) and an SDK meter provider with no reader.

Targets: ``off`` within noise of ``absent`` (nothing is built when off: one check when a run
starts, one ``is not None`` test per ``submit``); ``on`` is reported, not bounded.

Run: ``python -m benchmarks.telemetry_overhead [--backend asyncio|trio] [--repeats N]``
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio.lowlevel
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from antflow import AsyncExecutor, Pipeline, Stage, telemetry
from benchmarks._harness import arguments, backends, measure_rates, print_table

WORKERS = 10
STAGES = 3


async def noop(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x


def switch(mode: str) -> None:
    """Put antflow's telemetry switch in ``mode`` before a run."""
    # Private state, set the way the module itself finds it: no package, or a configured switch.
    telemetry._installed = mode != "absent"
    telemetry._enabled = None if mode == "absent" else mode == "on"


async def pipeline_run(n: int) -> int:
    pipeline = Pipeline(stages=[Stage(f"S{i}", WORKERS, [noop]) for i in range(STAGES)])
    results = await pipeline.run(range(n))
    assert len(results) == n
    return n


async def executor_map(n: int) -> int:
    async with AsyncExecutor(max_workers=WORKERS) as executor:
        results = await executor.map(noop, range(n))
    assert len(results) == n
    return n


async def executor_submit(n: int) -> int:
    async with AsyncExecutor(max_workers=WORKERS) as executor:
        futures = [executor.submit(noop, i) for i in range(n)]
        for future in futures:
            await future.result()
    return n


WORKLOADS: dict[str, tuple[Callable[[int], Awaitable[int]], int]] = {
    f"Pipeline.run, {STAGES} stages x {WORKERS} workers": (pipeline_run, 50_000),
    f"AsyncExecutor.map, {WORKERS} workers": (executor_map, 100_000),
    f"AsyncExecutor.submit, {WORKERS} workers": (executor_submit, 50_000),
}


def main() -> None:
    args = arguments(__doc__ or "")
    trace.set_tracer_provider(TracerProvider())
    metrics.set_meter_provider(MeterProvider())
    for backend in backends(args.backend):
        for title, (workload, size) in WORKLOADS.items():
            n = size // 10 if args.quick else size
            contenders: dict[str, Callable[[], Awaitable[int]]] = {}
            for mode in ("absent", "off", "on"):

                async def run(
                    mode: str = mode,
                    workload: Callable[[int], Awaitable[int]] = workload,
                    n: int = n,
                ) -> int:
                    switch(mode)
                    return await workload(n)

                contenders[f"telemetry {mode}"] = run
            rows = measure_rates(backend, contenders, args.repeats)
            print_table(f"{title}: {n:,} no-op items", backend, rows, "telemetry absent")
    switch("off")


if __name__ == "__main__":
    main()
