"""The compact, detailed and full dashboards: pure renders, live runs, pipes, validation."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from antflow import (
    DashboardSnapshot,
    ErrorSummary,
    Pipeline,
    PipelineStats,
    Stage,
    WorkerState,
    set_task_status,
)
from antflow._dashboard import (
    MAX_WORKER_ROWS,
    render_compact,
    render_detailed,
    render_full,
    stage_rows,
)
from antflow._progress import RunView

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

VIEW = RunView("Fetch → Save", total=10, elapsed=3.0, rate=1.5)


def test_stage_rows_add_up_each_stage() -> None:
    fetch, save = stage_rows(sample_snapshot())
    assert (fetch.name, fetch.queued, fetch.busy, fetch.idle) == ("Fetch", 2, 1, 1)
    assert (fetch.done, fetch.failed) == (5, 1)
    assert fetch.mean_time == pytest.approx(0.5)  # 3 s over 6 items
    assert (save.name, save.queued, save.busy, save.idle, save.done) == ("Save", 0, 1, 0, 4)


def test_compact_shows_progress_rate_eta_and_counts() -> None:
    text = render(render_compact(sample_snapshot(), VIEW))
    assert "5/10  50%" in text
    assert "1.5 items/s" in text
    assert "ETA 3.4 s" in text  # 5 left at 1.5/s: 3.33 s, rounded up
    assert "succeeded 4" in text
    assert "failed 1" in text
    assert "in flight 4" in text
    assert "Stages" not in text


def test_detailed_adds_a_row_per_stage() -> None:
    text = render(render_detailed(sample_snapshot(), VIEW))
    assert "succeeded 4" in text
    lines = {line.split()[1]: line.split()[2:] for line in text.splitlines() if "│   " in line}
    assert lines["Fetch"] == ["2", "1", "1", "5", "1", "500", "ms", "│"]
    assert lines["Save"] == ["0", "1", "0", "4", "0", "100", "ms", "│"]
    assert "Workers" not in text


def test_full_adds_workers_and_recent_errors() -> None:
    text = render(render_full(sample_snapshot(), VIEW), width=120)
    assert "Stages" in text
    fetch_w0 = next(line for line in text.splitlines() if "Fetch-W0" in line)
    assert "busy" in fetch_w0
    assert "item-7" in fetch_w0
    assert "downloading" in fetch_w0
    assert "2.0 s" in fetch_w0
    assert "idle" in next(line for line in text.splitlines() if "Fetch-W1" in line)
    error = next(line for line in text.splitlines() if line.split()[1:2] == ["item-5"])
    assert "Fetch" in error
    assert "TimeoutError" in error
    assert "server gone" in error


def test_full_shows_the_longest_busy_workers_when_there_are_too_many() -> None:
    now = time.time()
    states = {f"S-W{i}": WorkerState(f"S-W{i}", "S", "busy", i, None, now - i) for i in range(30)}
    snapshot = DashboardSnapshot(
        states, {}, PipelineStats(queue_sizes={"S": 0}), ErrorSummary(), now
    )
    text = render(render_full(snapshot, VIEW), width=120)
    assert "S-W29 " in text  # busy for the longest
    assert "S-W5 " not in text
    assert f"... {30 - MAX_WORKER_ROWS} more" in text


@pytest.mark.parametrize("level", ["compact", "detailed", "full"])
async def test_each_level_renders_a_run_on_a_terminal(level: Any) -> None:
    console = terminal_console()
    pipeline = Pipeline(stages=two_stages())
    results = await pipeline.run(
        range(10), dashboard=level, dashboard_update_interval=FAST, console=console
    )
    assert len(results) == 8
    text = console.export_text()
    assert "antflow · finished" in text
    assert "succeeded 8" in text
    assert "failed 2" in text
    assert ("Stages" in text) is (level != "compact")
    assert ("item 8 is broken" in text) is (level == "full")
    assert written(console).endswith("\x1b[?25h")


async def test_full_dashboard_shows_what_a_busy_worker_is_doing() -> None:
    console = terminal_console()
    release = anyio.Event()

    async def upload(x: int) -> int:
        set_task_status("uploading part 3")
        await release.wait()
        return x

    async def release_when_shown() -> None:
        with anyio.fail_after(5):
            # A console has no event to wait for: poll what it recorded.
            while "uploading part 3" not in console.export_text(clear=False):  # noqa: ASYNC110
                await anyio.sleep(FAST)
        release.set()

    pipeline = Pipeline(stages=[Stage("Upload", 1, [upload])])
    async with anyio.create_task_group() as tg:
        tg.start_soon(release_when_shown)
        await pipeline.run(["a"], dashboard="full", dashboard_update_interval=FAST, console=console)
    live = console.export_text()
    assert "Upload-W0" in live
    assert "busy" in live


@pytest.mark.parametrize("level", ["compact", "detailed", "full"])
async def test_each_level_in_a_pipe_prints_plain_text(level: Any) -> None:
    console = pipe_console()
    await Pipeline(stages=two_stages()).run(range(10), dashboard=level, console=console)
    out = written(console)
    assert "\x1b" not in out
    assert out.splitlines()[0] == "Fetch → Save: started, 10 items"
    assert "succeeded 8" in out
    assert ("Recent errors" in out) is (level == "full")


async def test_quick_with_a_dashboard() -> None:
    console = terminal_console()
    results = await Pipeline.quick(
        range(5), [echo, echo], workers=2, dashboard="detailed", console=console
    )
    assert len(results) == 5
    text = console.export_text()
    assert "echo " in text
    assert "echo-2" in text


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, x: Any) -> Any:
        self.calls += 1
        return x


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"dashboard": "fancy"}, ValueError, "dashboard must be 'compact', 'detailed' or 'full'"),
        ({"dashboard_update_interval": 0}, ValueError, "dashboard_update_interval must be"),
        ({"dashboard_update_interval": -1.0}, ValueError, "dashboard_update_interval must be"),
        ({"dashboard_update_interval": float("nan")}, ValueError, "dashboard_update_interval"),
        ({"dashboard_update_interval": True}, ValueError, "dashboard_update_interval"),
        (
            {"progress": True, "dashboard": "compact"},
            ValueError,
            "mutually exclusive, got progress=True and dashboard='compact'; pass only one",
        ),
        (
            {"dashboard": "full", "custom_dashboard": object()},
            ValueError,
            "mutually exclusive",
        ),
        ({"progress": 1}, TypeError, "progress must be True or False"),
        ({"progress": True, "console": "stdout"}, TypeError, "console must be a rich"),
        ({"custom_dashboard": object()}, TypeError, "custom_dashboard must implement"),
    ],
)
async def test_bad_display_arguments_fail_before_any_item_runs(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    task = Counting()
    pipeline = Pipeline(stages=[Stage("S", 1, [task])])
    with pytest.raises(error, match=match):
        await pipeline.run(range(3), **options)
    assert task.calls == 0
    assert not pipeline.is_running
    quick_options = {k: v for k, v in options.items() if k != "custom_dashboard"}
    if quick_options != options or not quick_options:
        return
    with pytest.raises(error, match=match):
        await Pipeline.quick(range(3), task, **quick_options)
    assert task.calls == 0


async def test_stream_rejects_bad_display_arguments_before_any_item_runs() -> None:
    task = Counting()
    pipeline = Pipeline(stages=[Stage("S", 1, [task])])
    with pytest.raises(ValueError, match="dashboard_update_interval"):
        async for _ in pipeline.stream(range(3), progress=True, dashboard_update_interval=0):
            pass
    assert task.calls == 0
