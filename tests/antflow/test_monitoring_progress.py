"""The one-line progress bar: rendering, run/quick/stream, executor map, terminals and pipes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import anyio
import pytest

from antflow import AsyncExecutor, Pipeline, Stage
from antflow._builtin_display import BuiltinDisplay
from antflow._progress import RateMeter, RunView, plain_line, render_progress

from ._monitoring import (
    FAST,
    echo,
    pipe_console,
    render,
    sample_snapshot,
    terminal_console,
    two_stages,
    written,
)


def test_bar_shows_done_total_percentage_rate_eta_and_failures() -> None:
    view = RunView("Fetch → Save", total=10, elapsed=2.0, rate=2.5)
    text = render(render_progress(sample_snapshot(), view))
    assert "Fetch → Save" in text
    assert "5/10  50%" in text  # 4 processed + 1 failed
    assert "2.5 items/s" in text
    assert "ETA 2.0 s" in text
    assert "failed 1" in text


def test_bar_without_a_total_shows_counts_and_rate_but_no_percentage() -> None:
    view = RunView("Fetch", total=None, elapsed=65.0, rate=3.0)
    text = render(render_progress(sample_snapshot(), view))
    assert "5 items" in text
    assert "3.0 items/s" in text
    assert "elapsed 0:01:05" in text
    assert "%" not in text


def test_plain_line_is_one_line_of_plain_text() -> None:
    line = plain_line(sample_snapshot(), RunView("Fetch", 10, 1.0, 5.0))
    assert line == (
        "Fetch: 5/10  50%, 5.0 items/s, ETA 1.0 s, failed 1 (last item-5 TimeoutError), in flight 4"
    )


def test_a_run_over_with_items_left_says_it_stopped() -> None:
    line = plain_line(sample_snapshot(), RunView("Fetch", 10, 61.0, 5.0, finished=True))
    assert "stopped after 0:01:01" in line


def test_rate_is_measured_over_the_recent_window() -> None:
    meter = RateMeter(window=10.0)
    assert meter.add(1.0, 100) == 100.0
    meter.add(10.0, 1000)
    assert meter.add(20.0, 1000) == pytest.approx(0.0)  # nothing finished in the last 10 s


async def test_run_with_progress_on_a_terminal_ends_with_the_final_bar() -> None:
    console = terminal_console()
    pipeline = Pipeline(stages=two_stages())
    results = await pipeline.run(
        range(20), progress=True, dashboard_update_interval=FAST, console=console
    )
    assert len(results) == 16
    text = console.export_text()
    assert "Fetch → Save" in text
    assert "20/20 100%" in text
    assert "failed 4" in text
    assert "took " in text
    assert written(console).endswith("\x1b[?25h")  # the cursor is shown again


async def test_run_with_progress_in_a_pipe_prints_plain_lines_without_escape_codes() -> None:
    console = pipe_console()
    await Pipeline(stages=two_stages()).run(range(20), progress=True, console=console)
    out = written(console)
    assert "\x1b" not in out
    assert out.splitlines()[0] == "Fetch → Save: started, 20 items"
    assert out.splitlines()[-1].startswith("Fetch → Save: 20/20 100%")


def test_plain_lines_are_periodic_on_a_pipe() -> None:
    console = pipe_console()
    display = BuiltinDisplay(render_progress, console, "S", plain_period=0.0)
    display.on_start(None, 10)
    for _ in range(3):
        display.on_update(sample_snapshot())
    display.on_finish([], sample_snapshot().error_summary)
    lines = written(console).splitlines()
    assert len(lines) == 5  # start, three updates, final
    assert "\x1b" not in written(console)


async def test_progress_with_an_iterator_has_no_total() -> None:
    console = pipe_console()

    def items() -> Iterator[int]:
        yield from range(7)

    await Pipeline(stages=[Stage("S", 2, [echo])]).run(items(), progress=True, console=console)
    out = written(console)
    assert "started, unknown number of items" in out
    assert "S: 7 items" in out
    assert "%" not in out


async def test_progress_with_an_async_iterator_has_no_total() -> None:
    console = terminal_console()

    async def items() -> AsyncIterator[int]:
        for i in range(5):
            yield i

    results = await Pipeline(stages=[Stage("S", 2, [echo])]).run(
        items(), progress=True, console=console
    )
    assert [r.value for r in results] == [0, 1, 2, 3, 4]
    text = console.export_text()
    assert "5 items" in text
    assert "%" not in text


async def test_quick_with_progress() -> None:
    console = terminal_console()
    results = await Pipeline.quick(range(6), echo, workers=2, progress=True, console=console)
    assert [r.value for r in results] == list(range(6))
    assert "6/6 100%" in console.export_text()


async def test_stream_with_progress_finishes_the_bar_when_the_stream_ends() -> None:
    console = terminal_console()
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    async with aclosing(pipeline.stream(range(8), progress=True, console=console)) as results:
        values = sorted([r.value async for r in results])
    assert values == list(range(8))
    assert "8/8 100%" in console.export_text()
    assert written(console).endswith("\x1b[?25h")


async def test_stream_with_progress_inside_async_with() -> None:
    console = pipe_console()
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    stream = pipeline.stream(range(4), progress=True, console=console)
    async with pipeline, aclosing(stream) as rs:
        assert len([r async for r in rs]) == 4
    assert written(console).splitlines()[-1].startswith("S: 4/4 100%")


async def test_a_failing_run_leaves_the_terminal_clean() -> None:
    console = terminal_console()

    def items() -> Iterator[int]:
        yield 1
        raise OSError("input broke")

    with pytest.raises(OSError, match="input broke"):
        await Pipeline(stages=[Stage("S", 2, [echo])]).run(items(), progress=True, console=console)
    assert written(console).endswith("\x1b[?25h")


async def test_a_cancelled_run_leaves_the_terminal_clean() -> None:
    console = terminal_console()
    started = anyio.Event()

    async def park(x: int) -> int:
        started.set()
        await anyio.sleep_forever()
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [park])])
    async with anyio.create_task_group() as tg:

        async def cancel_when_started() -> None:
            await started.wait()
            tg.cancel_scope.cancel()

        tg.start_soon(cancel_when_started)
        await pipeline.run(range(5), progress=True, console=console)
    assert not pipeline.is_running
    text = console.export_text()
    assert "0/5" in text
    assert "stopped after" in text
    assert written(console).endswith("\x1b[?25h")


async def test_no_display_reads_no_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(self: Pipeline) -> None:
        raise AssertionError("a run without a display must not sample the pipeline")

    monkeypatch.setattr(Pipeline, "get_dashboard_snapshot", forbidden)
    results = await Pipeline(stages=[Stage("S", 2, [echo])]).run(range(10))
    assert len(results) == 10


async def test_executor_map_with_progress() -> None:
    console = terminal_console()

    async def square(x: int) -> int:
        return x * x

    async with AsyncExecutor(max_workers=3) as executor:
        results = await executor.map(square, range(12), progress=True, console=console)
    assert results == [x * x for x in range(12)]
    text = console.export_text()
    assert "map(square)" in text
    assert "12/12 100%" in text


async def test_executor_map_iter_with_progress_and_no_total() -> None:
    console = pipe_console()

    async def square(x: int) -> int:
        return x * x

    async with AsyncExecutor(max_workers=3) as executor:
        stream = executor.map_iter(square, iter(range(9)), progress=True, console=console)
        async with aclosing(stream) as results:
            assert [r async for r in results] == [x * x for x in range(9)]
    out = written(console)
    assert "\x1b" not in out
    assert out.splitlines()[-1].startswith("map(square): 9 items")


async def test_executor_map_failure_shows_on_the_bar_and_propagates() -> None:
    console = pipe_console()

    async def explode(x: int) -> int:
        raise KeyError(x)

    async with AsyncExecutor(max_workers=2) as executor:
        with pytest.raises(KeyError):
            await executor.map(explode, [1, 2], progress=True, console=console)
    assert "failed 1" in written(console).splitlines()[-1]


async def test_executor_map_rejects_a_bad_progress_argument() -> None:
    async with AsyncExecutor(max_workers=2) as executor:
        with pytest.raises(TypeError, match="progress must be True or False"):
            executor.map(echo, [1], progress="yes")  # type: ignore[arg-type]
