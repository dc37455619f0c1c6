"""Dynamic mapping: ``process.map(items)`` runs ``process`` once per element of a run-time list."""

from __future__ import annotations

import functools
import io
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from rich.console import Console

from antflow._observe import EventKind
from flowkit import (
    DAG,
    Flow,
    FunctionalFlow,
    Layer,
    StateManager,
    WorkflowDefinitionError,
    task,
)
from flowkit._scheduler import run_plan
from tests.flowkit import _mapping_tasks as mt
from tests.flowkit.test_flowkit_observe import Recorder


def words_and_length() -> tuple[Any, Any]:
    @task()
    def words() -> list[str]:
        return ["a", "bb", "ccc"]

    @task()
    def length(word: str) -> int:
        return len(word)

    return words, length


# -- results -----------------------------------------------------------------------------------


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_the_elements_results_come_back_in_input_order(executor: str) -> None:
    squares = mt.square_in_worker.map(mt.numbers)
    results = DAG("m", max_workers=2, tasks=[mt.numbers, squares]).run(executor=executor)
    assert [value for value, _ in results["square_in_worker"]] == [1, 4, 9, 16]
    pids = {pid for _, pid in results["square_in_worker"]}
    assert (os.getpid() in pids) is (executor == "thread")


async def test_results_keep_input_order_when_elements_finish_out_of_order() -> None:
    last_done = anyio.Event()

    @task()
    def items() -> list[int]:
        return [0, 1, 2]

    @task()
    async def echo(value: int) -> int:
        if value == 0:
            await last_done.wait()  # element 0 finishes after element 2
        if value == 2:
            last_done.set()
        return value * 10

    echo.map(items)
    results = await DAG("m", max_workers=3).run_async()
    assert results == {"items": [0, 1, 2], "echo": [0, 10, 20]}


async def test_downstream_gets_the_list_and_any_iterable_can_be_mapped() -> None:
    @task()
    def items() -> Iterator[int]:
        return iter(range(5))

    @task()
    def plus(value: int, offset: int) -> int:
        return value + offset

    @task()
    def offset() -> int:
        return 100

    @task()
    def total(values: list[int]) -> int:
        return sum(values)

    plus.map(items, unmapped=offset) >> total
    results = await DAG("m").run_async()
    assert results["plus"] == [100, 101, 102, 103, 104]
    assert results["total"] == 510


async def test_an_empty_input_gives_an_empty_list_downstream() -> None:
    seen: list[Any] = []

    @task()
    def items() -> list[int]:
        return []

    @task()
    def never(value: int) -> int:
        raise AssertionError("no element to run")

    @task()
    def after(values: list[int]) -> None:
        seen.append(values)

    never.map(items) >> after
    results = await DAG("m").run_async()
    assert results["never"] == []
    assert seen == [[]]


async def test_each_element_runs_as_its_own_named_task_instance() -> None:
    words, length = words_and_length()
    dag = DAG("m", tasks=[words, length.map(words)])
    recorder = Recorder()
    results = await run_plan(dag.plan(), "thread", None, None, observers=[recorder])
    assert results["length"] == [1, 2, 3]
    started = {e.item_id for e in recorder.events if e.kind is EventKind.ITEM_STARTED}
    assert started == {"words", "length[0]", "length[1]", "length[2]"}
    succeeded = {e.item_id: e.value for e in recorder.events if e.kind is EventKind.ITEM_SUCCEEDED}
    assert succeeded == {
        "words": ["a", "bb", "ccc"],
        "length[0]": 1,
        "length[1]": 2,
        "length[2]": 3,
    }


async def test_async_elements_run_on_the_event_loop() -> None:
    @task()
    async def items() -> list[int]:
        return [1, 2, 3]

    @task()
    async def halve(value: int) -> float:
        await anyio.lowlevel.checkpoint()
        return value / 2

    halve.map(items)
    assert (await DAG("m").run_async())["halve"] == [0.5, 1.0, 1.5]


async def test_a_flow_maps_over_an_earlier_step_and_injects_the_rest_by_name() -> None:
    @task()
    def rate() -> int:
        return 3

    @task()
    def prices() -> list[int]:
        return [10, 20]

    @task()
    def taxed(price: int, rate: int) -> int:
        return price * rate

    @task()
    def total(taxed: list[int]) -> int:
        return sum(taxed)

    flow = Flow("f").add(rate).add(prices).add(taxed.map(prices)).add(total)
    results = await flow.run_async()
    assert results["taxed"] == [30, 60]
    assert results["total"] == 90


@pytest.mark.parametrize("executor", ["thread", "process"])
async def test_a_functional_flow_maps_over_an_input_and_passes_the_rest_by_name(
    executor: str,
) -> None:
    rate = Layer(mt.rate)()
    prices = Layer(mt.numbers)()
    taxed = Layer(mt.taxed.map(mt.numbers))(prices, rate)
    total = Layer(mt.total)(taxed)
    flow = FunctionalFlow(inputs=(rate, prices), outputs=(taxed, total), name="ff")
    assert await flow.run_async(executor=executor) == ([3, 6, 9, 12], 30)


def test_a_functional_mapped_node_needs_the_node_it_maps_over() -> None:
    words, length = words_and_length()

    @task()
    def other() -> list[int]:
        return [1]

    source = Layer(other)()
    with pytest.raises(WorkflowDefinitionError, match="maps over 'words', which is not one of"):
        Layer(length.map(words))(source)


# -- conditions --------------------------------------------------------------------------------


async def test_when_applies_per_element_and_a_skipped_element_gives_none() -> None:
    calls: list[int] = []

    @task()
    def items() -> list[int]:
        return [1, -2, 3]

    @task(when=lambda value: value > 0)
    def root(value: int) -> float:
        calls.append(value)
        return value**0.5

    root.map(items)
    results = await DAG("m").run_async()
    assert results["root"] == [1.0, None, 3**0.5]
    assert sorted(calls) == [1, 3]
    assert results.skipped == {"root[1]"}


async def test_a_skipped_input_skips_the_mapped_task() -> None:
    @task(when=lambda: False)
    def items() -> list[int]:
        return [1]

    @task()
    def double(value: int) -> int:
        return 2 * value

    double.map(items)
    results = await DAG("m").run_async()
    assert "double" not in results
    assert results.skipped == {"items", "double"}


# -- retries and failures ----------------------------------------------------------------------


@pytest.mark.usefixtures("no_retry_waits")
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async def"])
async def test_each_element_has_its_own_retries(is_async: bool) -> None:
    calls: dict[int, int] = {}

    def attempt(value: int) -> int:
        calls[value] = calls.get(value, 0) + 1
        if value == 2 and calls[value] < 3:
            raise ConnectionError("flaky")
        return value

    @task()
    def items() -> list[int]:
        return [1, 2, 3]

    if is_async:

        @task(retries=2, delay=0.01)
        async def fetch(value: int) -> int:
            return attempt(value)

    else:

        @task(retries=2, delay=0.01)
        def fetch(value: int) -> int:
            return attempt(value)

    fetch.map(items)
    assert (await DAG("m", max_workers=1).run_async())["fetch"] == [1, 2, 3]
    assert calls == {1: 1, 2: 3, 3: 1}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async def"])
async def test_a_failure_names_the_element_and_nothing_after_it_starts(
    is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    called: list[int] = []

    def check(value: int) -> int:
        called.append(value)
        if value == 3:
            raise ValueError("bad value 3")
        return value

    @task()
    def items() -> list[int]:
        return list(range(10))

    if is_async:

        @task()
        async def process(value: int) -> int:
            return check(value)

    else:

        @task()
        def process(value: int) -> int:
            return check(value)

    @task()
    def after(values: list[int]) -> None:
        raise AssertionError("must not run")

    process.map(items) >> after
    recorder = Recorder()
    with (
        caplog.at_level(logging.ERROR, logger="flowkit"),
        pytest.raises(ValueError, match="bad value 3") as caught,
    ):
        await run_plan(DAG("m", max_workers=1).plan(), "thread", 1, None, [recorder])
    if sys.version_info >= (3, 11):  # exceptions have notes
        assert "flowkit: raised by task 'process[3]'" in caught.value.__notes__
    assert called == [0, 1, 2, 3]
    assert [e.item_id for e in recorder.events if e.kind is EventKind.ITEM_FAILED] == ["process[3]"]
    assert "task 'process[3]' failed: ValueError('bad value 3')" in caplog.text


async def test_a_non_iterable_input_fails_naming_the_task_and_its_input() -> None:
    @task()
    def count() -> int:
        return 5

    @task()
    def double(value: int) -> int:
        return 2 * value

    double.map(count)
    with pytest.raises(TypeError, match="task 'double' maps over the result of 'count', but"):
        await DAG("m").run_async()


async def test_a_string_input_is_refused_rather_than_split_into_characters() -> None:
    @task()
    def name() -> str:
        return "abc"

    @task()
    def upper(letter: str) -> str:
        return letter.upper()

    upper.map(name)
    with pytest.raises(TypeError, match="'name', which is a str, not a list"):
        await DAG("m").run_async()


# -- state -------------------------------------------------------------------------------------


async def test_a_resumed_run_reruns_only_the_failed_and_the_changed_elements() -> None:
    calls: list[int] = []
    broken = {3}
    inputs = [1, 2, 3, 4]

    @task()
    def items() -> list[int]:
        return list(inputs)

    @task()
    def square(value: int) -> int:
        calls.append(value)
        if value in broken:
            raise ValueError(f"no {value}")
        return value * value

    square.map(items)
    state = StateManager()
    with pytest.raises(ValueError, match="no 3"):
        await DAG("m", max_workers=1).run_async(state=state)
    assert calls == [1, 2, 3]
    assert state.get("flowkit:m:square[1]") == (2, 4)

    calls.clear()
    broken.clear()
    assert (await DAG("m", max_workers=1).run_async(state=state))["square"] == [1, 4, 9, 16]
    assert calls == [3, 4]

    calls.clear()
    inputs[1] = 5  # element 1 changed: its recorded result no longer counts
    state.delete("flowkit:m:items")
    assert (await DAG("m", max_workers=1).run_async(state=state))["square"] == [1, 25, 9, 16]
    assert calls == [5]


async def test_async_elements_resume_from_a_state_file(tmp_path: Path) -> None:
    calls: list[str] = []
    broken = {"b"}

    @task()
    def items() -> list[str]:
        return ["a", "b", "c"]

    @task()
    async def shout(letter: str) -> str:
        calls.append(letter)
        if letter in broken:
            raise ConnectionError(letter)
        return letter.upper()

    shout.map(items)
    path = tmp_path / "state.json"
    with pytest.raises(ConnectionError):
        await DAG("m", max_workers=1).run_async(state=StateManager(storage_path=path))
    calls.clear()
    broken.clear()
    results = await DAG("m", max_workers=1).run_async(state=StateManager(storage_path=path))
    assert results["shout"] == ["A", "B", "C"]
    assert calls == ["b", "c"]


def test_a_resumed_process_run_reruns_only_the_failed_element() -> None:
    state = StateManager()
    dag = DAG("p", max_workers=1, tasks=[mt.numbers, mt.fail_on_three.map(mt.numbers)])
    with pytest.raises(ValueError, match="no 3"):
        dag.run("process", state=state)
    assert state.get("flowkit:p:fail_on_three[1]") == (2, 2)
    state.set("flowkit:p:fail_on_three[2]", (3, 33))  # as if the element had succeeded
    assert dag.run("process", state=state)["fail_on_three"] == [1, 2, 33, 4]


@pytest.mark.parametrize("retries", [0, 2])
async def test_a_cancelled_run_keeps_the_element_that_returned_and_calls_no_queued_one(
    retries: int,
) -> None:
    in_thread = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    @task()
    def orders() -> list[int]:
        return [0, 1, 2, 3]

    @task(retries=retries, delay=0)
    def charge(order: int) -> str:
        calls.append(order)
        in_thread.set()
        assert release.wait(5)
        return f"charged {order}"

    state = StateManager()
    dag = DAG("pay", max_workers=1, tasks=[orders, charge.map(orders)])
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(dag.run_async, state=state))
            await anyio.to_thread.run_sync(in_thread.wait, 5)
            scope.cancel()
            with anyio.CancelScope(shield=True):  # the run has taken the cancellation
                await anyio.wait_all_tasks_blocked()
            release.set()
    assert scope.cancelled_caught
    assert calls == [0]
    assert state.get("flowkit:pay:charge[0]") == (0, "charged 0")
    calls.clear()
    results = await dag.run_async(state=state)
    assert results["charge"] == [f"charged {n}" for n in range(4)]
    assert calls == [1, 2, 3]


# -- limits and progress -----------------------------------------------------------------------


async def test_sync_elements_share_the_runs_worker_limit() -> None:
    lock = threading.Lock()
    running = peak = 0
    all_three = threading.Barrier(3, timeout=10)  # proves three do run at once

    @task()
    def items() -> list[int]:
        return list(range(30))

    @task()
    def work(value: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        all_three.wait()
        with lock:
            running -= 1
        return value

    work.map(items)
    results = await DAG("m", max_workers=3).run_async()
    assert results["work"] == list(range(30))
    assert peak == 3


@pytest.mark.usefixtures("no_retry_waits")
@pytest.mark.parametrize("retries", [0, 1])
async def test_async_elements_share_the_runs_worker_limit(retries: int) -> None:
    running = peak = 0

    @task()
    def items() -> list[int]:
        return list(range(50))

    @task(retries=retries, delay=0.01)
    async def work(value: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        running -= 1
        return value

    work.map(items)
    assert (await DAG("m", max_workers=4).run_async())["work"] == list(range(50))
    assert peak == 4


async def test_progress_counts_each_element() -> None:
    console = Console(file=io.StringIO(), record=True, width=100, force_terminal=True)
    words, length = words_and_length()
    length.map(words)
    await DAG("m").run_async(progress=True, console=console)
    assert "4 tasks" in console.export_text()


# -- definition --------------------------------------------------------------------------------


def test_the_text_view_shows_what_a_task_maps_over() -> None:
    words, length = words_and_length()
    length.map(words)
    assert "Task: length  [mapped over words]\n  Upstream: words" in DAG("m").visualize()


def test_map_takes_the_template_out_of_the_registry() -> None:
    words, length = words_and_length()
    node = length.map(words, name="lengths")
    assert [t.name for t in DAG("m").tasks] == ["words", "lengths"]
    assert node.template is length
    assert node.items is words
    assert node(["x", "yy"]) == [1, 2]


def test_bad_map_arguments_are_refused_at_once() -> None:
    words, length = words_and_length()
    with pytest.raises(TypeError, match=r"length.map\(\) takes the task whose result"):
        length.map(["a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'words' is both the mapped input and unmapped="):
        length.map(words, unmapped=words)
    with pytest.raises(TypeError, match="already mapped"):
        length.map(words).map(words)
    with pytest.raises(ValueError, match="name must be a non-empty str"):
        length.map(words, name="")


def test_a_flow_refuses_to_map_over_a_task_that_is_not_an_earlier_step() -> None:
    words, length = words_and_length()
    flow = Flow("f").add(length.map(words))
    with pytest.raises(WorkflowDefinitionError, match="'words', which is not an earlier step"):
        flow.plan()
