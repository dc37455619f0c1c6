"""The reference flowkit's module layout: each public module gives the same objects."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import flowkit
from flowkit import (
    DAG,
    Flow,
    FlowkitError,
    StateManager,
    Task,
    TaskCache,
    TaskExecutionError,
    TaskNotFoundError,
    WorkflowDefinitionError,
    task,
)


def test_the_reference_imports_give_the_top_level_objects() -> None:
    from flowkit.dag import DAG as dag_class
    from flowkit.exceptions import TaskExecutionError as execution_error
    from flowkit.exceptions import TaskNotFoundError as not_found
    from flowkit.flow import Flow as flow_class
    from flowkit.logging import LogLevel, configure_logging, get_logger
    from flowkit.state import StateManager as state_class
    from flowkit.state import TaskCache as cache_class
    from flowkit.task import Task as task_class
    from flowkit.task import task as task_decorator

    assert (dag_class, flow_class, state_class, cache_class) == (DAG, Flow, StateManager, TaskCache)
    assert (task_class, task_decorator) == (Task, task)
    assert (execution_error, not_found) == (TaskExecutionError, TaskNotFoundError)
    assert configure_logging is flowkit.configure_logging
    assert LogLevel is flowkit.LogLevel
    assert get_logger is flowkit.get_logger


def test_flowkit_task_is_the_decorator_and_the_module_still_imports() -> None:
    import flowkit.task

    assert flowkit.task is task
    assert callable(flowkit.task)
    assert not isinstance(flowkit.task, type(sys))
    module = importlib.import_module("flowkit.task")
    assert module is sys.modules["flowkit.task"]
    assert module.task is task
    assert module.Task is Task


def test_a_fresh_interpreter_sees_the_decorator_whatever_is_imported_first() -> None:
    code = (
        "import flowkit.state, flowkit.task, flowkit.dag, flowkit.logging, logging\n"
        "from flowkit import task\n"
        "import flowkit\n"
        "assert flowkit.task is task and callable(task), flowkit.task\n"
        "assert logging.getLogger is __import__('logging').getLogger\n"
        "assert hasattr(logging, 'StreamHandler')\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_flowkit_logging_does_not_shadow_the_standard_library_inside_flowkit() -> None:
    import logging

    import flowkit._logging
    import flowkit.logging

    assert flowkit._logging.logging is logging
    assert flowkit.logging is not logging


def test_exceptions_are_flowkit_errors() -> None:
    assert issubclass(TaskExecutionError, FlowkitError)
    assert issubclass(TaskNotFoundError, WorkflowDefinitionError)
    assert issubclass(TaskNotFoundError, KeyError)


def test_task_execution_error_carries_the_task_and_its_exception() -> None:
    original = ValueError("bad row")
    error = TaskExecutionError("load", original, "task 'load' failed: bad row")
    assert (error.task_name, error.original_exception) == ("load", original)
    assert str(error) == "task 'load' failed: bad row"


def test_task_not_found_names_the_task_without_quoting_the_message() -> None:
    error = TaskNotFoundError("load", "no task named 'load'")
    assert error.name == "load"
    assert str(error) == "no task named 'load'"


def test_a_flow_parameter_naming_no_task_is_task_not_found() -> None:
    @task()
    def first() -> int:
        return 1

    @task()
    def second(missing: int) -> int:
        return missing

    with pytest.raises(TaskNotFoundError, match="parameter 'missing'") as info:
        Flow("f").add(first).add(second).plan()
    assert info.value.name == "missing"


def test_a_dag_task_whose_upstream_is_left_out_is_task_not_found() -> None:
    @task()
    def left_out() -> int:
        return 1

    @task()
    def listed(x: int) -> int:
        return x

    left_out >> listed
    with pytest.raises(TaskNotFoundError, match="depends on 'left_out'") as info:
        DAG("d", tasks=[listed]).plan()
    assert info.value.name == "left_out"
