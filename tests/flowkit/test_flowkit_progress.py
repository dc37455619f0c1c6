"""progress=True on DAG and Flow runs: the bar counts tasks and leaves results unchanged."""

from __future__ import annotations

import pytest

from flowkit import DAG, Flow, StateManager, task
from tests.antflow._monitoring import pipe_console, terminal_console, written
from tests.flowkit._workflows import etl_chain


def make_chain() -> DAG:
    return DAG("etl", tasks=etl_chain())


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_dag_run_with_progress(backend: str) -> None:
    console = terminal_console()
    result = make_chain().run(progress=True, console=console, backend=backend)
    assert result == {"extract": 2, "transform": 20, "load": "loaded 20"}
    text = console.export_text()
    assert "etl" in text
    assert "3/3 100%" in text
    assert "tasks/s" in text
    assert written(console).endswith("\x1b[?25h")


async def test_dag_run_async_with_progress_in_a_pipe() -> None:
    console = pipe_console()
    result = await make_chain().run_async(progress=True, console=console)
    assert result["load"] == "loaded 20"
    out = written(console)
    assert "\x1b" not in out
    assert out.splitlines()[0] == "etl: started, 3 tasks"
    assert out.splitlines()[-1].startswith("etl: 3/3 100%")


async def test_a_failing_task_shows_on_the_bar_and_its_exception_propagates() -> None:
    @task()
    def first() -> int:
        return 1

    @task()
    async def second(x: int) -> int:
        raise KeyError("missing column")

    @task()
    def third(x: int) -> int:
        return x

    first >> second >> third
    console = pipe_console()
    with pytest.raises(KeyError, match="missing column"):
        await DAG("broken", tasks=[first, second, third]).run_async(progress=True, console=console)
    last = written(console).splitlines()[-1]
    assert last.startswith("broken: 2/3")  # done either way: one finished, one failed
    assert "failed 1" in last


async def test_cached_and_skipped_tasks_count_as_done() -> None:
    @task()
    def first() -> int:
        return 1

    @task(when=lambda x: x > 1)
    def second(x: int) -> int:
        return x

    @task()
    def third(x: int) -> int:
        return 3

    first >> second >> third
    state = StateManager()
    state.set("flowkit:resumed:first", 1)
    console = pipe_console()
    dag = DAG("resumed", tasks=[first, second, third])
    assert (await dag.run_async(state=state, progress=True, console=console))["third"] == 3
    last = written(console).splitlines()[-1]
    assert last.startswith("resumed: 3/3 100%")
    assert last.endswith("failed 0, in flight 0")


def test_flow_run_with_progress() -> None:
    @task()
    def fetch() -> int:
        return 3

    @task()
    def left(fetch: int) -> int:
        return fetch + 1

    @task()
    def right(fetch: int) -> int:
        return fetch + 2

    @task()
    def join(left: int, right: int) -> int:
        return left * right

    console = terminal_console()
    flow = Flow("shop").add(fetch).branch(left, right).merge(join)
    assert flow.run(progress=True, console=console)["join"] == 20
    assert "4/4 100%" in console.export_text()


async def test_flow_run_async_with_progress() -> None:
    @task()
    async def only() -> str:
        return "ok"

    console = pipe_console()
    assert (await Flow("one").add(only).run_async(progress=True, console=console)) == {"only": "ok"}
    assert "one: 1/1 100%" in written(console)


def test_bad_progress_arguments_fail_before_any_task_runs() -> None:
    ran: list[str] = []

    @task()
    def only() -> None:
        ran.append("only")

    with pytest.raises(TypeError, match="console must be a rich"):
        DAG("d", tasks=[only]).run(progress=True, console="stdout")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="backend must be"):
        DAG("d", tasks=[only]).run(progress=True, backend="curio")
    assert ran == []


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_an_interrupt_raised_by_a_task_comes_out_bare(backend: str) -> None:
    # The bar's task group is crossed by the interrupt too, and must not wrap it.
    interrupt = KeyboardInterrupt()

    @task()
    def interrupted() -> None:
        raise interrupt

    with pytest.raises(KeyboardInterrupt) as info:
        DAG(tasks=[interrupted]).run(progress=True, console=pipe_console(), backend=backend)
    assert info.value is interrupt
