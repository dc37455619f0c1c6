"""flowkit DAG makespan against its critical path, with a level-by-level runner beside it.

Workload: 3 chains of sync tasks with uneven sleeps (in seconds: a fast chain of 6 x 0.02, a
slow chain of 2 x 0.12 and a mixed chain 0.10, 0.01, 0.01, 0.10), plus a final task after all of
them; max_workers=8, enough for every task at once. The critical path is the longest chain (0.24 s
+ the final task). flowkit starts each task when its own upstream is done, so its makespan should
be within 5% of the critical path. A level-by-level runner (run every task of depth d, wait for
all, then depth d + 1) waits at each level for the slowest task of that level.

Run: ``python -m benchmarks.dag_makespan [--backend asyncio|trio] [--repeats N]``
"""

from __future__ import annotations

import functools
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import anyio

from benchmarks._harness import arguments, backends
from flowkit import DAG, Task

CHAINS = {"fast": [0.02] * 6, "slow": [0.12, 0.12], "mixed": [0.10, 0.01, 0.01, 0.10]}
FINAL = 0.01
WORKERS = 8


def sleeper(seconds: float, *upstream: object) -> float:
    time.sleep(seconds)
    return seconds


def build() -> tuple[list[Task], float]:
    tasks: list[Task] = []
    ends: list[Task] = []
    for chain, durations in CHAINS.items():
        previous = None
        for k, seconds in enumerate(durations):
            t = Task(functools.partial(sleeper, seconds))
            t.name = f"{chain}{k}"
            if previous is not None:
                previous >> t
            tasks.append(t)
            previous = t
        assert previous is not None
        ends.append(previous)
    final = Task(functools.partial(sleeper, FINAL))
    final.name = "final"
    ends >> final
    tasks.append(final)
    Task.clear_registry()
    critical = max(sum(d) for d in CHAINS.values()) + FINAL
    return tasks, critical


def level_by_level(tasks: list[Task]) -> None:
    depth: dict[Task, int] = {}
    for t in tasks:  # listed in dependency order
        depth[t] = 1 + max((depth[u] for u in t.upstream), default=-1)
    levels: dict[int, list[Task]] = {}
    for t, d in depth.items():
        levels.setdefault(d, []).append(t)
    with ThreadPoolExecutor(WORKERS) as pool:
        for d in sorted(levels):
            for future in [pool.submit(t.func) for t in levels[d]]:
                future.result()


def main() -> None:
    args = arguments(__doc__ or "", repeats=5)
    tasks, critical = build()
    for backend in backends(args.backend):
        ours: list[float] = []
        levels: list[float] = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            anyio.run(DAG("makespan", WORKERS, tasks=tasks).run_async, backend=backend)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            level_by_level(tasks)
            levels.append(time.perf_counter() - start)
        print(f"\nmakespan [{backend}], critical path {critical:.3f} s, max_workers={WORKERS}")
        print(f"{'':28} {'min s':>8} {'median s':>9} {'max s':>8} {'vs critical path':>17}")
        for name, times in (("flowkit DAG", ours), ("level-by-level runner", levels)):
            median = statistics.median(times)
            print(
                f"{name:28} {min(times):>8.3f} {median:>9.3f} {max(times):>8.3f} "
                f"{(median / critical - 1) * 100:>+16.1f}%"
            )


if __name__ == "__main__":
    main()
