from __future__ import annotations

import threading

import pytest

from flowkit import DAG, DAGCycleError, Task, WorkflowDefinitionError, task
from tests.flowkit._workflows import etl_chain


async def test_run_async_returns_every_result_by_name() -> None:
    etl_chain()
    results = await DAG("etl").run_async()
    assert results == {"extract": 2, "transform": 20, "load": "loaded 20"}
    assert results.skipped == frozenset()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sync_run_under_the_chosen_backend(backend: str) -> None:
    etl_chain()
    assert DAG("etl").run(backend=backend) == {
        "extract": 2,
        "transform": 20,
        "load": "loaded 20",
    }


async def test_upstream_results_arrive_positionally_in_link_order() -> None:
    @task()
    def one() -> int:
        return 1

    @task()
    async def two() -> int:
        return 2

    @task()
    def three() -> int:
        return 3

    @task()
    def collect(*values: int) -> tuple[int, ...]:
        return values

    [three, one] >> collect
    two >> collect
    results = await DAG().run_async()
    assert results["collect"] == (3, 1, 2)


async def test_a_task_starts_as_soon_as_its_own_upstream_is_done() -> None:
    # fast_child depends only on fast; slow (same "level" as fast) waits for fast_child to run.
    child_ran = threading.Event()

    @task()
    def fast() -> str:
        return "fast"

    @task()
    def slow() -> bool:
        return child_ran.wait(5)

    @task()
    def fast_child(value: str) -> str:
        child_ran.set()
        return value + " child"

    fast >> fast_child
    results = await DAG(max_workers=4).run_async()
    assert results["slow"] is True
    assert results["fast_child"] == "fast child"


async def test_sync_tasks_never_exceed_max_workers() -> None:
    lock = threading.Lock()
    running = 0
    peak = 0
    gate = threading.Barrier(2, timeout=5)

    def body() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait()  # two run together (so the cap is reached), never a third
        with lock:
            running -= 1

    for i in range(6):
        body_copy = _renamed(body, f"w{i}")
        Task(body_copy)
    await DAG(max_workers=2).run_async()
    assert peak == 2


def _renamed(fn: object, name: str) -> object:
    def wrapper() -> None:
        fn()  # type: ignore[operator]

    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


async def test_explicit_task_list_keeps_other_tasks_out() -> None:
    calls: list[str] = []

    @task()
    def mine() -> str:
        calls.append("mine")
        return "mine"

    @task()
    def elsewhere() -> None:
        calls.append("elsewhere")

    assert await DAG(tasks=[mine]).run_async() == {"mine": "mine"}
    assert calls == ["mine"]


async def test_explicit_task_list_missing_an_upstream_is_an_error() -> None:
    @task()
    def a() -> None: ...

    @task()
    def b(x: None) -> None: ...

    a >> b
    with pytest.raises(WorkflowDefinitionError, match="'b' depends on 'a'"):
        await DAG(tasks=[b]).run_async()


async def test_cycle_is_reported_with_its_tasks_before_anything_runs() -> None:
    ran: list[str] = []

    @task()
    def start() -> None:
        ran.append("start")

    @task()
    def a(x: None) -> None:
        ran.append("a")

    @task()
    def b(x: None) -> None:
        ran.append("b")

    @task()
    def c(x: None) -> None:
        ran.append("c")

    start >> a >> b >> c >> a
    with pytest.raises(DAGCycleError) as info:
        await DAG().run_async()
    assert info.value.cycle in (["a", "b", "c", "a"], ["b", "c", "a", "b"], ["c", "a", "b", "c"])
    assert (
        "a >> b >> c" in str(info.value)
        or "b >> c >> a" in str(info.value)
        or "c >> a >> b" in str(info.value)
    )
    assert ran == []


async def test_two_tasks_with_one_name_are_an_error() -> None:
    def make() -> Task:
        @task()
        def same() -> None: ...

        return same

    make()
    make()
    with pytest.raises(WorkflowDefinitionError, match="two tasks are named 'same'"):
        await DAG().run_async()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"max_workers": 0}, "max_workers"), ({"max_workers": 2.0}, "max_workers")],
)
def test_bad_max_workers_raises_at_construction(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DAG("x", **kwargs)  # type: ignore[arg-type]


async def test_unknown_executor_is_rejected() -> None:
    with pytest.raises(ValueError, match="executor must be 'thread' or 'process'"):
        await DAG().run_async(executor="fiber")


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="backend must be"):
        DAG().run(backend="curio")


def test_visualize_lists_tasks_with_what_they_wait_for() -> None:
    etl_chain()
    assert DAG("etl").visualize() == (
        "DAG: etl\n"
        + "=" * 40
        + "\n\nTask: extract\n  Downstream: transform\n"
        + "\nTask: transform\n  Upstream: extract\n  Downstream: load\n"
        + "\nTask: load  [async]\n  Upstream: transform"
    )


def test_to_mermaid_draws_every_edge() -> None:
    etl_chain()
    assert DAG("etl").to_mermaid() == (
        "flowchart TD\n"
        '    t0["extract"]\n'
        '    t1["transform"]\n'
        '    t2["load"]\n'
        "    t0 --> t1\n"
        "    t1 --> t2"
    )


async def test_empty_dag_returns_an_empty_result() -> None:
    assert await DAG().run_async() == {}


async def _one() -> int:
    return 1


@pytest.mark.parametrize("retries", [0, 2])
async def test_a_sync_task_returning_a_coroutine_is_refused_and_not_retried(
    retries: int,
) -> None:
    # A plain function (a decorator's sync wrapper, a lambda) that returns a coroutine: the
    # coroutine is not awaited, the task fails naming itself, as in a worker process.
    calls: list[str] = []

    @task(retries=retries, delay=0)
    def wrapped() -> object:
        calls.append("wrapped")
        return _one()

    with pytest.raises(TypeError, match="task 'wrapped' is a plain function but returned a"):
        await DAG(tasks=[wrapped]).run_async()
    assert calls == ["wrapped"]
