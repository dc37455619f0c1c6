"""A workflow's graph and tasks by name; get_logger's records under flowkit's logger."""

from __future__ import annotations

import io
import json

import pytest

from flowkit import DAG, Flow, LogLevel, TaskNotFoundError, configure_logging, get_logger, task


def test_a_dag_exposes_its_graph_in_dependency_order() -> None:
    @task()
    def a() -> int:
        return 1

    @task()
    def b() -> int:
        return 2

    @task()
    def c(x: int, y: int) -> int:
        return x + y

    [b, a] >> c
    assert DAG("g").graph == {"a": [], "b": [], "c": ["b", "a"]}


def test_a_flow_graph_is_its_steps_not_the_task_links() -> None:
    @task()
    def first() -> int:
        return 1

    @task()
    def left(first: int) -> int:
        return first

    @task()
    def right(first: int) -> int:
        return first

    @task()
    def join(left: int, right: int) -> int:
        return left + right

    join >> first  # ignored by a Flow
    flow = Flow("f").add(first).branch(left, right).merge(join)
    assert flow.graph == {
        "first": [],
        "left": ["first"],
        "right": ["first"],
        "join": ["left", "right"],
    }


def test_get_task_finds_a_task_by_name_or_raises_task_not_found() -> None:
    @task()
    def extract() -> int:
        return 1

    flow = Flow("f").add(extract)
    assert flow.get_task("extract") is extract
    assert DAG("d").get_task("extract") is extract
    with pytest.raises(TaskNotFoundError, match="no task named 'load' \\(its tasks: 'extract'\\)"):
        flow.get_task("load")
    with pytest.raises(KeyError):
        DAG("d").get_task("load")


def test_get_logger_logs_under_flowkit_through_its_configured_handler() -> None:
    log = get_logger("etl")
    assert log.logger.name == "flowkit.etl"
    assert get_logger("flowkit.etl").logger is log.logger
    assert get_logger().logger.name == "flowkit"
    stream = io.StringIO()
    configure_logging(LogLevel.DEBUG, json_output=True, stream=stream)
    log.success("loaded", rows=3)
    record = json.loads(stream.getvalue())
    assert (record["logger"], record["level"], record["message"], record["rows"]) == (
        "flowkit.etl",
        "SUCCESS",
        "loaded",
        3,
    )


def test_get_logger_refuses_a_name_that_is_not_a_str() -> None:
    with pytest.raises(TypeError, match="name must be a str"):
        get_logger(42)  # type: ignore[arg-type]
