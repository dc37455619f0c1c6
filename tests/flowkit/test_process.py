from __future__ import annotations

import io
import os

import pytest
from rich.console import Console

from flowkit import DAG, Flow, TaskNotPicklableError, task
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
