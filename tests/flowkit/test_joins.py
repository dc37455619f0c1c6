"""Tasks sharing an upstream tuple form one *join* in the plan: they become ready together and
share one gathered tuple of arguments. These tests pin what that must not change: who receives
what, in which order, and cycle detection through a join."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.lowlevel
import pytest

from benchmarks.dag_throughput import layered
from flowkit import DAG, DAGCycleError, Task
from flowkit._plan import compile_plan


def _named(fn: Callable[..., Any], name: str) -> Task:
    t = Task(fn)
    t.name = name
    return t


def _echo(*upstream: object) -> tuple[object, ...]:
    return upstream


async def _async_echo(*upstream: object) -> tuple[object, ...]:
    await anyio.lowlevel.checkpoint()
    return upstream


def _expected(layers: int, width: int) -> dict[str, Any]:
    expected: dict[str, Any] = {}
    for layer in range(layers):
        upstream = tuple(expected[f"t{layer - 1}_{c}"] for c in range(width)) if layer else ()
        for column in range(width):
            expected[f"t{layer}_{column}"] = upstream
    return expected


@pytest.mark.parametrize("fn", [_echo, _async_echo], ids=["sync", "async"])
async def test_every_task_of_a_join_gets_every_upstream_result_in_link_order(
    fn: Callable[..., Any],
) -> None:
    tasks = layered(4, 3, fn)
    plan = compile_plan("layers", tasks)
    assert len(plan.join_members) == 4  # one join per layer: the structure the scheduler uses
    assert await DAG("layers", max_workers=2, tasks=tasks).run_async() == _expected(4, 3)


@pytest.mark.parametrize("fn", [_echo, _async_echo], ids=["sync", "async"])
async def test_a_layered_dag_listed_in_reverse_order_runs_the_same(
    fn: Callable[..., Any],
) -> None:
    # Listed downstream-first, the plan cannot use the list order and sorts the joins.
    tasks = layered(4, 3, fn)[::-1]
    assert await DAG("reversed", max_workers=2, tasks=tasks).run_async() == _expected(4, 3)


async def test_the_same_upstream_in_another_link_order_is_another_join() -> None:
    a, b = _named(lambda: "a", "a"), _named(lambda: "b", "b")
    ab, ab2, ba = (_named(_echo, n) for n in ("ab", "ab2", "ba"))
    [a, b] >> ab
    [a, b] >> ab2
    [b, a] >> ba
    tasks = [a, b, ab, ab2, ba]
    plan = compile_plan("orders", tasks)
    assert plan.join_of[2] == plan.join_of[3] != plan.join_of[4]
    results = await DAG("orders", tasks=tasks).run_async()
    assert (results["ab"], results["ab2"], results["ba"]) == (("a", "b"), ("a", "b"), ("b", "a"))


async def test_members_of_one_join_are_skipped_on_their_own_conditions() -> None:
    source = _named(lambda: 5, "source")
    big = Task(lambda x: "big", when=lambda x: x > 3)
    big.name = "big"
    small = Task(lambda x: "small", when=lambda x: x < 3)
    small.name = "small"
    after = _named(_echo, "after")
    source >> [big, small]
    [big, small] >> after
    tasks = [source, big, small, after]
    assert compile_plan("when", tasks).join_of[1] == compile_plan("when", tasks).join_of[2]
    results = await DAG("when", tasks=tasks).run_async()
    assert results == {"source": 5, "big": "big", "after": ("big", None)}
    assert results.skipped == frozenset({"small"})


async def test_a_cycle_through_a_join_is_reported_before_anything_runs() -> None:
    ran: list[str] = []

    def record(name: str) -> Callable[..., None]:
        return lambda *upstream: ran.append(name)

    start, a, b, c = (_named(record(n), n) for n in ("start", "a", "b", "c"))
    start >> a >> [b, c]  # b and c: one join
    c >> a
    with pytest.raises(DAGCycleError) as info:
        await DAG("cycle", tasks=[start, a, b, c]).run_async()
    assert info.value.cycle in (["a", "c", "a"], ["c", "a", "c"])
    assert ran == []
