"""Where the built-in displays draw: stderr by default (stdout stays for data), what a live
display captures, and whole lines in a pipe."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from rich.console import Console

from antflow import AsyncExecutor, Pipeline, Stage
from antflow._builtin_display import BuiltinDisplay, _redirects, default_console
from antflow._dashboard import render_full
from antflow.display import CompactDashboard

from ._monitoring import echo, two_stages, with_failure, written


@pytest.mark.parametrize("level", [None, "compact", "full"])
async def test_by_default_a_display_writes_nothing_on_stdout(
    level: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    progress = level is None
    await Pipeline(stages=two_stages()).run(range(10), progress=progress, dashboard=level)
    out, err = capsys.readouterr()
    assert out == ""
    assert "Fetch → Save: started, 10 items" in err


async def test_stream_and_executor_map_bars_default_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipeline = Pipeline(stages=[Stage("S", 2, [echo])])
    async for result in pipeline.stream(range(3), progress=True):
        print(result.value)
    async with AsyncExecutor(max_workers=2) as executor:
        await executor.map(echo, range(3), progress=True)
    out, err = capsys.readouterr()
    assert sorted(out.split()) == ["0", "1", "2"]
    assert "S: 3/3 100%" in err
    assert "map(echo): 3/3 100%" in err


def test_the_display_classes_default_to_the_stderr_console() -> None:
    assert CompactDashboard().console is default_console()
    assert default_console().stderr


def test_the_default_console_writes_to_the_current_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    default_console().print("to stderr")
    assert capsys.readouterr().err == "to stderr\n"


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_a_live_display_on_stderr_captures_stdout_only_when_it_is_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = Console(stderr=True)
    monkeypatch.setattr(sys, "stderr", _Stream(tty=True))
    monkeypatch.setattr(sys, "stdout", _Stream(tty=False))  # `> out.jsonl`
    assert _redirects(console, sys.stderr)
    assert not _redirects(console, sys.stdout)
    monkeypatch.setattr(sys, "stdout", _Stream(tty=True))
    assert _redirects(console, sys.stdout)


def test_a_live_display_on_another_file_captures_nothing() -> None:
    console = Console(file=io.StringIO(), force_terminal=True)
    assert not _redirects(console, sys.stdout)
    assert not _redirects(console, sys.stderr)


def _finished_in_a_pipe(console: Console, message: str) -> str:
    display = BuiltinDisplay(render_full, console, "Fetch → Save", plain_period=0.0)
    display.on_start(None, 10)
    snapshot = with_failure("item-5", message)
    display.on_update(snapshot)
    display.on_finish([], snapshot.error_summary)
    return written(console)


def test_in_a_pipe_a_dashboard_is_printed_whole_not_cut_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    message = "the upstream server closed the connection " * 5  # about 210 cells
    out = _finished_in_a_pipe(Console(file=io.StringIO()), message.strip())
    assert "\x1b" not in out
    assert message.strip() in out
    assert "…" not in out


def test_in_a_pipe_a_width_chosen_for_the_console_is_kept() -> None:
    message = "the upstream server closed the connection " * 5
    out = _finished_in_a_pipe(Console(file=io.StringIO(), width=60), message)
    panel = [line for line in out.splitlines() if line[:1] in "╭│╰"]
    assert panel
    assert max(len(line) for line in panel) <= 60
    assert "item-5" in out


def test_plain_lines_in_a_pipe_are_never_cut() -> None:
    console = Console(file=io.StringIO(), width=40)
    display = BuiltinDisplay(render_full, console, "A rather long title → Another stage")
    display.on_start(None, 10)
    assert written(console) == "A rather long title → Another stage: started, 10 items\n"
