"""Driving a display through a run: the protocol, the built-in displays, and the polling driver.

A display never hooks into the items' path. The driver reads the run's existing state (a
:class:`~antflow.DashboardSnapshot`) every ``dashboard_update_interval`` seconds in a task of its
own and hands it to the display; with no display, none of this exists.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from rich.console import Console, RenderableType
from rich.constrain import Constrain
from rich.live import Live

from ._callbacks import CallbackErrors
from ._dashboard import LEVELS, RENDERERS
from ._progress import RateMeter, RunView, finished_count, plain_line, render_progress
from ._records import ErrorSummary, PipelineResult
from ._stats import DashboardSnapshot

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = [
    "DEFAULT_UPDATE_INTERVAL",
    "BuiltinDisplay",
    "DashboardProtocol",
    "DisplayDriver",
    "choose_display",
]

#: ``dashboard_update_interval`` when none is given, in seconds.
DEFAULT_UPDATE_INTERVAL = 0.5
#: On a console that is not a terminal, the built-in displays print a plain line at most this
#: often (seconds), so that a CI log of a long run stays readable.
PLAIN_LINE_PERIOD = 10.0
#: Seconds an ``on_finish`` (and the last ``on_update``) may take while the run is being
#: cancelled; it is shielded from the cancellation up to this limit.
FINISH_GRACE = 5.0

Renderer = Callable[[DashboardSnapshot, RunView], RenderableType]


class DashboardProtocol(Protocol):
    """What ``custom_dashboard=`` accepts: three callbacks, each sync or ``async def``.

    Guarantees of the driver that calls them:

    - ``on_start`` is called once, before the first item is fed. ``total_items`` is the
      number of items when the input has a length, ``None`` for an iterator or async iterator.
    - ``on_update`` is called every ``dashboard_update_interval`` seconds with a fresh
      :class:`~antflow.DashboardSnapshot`, from a task of its own: the workers do not wait for
      it (a slow sync callback does block the event loop while it runs), and once more with the
      final state just before ``on_finish``.
    - ``on_finish`` is called once at the end whether the run succeeded, raised or was
      cancelled, so a dashboard can always release the terminal. It gets the results collected
      (``run()``: in input order, those so far if the run did not complete; ``stream()``:
      none, as stream keeps none) and the run's :class:`~antflow.ErrorSummary`.
    - An exception raised by a callback is logged on the ``"antflow"`` logger and counted in
      ``get_stats().callback_errors``; it never stops the run or loses an item. The dashboard
      then gets no more ``on_update`` calls; ``on_finish`` is still called unless ``on_start``
      raised.
    """

    def on_start(self, pipeline: Pipeline, total_items: int | None) -> Awaitable[None] | None:
        """The run is starting: ``total_items`` items (``None``: unknown)."""

    def on_update(self, snapshot: DashboardSnapshot) -> Awaitable[None] | None:
        """The state of the run at ``snapshot.timestamp``."""

    def on_finish(
        self, results: list[PipelineResult], summary: ErrorSummary
    ) -> Awaitable[None] | None:
        """The run is over."""


class BuiltinDisplay:
    """A :class:`DashboardProtocol` that draws ``render`` with rich.

    On a terminal it updates a rich ``Live`` region in place (no refresh thread: it redraws
    on each ``on_update``) and stops it in ``on_finish``, leaving the final state on screen and
    the cursor visible. On anything else (a pipe, a CI log, a file) it prints one plain line at
    the start, at most one every :data:`PLAIN_LINE_PERIOD` seconds, and the final render at the
    end: never a cursor-control escape code.
    """

    def __init__(
        self,
        render: Renderer,
        console: Console,
        title: str,
        unit: str = "items",
        *,
        plain_period: float = PLAIN_LINE_PERIOD,
    ) -> None:
        self.render = render
        self.console = console
        self.title = title
        self.unit = unit
        self.plain_period = plain_period
        self._total: int | None = None
        self._started = 0.0
        self._last_plain = 0.0
        self._meter = RateMeter()
        self._rate = 0.0
        self._snapshot: DashboardSnapshot | None = None
        self._live: Live | None = None

    def on_start(self, pipeline: Any, total_items: int | None) -> None:
        self._total = total_items
        self._started = self._last_plain = time.monotonic()
        console = self.console
        if console.is_terminal:
            redirect = console.file in (sys.stdout, sys.stderr)
            live = Live(
                console=console,
                auto_refresh=False,
                redirect_stdout=redirect,
                redirect_stderr=redirect,
            )
            live.start()
            self._live = live
        else:
            total = "unknown number of" if total_items is None else f"{total_items:,}"
            self._print(f"{self.title}: started, {total} {self.unit}")

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        self._snapshot = snapshot
        now = time.monotonic()
        self._rate = self._meter.add(now - self._started, finished_count(snapshot))
        if self._live is not None:
            self._live.update(
                self._fit(self.render(snapshot, self._view(now, False))), refresh=True
            )
        elif now - self._last_plain >= self.plain_period:
            self._last_plain = now
            self._print(plain_line(snapshot, self._view(now, finished=False)))

    def on_finish(self, results: list[PipelineResult], summary: ErrorSummary) -> None:
        live, self._live = self._live, None
        snapshot = self._snapshot
        try:
            if snapshot is None:
                return
            view = self._view(time.monotonic(), finished=True)
            if live is not None:
                live.update(self._fit(self.render(snapshot, view)), refresh=False)
            elif self.render is render_progress:
                self._print(plain_line(snapshot, view))
            else:
                self.console.print(self.render(snapshot, view))
        finally:
            if live is not None:
                live.stop()  # draws the last update, shows the cursor again

    def _view(self, now: float, finished: bool) -> RunView:
        elapsed = now - self._started
        rate = self._rate
        if finished and self._snapshot is not None:
            rate = finished_count(self._snapshot) / elapsed if elapsed > 0 else 0.0
        return RunView(self.title, self._total, elapsed, rate, self.unit, finished)

    def _fit(self, renderable: RenderableType) -> RenderableType:
        # A few columns short of the terminal's width: if the region reached the last columns,
        # whatever the terminal echoes after it (the ``^C`` of a Ctrl-C) would wrap to a new
        # line, shifting the region so that its last redraw leaves a stray line behind.
        return Constrain(renderable, width=max(self.console.width - 3, 1))

    def _print(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


class DisplayDriver:
    """Calls one display's callbacks through one run.

    Call :meth:`start` before the first item is fed, run :meth:`follow` in a task beside the
    workers, and call :meth:`finish` once the run is over (on every path). None of them raises
    for the display's sake: a callback's exception is logged and counted by ``errors``.
    """

    def __init__(
        self,
        display: DashboardProtocol,
        interval: float,
        sample: Callable[[], DashboardSnapshot],
        errors: CallbackErrors | None = None,
    ) -> None:
        self.display = display
        self.interval = interval
        self.sample = sample
        self.errors = errors if errors is not None else CallbackErrors()
        self._started = False
        self._updating = False
        self._finished = False
        self._last_update = 0.0

    async def start(self, source: Any, total: int | None) -> None:
        """Call ``on_start(source, total)``."""
        self._updating = self._started = await self._call("on_start", source, total)
        self._last_update = time.monotonic()

    async def follow(self, stopped: anyio.Event) -> None:
        """Call ``on_update`` every ``interval`` seconds until ``stopped`` is set."""
        while self._updating and not stopped.is_set():
            with anyio.move_on_after(self.interval):
                await stopped.wait()
            if not stopped.is_set():
                await self.update()

    async def update(self) -> None:
        """Call ``on_update`` with a fresh snapshot now."""
        if self._updating:
            self._last_update = time.monotonic()
            self._updating = await self._call("on_update", self.sample())

    async def update_if_due(self) -> None:
        """Call ``on_update`` if ``interval`` seconds have passed since the last call.

        For the places that refresh as results are delivered, without a task of their own.
        """
        if self._updating and time.monotonic() - self._last_update >= self.interval:
            await self.update()

    async def finish(self, results: list[PipelineResult], summary: ErrorSummary) -> None:
        """A last ``on_update``, then ``on_finish``; shielded from cancellation for a few
        seconds (:data:`FINISH_GRACE`) so the display can restore the terminal."""
        if not self._started or self._finished:
            return
        self._finished = True
        with anyio.CancelScope(shield=True) as scope:
            scope.deadline = anyio.current_time() + FINISH_GRACE
            await self.update()
            self._updating = False
            await self._call("on_finish", results, summary)

    async def _call(self, name: str, *args: Any) -> bool:
        """Call the display's ``name`` callback; False if it raised."""
        before = self.errors.count
        await self.errors.call(f"dashboard {name}", getattr(self.display, name), *args)
        return self.errors.count == before


def choose_display(
    progress: bool,
    dashboard: str | None,
    custom_dashboard: object,
    interval: float,
    console: Console | None,
    *,
    title: str,
    unit: str = "items",
) -> DashboardProtocol | None:
    """Check the display arguments of a run; return the display to drive, or None.

    Raises:
        ValueError: an unknown ``dashboard`` level, a ``dashboard_update_interval`` that is not
            a positive number, or more than one of ``progress``/``dashboard``/``custom_dashboard``.
        TypeError: ``progress`` is not a bool, ``console`` is not a rich Console, or
            ``custom_dashboard`` lacks a DashboardProtocol method.
    """
    check_progress(progress)
    if dashboard is not None and dashboard not in LEVELS:
        raise ValueError(
            f"dashboard must be 'compact', 'detailed' or 'full' (or None for none), "
            f"got {dashboard!r}"
        )
    if (
        isinstance(interval, bool)
        or not isinstance(interval, (int, float))
        or not math.isfinite(interval)
        or interval <= 0
    ):
        raise ValueError(
            "dashboard_update_interval must be a number of seconds > 0 (default 0.5; "
            f"0.1 to 1.0 is sensible), got {interval!r}"
        )
    chosen = [
        name
        for name, on in (
            ("progress=True", progress),
            (f"dashboard={dashboard!r}", dashboard is not None),
            ("custom_dashboard=...", custom_dashboard is not None),
        )
        if on
    ]
    if len(chosen) > 1:
        raise ValueError(
            f"progress, dashboard and custom_dashboard are mutually exclusive, got "
            f"{' and '.join(chosen)}; pass only one of them"
        )
    check_console(console)
    if custom_dashboard is not None:
        missing = [
            name
            for name in ("on_start", "on_update", "on_finish")
            if not callable(getattr(custom_dashboard, name, None))
        ]
        if missing:
            raise TypeError(
                f"custom_dashboard must implement DashboardProtocol (methods on_start(pipeline, "
                f"total_items), on_update(snapshot), on_finish(results, summary)); "
                f"{custom_dashboard!r} lacks {', '.join(missing)}"
            )
        return custom_dashboard  # type: ignore[return-value]  # checked just above
    if progress:
        return BuiltinDisplay(render_progress, _console(console), title, unit)
    if dashboard is not None:
        return BuiltinDisplay(RENDERERS[dashboard], _console(console), title, unit)
    return None


def check_progress(progress: object) -> None:
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")


def check_console(console: object) -> None:
    if console is not None and not isinstance(console, Console):
        raise TypeError(
            f"console must be a rich.console.Console (or None for the default), got {console!r}"
        )


def _console(console: Console | None) -> Console:
    if console is not None:
        return console
    from rich import get_console

    return get_console()
