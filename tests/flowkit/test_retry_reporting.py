"""flowkit retries: one record each on ``"flowkit.retry"`` with context, and ``retry_on=``."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import AsyncIterator

import pytest

from flowkit import DAG, task
from tests._scripts import run_script


def _flaky(failures: int, error: type[Exception] = ConnectionError) -> tuple[list[int], object]:
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) <= failures:
            raise error(f"reset {len(calls)}")
        return len(calls)

    return calls, flaky


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_task_retry_is_one_record_with_task_workflow_attempt_wait_and_error(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def body() -> int:
        calls.append(1)
        if len(calls) <= 2:
            raise ConnectionError(f"reset {len(calls)}")
        return len(calls)

    async def async_body() -> int:
        return body()

    flaky = task(retries=3, delay=0.001)(body if kind == "sync" else async_body)
    with caplog.at_level(logging.INFO, logger="flowkit.retry"):
        results = await DAG("nightly", tasks=[flaky]).run_async()
    name = flaky.name
    assert results[name] == 3
    records = [r for r in caplog.records if r.name == "flowkit.retry"]
    assert [r.getMessage().split(";")[0] for r in records] == [
        f"task {name!r} in workflow 'nightly' failed with ConnectionError: reset 1",
        f"task {name!r} in workflow 'nightly' failed with ConnectionError: reset 2",
    ]
    assert [(r.attempt, r.attempts) for r in records] == [(2, 4), (3, 4)]  # type: ignore[attr-defined]
    assert "attempt 2 of 4 in" in records[0].getMessage()
    assert all(r.wait >= 0 for r in records)  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.name == "antflow.retry"]  # logged once, here


async def test_an_elements_retry_names_the_element(caplog: pytest.LogCaptureFixture) -> None:
    @task()
    def items() -> list[int]:
        return [0, 1]

    seen: set[int] = set()

    @task(retries=1, delay=0.001)
    def fetch(value: int) -> int:
        if value == 1 and value not in seen:
            seen.add(value)
            raise TimeoutError("slow")
        return value

    with caplog.at_level(logging.INFO, logger="flowkit.retry"):
        results = await DAG("pages", tasks=[items, fetch.map(items)]).run_async()
    assert results["fetch"] == [0, 1]
    (record,) = [r for r in caplog.records if r.name == "flowkit.retry"]
    assert record.getMessage().startswith("task 'fetch[1]' in workflow 'pages' failed with")


@pytest.mark.parametrize("where", ["run", "direct"])
async def test_retry_on_fails_at_once_on_another_error(where: str) -> None:
    calls, body = _flaky(failures=5, error=ValueError)
    bad = task(retries=3, delay=0.001, retry_on=ConnectionError)(body)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reset 1"):
        if where == "run":
            await DAG("d", tasks=[bad]).run_async()
        else:
            bad()
    assert len(calls) == 1


@pytest.mark.parametrize("where", ["run", "direct"])
async def test_retry_on_retries_a_matching_error_and_its_subclasses(where: str) -> None:
    calls, body = _flaky(failures=2, error=ConnectionResetError)
    flaky = task(retries=3, delay=0.001, retry_on=(ConnectionError, TimeoutError))(body)  # type: ignore[arg-type]
    if where == "run":
        assert (await DAG("d", tasks=[flaky]).run_async())[flaky.name] == 3
    else:
        assert flaky() == 3
    assert len(calls) == 3


def test_a_mapped_task_keeps_its_templates_retry_on() -> None:
    @task()
    def items() -> list[int]:
        return [1]

    @task(retries=2, retry_on=KeyError)
    def look_up(value: int) -> int:
        return value

    assert look_up.map(items).policy.retry_on == (KeyError,)


@pytest.mark.parametrize("bad", [ValueError("x"), int, (KeyError, "x"), ()])
def test_a_bad_retry_on_is_refused_where_the_decorator_is_written(bad: object) -> None:
    with pytest.raises(TypeError, match="retry_on must be an exception class or a tuple"):
        task(retry_on=bad)  # type: ignore[arg-type]


_SCRIPT = """
    import stamina
    from flowkit import DAG, task

    calls = []

    @task(retries=2)
    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("reset")
        return len(calls)

    with stamina.set_testing(True, attempts=3, cap=True):
        print("result", DAG("d", tasks=[flaky]).run()["flaky"])
"""


def test_nothing_reaches_stderr_when_logging_is_unconfigured() -> None:
    done = run_script(_SCRIPT)
    assert done.stdout == "result 3\n"
    assert done.stderr == ""


def test_configure_logging_shows_one_line_per_retry_and_no_stamina_line() -> None:
    script = "from flowkit import configure_logging; configure_logging()\n" + textwrap.dedent(
        _SCRIPT
    )
    done = run_script(script)
    lines = done.stdout.splitlines() + done.stderr.splitlines()
    retries = [line for line in lines if "failed with ConnectionError" in line]
    assert len(retries) == 2
    assert "attempt 2 of 3" in retries[0]
    assert "attempt 3 of 3" in retries[1]
    assert not any("stamina" in line for line in lines)


def test_an_async_generator_function_is_refused_as_a_task() -> None:
    async def pages() -> AsyncIterator[int]:
        yield 1

    with pytest.raises(TypeError, match="'pages' is an async generator function"):
        task(pages)
