"""A flowkit run reports each task to antflow's observation hook (what the progress bar counts)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from antflow._observe import Event, EventKind
from flowkit import DAG, StateManager, task
from flowkit._scheduler import RunResult, run_plan
from tests.flowkit._workflows import etl_chain

STARTED = EventKind.ITEM_STARTED
SUCCEEDED = EventKind.ITEM_SUCCEEDED
SKIPPED = EventKind.ITEM_SKIPPED
FAILED = EventKind.ITEM_FAILED
RETRYING = EventKind.ITEM_RETRYING


class Recorder:
    """Keeps every ITEM_* event (list.append is safe from the worker threads)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def wants(self, kind: EventKind) -> bool:
        return kind.name.startswith("ITEM_")

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self, name: str) -> list[EventKind]:
        return [e.kind for e in self.events if e.item_id == name]

    def index(self, kind: EventKind, name: str) -> int:
        return next(i for i, e in enumerate(self.events) if e.kind is kind and e.item_id == name)


async def observed(dag: DAG, state: StateManager | None = None) -> tuple[RunResult, Recorder]:
    recorder = Recorder()
    result = await run_plan(dag.plan(), "thread", None, state, observers=[recorder])
    return result, recorder


async def test_each_task_is_started_then_succeeded_under_the_workflow_and_its_name() -> None:
    result, recorder = await observed(DAG("etl", tasks=etl_chain()))
    for name in ("extract", "transform", "load"):
        assert recorder.kinds(name) == [STARTED, SUCCEEDED]
    assert {e.source for e in recorder.events} == {"etl"}
    succeeded = {e.item_id: e.value for e in recorder.events if e.kind is SUCCEEDED}
    assert succeeded == dict(result)
    assert all(e.timestamp > 0 for e in recorder.events)


async def test_a_task_is_reported_done_before_its_downstream_starts() -> None:
    _, recorder = await observed(DAG("etl", tasks=etl_chain()))
    assert recorder.index(SUCCEEDED, "extract") < recorder.index(STARTED, "transform")
    assert recorder.index(SUCCEEDED, "transform") < recorder.index(STARTED, "load")


async def test_a_false_condition_is_reported_as_skipped() -> None:
    @task()
    def size() -> int:
        return 1

    @task(when=lambda x: x > 1000)
    def large(x: int) -> str:
        return "large"

    size >> large
    result, recorder = await observed(DAG("d", tasks=[size, large]))
    assert result.skipped == {"large"}
    assert recorder.kinds("large") == [STARTED, SKIPPED]


async def test_a_cached_result_is_reported_as_succeeded_without_a_call() -> None:
    calls: list[str] = []

    @task()
    def only() -> int:
        calls.append("only")
        return 7

    state = StateManager()
    state.set("flowkit:d:only", 7)
    _, recorder = await observed(DAG("d", tasks=[only]), state)
    assert calls == []
    assert recorder.kinds("only") == [STARTED, SUCCEEDED]
    assert recorder.events[-1].value == 7


@pytest.mark.usefixtures("no_retry_waits")
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async def"])
async def test_each_retry_is_reported_with_the_failed_attempt_and_its_error(
    is_async: bool,
) -> None:
    calls = 0

    def body() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError(f"attempt {calls}")
        return "ok"

    async def async_body() -> str:
        return body()

    flaky = task(retries=3, delay=0.01)(async_body if is_async else body)
    _, recorder = await observed(DAG("d", tasks=[flaky]))
    name = flaky.name
    assert recorder.kinds(name) == [STARTED, RETRYING, RETRYING, SUCCEEDED]
    retries = [e for e in recorder.events if e.kind is RETRYING]
    assert [e.attempt for e in retries] == [1, 2]
    assert [str(e.error) for e in retries] == ["attempt 1", "attempt 2"]
    assert all(e.task == name and e.wait is not None and e.wait >= 0 for e in retries)


@pytest.mark.usefixtures("no_retry_waits")
async def test_a_task_failing_for_good_is_reported_once_with_its_attempts() -> None:
    @task(retries=2, delay=0.01)
    async def hopeless() -> None:
        raise ValueError("no")

    @task()
    def after(x: None) -> None: ...

    hopeless >> after
    recorder = Recorder()
    with pytest.raises(ValueError, match="no"):
        await run_plan(DAG("d", tasks=[hopeless, after]).plan(), "thread", None, None, [recorder])
    assert recorder.kinds("hopeless") == [STARTED, RETRYING, RETRYING, FAILED]
    failed = recorder.events[-1]
    assert failed.attempt == 3
    assert isinstance(failed.error, ValueError)
    assert failed.failure is not None
    assert (failed.failure.stage, failed.failure.attempts) == ("d", 3)
    assert recorder.kinds("after") == []


async def test_a_sync_task_failing_on_a_worker_thread_is_reported_failed() -> None:
    @task()
    def broken() -> None:
        raise KeyError("column")

    recorder = Recorder()
    with pytest.raises(KeyError):
        await run_plan(DAG("d", tasks=[broken]).plan(), "thread", None, None, [recorder])
    assert recorder.kinds("broken") == [STARTED, FAILED]
    assert recorder.events[-1].attempt == 1


async def test_an_observer_that_raises_is_logged_and_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Faulty(Recorder):
        def __call__(self, event: Event) -> Any:
            raise RuntimeError("observer broke")

    with caplog.at_level(logging.ERROR, logger="antflow"):
        result = await run_plan(
            DAG("etl", tasks=etl_chain()).plan(), "thread", None, None, [Faulty()]
        )
    assert result["load"] == "loaded 20"
    assert "observer broke" in caplog.text
