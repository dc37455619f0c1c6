"""The Functional API: ``Layer(task)(*nodes)`` graphs run by ``FunctionalFlow``."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from rich.console import Console

from flowkit import DAGCycleError, StateManager, Task, WorkflowDefinitionError, task
from flowkit.functional import AppliedTask, FunctionalFlow, Layer
from tests._ctrl_c import ctrl_c
from tests.flowkit import _functional_tasks as ft


@task()
def alpha() -> int:
    return 1


@task()
def beta(alpha: int) -> int:
    return alpha


@task()
def both(alpha: int, beta: int) -> int:
    return alpha + beta


# -- graphs of the reference's guide, adapted --------------------------------------------------


def _user_graph() -> tuple[AppliedTask, AppliedTask, AppliedTask, AppliedTask, AppliedTask]:
    """Three inputs, two outputs: user, orders and recommendations feed a summary and a log."""

    @task(retries=2)
    def fetch_user() -> dict[str, Any]:
        return {"id": 123, "name": "Alice"}

    @task()
    def fetch_orders() -> list[str]:
        return ["order1", "order2"]

    @task()
    async def fetch_recommendations() -> list[str]:
        return ["bookA", "movieX"]

    @task()
    def build_profile(fetch_user: dict[str, Any], fetch_orders: list[str]) -> dict[str, Any]:
        return {"profile": fetch_user, "past_orders": fetch_orders}

    @task()
    async def personalize(fetch_user: dict[str, Any], fetch_recommendations: list[str]) -> Any:
        return {"for": fetch_user["id"], "base": fetch_recommendations}

    @task()
    def summarize(build_profile: dict[str, Any], personalize: dict[str, Any]) -> str:
        return f"{build_profile['profile']['name']}: {personalize['base'][0]}"

    @task()
    def log_activity(build_profile: dict[str, Any], personalize: dict[str, Any]) -> str:
        return f"{len(build_profile['past_orders'])} orders, recs for {personalize['for']}"

    user, orders, recs = Layer(fetch_user)(), Layer(fetch_orders)(), Layer(fetch_recommendations)()
    profile = Layer(build_profile)(user, orders)
    personalized = Layer(personalize)(user, recs)
    return (
        user,
        orders,
        recs,
        Layer(summarize)(profile, personalized),
        Layer(log_activity)(profile, personalized),
    )


def _user_flow() -> FunctionalFlow:
    user, orders, recs, summary, log = _user_graph()
    return FunctionalFlow(inputs=(user, orders, recs), outputs=(summary, log), name="multi_head")


async def test_several_inputs_and_outputs_give_a_tuple_in_output_order() -> None:
    assert await _user_flow().run_async() == ("Alice: bookA", "2 orders, recs for 123")


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_run_starts_an_event_loop_of_the_chosen_backend(backend: str) -> None:
    assert _user_flow().run(backend=backend) == ("Alice: bookA", "2 orders, recs for 123")


async def test_a_single_output_gives_its_value() -> None:
    @task()
    def input_task() -> int:
        return 42

    @task()
    def output_task(input_task: int) -> int:
        return input_task * 2

    inp = Layer(input_task)()
    flow = FunctionalFlow(inputs=inp, outputs=Layer(output_task)(inp), name="simple_flow")
    assert await flow.run_async() == 84


async def test_a_tuple_of_one_output_gives_a_tuple_of_one() -> None:
    @task()
    def only() -> str:
        return "x"

    node = Layer(only)()
    assert await FunctionalFlow(inputs=[node], outputs=[node]).run_async() == ("x",)


async def test_a_diamond_joins_both_branches() -> None:
    @task()
    def root() -> int:
        return 10

    @task()
    def left(root: int) -> int:
        return root * 2

    @task()
    async def right(root: int) -> int:
        return root * 3

    @task()
    def merge(left: int, right: int) -> int:
        return left + right

    r = Layer(root)()
    m = Layer(merge)(Layer(left)(r), Layer(right)(r))
    assert await FunctionalFlow(inputs=r, outputs=m, name="diamond").run_async() == 50


async def test_a_node_may_take_results_from_several_levels_up() -> None:
    @task()
    def fetch_data() -> dict[str, int]:
        return {"sales": 1000, "costs": 600}

    @task()
    def profit(fetch_data: dict[str, int]) -> int:
        return fetch_data["sales"] - fetch_data["costs"]

    @task()
    def margin(fetch_data: dict[str, int], profit: int) -> float:
        return profit / fetch_data["sales"] * 100

    @task()
    def report(profit: int, margin: float, fetch_data: dict[str, int]) -> str:
        return f"sales {fetch_data['sales']}, profit {profit}, margin {margin:.1f}%"

    data = Layer(fetch_data)()
    p = Layer(profit)(data)
    m = Layer(margin)(data, p)
    flow = FunctionalFlow(inputs=data, outputs=(Layer(report)(data, p, m), p))
    assert await flow.run_async() == ("sales 1000, profit 400, margin 40.0%", 400)


async def test_arguments_go_by_name_and_the_condition_gets_them_in_input_order() -> None:
    seen: list[tuple[Any, ...]] = []

    @task()
    def first() -> str:
        return "a"

    @task()
    def second() -> str:
        return "b"

    def record(*results: Any) -> bool:
        seen.append(results)
        return True

    @task(when=record)
    def combine(first: str, second: str) -> str:
        return first + second

    one, two = Layer(first)(), Layer(second)()
    flow = FunctionalFlow(inputs=(one, two), outputs=Layer(combine)(two, one))
    assert await flow.run_async() == "ab"
    assert seen == [("b", "a")]


async def test_var_keyword_takes_the_inputs_no_parameter_names() -> None:
    @task()
    def north() -> int:
        return 1

    @task()
    def south() -> int:
        return 2

    @task()
    def gather(north: int, **others: int) -> dict[str, int]:
        return {"north": north, **others}

    n, s = Layer(north)(), Layer(south)()
    flow = FunctionalFlow(inputs=(n, s), outputs=Layer(gather)(n, s))
    assert await flow.run_async() == {"north": 1, "south": 2}


async def test_only_the_nodes_the_outputs_depend_on_run() -> None:
    ran: list[str] = []

    @task()
    def source() -> int:
        ran.append("source")
        return 1

    @task()
    def wanted(source: int) -> int:
        ran.append("wanted")
        return source

    @task()
    def unwanted(source: int) -> int:
        ran.append("unwanted")
        return source

    s = Layer(source)()
    w = Layer(wanted)(s)
    Layer(unwanted)(s)
    flow = FunctionalFlow(inputs=s, outputs=w)
    assert [n.name for n in flow.nodes] == ["source", "wanted"]
    await flow.run_async()
    assert sorted(ran) == ["source", "wanted"]


async def test_each_node_holds_its_result_after_a_run() -> None:
    user, orders, recs, summary, log = _user_graph()
    flow = FunctionalFlow(inputs=(user, orders, recs), outputs=(summary, log))
    assert summary.outputs is None
    await flow.run_async()
    assert orders.outputs == ["order1", "order2"]
    assert summary.outputs == "Alice: bookA"


async def test_a_layer_stands_for_the_one_node_it_made() -> None:
    alpha_layer = Layer(alpha)
    b = Layer(beta)(alpha_layer)  # never called before: made into an input node here
    assert alpha_layer.nodes == b.inputs
    assert await FunctionalFlow(inputs=alpha_layer, outputs=b).run_async() == 1


def test_a_layer_called_twice_stands_for_no_node() -> None:
    alpha_layer = Layer(alpha)
    alpha_layer()
    alpha_layer()
    with pytest.raises(WorkflowDefinitionError, match=r"Layer\(alpha\) has made 2 nodes"):
        Layer(beta)(alpha_layer)


# -- errors, at construction -------------------------------------------------------------------


def test_a_required_parameter_named_after_no_input_is_refused_when_the_node_is_made() -> None:
    with pytest.raises(
        WorkflowDefinitionError,
        match=r"parameter 'beta' of task 'both' names none of its inputs \(given: alpha\); "
        r"pass the node of task 'beta'",
    ):
        Layer(both)(Layer(alpha)())


def test_an_input_no_parameter_takes_is_refused() -> None:
    a = Layer(alpha)()
    with pytest.raises(WorkflowDefinitionError, match=r"input 'beta' of task 'beta' is taken"):
        Layer(beta)(a, Layer(beta)(a))


def test_a_parameter_with_a_default_may_have_no_input() -> None:
    @task()
    def scaled(alpha: int, factor: int = 10) -> int:
        return alpha * factor

    a = Layer(alpha)()
    assert FunctionalFlow(inputs=a, outputs=Layer(scaled)(a)).run() == 10


def test_an_input_given_twice_is_refused() -> None:
    a = Layer(alpha)()
    with pytest.raises(WorkflowDefinitionError, match="name 'alpha' twice; pass each node once"):
        Layer(beta)(a, a)


def test_two_inputs_whose_tasks_share_a_name_are_refused() -> None:
    other_alpha = Task(alpha.func)
    with pytest.raises(WorkflowDefinitionError, match="rename one of the two tasks"):
        Layer(beta)(Layer(alpha)(), Layer(other_alpha)())


def test_a_positional_only_parameter_named_after_an_input_is_refused() -> None:
    @task()
    def strict(alpha: int, /) -> int:
        return alpha

    with pytest.raises(WorkflowDefinitionError, match="'alpha' of task 'strict' is positional"):
        Layer(strict)(Layer(alpha)())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Layer(alpha.func), r"Layer takes a task, got <function alpha"),  # type: ignore[arg-type]
        (lambda: Layer(beta)(alpha), r"make a node of it first: Layer\(alpha\)\(\)"),  # type: ignore[arg-type]
        (lambda: FunctionalFlow(inputs=1, outputs=Layer(alpha)()), "inputs must be nodes"),  # type: ignore[arg-type]
    ],
)
def test_what_is_not_a_task_or_a_node_is_a_type_error(make: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        make()


def test_a_node_of_another_graph_is_refused() -> None:
    ours = Layer(alpha)()
    theirs = Layer(beta)(Layer(alpha)())
    with pytest.raises(
        WorkflowDefinitionError,
        match=r"depend on 'alpha', a node without inputs that is not in inputs "
        r"\(a node of another graph\?\); add it to inputs",
    ):
        FunctionalFlow(inputs=ours, outputs=theirs, name="mixed")


def test_an_input_that_feeds_no_output_is_refused() -> None:
    a = Layer(alpha)()
    lonely = Layer(Task(lambda: 0))()
    with pytest.raises(WorkflowDefinitionError, match="input '<lambda>' of flow 'f' feeds none"):
        FunctionalFlow(inputs=(a, lonely), outputs=Layer(beta)(a), name="f")


def test_an_input_with_inputs_of_its_own_is_refused() -> None:
    b = Layer(beta)(Layer(alpha)())
    with pytest.raises(
        WorkflowDefinitionError, match="input 'beta' of flow 'functional_flow' has inputs"
    ):
        FunctionalFlow(inputs=b, outputs=b)


def test_empty_ends_are_refused() -> None:
    node = Layer(alpha)()
    with pytest.raises(WorkflowDefinitionError, match="inputs is empty; pass a node"):
        FunctionalFlow(inputs=(), outputs=node)
    with pytest.raises(WorkflowDefinitionError, match="outputs is empty; pass a node"):
        FunctionalFlow(inputs=node, outputs=[])


def test_a_node_listed_twice_is_refused() -> None:
    a = Layer(alpha)()
    with pytest.raises(WorkflowDefinitionError, match="outputs lists 'alpha' twice"):
        FunctionalFlow(inputs=a, outputs=(a, a))


def test_a_task_applied_so_as_to_close_a_cycle_is_refused() -> None:
    @task()
    def ping(pong: int = 0) -> int:
        return pong + 1

    @task()
    def pong(ping: int) -> int:
        return ping + 1

    start = Layer(ping)()
    again = Layer(ping)(Layer(pong)(start))  # results are keyed by task: ping >> pong >> ping
    with pytest.raises(DAGCycleError) as caught:
        FunctionalFlow(inputs=start, outputs=again)
    assert caught.value.cycle in (["ping", "pong", "ping"], ["pong", "ping", "pong"])


def test_a_task_applied_twice_without_a_cycle_is_refused() -> None:
    a = Layer(alpha)()
    b1, b2 = Layer(beta)(a), Layer(beta)(a)
    with pytest.raises(WorkflowDefinitionError, match="'beta' is applied in 2 nodes of flow"):
        FunctionalFlow(inputs=a, outputs=(b1, b2))


def test_two_tasks_of_one_name_in_a_flow_are_refused() -> None:
    a = Layer(alpha)()
    other = Layer(Task(beta.func))(a)
    with pytest.raises(WorkflowDefinitionError, match="two tasks are named 'beta'"):
        FunctionalFlow(inputs=a, outputs=(Layer(beta)(a), other))


# -- how the tasks run ---------------------------------------------------------------------------


async def test_sync_tasks_run_on_worker_threads_and_async_tasks_on_the_loop() -> None:
    @task()
    def on_thread() -> str:
        return threading.current_thread().name

    @task()
    async def on_loop(on_thread: str) -> tuple[str, str]:
        return on_thread, threading.current_thread().name

    start = Layer(on_thread)()
    flow = FunctionalFlow(inputs=start, outputs=Layer(on_loop)(start), name="where")
    sync_thread, async_thread = await flow.run_async()
    assert sync_thread == "flowkit-worker:where"
    assert async_thread == threading.current_thread().name


async def test_sync_tasks_run_in_worker_processes() -> None:
    base = Layer(ft.base_number)()
    pid = Layer(ft.worker_pid)(base)
    total = Layer(ft.total)(Layer(ft.squared)(base), Layer(ft.doubled)(base))
    flow = FunctionalFlow(inputs=base, outputs=(total, pid), name="proc", max_workers=1)
    result, worker = await flow.run_async(executor="process")
    assert result == 48
    assert worker != os.getpid()


def test_a_task_a_process_cannot_find_is_refused_before_anything_runs() -> None:
    ran: list[str] = []

    @task()
    def nested() -> None:
        ran.append("nested")

    node = Layer(nested)()
    with pytest.raises(TypeError, match="'nested' cannot run with executor='process'"):
        FunctionalFlow(inputs=node, outputs=node).run(executor="process")
    assert ran == []


@pytest.mark.usefixtures("no_retry_waits")
async def test_a_failing_task_is_retried() -> None:
    calls = 0

    @task(retries=2, delay=0.01)
    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("try again")
        return "ok"

    @task()
    def after(flaky: str) -> str:
        return flaky.upper()

    f = Layer(flaky)()
    assert await FunctionalFlow(inputs=f, outputs=Layer(after)(f)).run_async() == "OK"
    assert calls == 3


async def test_a_failure_raises_the_task_s_own_exception_and_starts_nothing_after_it() -> None:
    error = LookupError("no such user")
    ran: list[str] = []

    @task()
    def lookup() -> None:
        raise error

    @task()
    def greet(lookup: None) -> None:
        ran.append("greet")

    node = Layer(lookup)()
    with pytest.raises(LookupError) as caught:
        await FunctionalFlow(inputs=node, outputs=Layer(greet)(node)).run_async()
    assert caught.value is error
    assert ran == []


async def test_a_false_condition_skips_the_node_and_passes_none_on() -> None:
    @task()
    def size() -> int:
        return 500

    @task(when=lambda size: size > 1000)
    def large(size: int) -> str:
        return "large"

    @task()
    def report(size: int, large: str | None) -> str:
        return f"{size}: {large}"

    s = Layer(size)()
    big = Layer(large)(s)
    flow = FunctionalFlow(inputs=s, outputs=(Layer(report)(s, big), big))
    assert await flow.run_async() == ("500: None", None)


async def test_a_rerun_with_the_state_resumes_at_the_failed_node(tmp_path: Path) -> None:
    calls = {"extract": 0, "load": 0}
    database_up = False

    @task()
    def extract() -> list[int]:
        calls["extract"] += 1
        return [1, 2]

    @task()
    def load(extract: list[int]) -> str:
        calls["load"] += 1
        if not database_up:
            raise ConnectionError("database down")
        return f"loaded {extract}"

    e = Layer(extract)()
    flow = FunctionalFlow(inputs=e, outputs=Layer(load)(e), name="nightly")
    with pytest.raises(ConnectionError):
        await flow.run_async(state=StateManager(storage_path=tmp_path / "state.json"))
    database_up = True
    state = StateManager(storage_path=tmp_path / "state.json")
    assert await flow.run_async(state=state) == "loaded [1, 2]"
    assert calls == {"extract": 1, "load": 2}
    assert sorted(state.get_all()) == ["flowkit:nightly:extract", "flowkit:nightly:load"]


async def test_progress_counts_every_node() -> None:
    console = Console(file=io.StringIO(), record=True, width=100, force_terminal=True)
    assert await _user_flow().run_async(progress=True, console=console) == (
        "Alice: bookA",
        "2 orders, recs for 123",
    )
    assert "7/7 100%" in console.export_text()


async def test_a_cancelled_run_keeps_no_result_and_leaves_no_task_behind() -> None:
    started = anyio.Event()

    @task()
    async def slow() -> int:
        started.set()
        await anyio.sleep_forever()
        return 1  # pragma: no cover

    @task()
    def after(slow: int) -> int:
        raise AssertionError("never reached")  # pragma: no cover

    s = Layer(slow)()
    flow = FunctionalFlow(inputs=s, outputs=Layer(after)(s))
    with anyio.fail_after(30):  # a guard against a hang, not a timing assertion
        async with anyio.create_task_group() as tg:
            tg.start_soon(flow.run_async)
            await started.wait()
            tg.cancel_scope.cancel()
    assert s.outputs is None


_CTRL_C_PROGRAM = """
import sys

import anyio

from flowkit import task
from flowkit.functional import FunctionalFlow, Layer


@task()
async def waits() -> int:
    print("started", flush=True)
    await anyio.sleep(30)
    return 1


@task()
def uses(waits: int) -> int:
    return waits


node = Layer(waits)()
try:
    FunctionalFlow(inputs=node, outputs=Layer(uses)(node)).run(backend=sys.argv[1])
except KeyboardInterrupt:
    print("caught a bare KeyboardInterrupt", flush=True)
    raise
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_during_a_run_comes_out_as_a_bare_keyboard_interrupt(backend: str) -> None:
    result = ctrl_c(_CTRL_C_PROGRAM, backend)
    assert "caught a bare KeyboardInterrupt" in result.out
    assert "ExceptionGroup" not in result.err
    assert result.err.rstrip().endswith("KeyboardInterrupt")


# -- views ---------------------------------------------------------------------------------------


def _summary_cells(flow: FunctionalFlow) -> tuple[str, list[list[str]]]:
    """The summary's text, and its table body as rows of stripped cells."""
    console = Console(file=io.StringIO(), record=True, width=120)
    flow.summary(console=console)
    text = console.export_text()
    rows = [line.split("│")[1:-1] for line in text.splitlines() if "│" in line]
    return text, [[cell.strip() for cell in row] for row in rows]


def test_summary_lists_each_node_with_its_level_marks_inputs_feeds_retries_and_condition() -> None:
    @task()
    def size() -> int:
        return 1

    def is_large(size: int) -> bool:
        return size > 1000

    @task(retries=4, when=is_large)
    async def large(size: int) -> int:
        return size

    @task()
    def report(size: int, large: int | None) -> str:
        return f"{size} {large}"

    s = Layer(size)()
    big = Layer(large)(s)
    text, cells = _summary_cells(
        FunctionalFlow(inputs=s, outputs=(Layer(report)(s, big), big), name="sizes")
    )
    assert "FunctionalFlow 'sizes': 3 nodes" in text
    assert cells == [
        ["0", "size", "-", "large", "0", "-"],
        ["", "input", "", "report", "", ""],
        ["1", "large", "size", "report", "4", "is_large"],
        ["", "output, async", "", "", "", ""],
        ["2", "report", "size", "-", "0", "-"],
        ["", "output", "large", "", "", ""],
    ]


def test_summary_lists_nodes_level_by_level() -> None:
    user, orders, recs, summary, log = _user_graph()
    _, cells = _summary_cells(FunctionalFlow(inputs=(user, orders, recs), outputs=(summary, log)))
    named = [(row[0], row[1]) for row in cells if row[0]]
    assert named == [
        ("0", "fetch_user"),
        ("0", "fetch_orders"),
        ("0", "fetch_recommendations"),
        ("1", "build_profile"),
        ("1", "personalize"),
        ("2", "summarize"),
        ("2", "log_activity"),
    ]


def test_summary_marks_a_node_that_is_both_input_and_output() -> None:
    node = Layer(alpha)()
    _, cells = _summary_cells(FunctionalFlow(inputs=node, outputs=node))
    assert cells == [["0", "alpha", "-", "-", "0", "-"], ["", "input, output", "", "", "", ""]]


def test_visualize_shows_each_node_after_its_inputs() -> None:
    user, orders, recs, summary, log = _user_graph()
    flow = FunctionalFlow(inputs=(user, orders, recs), outputs=(summary, log), name="heads")
    lines = flow.visualize().splitlines()
    assert lines[0] == "FunctionalFlow: heads"
    at = lines.index("Task: build_profile")
    assert lines[at + 1] == "  Upstream: fetch_user, fetch_orders"
    assert "flowchart TD" in flow.to_mermaid()
