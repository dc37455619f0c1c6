"""How the built-in displays give way on a narrow console: whole pieces and columns are dropped in
a stated order, instead of every cell being cut short.

A :class:`FittedLine` is a line of pieces (texts, and at most one progress bar that narrows from
40 to 10 cells before it goes); :func:`fit_table` builds a table from :class:`Column` s. Each
piece or column has a ``drop`` rank: when the whole does not fit the width it is drawn at, the
lowest rank goes first, then the next; those ranked ``None`` always stay (and wrap onto another
line rather than lose characters, if even they do not fit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress_bar import ProgressBar
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

__all__ = ["BAR_WIDTHS", "Column", "FittedLine", "Piece", "fit_table", "table_width"]

#: The progress bar's narrowest and widest widths, in cells.
BAR_WIDTHS = (10, 40)


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of a :class:`FittedLine`: a text, or the progress bar.

    Attributes:
        content: The text, or a rich ``ProgressBar`` (which takes the room the texts leave,
            :data:`BAR_WIDTHS`).
        drop: Its rank in the order pieces are dropped (lowest first); ``None``: always kept.
        sep: What separates it from the piece before it.
    """

    content: Text | ProgressBar
    drop: int | None = None
    sep: str = "  "


class FittedLine:
    """A line of :class:`Piece` s that drops pieces, lowest ``drop`` rank first, until it fits
    the width it is drawn at; the pieces that always stay wrap (never cut) if they do not fit."""

    def __init__(self, pieces: Iterable[Piece]) -> None:
        self.pieces = list(pieces)
        ranks = {piece.drop for piece in self.pieces if piece.drop is not None}
        self._ranks = sorted(ranks)

    def fitted(self, width: int) -> tuple[list[Piece], int]:
        """The pieces kept at ``width`` columns, and the width of the bar among them (0: none)."""
        for dropped in [None, *self._ranks]:
            kept = [p for p in self.pieces if dropped is None or p.drop is None or p.drop > dropped]
            text_width = _texts_width(kept)
            if not any(isinstance(p.content, ProgressBar) for p in kept):
                if text_width <= width:
                    return kept, 0
                continue
            bar = min(BAR_WIDTHS[1], width - text_width)
            if bar >= BAR_WIDTHS[0]:
                return kept, bar
        return [p for p in self.pieces if p.drop is None], 0

    def natural_width(self, *, bar: int = BAR_WIDTHS[1]) -> int:
        """The width with every piece, the bar (if any) ``bar`` cells wide: at its widest by
        default."""
        return _texts_width(self.pieces) + (bar if self._has_bar() else 0)

    def _has_bar(self) -> bool:
        return any(isinstance(p.content, ProgressBar) for p in self.pieces)

    def needed_width(self) -> int:
        """The width with every piece, the bar at its narrowest: what the line needs (the bar
        takes any room beyond it)."""
        return self.natural_width(bar=BAR_WIDTHS[0])

    def without_bar(self) -> FittedLine:
        """This line without its bar: for plain text, where rich draws only the done part of
        a bar (nothing at 0%) and the figures after it would not line up."""
        return FittedLine(p for p in self.pieces if not isinstance(p.content, ProgressBar))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if console.color_system is None and self._has_bar():
            yield from self.without_bar().__rich_console__(console, options)
            return
        kept, bar_width = self.fitted(options.max_width)
        line = Text(overflow="fold", end="")
        for i, piece in enumerate(kept):
            if i:
                line.append(piece.sep)
            if isinstance(piece.content, ProgressBar):
                if bar_width:
                    yield from console.render(line, options)
                    bar = list(console.render(piece.content, options.update(width=bar_width)))
                    yield from bar
                    # Without colours rich draws only the done part: keep the figures in place.
                    if (drawn := Segment.get_line_length(bar)) < bar_width:
                        yield Segment(" " * (bar_width - drawn))
                    line = Text(overflow="fold", end="")
            else:
                line.append_text(piece.content)
        line.end = "\n"
        yield from console.render(line, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        line = self.without_bar() if console.color_system is None else self
        needed = line.needed_width()
        return Measurement(min(needed, options.max_width), needed)


def _texts_width(pieces: Sequence[Piece]) -> int:
    """The cells the texts of ``pieces`` and every separator take (the bar's own cells
    excluded)."""
    width = sum(cell_len(p.sep) for p in pieces[1:])
    return width + sum(p.content.cell_len for p in pieces if isinstance(p.content, Text))


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table built by :func:`fit_table`.

    Attributes:
        header: Its heading.
        cells: Its cell in each row.
        drop: Its rank in the order columns are dropped (lowest first); ``None``: always kept.
        justify: How its cells are aligned.
        style: The style of its cells.
        shrink_to: If set, the column is first shortened (its texts end in "…") down to this
            many cells, and dropped only if even that does not fit.
        fold: Its cells are never shortened: a value wider than the room left goes on over
            several lines (for item ids, which must stay whole).
    """

    header: str
    cells: list[Text]
    drop: int | None = None
    justify: Literal["left", "right"] = "left"
    style: str = ""
    shrink_to: int | None = None
    fold: bool = False

    @property
    def width(self) -> int:
        """The cells its widest text (or its heading) takes."""
        widest = max((cell.cell_len for cell in self.cells), default=0)
        return max(cell_len(self.header), widest)


def table_width(widths: Iterable[int]) -> int:
    """The width of a table (as :func:`fit_table` draws it) whose columns are ``widths`` wide:
    one cell of padding each side of a column, one between columns, one at each edge."""
    widths = list(widths)
    return sum(widths) + 3 * len(widths) + 1 if widths else 0


def fit_table(columns: Sequence[Column], width: int, *, always: bool = False) -> Table | None:
    """A table of ``columns`` that fits ``width`` cells, its columns dropped (lowest ``drop``
    rank first) until it does.

    If even the columns that always stay do not fit: ``None``, or with ``always`` the table of
    those columns, squeezed (their ``fold`` cells wrap onto more lines).
    """
    ranks = sorted({c.drop for c in columns if c.drop is not None})
    for dropped in [None, *ranks]:
        kept = [c for c in columns if dropped is None or c.drop is None or c.drop > dropped]
        natural = table_width(c.width for c in kept)
        if natural <= width:
            return _table(kept, {})
        flexible = [c for c in kept if c.shrink_to is not None and c.width > c.shrink_to]
        excess = natural - width
        if flexible:
            # Only the first flexible column gives way; a table holds one (the error messages).
            column = flexible[0]
            assert column.shrink_to is not None
            if column.width - excess >= column.shrink_to:
                return _table(kept, {column.header: column.width - excess})
    if not always:
        return None
    return _table([c for c in columns if c.drop is None], {})


def _table(columns: Sequence[Column], max_widths: dict[str, int]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=False)
    for column in columns:
        table.add_column(
            column.header,
            justify=column.justify,
            style=column.style,
            no_wrap=not column.fold,
            overflow="fold" if column.fold else "ellipsis",
            max_width=max_widths.get(column.header),
        )
    for row in zip(*(column.cells for column in columns), strict=True):
        table.add_row(*row)
    return table
