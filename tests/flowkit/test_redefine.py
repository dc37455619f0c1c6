"""Running a task's definition again (a notebook cell run twice) replaces the registered task."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from flowkit import DAG, Task, TaskRedefinedWarning, WorkflowDefinitionError

CELL_DEFINE = """
from flowkit import task

@task()
def extract():
    return VERSION

@task()
def load(x):
    return ("loaded", x)

extract >> load
"""

CELL_ONLY_EXTRACT = """
@task()
def extract():
    return VERSION
"""


def _run_cell(namespace: dict[str, Any], code: str, version: int) -> None:
    namespace["VERSION"] = version
    exec(compile(code, "<cell>", "exec"), namespace)


def test_running_a_cell_again_replaces_its_tasks_with_a_warning() -> None:
    namespace: dict[str, Any] = {"__name__": "notebook"}
    _run_cell(namespace, CELL_DEFINE, 1)
    with pytest.warns(TaskRedefinedWarning) as caught:
        _run_cell(namespace, CELL_DEFINE, 2)
    assert [str(w.message).split()[1] for w in caught] == ["'extract'", "'load'"]
    assert Task.registry() == [namespace["extract"], namespace["load"]]
    assert DAG("nb").run() == {"extract": 2, "load": ("loaded", 2)}


def test_a_redefined_task_takes_over_the_old_ones_links() -> None:
    namespace: dict[str, Any] = {"__name__": "notebook"}
    _run_cell(namespace, CELL_DEFINE, 1)
    load = namespace["load"]
    with pytest.warns(TaskRedefinedWarning):
        _run_cell(namespace, CELL_ONLY_EXTRACT, 2)  # load's cell is not run again
    extract = namespace["extract"]
    assert load.upstream == [extract]
    assert extract.downstream == [load]
    assert DAG("nb").run() == {"extract": 2, "load": ("loaded", 2)}


def test_tasks_made_by_a_factory_are_all_kept() -> None:
    def make(n: int) -> Task:
        from flowkit import task

        @task()
        def step() -> int:
            return n

        step.name = f"step{n}"
        return step

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        made = [make(n) for n in range(3)]
    assert Task.registry() == made


def test_two_module_level_tasks_with_one_name_still_clash() -> None:
    namespace: dict[str, Any] = {"__name__": "notebook"}
    exec(
        compile(
            "from flowkit import task\n"
            "@task()\ndef a(): return 1\n"
            "@task()\ndef b(): return 2\n"
            "b.name = 'a'\n",
            "<cell>",
            "exec",
        ),
        namespace,
    )
    with pytest.raises(WorkflowDefinitionError, match="two tasks are named 'a'"):
        DAG("clash").run()


def test_one_function_made_into_several_tasks_keeps_them_all() -> None:
    namespace: dict[str, Any] = {"__name__": "notebook"}
    exec(compile("def echo(*args):\n    return args\n", "<cell>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first, second = Task(namespace["echo"]), Task(namespace["echo"])
    assert Task.registry() == [first, second]


CELL_MAP = """
from flowkit import task

@task()
def items():
    return [VERSION, VERSION + 1]

@task()
def process(x):
    return x * 10

process.map(items)
"""


def test_running_a_cell_that_maps_again_replaces_the_mapped_task() -> None:
    namespace: dict[str, Any] = {"__name__": "notebook"}
    _run_cell(namespace, CELL_MAP, 1)
    with pytest.warns(TaskRedefinedWarning):
        _run_cell(namespace, CELL_MAP, 2)
    assert [t.name for t in Task.registry()] == ["items", "process"]
    assert DAG("nb").run() == {"items": [2, 3], "process": [20, 30]}
