from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from rich.console import Console

from flowkit import DAG, Flow, StateManager, TaskNotPicklableError, task
from tests.flowkit import _process_tasks as pt


def test_sync_tasks_run_in_worker_processes() -> None:
    results = DAG(
        "proc", max_workers=1, tasks=[pt.pid_of_worker, pt.square_of_seven, pt.plus_one]
    ).run(executor="process")
    assert results["pid_of_worker"] != os.getpid()
    assert results["plus_one"] == 50


async def test_run_async_with_processes_on_the_test_backend() -> None:
    results = await Flow("p", max_workers=1).add(pt.square_of_seven).run_async(executor="process")
    assert results == {"square_of_seven": 49}


async def test_a_nested_function_is_refused_before_anything_runs() -> None:
    ran: list[str] = []

    @task()
    def local() -> None:
        ran.append("local")

    with pytest.raises(TaskNotPicklableError, match="'local' cannot run with executor='process'"):
        await DAG(tasks=[local]).run_async(executor="process")
    assert ran == []


async def test_progress_with_processes_counts_every_task() -> None:
    console = Console(file=io.StringIO(), record=True, width=100, force_terminal=True)
    results = await DAG(
        "proc", max_workers=1, tasks=[pt.pid_of_worker, pt.square_of_seven, pt.plus_one]
    ).run_async(executor="process", progress=True, console=console)
    assert results["plus_one"] == 50
    assert "3/3 100%" in console.export_text()


def live_children() -> set[int]:
    """The pids of this process's children that have not exited, multiprocessing's resource
    tracker left out (one per interpreter, shared by all of multiprocessing, not a worker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == os.getpid() and state != "Z" and b"resource_tracker" not in command:
            found.add(int(entry.name))
    return found


async def poll(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds, looking every 2 ms, for 30 s at most."""
    with anyio.fail_after(30):
        while not condition():  # noqa: ASYNC110 (files of other processes: nothing to await)
            await anyio.sleep(0.002)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_a_cancelled_run_leaves_no_worker_process_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # anyio's own process pool outlives the run (its workers are killed only when the event
    # loop shuts down); flowkit's are gone when the run returns, however it ended.
    monkeypatch.setenv(pt.SIGNALS, str(tmp_path))
    before = live_children()
    dag = DAG("held", max_workers=2, tasks=[pt.held_first, pt.held_second])
    state = StateManager()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(dag.run_async, executor="process", state=state))
            await poll(lambda: len(list(tmp_path.glob("started-*"))) == 2)
            assert live_children() - before  # both tasks run in worker processes
            scope.cancel()
            (tmp_path / "release").touch()  # the running calls are waited for
    assert scope.cancelled_caught
    assert live_children() - before == set()
    # the calls that ran were waited for, and their results kept
    assert set(state.get_all()) == {"flowkit:held:held_first", "flowkit:held:held_second"}


async def test_unpicklable_arguments_name_the_task() -> None:
    dag = DAG("locks", max_workers=1, tasks=[pt.a_lock, pt.given_a_lock])
    with pytest.raises(TaskNotPicklableError, match=r"task 'given_a_lock' .* its arguments"):
        await dag.run_async(executor="process")


async def test_an_unpicklable_result_names_the_task() -> None:
    dag = DAG("locks", max_workers=1, tasks=[pt.returns_a_lock])
    with pytest.raises(TaskNotPicklableError, match=r"task 'returns_a_lock' ran .* its result"):
        await dag.run_async(executor="process")


async def test_a_sync_task_returning_a_coroutine_is_refused_in_a_process_too() -> None:
    dag = DAG("coro", max_workers=1, tasks=[pt.returns_a_coroutine])
    with pytest.raises(TypeError, match=r"task 'returns_a_coroutine' .* returned a coroutine"):
        await dag.run_async(executor="process")
