"""``total=``: a bar with a percentage and an ETA for inputs that have no ``len()``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

import pytest

from antflow import AsyncExecutor, DashboardSnapshot, ErrorSummary, Pipeline, Stage

from ._monitoring import echo, pipe_console, written


def numbers(n: int) -> Iterator[int]:
    yield from range(n)


async def async_numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


def last_line(console: Any) -> str:
    return str(written(console).splitlines()[-1])


async def test_stream_of_a_generator_with_total_shows_a_percentage() -> None:
    console = pipe_console()
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    stream = pipeline.stream(numbers(6), progress=True, console=console, total=6)
    async with aclosing(stream) as results:
        assert len([r async for r in results]) == 6
    assert written(console).splitlines()[0] == "S: started, 6 items"
    assert last_line(console).startswith("S: 6/6 100%")


async def test_run_of_an_async_iterator_with_total_shows_a_percentage() -> None:
    console = pipe_console()
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    await pipeline.run(async_numbers(4), dashboard="compact", console=console, total=8)
    out = written(console)
    assert "4/8  50%" in out  # a total that was too high: the run stopped at 50%
    assert "total unknown" not in out


async def test_quick_passes_total_on() -> None:
    console = pipe_console()
    await Pipeline.quick(numbers(5), echo, workers=2, progress=True, console=console, total=5)
    assert last_line(console).startswith("echo: 5/5 100%")


async def test_total_wins_over_the_inputs_length() -> None:
    console = pipe_console()
    await Pipeline(stages=[Stage("S", 2, [echo])]).run(
        range(3), progress=True, console=console, total=4
    )
    assert last_line(console).startswith("S: 3/4  75%")


async def test_a_custom_dashboard_gets_the_total() -> None:
    totals: list[int | None] = []

    class Recorder:
        def on_start(self, pipeline: Any, total_items: int | None) -> None:
            totals.append(total_items)

        def on_update(self, snapshot: DashboardSnapshot) -> None:
            pass

        def on_finish(self, results: Any, summary: ErrorSummary) -> None:
            pass

    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    await pipeline.run(numbers(3), custom_dashboard=Recorder(), total=3)
    assert totals == [3]


async def test_executor_map_of_a_generator_with_total() -> None:
    console = pipe_console()
    async with AsyncExecutor(max_workers=2) as executor:
        results = await executor.map(echo, numbers(7), progress=True, console=console, total=7)
    assert results == list(range(7))
    assert written(console).splitlines()[0] == "map(echo): started, 7 items"
    assert last_line(console).startswith("map(echo): 7/7 100%")


async def test_executor_map_iter_of_a_generator_with_total() -> None:
    console = pipe_console()
    async with AsyncExecutor(max_workers=2) as executor:
        stream = executor.map_iter(echo, numbers(3), progress=True, console=console, total=3)
        async with aclosing(stream) as results:
            assert [r async for r in results] == [0, 1, 2]
    assert last_line(console).startswith("map(echo): 3/3 100%")


@pytest.mark.parametrize(
    ("total", "error", "match"),
    [
        (-1, ValueError, "total must be an int >= 0, got -1"),
        ("5", TypeError, "total must be an int >= 0, got '5'"),
        (True, TypeError, "total must be an int >= 0, got True"),
        (2.0, TypeError, "total must be an int >= 0, got 2.0"),
    ],
)
async def test_a_bad_total_is_refused_before_anything_runs(
    total: Any, error: type[Exception], match: str
) -> None:
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    with pytest.raises(error, match=match):
        await pipeline.run([1], progress=True, total=total)
    with pytest.raises(error, match=match):
        pipeline.stream([1], progress=True, total=total)
    with pytest.raises(error, match=match):
        await Pipeline.quick([1], echo, total=total)
    async with AsyncExecutor(max_workers=1) as executor:
        with pytest.raises(error, match=match):
            executor.map(echo, [1], progress=True, total=total)
    assert not pipeline.is_running
