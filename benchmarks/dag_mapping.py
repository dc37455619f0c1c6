"""flowkit dynamic mapping against a static DAG of the same shape.

Workload: one task returns a list of 10,000 ints and a no-op task runs once per element,
max_workers=8. Contenders, interleaved in one run:

* a static DAG of the same size (the baseline): the root task and 10,000 tasks each linked to it
  with ``>>``, built before the timing;
* ``noop.map(items)``: the same work as one mapped node, expanded into its 10,000 elements at
  run time (target: at least half the static DAG's rate).

Both with sync tasks (``executor="thread"``) and, in a second table, ``async def`` tasks. Plan
compilation is inside the timing for both. Rates count every task instance: 10,001 nodes.

Run: ``python -m benchmarks.dag_mapping [--backend asyncio|trio] [--repeats N] [--quick]``
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import arguments, backends, measure_rates, print_table
from flowkit import DAG, Task

WORKERS = 8
MAPPED = "mapped"


def noop(*upstream: object) -> None:
    return None


async def async_noop(*upstream: object) -> None:
    return None


def items_of(n: int) -> Task:
    def items() -> list[int]:
        return list(range(n))

    return Task(items)


def static_fan_out(n: int, fn: Callable[..., Any]) -> list[Task]:
    """The root and ``n`` tasks of ``fn`` each depending on it (each gets the whole list, as
    a mapped element gets its element: the call is the same)."""
    root = items_of(n)
    tasks = [root]
    for k in range(n):
        t = Task(fn)
        t.name = f"t{k}"
        root >> t
        tasks.append(t)
    Task.clear_registry()
    return tasks


def mapped_fan_out(n: int, fn: Callable[..., Any]) -> list[Task]:
    """The root and one node mapping ``fn`` over its result."""
    root = items_of(n)
    tasks = [root, Task(fn).map(root, name=MAPPED)]
    Task.clear_registry()
    return tasks


def contender(tasks: list[Task]) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        results = await DAG("bench", max_workers=WORKERS, tasks=tasks).run_async()
        elements = results.get(MAPPED)  # a mapped run counts its elements, not its node
        return len(results) if elements is None else len(results) - 1 + len(elements)

    return run


def main() -> None:
    args = arguments(__doc__ or "")
    n = 1_000 if args.quick else 10_000
    for kind, fn in (("sync, thread", noop), ("async def", async_noop)):
        static, mapped = f"static DAG, {kind}", f"noop.map(items), {kind}"
        contenders = {
            static: contender(static_fan_out(n, fn)),
            mapped: contender(mapped_fan_out(n, fn)),
        }
        for backend in backends(args.backend):
            rows = measure_rates(backend, contenders, args.repeats)
            print_table(
                f"fan-out over {n:,} no-op {kind} tasks, max_workers={WORKERS} (nodes/s)",
                backend,
                rows,
                baseline=static,
            )


if __name__ == "__main__":
    main()
