"""flowkit DAG throughput against the seed's ThreadPoolExecutor loop.

Workload: 5,000 no-op tasks in 100 layers of 50, each task depending on every task of the layer
before (250,000 edges), max_workers=8. Contenders, interleaved in one run:

* the seed's runner, as its README describes it ("executes tasks in topological order with
  parallel execution", on a ThreadPool): the tasks grouped in topological levels, each level
  submitted to a ``concurrent.futures.ThreadPoolExecutor`` and waited for before the next. This
  is the baseline of the 1.5x target;
* a stronger hand-written runner on the same pool, for honesty: it submits each task the moment
  its upstream is done (``wait(FIRST_COMPLETED)`` and dependency counters), with no barrier;
* ``DAG.run_async(executor="thread")`` with sync tasks (target: >= 9,000 nodes/s, 1.5x the seed);
* ``DAG.run_async()`` with ``async def`` tasks (target: >= 50,000 nodes/s).

Plan compilation (cycle check, indexing) is inside the timing for flowkit.

Run: ``python -m benchmarks.dag_throughput [--backend asyncio|trio] [--repeats N] [--quick]``
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from benchmarks._harness import arguments, backends, measure_rates, print_table
from flowkit import DAG, Task

WORKERS = 8


def noop(*upstream: object) -> None:
    return None


async def async_noop(*upstream: object) -> None:
    return None


def layered(layers: int, width: int, fn: Callable[..., Any]) -> list[Task]:
    """``layers`` x ``width`` tasks of ``fn`` named ``t<layer>_<column>``, each depending on every
    task of the layer before, in link order; unregistered (pass them to ``DAG(tasks=...)``).
    The join tests run small instances of it."""
    tasks: list[Task] = []
    previous: list[Task] = []
    for layer in range(layers):
        current = []
        for column in range(width):
            t = Task(fn)
            t.name = f"t{layer}_{column}"
            current.append(t)
        for source in previous:
            source >> current
        tasks.extend(current)
        previous = current
    Task.clear_registry()
    return tasks


def topological_levels(tasks: list[Task]) -> list[list[Task]]:
    """Kahn's algorithm, one level at a time."""
    waiting = {t: len(t.upstream) for t in tasks}
    level = [t for t in tasks if waiting[t] == 0]
    levels = []
    while level:
        levels.append(level)
        following = []
        for t in level:
            for d in t.downstream:
                waiting[d] -= 1
                if waiting[d] == 0:
                    following.append(d)
        level = following
    return levels


def seed_level_runner(tasks: list[Task]) -> int:
    """The seed's runner: topological order, each level in parallel on a ThreadPoolExecutor."""
    results: dict[Task, Any] = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for level in topological_levels(tasks):
            futures = [pool.submit(t.func, *[results[u] for u in t.upstream]) for t in level]
            for t, future in zip(level, futures, strict=True):
                results[t] = future.result()
    return len(results)


def ready_queue_pool_loop(tasks: list[Task]) -> int:
    """A stronger runner on the same pool: each task submitted as soon as it is ready."""
    waiting = {t: len(t.upstream) for t in tasks}
    results: dict[Task, Any] = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        running: dict[Future[Any], Task] = {}

        def submit(t: Task) -> None:
            running[pool.submit(t.func, *[results[u] for u in t.upstream])] = t

        for t in tasks:
            if waiting[t] == 0:
                submit(t)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                t = running.pop(future)
                results[t] = future.result()
                for d in t.downstream:
                    waiting[d] -= 1
                    if waiting[d] == 0:
                        submit(d)
    return len(results)


def main() -> None:
    args = arguments(__doc__ or "")
    layers = 10 if args.quick else 100
    sync_tasks = layered(layers, 50, noop)
    async_tasks = layered(layers, 50, async_noop)
    n = len(sync_tasks)

    async def seed() -> int:
        return seed_level_runner(sync_tasks)

    async def ready_queue() -> int:
        return ready_queue_pool_loop(sync_tasks)

    async def flowkit_threads() -> int:
        results = await DAG("bench", max_workers=WORKERS, tasks=sync_tasks).run_async()
        return len(results)

    async def flowkit_async() -> int:
        results = await DAG("bench", max_workers=WORKERS, tasks=async_tasks).run_async()
        return len(results)

    for backend in backends(args.backend):
        rows = measure_rates(
            backend,
            {
                "seed runner (levels, ThreadPool)": seed,
                "ready-queue ThreadPool loop": ready_queue,
                "flowkit DAG, sync, thread": flowkit_threads,
                "flowkit DAG, async def": flowkit_async,
            },
            args.repeats,
        )
        print_table(
            f"{n:,} no-op tasks, {layers} layers of 50, max_workers={WORKERS} (nodes/s)",
            backend,
            rows,
            baseline="seed runner (levels, ThreadPool)",
        )
        by_name = {row.name: row.median for row in rows}
        stronger = by_name["ready-queue ThreadPool loop"]
        print(
            f"  against the ready-queue loop: sync {by_name['flowkit DAG, sync, thread'] / stronger:.2f}x,"
            f" async def {by_name['flowkit DAG, async def'] / stronger:.2f}x"
        )


if __name__ == "__main__":
    main()
