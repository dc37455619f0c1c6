"""Driving a display through a run: the polling driver, and the choice of display.

A display never hooks into the items' path. The driver reads the run's existing state (a
:class:`~antflow.DashboardSnapshot`) every ``dashboard_update_interval`` seconds in a task of its
own and hands it to the display; with no display, none of this exists.

This module does not import rich: the built-in displays (:mod:`antflow._builtin_display`) are
imported by :func:`choose_display` when a run asks for one, so ``import antflow`` stays cheap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from ._callbacks import CallbackErrors
from ._display_protocol import DEFAULT_UPDATE_INTERVAL, LEVELS, DashboardProtocol
from ._validation import check_bool, check_int, check_seconds

if TYPE_CHECKING:
    from rich.console import Console

    from ._records import ErrorSummary, PipelineResult
    from ._stats import DashboardSnapshot

__all__ = [
    "DEFAULT_UPDATE_INTERVAL",
    "DashboardProtocol",
    "DisplayDriver",
    "choose_display",
]

#: Seconds an ``on_finish`` (and the last ``on_update``) may take while the run is being
#: cancelled; it is shielded from the cancellation up to this limit.
FINISH_GRACE = 5.0


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
    total: int | None = None,
) -> DashboardProtocol | None:
    """Check the display arguments of a run; return the display to drive, or None.

    rich is imported here, and only when a built-in display (``progress`` or ``dashboard``) is
    asked for or a ``console`` is given.

    Raises:
        ValueError: an unknown ``dashboard`` level, a ``dashboard_update_interval`` that is not
            a positive number, more than one of ``progress``/``dashboard``/``custom_dashboard``,
            or a negative ``total``.
        TypeError: ``progress`` is not a bool, ``console`` is not a rich Console,
            ``custom_dashboard`` lacks a DashboardProtocol method, or ``total`` is not an int
            or None.
    """
    check_bool(progress, "progress")
    if total is not None:
        check_int(
            total,
            "total",
            minimum=0,
            type_error=TypeError,
            hint="the number of items, for the bar and ETA when the input has no len(); or None",
        )
    if dashboard is not None and dashboard not in LEVELS:
        raise ValueError(
            f"dashboard must be 'compact', 'detailed' or 'full' (or None for none), "
            f"got {dashboard!r}"
        )
    check_seconds(
        interval,
        "dashboard_update_interval",
        positive=True,
        hint="default 0.5; 0.1 to 1.0 is sensible",
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
    _check_console(console)
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
    if not progress and dashboard is None:
        return None
    from ._builtin_display import builtin_display  # imports rich

    return builtin_display(dashboard, console, title, unit)


def _check_console(console: object) -> None:
    if console is None:
        return
    from rich.console import Console  # whoever built a Console has imported rich already

    if not isinstance(console, Console):
        raise TypeError(
            f"console must be a rich.console.Console (or None for the default), got {console!r}"
        )
