"""Each retry is reported once, with its context: one log record on "antflow.retry", one
"retrying" event to the run's observers, and nothing on stderr while logging is unconfigured
(stamina's own instrumentation does not see antflow's retries)."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import stamina
import stamina.instrumentation

from antflow import AsyncExecutor, Pipeline, Stage, StatusTracker, TaskEvent
from tests._scripts import run_script

from .test_pipeline_retry import Flaky


def retry_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "antflow.retry"]


async def test_a_pipeline_retry_is_one_record_with_item_stage_attempt_wait_and_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky(failures=1)
    stage = Stage("Fetch", 1, [flaky], task_attempts=3, task_wait_seconds=0.002)
    with caplog.at_level(logging.INFO, logger="antflow"):
        await Pipeline([stage]).run([{"id": "img-7", "value": 7}])
    (record,) = retry_records(caplog)
    message = record.getMessage()
    assert record.levelno == logging.INFO
    assert "item 'img-7' in stage 'Fetch', task 'Flaky'" in message
    assert "ConnectionError: flaky 7" in message
    assert "attempt 2 of 3" in message
    assert (record.attempt, record.attempts) == (2, 3)  # type: ignore[attr-defined]
    assert 0.002 <= record.wait <= 0.003  # type: ignore[attr-defined]
    assert f"in {record.wait:.2g} s" in message  # type: ignore[attr-defined]
    assert isinstance(record.error, ConnectionError)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("no_retry_waits")
async def test_each_retry_is_logged_once_and_told_once_to_observers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    retrying: list[TaskEvent] = []
    tracker = StatusTracker(on_task_retry=retrying.append)
    flaky = Flaky(failures=2)
    pipeline = Pipeline([Stage("Fetch", 2, [flaky], task_attempts=4)], status_tracker=tracker)
    with caplog.at_level(logging.INFO, logger="antflow"):
        await pipeline.run(range(5))
    records = retry_records(caplog)
    assert len(records) == len(retrying) == 10  # two retries per item
    told = sorted((e.item_id, e.attempt + 1) for e in retrying)  # the attempt that failed
    logged = sorted((int(r.getMessage().split()[1]), r.attempt) for r in records)  # type: ignore[attr-defined]
    assert told == logged == [(i, n) for i in range(5) for n in (2, 3)]
    assert all(isinstance(e.error, ConnectionError) for e in retrying)


@pytest.mark.usefixtures("no_retry_waits")
async def test_a_per_stage_retry_names_the_whole_stage_and_the_failed_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def first(x: int) -> int:
        return x

    flaky = Flaky(failures=1)
    stage = Stage("Load", 1, [first, flaky], retry="per_stage", stage_attempts=2)
    with caplog.at_level(logging.INFO, logger="antflow"):
        await Pipeline([stage]).run([3])
    (record,) = retry_records(caplog)
    assert record.getMessage().startswith(
        "item 0 in stage 'Load' (the whole stage again), task 'Flaky' failed with ConnectionError"
    )
    assert "attempt 2 of 2" in record.getMessage()


@pytest.mark.usefixtures("no_retry_waits")
async def test_an_executor_retry_names_the_call_and_its_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky(failures=1)

    async def fetch(url: str) -> Any:
        return await flaky(url)

    with caplog.at_level(logging.INFO, logger="antflow"):
        async with AsyncExecutor() as executor:
            assert await executor.submit(fetch, "https://a.test", retries=2).result()
            assert await executor.map(fetch, ["https://b.test"], retries=1) == ["https://b.test"]
    first, second = (r.getMessage() for r in retry_records(caplog))
    assert first.startswith("AsyncExecutor call ")
    assert "fetch('https://a.test')" in first
    assert "attempt 2 of 3" in first
    assert "fetch('https://b.test')" in second
    assert "attempt 2 of 2" in second


@pytest.fixture
def stamina_hook_calls() -> Iterator[list[str]]:
    """The application's own stamina hook, recording what it is told."""
    calls: list[str] = []
    hooks = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([lambda details: calls.append(details.name)])
    try:
        yield calls
    finally:
        stamina.instrumentation.set_on_retry_hooks(hooks)


@pytest.mark.usefixtures("no_retry_waits")
async def test_stamina_instrumentation_sees_the_applications_retries_not_antflows(
    stamina_hook_calls: list[str],
) -> None:
    flaky = Flaky(failures=1)
    await Pipeline([Stage("Fetch", 1, [flaky], task_attempts=2)]).run([1])
    assert flaky.calls == {1: 2}
    assert stamina_hook_calls == []

    @stamina.retry(on=ConnectionError, attempts=2)
    async def own(x: int) -> Any:
        return await flaky(x)

    await own(2)
    assert len(stamina_hook_calls) == 1  # the application's stamina keeps its hooks


async def test_stamina_testing_mode_sets_the_attempts() -> None:
    flaky = Flaky(failures=10)
    with stamina.set_testing(True, attempts=2):
        await Pipeline([Stage("Fetch", 1, [flaky], task_attempts=5)]).run([1])
    assert flaky.calls == {1: 2}


async def test_stamina_inactive_means_one_attempt() -> None:
    flaky = Flaky(failures=10)
    stamina.set_active(False)
    try:
        async with AsyncExecutor() as executor:
            with pytest.raises(ConnectionError):
                await executor.submit(flaky, 1, retries=3).result()
    finally:
        stamina.set_active(True)
    assert flaky.calls == {1: 1}


_UNCONFIGURED = """
    import anyio, stamina
    from antflow import AsyncExecutor, Pipeline, Stage

    calls = {}

    async def flaky(x):
        calls[x] = calls.get(x, 0) + 1
        if calls[x] == 1 or x == 0:
            raise ConnectionError("reset")
        return x

    async def main():
        with stamina.set_testing(True, attempts=3, cap=True):
            await Pipeline([Stage("Fetch", 2, [flaky], task_attempts=3)]).run(range(4))
            async with AsyncExecutor() as executor:
                await executor.submit(flaky, 10, retries=1).result()
        print("done", sum(calls.values()))

    anyio.run(main)
"""


def test_nothing_reaches_stderr_when_logging_is_unconfigured() -> None:
    done = run_script(_UNCONFIGURED)
    assert done.stdout == "done 11\n"  # item 0: 3 calls, items 1-3: 2 each, the call: 2
    assert done.stderr == ""


def test_configured_logging_shows_one_line_per_retry_and_no_stamina_line() -> None:
    script = "import logging; logging.basicConfig(level=logging.INFO)\n" + textwrap.dedent(
        _UNCONFIGURED
    )
    lines = run_script(script).stderr.splitlines()
    retries = [line for line in lines if line.startswith("INFO:antflow.retry:")]
    assert len(retries) == 6  # item 0: 2 retries, items 1-3 and the call: 1 each
    assert not any("stamina" in line for line in lines)
    (summary,) = [line for line in lines if line.startswith("WARNING:antflow.pipeline:")]
    assert "1 of 4 items failed (1 ConnectionError)" in summary
