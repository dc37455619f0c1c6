"""OpenTelemetry for flowkit: a ``flowkit.run`` span per run, a ``flowkit.task.<name>`` per task."""

from __future__ import annotations

from typing import Any

import pytest

from antflow import telemetry
from flowkit import DAG, task
from tests._otel import Otel, otel, parent_id, span_id
from tests.flowkit._workflows import etl_chain

__all__ = ["otel"]  # the fixture, imported to be used here


def is_error(span: Any) -> bool:
    from opentelemetry.trace import StatusCode

    return bool(span.status.status_code is StatusCode.ERROR)


async def test_a_run_is_a_span_with_a_span_per_task_under_it(otel: Otel) -> None:
    result = await DAG("etl", tasks=etl_chain()).run_async()
    assert result == {"extract": 2, "transform": 20, "load": "loaded 20"}
    run = otel.span("flowkit.run")
    assert run.attributes == {"flowkit.workflow.name": "etl"}
    for name in ("extract", "transform", "load"):
        span = otel.span(f"flowkit.task.{name}")
        assert parent_id(span) == span_id(run)
        assert span.attributes == {"flowkit.task.name": name, "flowkit.workflow.name": "etl"}
        assert not is_error(span)
    assert otel.spans("antflow.executor.task") == []  # the run's own executor is not traced


async def test_the_run_span_is_a_child_of_the_callers_span(otel: Otel) -> None:
    from opentelemetry import trace

    with trace.get_tracer("tests").start_as_current_span("caller") as caller:
        await DAG("etl", tasks=etl_chain()).run_async()
    assert parent_id(otel.span("flowkit.run")) == caller.get_span_context().span_id


async def test_a_failed_task_and_its_run_are_error_spans(otel: Otel) -> None:
    @task(retries=1, delay=0.001)
    def shaky() -> int:
        raise OSError("disk")

    with pytest.raises(OSError, match="disk"):
        await DAG("w", tasks=[shaky]).run_async()
    span = otel.span("flowkit.task.shaky")
    assert is_error(span)
    assert span.attributes is not None
    assert span.attributes["flowkit.task.attempts"] == 2
    assert [e.name for e in span.events] == ["flowkit.retry", "exception"]
    run = otel.span("flowkit.run")
    assert is_error(run)
    assert run.status.description == "disk"


async def test_a_skipped_task_is_marked_skipped(otel: Otel) -> None:
    @task()
    def one() -> int:
        return 1

    @task(when=lambda x: x > 5)
    def big(x: int) -> int:
        return x

    one >> big
    result = await DAG("w", tasks=[one, big]).run_async()
    assert result.skipped == {"big"}
    assert otel.span("flowkit.task.big").attributes["flowkit.task.skipped"] is True  # type: ignore[index]
    assert "flowkit.task.skipped" not in otel.span("flowkit.task.one").attributes  # type: ignore[operator]


async def test_with_telemetry_off_a_run_reports_nothing(otel: Otel) -> None:
    telemetry.configure_telemetry(enabled=False)
    await DAG("etl", tasks=etl_chain()).run_async()
    assert otel.spans() == []
