"""The built-in displays on narrow and wide consoles: whole columns and pieces go, in the stated
order, instead of every cell being cut; a failed item's id always stays."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.text import Text

from antflow import DashboardSnapshot, ErrorSummary, Pipeline, PipelineStats
from antflow._dashboard import render_compact, render_detailed, render_full
from antflow._narrow import Column, FittedLine, Piece, fit_table, table_width
from antflow._progress import RunView, render_progress
from antflow.display import ProgressDisplay

from ._monitoring import FAST, sample_snapshot, two_stages, with_failure

VIEW = RunView("Fetch → Save", total=10, elapsed=3.0, rate=1.5)

Render = Callable[[DashboardSnapshot, RunView], RenderableType]
LEVELS: dict[str, Render] = {
    "progress": render_progress,
    "compact": render_compact,
    "detailed": render_detailed,
    "full": render_full,
}


def shown(renderable: RenderableType, width: int, terminal: bool = False) -> str:
    """What a console of ``width`` columns shows of ``renderable``."""
    console = Console(file=io.StringIO(), width=width, force_terminal=terminal, record=True)
    console.print(renderable)
    return console.export_text()


def headers(text: str, title: str) -> list[str]:
    """The column headings of the table titled ``title`` in a rendered dashboard."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    heading = next(line for line in lines[start + 1 :] if line.strip("│ "))
    return heading.strip("│ ").split()


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "not-terminal"])
@pytest.mark.parametrize("width", [40, 60, 120])
@pytest.mark.parametrize("level", list(LEVELS))
def test_the_failed_items_id_is_shown_at_every_width(
    level: str, width: int, terminal: bool
) -> None:
    text = shown(LEVELS[level](sample_snapshot(), VIEW), width, terminal)
    assert "item-5" in text
    assert max(cell_len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("level", list(LEVELS))
def test_no_cell_is_cut_short_at_60_columns(level: str) -> None:
    assert "…" not in shown(LEVELS[level](sample_snapshot(), VIEW), 60)


@pytest.mark.parametrize("level", ["compact", "detailed", "full"])
def test_the_error_type_of_the_last_failure_shows_when_there_is_room(level: str) -> None:
    text = shown(LEVELS[level](sample_snapshot(), VIEW), 120)
    assert "failed 1 (last item-5 TimeoutError)" in text


def test_the_progress_line_drops_pieces_in_the_stated_order() -> None:
    line = FittedLine(
        [
            Piece(Text("TITLE"), drop=2, sep=""),
            Piece(Text("COUNT")),
            Piece(Text("RATE"), drop=4),
            Piece(Text("ETA"), drop=5),
            Piece(Text("FAILED")),
            Piece(Text("TYPE"), drop=1),
        ]
    )
    assert shown(line, 80).split() == ["TITLE", "COUNT", "RATE", "ETA", "FAILED", "TYPE"]
    assert shown(line, 34).split() == ["TITLE", "COUNT", "RATE", "ETA", "FAILED"]
    assert shown(line, 29).split() == ["COUNT", "RATE", "ETA", "FAILED"]
    assert shown(line, 22).split() == ["COUNT", "ETA", "FAILED"]
    assert shown(line, 16).split() == ["COUNT", "FAILED"]


def test_the_bar_narrows_to_10_cells_before_anything_goes_then_the_title_goes() -> None:
    view = RunView("T", total=10, elapsed=1.0, rate=1.0)
    snapshot = DashboardSnapshot({}, {}, PipelineStats(items_processed=5), ErrorSummary(), 0.0)
    line = render_progress(snapshot, view)
    assert isinstance(line, FittedLine)
    wide = line.natural_width()
    assert line.fitted(wide)[1] == 40
    assert line.fitted(wide - 30)[1] == 10
    kept, bar = line.fitted(wide - 31)
    assert bar == 11  # the title and its space gave their 2 cells to the bar
    assert "T" not in [p.content.plain for p in kept if isinstance(p.content, Text)]
    assert line.fitted(wide - 33)[1] == 0


@pytest.mark.parametrize(
    ("width", "kept"),
    [
        (120, ["stage", "queue", "busy", "idle", "done", "failed", "mean", "time"]),
        (60, ["stage", "queue", "busy", "idle", "done", "failed"]),
        (40, ["stage", "queue", "done", "failed"]),
        (28, ["stage", "failed"]),
    ],
)
def test_the_stage_table_drops_columns_in_the_stated_order(width: int, kept: list[str]) -> None:
    assert headers(shown(render_detailed(sample_snapshot(), VIEW), width), "Stages") == kept


@pytest.mark.parametrize(
    ("width", "workers", "errors"),
    [
        (120, ["worker", "state", "item", "task", "for"], ["item", "stage", "error", "message"]),
        (50, ["worker", "state", "item", "for"], ["item", "stage", "error"]),
        (40, ["worker", "state", "item"], ["item", "stage", "error"]),
        (30, ["worker", "item"], ["item", "error"]),
    ],
)
def test_the_full_dashboard_drops_columns_in_the_stated_order(
    width: int, workers: list[str], errors: list[str]
) -> None:
    text = shown(render_full(sample_snapshot(), VIEW), width)
    assert headers(text, "Workers") == workers
    assert headers(text, "Recent errors") == errors


def test_the_worker_table_goes_before_the_errors_when_even_its_kept_columns_do_not_fit() -> None:
    text = shown(render_full(sample_snapshot(), VIEW), 24)
    assert "Workers" not in text
    assert "Recent errors" in text
    assert "item-5" in text


def test_a_long_message_is_shortened_but_the_id_and_error_type_stay_whole() -> None:
    snapshot = with_failure("item-5", "the upstream server closed the connection " * 3)
    text = shown(render_full(snapshot, VIEW), 80)
    row = next(line for line in text.splitlines() if line.split()[1:2] == ["item-5"])
    assert "TimeoutError" in row
    assert row.rstrip(" │").endswith("…")


def test_a_long_item_id_is_never_cut() -> None:
    item_id = str(uuid.UUID(int=7))
    for width in (40, 60, 120):
        text = shown(render_full(with_failure(item_id), VIEW), width)
        assert item_id in text
        assert "…" not in text


def test_table_width_matches_what_rich_draws() -> None:
    columns = [
        Column("stage", [Text("Fetch")]),
        Column("queue", [Text("1,234")], drop=1),
        Column("a much longer heading", [Text("x")], drop=2),
    ]
    table = fit_table(columns, 200)
    assert table is not None
    console = Console(file=io.StringIO(), width=200)
    measured = Measurement.get(console, console.options, table).maximum
    assert measured == table_width(c.width for c in columns)


def test_fit_table_gives_none_when_even_the_kept_columns_do_not_fit() -> None:
    columns = [Column("a long column", [Text("value")]), Column("b", [Text("1")], drop=1)]
    assert fit_table(columns, 10) is None
    squeezed = fit_table(columns, 10, always=True)
    assert squeezed is not None
    assert [c.header for c in squeezed.columns] == ["a long column"]


@pytest.mark.parametrize("width", [26, 40, 100])
def test_progress_display_drops_its_bar_then_its_rate(width: int) -> None:
    line = ProgressDisplay(10, console=Console(file=io.StringIO()))._render_line(
        sample_snapshot(), VIEW
    )
    text = shown(line, width)
    assert "5/10" in text
    assert "1 failed" in text
    assert ("█" in text) is (width == 100)
    assert ("1.5/s" in text) is (width >= 40)


async def test_a_run_on_a_60_column_terminal_keeps_the_failed_items_id() -> None:
    console = Console(file=io.StringIO(), width=60, force_terminal=True, record=True)
    await Pipeline(stages=two_stages()).run(
        range(10), dashboard="full", dashboard_update_interval=FAST, console=console
    )
    text = console.export_text()
    assert "failed 2 (last 8" in text  # items 3 and 8 fail
    assert "…" not in text


def test_a_line_with_a_bar_measures_the_bar_at_its_narrowest() -> None:
    view = RunView("T", total=10, elapsed=1.0, rate=1.0)
    snapshot = DashboardSnapshot({}, {}, PipelineStats(items_processed=5), ErrorSummary(), 0.0)
    line = render_progress(snapshot, view)
    assert isinstance(line, FittedLine)
    console = Console(file=io.StringIO(), width=200, force_terminal=True)
    measured = Measurement.get(console, console.options, line)
    assert measured.maximum == line.natural_width() - 30
    plain = Console(file=io.StringIO(), width=200)  # no colours: no bar
    assert Measurement.get(plain, plain.options, line).maximum == line.natural_width() - 41


def test_plain_text_has_no_bar() -> None:
    text = shown(render_compact(sample_snapshot(), VIEW), 100)
    assert "━" not in text
    assert "│ Fetch → Save 5/10  50%" in text


def test_without_colours_the_bar_keeps_its_width_so_the_figures_stay_in_place() -> None:
    def rate_column(done: int) -> int:
        snapshot = DashboardSnapshot(
            {}, {}, PipelineStats(items_processed=done), ErrorSummary(), 0.0
        )
        console = Console(
            file=io.StringIO(), width=100, force_terminal=True, no_color=True, record=True
        )
        console.print(render_progress(snapshot, VIEW))
        return console.export_text().index("items/s")

    assert rate_column(0) == rate_column(3) == rate_column(7)  # "0/10   0%" ... "7/10  70%"
