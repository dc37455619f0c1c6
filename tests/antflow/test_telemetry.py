"""OpenTelemetry (``antflow[otel]``): pipeline and executor spans and metrics, and the switch.

Spans go to the SDK's in-memory exporter (see ``tests/_otel.py``); every async test runs on
asyncio and on trio.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import AsyncExecutor, Pipeline, PipelineStats, Stage, telemetry
from antflow._observe import Event, EventKind, hook_of
from antflow._run import RunState
from tests._otel import Otel, otel, parent_id, span_id
from tests.test_lazy_imports import run_python

__all__ = ["otel"]  # the fixture, imported to be used here

pytestmark = pytest.mark.usefixtures("no_retry_waits")


def status(span: Any) -> Any:
    from opentelemetry.trace import StatusCode

    return StatusCode.ERROR if span.status.status_code is StatusCode.ERROR else "not error"


async def double(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x * 2


async def add_one(x: int) -> int:
    return x + 1


# -- pipelines ------------------------------------------------------------------------------


async def test_a_run_is_a_span_with_a_stage_span_per_item_and_a_task_span_under_each(
    otel: Otel,
) -> None:
    pipeline = Pipeline([Stage("Fetch", 2, [double]), Stage("Save", 1, [add_one])])
    await pipeline.run([1, 2, 3])

    run = otel.span("antflow.pipeline.run")
    assert parent_id(run) is None
    assert run.attributes is not None
    assert run.attributes["antflow.pipeline.stages"] == 2
    assert run.attributes["antflow.pipeline.stage_names"] == ("Fetch", "Save")
    assert run.attributes["antflow.pipeline.total_items"] == 3
    assert run.attributes["antflow.pipeline.items_processed"] == 3
    assert run.attributes["antflow.pipeline.items_failed"] == 0
    for stage, task in (("Fetch", "double"), ("Save", "add_one")):
        stage_spans = otel.spans(f"antflow.stage.{stage}")
        assert len(stage_spans) == 3
        assert {s.attributes["antflow.item.id"] for s in stage_spans} == {"0", "1", "2"}  # type: ignore[index]
        tasks = otel.spans(f"antflow.task.{task}")
        assert len(tasks) == 3
        for stage_span in stage_spans:
            assert parent_id(stage_span) == span_id(run)
            assert stage_span.attributes is not None
            assert stage_span.attributes["antflow.stage.name"] == stage
            assert str(stage_span.attributes["antflow.worker.name"]).startswith(f"{stage}-W")
            assert stage_span.attributes["antflow.item.attempt"] == 1
            (task_span,) = [t for t in tasks if parent_id(t) == span_id(stage_span)]
            assert task_span.attributes == {
                "antflow.task.name": task,
                "antflow.task.attempt": 1,
                "antflow.worker.name": stage_span.attributes["antflow.worker.name"],
                "antflow.stage.name": stage,
            }


async def test_the_run_span_is_a_child_of_the_callers_span(otel: Otel) -> None:
    from opentelemetry import trace

    with trace.get_tracer("tests").start_as_current_span("caller") as caller:
        await Pipeline.quick([1], double)
    assert parent_id(otel.span("antflow.pipeline.run")) == caller.get_span_context().span_id


async def test_a_run_started_in_the_background_still_nests_under_the_callers_span(
    otel: Otel,
) -> None:
    # start() outside `async with` runs the workers in a task with no owner (a system task on
    # trio, which does not inherit the caller's context): the parents are explicit anyway.
    from opentelemetry import trace

    pipeline = Pipeline([Stage("Bg", 2, [double])])
    with trace.get_tracer("tests").start_as_current_span("caller") as caller:
        await pipeline.start()
    await pipeline.feed([1, 2, 3])
    await pipeline.join()
    run = otel.span("antflow.pipeline.run")
    assert parent_id(run) == caller.get_span_context().span_id
    stages = otel.spans("antflow.stage.Bg")
    assert [parent_id(s) for s in stages] == [span_id(run)] * 3


async def test_inside_a_task_its_span_is_current_so_spans_it_opens_nest_under_it(
    otel: Otel,
) -> None:
    from opentelemetry import trace

    async def fetch(x: int) -> int:
        with trace.get_tracer("tests").start_as_current_span("http get"):
            await anyio.lowlevel.checkpoint()
        return x

    await Pipeline([Stage("Fetch", 3, [fetch])]).run(range(6))
    tasks = {span_id(t): t for t in otel.spans("antflow.task.fetch")}
    inner = otel.spans("http get")
    assert len(inner) == 6
    assert {parent_id(s) for s in inner} == set(tasks)


async def test_a_failed_task_and_its_item_are_error_spans_with_the_exception(otel: Otel) -> None:
    async def boom(x: int) -> int:
        raise ValueError(f"bad {x}")

    await Pipeline([Stage("Check", 1, [boom], task_attempts=1)]).run([7])

    task = otel.span("antflow.task.boom")
    stage = otel.span("antflow.stage.Check")
    for span in (task, stage):
        assert status(span) != "not error"
        assert span.status.description == "bad 7"
        (exception,) = [e for e in span.events if e.name == "exception"]
        assert exception.attributes is not None
        assert exception.attributes["exception.type"] == "ValueError"
    assert otel.span("antflow.pipeline.run").attributes["antflow.pipeline.items_failed"] == 1  # type: ignore[index]
    assert otel.metrics()["antflow.pipeline.items.failed"] == {(("stage", "Check"),): 1}


async def test_each_attempt_is_a_task_span_and_each_retry_is_counted(otel: Otel) -> None:
    calls: dict[int, int] = {}

    async def flaky(x: int) -> int:
        calls[x] = calls.get(x, 0) + 1
        if calls[x] < 3:
            raise ConnectionError("again")
        return x

    await Pipeline([Stage("Flaky", 1, [flaky], task_attempts=3), Stage("Last", 1, [double])]).run(
        [1, 2]
    )

    attempts = otel.spans("antflow.task.flaky")
    assert sorted(s.attributes["antflow.task.attempt"] for s in attempts) == [1, 1, 2, 2, 3, 3]  # type: ignore[index]
    assert [status(s) != "not error" for s in attempts].count(True) == 4
    for stage_span in otel.spans("antflow.stage.Flaky"):  # one per item, retries as events
        assert [e.name for e in stage_span.events] == ["antflow.retry", "antflow.retry"]
        assert status(stage_span) == "not error"
    found = otel.metrics()
    assert found["antflow.pipeline.items.retried"] == {(("stage", "Flaky"),): 4}
    # 0.10 counts an item processed once, when it leaves the last stage
    assert found["antflow.pipeline.items.processed"] == {(("stage", "Last"),): 2}
    durations = found["antflow.task.duration"]
    # the successful attempts only, as 0.10 records them
    assert durations[(("stage", "Flaky"), ("task", "flaky"))][0] == 2
    assert durations[(("stage", "Last"), ("task", "double"))][0] == 2


async def test_a_skipped_item_ends_its_stage_span_marked_skipped(otel: Otel) -> None:
    stage = Stage("Maybe", 1, [double], skip_if=lambda x: x > 1)
    results = await Pipeline([stage]).run([1, 2])
    assert sorted(r.value for r in results) == [2, 2]
    spans = otel.spans("antflow.stage.Maybe")
    assert sorted(bool(s.attributes.get("antflow.item.skipped")) for s in spans) == [False, True]  # type: ignore[union-attr]
    assert len(otel.spans("antflow.task.double")) == 1


async def test_an_item_whose_skip_if_raises_is_an_error_stage_span(otel: Otel) -> None:
    def broken(x: int) -> bool:
        raise RuntimeError("no opinion")

    await Pipeline([Stage("Maybe", 1, [double], skip_if=broken)]).run([1])
    span = otel.span("antflow.stage.Maybe")
    assert status(span) != "not error"
    assert span.status.description == "no opinion"
    assert otel.spans("antflow.task.double") == []
    assert otel.metrics()["antflow.pipeline.items.failed"] == {(("stage", "Maybe"),): 1}


async def test_stream_and_start_join_runs_are_spans_too(otel: Otel) -> None:
    pipeline = Pipeline([Stage("S", 2, [double])])
    async with pipeline.stream(range(4)) as results:
        assert sorted([r.value async for r in results]) == [0, 2, 4, 6]
    async with Pipeline([Stage("T", 1, [double])]) as started:
        await started.start()
        await started.feed([1, 2])
        await started.join()
    runs = otel.spans("antflow.pipeline.run")
    assert sorted(r.attributes["antflow.pipeline.stage_names"] for r in runs) == [("S",), ("T",)]  # type: ignore[index]
    assert len(otel.spans("antflow.stage.S")) == 4
    assert len(otel.spans("antflow.stage.T")) == 2


async def test_a_cancelled_run_ends_every_span_it_opened(otel: Otel) -> None:
    started = anyio.Event()

    async def hang(x: int) -> int:
        started.set()
        await anyio.sleep_forever()
        return x

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(Pipeline([Stage("Hang", 1, [hang])]).run, [1])
            await started.wait()
            scope.cancel()
    run = otel.span("antflow.pipeline.run")
    for name in ("antflow.stage.Hang", "antflow.task.hang"):
        span = otel.span(name)
        assert status(span) != "not error"
        assert "cancelled" in str(span.status.description)
        assert span.end_time is not None
    assert run.end_time is not None


# -- the executor ---------------------------------------------------------------------------


async def test_each_executor_call_is_a_span_under_the_submitters_span(otel: Otel) -> None:
    from opentelemetry import trace

    tracer = trace.get_tracer("tests")
    async with AsyncExecutor(max_workers=2) as executor:
        with tracer.start_as_current_span("submitter") as submitter:
            future = executor.submit(double, 5)
        with tracer.start_as_current_span("mapper") as mapper:
            assert await executor.map(double, [1, 2, 3]) == [2, 4, 6]
        assert await future.result() == 10
    spans = otel.spans("antflow.executor.task")
    assert len(spans) == 4
    assert sorted(s.attributes["antflow.executor.task_id"] for s in spans) == [0, 1, 2, 3]  # type: ignore[index]
    parents = sorted(parent_id(s) or 0 for s in spans)
    assert parents.count(submitter.get_span_context().span_id) == 1
    assert parents.count(mapper.get_span_context().span_id) == 3


async def test_inside_an_executor_call_its_span_is_current(otel: Otel) -> None:
    from opentelemetry import trace

    async def where() -> int:
        await anyio.lowlevel.checkpoint()
        return trace.get_current_span().get_span_context().span_id

    async with AsyncExecutor(max_workers=2) as executor:
        ids = [await executor.submit(where).result() for _ in range(3)]
    assert sorted(ids) == sorted(span_id(s) for s in otel.spans("antflow.executor.task"))


async def test_a_failed_executor_call_is_an_error_span_and_its_error_unchanged(
    otel: Otel,
) -> None:
    async def boom() -> None:
        raise KeyError("nope")

    async with AsyncExecutor(max_workers=1) as executor:
        with pytest.raises(KeyError, match="nope"):
            await executor.submit(boom).result()
        with pytest.raises(TypeError, match="<lambda> returned int, not an awaitable"):
            await executor.submit(lambda: 1).result()
        assert "boom" in repr(executor.submit(boom))
    spans = otel.spans("antflow.executor.task")
    assert len(spans) == 3
    assert all(status(s) != "not error" for s in spans)
    assert sorted(str(s.status.description) for s in spans)[0] == "'nope'"


async def test_an_executor_started_with_telemetry_off_reports_nothing(otel: Otel) -> None:
    telemetry.configure_telemetry(enabled=False)
    async with AsyncExecutor(max_workers=1) as executor:
        telemetry.configure_telemetry(enabled=True)  # too late for this executor
        assert await executor.map(double, [1, 2]) == [2, 4]
    assert otel.spans() == []


# -- the switch -----------------------------------------------------------------------------


async def test_with_telemetry_off_nothing_is_reported(otel: Otel) -> None:
    telemetry.configure_telemetry(enabled=False)
    assert telemetry.is_enabled() is False
    assert isinstance(telemetry.get_tracer(), telemetry.NoOpTracer)
    assert isinstance(telemetry.get_meter(), telemetry.NoOpMeter)

    async def boom(x: int) -> int:
        raise ValueError

    await Pipeline([Stage("A", 2, [double]), Stage("B", 1, [boom])]).run(range(3))
    async with AsyncExecutor(max_workers=2) as executor:
        await executor.map(double, [1, 2])
    assert otel.spans() == []
    assert otel.metrics() == {}


async def test_without_the_package_nothing_is_reported_whatever_the_switch(
    otel: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_installed", False)  # what the switch finds with no package
    assert telemetry.is_enabled() is False
    assert isinstance(telemetry.get_tracer(), telemetry.NoOpTracer)
    await Pipeline([Stage("A", 1, [double])]).run(range(2))
    async with AsyncExecutor(max_workers=1) as executor:
        await executor.submit(double, 1).result()
    assert otel.spans() == []


def test_is_enabled_follows_configure_telemetry_and_the_package_being_there(otel: Otel) -> None:
    from opentelemetry import trace

    assert telemetry.is_enabled() is True
    assert not isinstance(telemetry.get_tracer(), telemetry.NoOpTracer)
    assert telemetry.StatusCode is trace.StatusCode  # type: ignore[attr-defined]
    telemetry.configure_telemetry(enabled=False)
    assert telemetry.is_enabled() is False
    telemetry.configure_telemetry()
    assert telemetry.is_enabled() is True


def test_configure_telemetry_takes_a_bool_only() -> None:
    with pytest.raises(TypeError, match="enabled"):
        telemetry.configure_telemetry(enabled="yes")  # type: ignore[arg-type]


def test_the_no_op_stand_ins_do_nothing_quietly() -> None:
    tracer, meter = telemetry.NoOpTracer(), telemetry.NoOpMeter()
    with tracer.start_as_current_span("x") as span:
        span.set_attribute("k", 1).set_status(None)
        span.record_exception(ValueError())
        span.add_event("e")
        assert span.is_recording() is False
    tracer.start_span("y").end()
    meter.create_counter("c").add(1)
    meter.create_histogram("h").record(1.0)
    meter.create_up_down_counter("u").add(-1)


OTEL_LOADED = "print(any(m.startswith('opentelemetry') for m in sys.modules))"


def test_importing_antflow_and_flowkit_does_not_import_opentelemetry() -> None:
    assert run_python(f"import sys, antflow, flowkit, antflow.telemetry; {OTEL_LOADED}") == (
        "False"
    )


def test_runs_never_configured_import_nothing_when_nothing_set_opentelemetry_up() -> None:
    code = (
        "import sys, anyio, antflow\n"
        "async def echo(x):\n"
        "    return x\n"
        "async def main():\n"
        "    await antflow.Pipeline.quick([1, 2], echo)\n"
        "    async with antflow.AsyncExecutor(2) as ex:\n"
        "        await ex.map(echo, [1, 2])\n"
        "anyio.run(main)\n"
        "print(antflow.telemetry.is_enabled())\n"
        f"{OTEL_LOADED}"
    )
    assert run_python(code).splitlines() == ["True", "False"]


# -- the hook's run events ------------------------------------------------------------------


class RunRecorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def wants(self, kind: EventKind) -> bool:
        return kind in (EventKind.RUN_STARTED, EventKind.RUN_ENDED)

    def __call__(self, event: Event) -> None:
        self.events.append(event)


async def test_a_run_reports_its_start_and_its_end_with_its_stats() -> None:
    recorder = RunRecorder()
    state = RunState([Stage("A", 1, [double]), Stage("B", 1, [double])], None, collect=True)
    state.hook = hook_of([recorder], state.callbacks)
    async with anyio.create_task_group() as tg:
        await tg.start(state.serve)
        await state.feed([1], state.entries[0], 100)
        await state.wait_drained()
        state.close()
    assert [e.kind for e in recorder.events] == [EventKind.RUN_STARTED, EventKind.RUN_ENDED]
    assert recorder.events[0].source == "A → B"
    stats = recorder.events[-1].value
    assert isinstance(stats, PipelineStats)
    assert (stats.items_fed, stats.items_processed) == (1, 1)
