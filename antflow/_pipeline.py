"""Pipeline: stages of worker pools joined by bounded queues; and its fluent builder."""

from __future__ import annotations

import enum
import logging
import math
import operator
import time
from collections.abc import AsyncIterable, Callable, Coroutine, Iterable, Sequence, Sized
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
from anyio.abc import TaskGroup

from ._background import start_unowned
from ._display import DEFAULT_UPDATE_INTERVAL, DashboardProtocol, DisplayDriver, choose_display
from ._interrupts import bare_interrupts
from ._records import ErrorSummary, PipelineResult
from ._result_stream import ResultStream, StreamRun
from ._run import DEFAULT_PRIORITY, RunState
from ._stage import Stage, TaskFunc, task_name
from ._stats import DashboardSnapshot, PipelineStats, WorkerMetrics, WorkerState
from ._tracker import StatusTracker
from ._validation import check_int, is_int
from .exceptions import PipelineError, StageValidationError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Pipeline", "PipelineBuilder"]

_BY_SEQUENCE = operator.attrgetter("sequence_id")
_log = logging.getLogger("antflow")

#: ``Pipeline.stream()``'s ``buffer_size`` when none is given: finished results that may wait
#: for the consumer.
DEFAULT_STREAM_BUFFER = 64


class PipelineState(enum.Enum):
    """What a :class:`Pipeline` is doing (``repr()`` shows it)."""

    #: No run, or the last one has ended: ``run()``, ``stream()`` or ``start()`` may begin one.
    IDLE = "idle"
    #: A run is going (``run()``, ``stream()``, or ``start()`` until ``join()``/``shutdown()``).
    RUNNING = "running"
    #: ``shutdown()`` was called: the workers are being cancelled and waited for.
    STOPPING = "stopping"


_Self = TypeVar("_Self", bound="Pipeline")


class Pipeline:
    """A multi-stage async pipeline with worker pools and flexible retry strategies.

    Each stage is a group of ``workers`` workers; stages are joined by bounded queues
    (``Stage.queue_capacity``), so a slow stage makes the ones before it wait instead of piling
    items up in memory. A worker takes the next item the moment it finishes one.

    Guarantees, on asyncio and trio alike:

    - Every fed item ends exactly once: as a :class:`PipelineResult` (``run()``, ``stream()``,
      :attr:`results`) or as a recorded failure (:meth:`get_error_summary`, ``on_failure``, the
      tracker, :meth:`get_stats`). One item's failure never stops the others.
    - Cancelling the caller of ``run()``/``stream()``, or calling :meth:`shutdown`, stops every
      worker at its next checkpoint and leaves no task behind (a plain-function task already
      running in a thread is waited for: threads cannot be interrupted).
    - An exception raised by a callback is logged on the ``"antflow"`` logger and counted in
      ``get_stats().callback_errors``; it changes nothing else.

    Args:
        stages: The stages, in order (unique names).
        collect_results: Keep results: ``run()`` returns them and ``start()``/``feed()``/
            ``join()`` runs keep them in :attr:`results`. With ``False`` (for pipelines run for
            their side effects) ``run()`` returns ``[]``, as in antflow 0.10, and no result is
            held in memory. ``stream()`` yields results either way and never keeps them.
        status_tracker: Receives every status change and task event.

    Raises:
        PipelineError: ``stages`` is empty, holds something that is not a Stage, or its first
            stage is a pull stage.
        StageValidationError: a stage's configuration is invalid, or two stages share a name
            (a subclass of PipelineError).
    """

    def __init__(
        self,
        stages: list[Stage],
        collect_results: bool = True,
        status_tracker: StatusTracker | None = None,
    ) -> None:
        if isinstance(stages, Stage) or not isinstance(stages, Iterable):
            raise PipelineError(f"stages must be a list of Stage objects, got {stages!r}")
        stages = list(stages)
        if not stages:
            raise PipelineError(
                "a Pipeline needs at least one Stage: Pipeline(stages=[Stage(...)])"
            )
        names: set[str] = set()
        for position, stage in enumerate(stages):
            if not isinstance(stage, Stage):
                raise PipelineError(f"stages[{position}] is not a Stage: {stage!r}")
            stage.validate()
            if stage.name in names:
                raise StageValidationError(
                    f"two stages are named {stage.name!r}; stage names must be unique"
                )
            names.add(stage.name)
        if stages[0].pull:
            raise PipelineError(
                f"the first stage ({stages[0].name!r}) cannot be a pull stage: items are fed "
                "into it; set pull=False on it"
            )
        if status_tracker is not None and not isinstance(status_tracker, StatusTracker):
            raise TypeError(
                f"status_tracker must be a StatusTracker or None, got {status_tracker!r}"
            )
        self.stages = stages
        self.collect_results = bool(collect_results)
        self.status_tracker = status_tracker
        self._state: RunState | None = None
        #: The run ``start()`` will begin, made by a ``feed()`` before it: holds the items fed.
        self._pending: RunState | None = None
        self._lifecycle = PipelineState.IDLE
        self._owner: TaskGroup | None = None

    def __repr__(self) -> str:
        names = ", ".join(stage.name for stage in self.stages)
        return f"<Pipeline [{names}] {self._lifecycle.value}>"

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def create(cls) -> PipelineBuilder:
        """Start a fluent builder: ``Pipeline.create().add("Fetch", fetch, workers=5).build()``."""
        return PipelineBuilder()

    @classmethod
    async def quick(
        cls,
        items: Iterable[Any] | AsyncIterable[Any],
        tasks: TaskFunc | list[TaskFunc],
        workers: int = 5,
        retries: int = 3,
        progress: bool = False,
        dashboard: Literal["compact", "detailed", "full"] | None = None,
        *,
        custom_dashboard: DashboardProtocol | None = None,
        dashboard_update_interval: float = DEFAULT_UPDATE_INTERVAL,
        console: Console | None = None,
        task_attempts: int | None = None,
    ) -> list[PipelineResult]:
        """One-liner: run ``items`` through ``tasks`` and return the results in input order.

        One task makes a single-stage pipeline; a list makes one stage per task, each named
        after its task (``"-2"``, ``"-3"`` ... appended to repeated names).

        Args:
            workers: Workers per stage.
            retries: Retries per task: extra calls after a failed one (so ``retries + 1``
                calls at most), with exponential backoff from 1 second. Failed items are left
                out of the result list; use a full :class:`Pipeline` to inspect them.
            progress: Show the one-line progress bar, as in :meth:`run`.
            dashboard: Show a built-in dashboard, as in :meth:`run`.
            custom_dashboard: Drive your own dashboard, as in :meth:`run` (keyword-only, like
                the next two: additions to the seed's signature).
            dashboard_update_interval: Seconds between two display updates, as in :meth:`run`.
            console: The rich Console the built-in displays draw on, as in :meth:`run`.
            task_attempts: :class:`Stage`'s spelling, keyword-only: calls per task, the first
                included (``task_attempts=3`` is ``retries=2``). Give one or the other; both,
                saying different things, is a ``ValueError``.
        """
        task_list = list(tasks) if isinstance(tasks, (list, tuple)) else [tasks]
        check_int(retries, "retries", minimum=0, hint="extra calls after a failed one")
        attempts = attempts_of(retries, task_attempts, default_retries=3)
        choose_display(  # check the display arguments before building anything
            progress, dashboard, custom_dashboard, dashboard_update_interval, console, title=""
        )
        builder = cls.create()
        seen: dict[str, int] = {}
        for task in task_list:
            name = task_name(task) if callable(task) else "task"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name}-{seen[name]}"
            builder.add(name, task, workers=workers, task_attempts=attempts)
        return await builder.build().run(
            items,
            progress=progress,
            dashboard=dashboard,
            custom_dashboard=custom_dashboard,
            dashboard_update_interval=dashboard_update_interval,
            console=console,
        )

    # -- reading state -----------------------------------------------------------------------

    @property
    def results(self) -> list[PipelineResult]:
        """Results of the current or last run, in input (feed) order.

        Filled by ``run()`` and by ``start()``/``feed()``/``join()`` when ``collect_results``
        is true; ``stream()`` leaves it empty.
        """
        if self._state is None:
            return []
        return sorted(self._state.results, key=_BY_SEQUENCE)

    @property
    def is_running(self) -> bool:
        """True between ``start()`` (or the start of ``run()``/``stream()``) and its end."""
        return self._lifecycle is not PipelineState.IDLE

    def get_stats(self) -> PipelineStats:
        """Get current pipeline statistics (of the current or last run).

        Returns:
            PipelineStats with current metrics
        """
        if self._state is None:
            return PipelineStats(queue_sizes={stage.name: 0 for stage in self.stages})
        return self._state.stats()

    def get_worker_names(self) -> dict[str, list[str]]:
        """Get all worker names organized by stage: ``{"Fetch": ["Fetch-W0", ...], ...}``."""
        return {
            stage.name: [f"{stage.name}-W{i}" for i in range(stage.workers)]
            for stage in self.stages
        }

    def get_worker_states(self) -> dict[str, WorkerState]:
        """Get current state of all workers (``"stopped"`` before the first run, and while items
        fed before ``start()`` wait for it)."""
        if self._state is None or not self._state.served:
            return {
                name: WorkerState(name, stage, "stopped")
                for stage, names in self.get_worker_names().items()
                for name in names
            }
        return {worker.name: worker.state() for worker in self._state.workers}

    def get_worker_metrics(self) -> dict[str, WorkerMetrics]:
        """Get performance metrics for all workers (of the current or last run)."""
        if self._state is None:
            return {
                name: WorkerMetrics(name, stage)
                for stage, names in self.get_worker_names().items()
                for name in names
            }
        return {worker.name: worker.metrics() for worker in self._state.workers}

    def get_dashboard_snapshot(self) -> DashboardSnapshot:
        """Get worker states, metrics, pipeline stats and error summary, read at one moment."""
        return DashboardSnapshot(
            worker_states=self.get_worker_states(),
            worker_metrics=self.get_worker_metrics(),
            pipeline_stats=self.get_stats(),
            error_summary=self.get_error_summary(),
            timestamp=time.time(),
        )

    def get_error_summary(self) -> ErrorSummary:
        """Get every failure of the current or last run, aggregated.

        The pipeline records failures itself, so the summary is complete with or without a
        StatusTracker (a tracker's own ``get_error_summary()`` spans every run it watched).
        """
        if self._state is None:
            return ErrorSummary()
        state = self._state
        return ErrorSummary.of(state.ledger.failures, state.stats().callback_errors)

    # -- running -----------------------------------------------------------------------------

    async def run(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        progress: bool = False,
        dashboard: Literal["compact", "detailed", "full"] | None = None,
        custom_dashboard: DashboardProtocol | None = None,
        dashboard_update_interval: float = DEFAULT_UPDATE_INTERVAL,
        *,
        console: Console | None = None,
    ) -> list[PipelineResult]:
        """Run the pipeline end-to-end with ``items``; return the results in input order.

        ``items`` may be any iterable or async iterable; it is consumed lazily, as the first
        stage's queue makes room. Failed items are not in the list: see
        :meth:`get_error_summary`. If iterating ``items`` raises, the workers are cancelled
        and that exception propagates. If the caller is cancelled, every worker stops.

        Args:
            progress: Show a one-line progress bar (done/total, rate, ETA, failures).
            dashboard: Show a built-in dashboard: ``"compact"``, ``"detailed"`` or ``"full"``.
            custom_dashboard: Drive your own :class:`DashboardProtocol` implementation.
            dashboard_update_interval: Seconds between two updates of the display (> 0).
            console: The rich Console the built-in displays draw on (default: rich's console
                on stdout). On a terminal they redraw in place; otherwise they print plain
                lines. Not in the seed's signature.

        At most one of ``progress``, ``dashboard`` and ``custom_dashboard`` may be given. A
        display reads the pipeline's state every ``dashboard_update_interval`` seconds from a
        task of its own (no per-item cost) and always finishes, restoring the terminal, when
        the run succeeds, raises or is cancelled. An exception raised by a custom dashboard is
        logged and counted in ``get_stats().callback_errors``; it never stops the run.

        Raises:
            PipelineError: the pipeline is already running.
            ValueError: an unknown ``dashboard``, a non-positive interval, or two displays
                (before any item runs).
            TypeError: a ``custom_dashboard`` lacking a DashboardProtocol method.
        """
        display = choose_display(
            progress,
            dashboard,
            custom_dashboard,
            dashboard_update_interval,
            console,
            title=self._title(),
        )
        self._begin("run()")
        state = self._state = RunState(
            self.stages, self.status_tracker, collect=self.collect_results
        )
        driver = self._driver(display, dashboard_update_interval, state)
        error: Exception | None = None
        try:
            if driver is not None:
                await driver.start(self, _length(items))
            with bare_interrupts():  # Ctrl-C comes out as it went in
                async with anyio.create_task_group() as tg:
                    await tg.start(state.serve)
                    if driver is not None:
                        tg.start_soon(driver.follow, state.stopped, name="antflow display")
                    try:
                        await state.feed(items, state.entries[0], DEFAULT_PRIORITY)
                        await state.wait_drained()
                        state.close()
                    except Exception as exc:
                        error = exc
                        state.cancel()
        finally:
            self._lifecycle = PipelineState.IDLE
            state.results.sort(key=_BY_SEQUENCE)
            if driver is not None:
                await driver.finish(list(state.results), self.get_error_summary())
        if error is not None:
            raise error
        return list(state.results)

    def stream(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        progress: bool = False,
        buffer_size: int | None = DEFAULT_STREAM_BUFFER,
        *,
        dashboard_update_interval: float = DEFAULT_UPDATE_INTERVAL,
        console: Console | None = None,
    ) -> ResultStream:
        """Yield results as they complete (completion order, not input order).

        ``async for result in pipeline.stream(items)``. The run starts at the first iteration.
        ``items`` is consumed lazily, like in :meth:`run`; results are not kept (:attr:`results`
        stays empty), so memory stays bounded however many items flow. Failed items are not
        yielded: see :meth:`get_error_summary`. If iterating ``items`` raises, the workers are
        cancelled and the iteration raises that exception once the results before it are out.

        Stopping early is supported: leaving the loop (``break``, an exception, cancellation)
        cancels the workers. With ``async with pipeline.stream(items) as results:`` (or
        ``contextlib.aclosing``) leaving also waits until every worker has stopped; after a
        plain ``break`` the workers are cancelled at once (when CPython drops the stream) and
        stop in the background. The workers run in the background of the
        ``async with Pipeline(...)`` block if there is one, else in the background of the event
        loop, as with :meth:`start`.

        ``buffer_size`` is how many finished results may wait for the consumer: at most that
        many (64 by default; the workers of the last stage wait while it is full), ``None`` for
        no limit (antflow 0.10's default: a consumer slower than the pipeline then lets results
        pile up in memory), ``0`` for a rendezvous: a result is handed over only when the
        consumer asks for the next one, and until then the last stage's worker holding it
        waits.

        ``progress=True`` shows the one-line progress bar, as in :meth:`run` (with
        ``dashboard_update_interval`` and ``console``, keyword-only additions to the seed's
        signature); it is updated from the background beside the workers and finished when the
        run stops.

        Raises:
            PipelineError: the pipeline is already running, or items were fed before
                ``start()`` (at the first iteration).
            ValueError: a negative ``buffer_size`` or a non-positive
                ``dashboard_update_interval`` (at the call).
            TypeError: a ``buffer_size`` that is not an int or None (at the call).
        """
        display = choose_display(
            progress, None, None, dashboard_update_interval, console, title=self._title()
        )
        if buffer_size is not None:
            check_int(
                buffer_size,
                "buffer_size",
                minimum=0,
                hint="None means no limit, 0 hands each result over when asked for",
                type_error=TypeError,
            )
        capacity: float = math.inf if buffer_size is None else buffer_size

        async def open_run() -> StreamRun:
            self._begin("stream()")
            send_out, receive_out = anyio.create_memory_object_stream[PipelineResult](capacity)
            state = self._state = RunState(
                self.stages, self.status_tracker, collect=False, output=send_out
            )
            driver = self._driver(display, dashboard_update_interval, state)

            def release() -> None:
                self._lifecycle = PipelineState.IDLE

            state.on_stopped.append(release)

            async def finish() -> None:
                if driver is not None:
                    await driver.finish([], self.get_error_summary())

            async def follow() -> None:
                # Also finishes the display of a stream abandoned without closing it.
                assert driver is not None
                await driver.follow(state.stopped)
                await finish()

            try:
                if driver is not None:
                    await driver.start(self, _length(items))
                await self._launch(
                    state, items, "Pipeline.stream()", follow if driver is not None else None
                )
            except BaseException:
                release()
                send_out.close()
                receive_out.close()
                await finish()
                raise
            return StreamRun(state, receive_out, release, finish)

        return ResultStream(open_run)

    async def start(self) -> None:
        """Start the pipeline workers in the background; then :meth:`feed` items and :meth:`join`.

        Inside ``async with Pipeline(...)`` the workers belong to that block; otherwise they run
        in the background of the event loop (cancelled by the loop at its end if you never call
        :meth:`join` or :meth:`shutdown`). Items fed before ``start()`` are processed by this
        run, first.

        Raises:
            PipelineError: If pipeline is already running.
        """
        pending, self._pending = self._pending, None
        try:
            self._begin("start()")
        except BaseException:
            self._pending = pending
            raise
        state = self._state = pending or RunState(
            self.stages, self.status_tracker, collect=self.collect_results
        )
        try:
            await self._launch(state, None, "Pipeline.start()")
        except BaseException:
            self._lifecycle = PipelineState.IDLE
            raise

    async def feed(
        self,
        items: Iterable[Any],
        target_stage: str | None = None,
        priority: int = DEFAULT_PRIORITY,
    ) -> None:
        """Feed items into a stage (the first one by default) of the pipeline.

        Returns once every item is in the stage's queue: it waits while the queue is full (for
        a pull stage: until one of its workers takes the item). Items fed to a later stage skip
        the stages before it. ``priority`` orders entry into a full queue: a lower value
        enters first; items already queued keep their order.

        Before :meth:`start`, nothing waits: the items wait in the stage's queue, and those
        that do not fit are held in line behind it (by priority), all to be processed once
        ``start()`` runs. (antflow 0.10 waited for room there, which hung for good when the
        queue filled up before ``start()``.) :meth:`shutdown` before ``start()`` drops them,
        with a warning on the ``"antflow"`` logger.

        Raises:
            ValueError: If target_stage is provided but not found.
            PipelineError: the pipeline is stopping; or it was shut down while an item waited
                for room (that item and the ones after it were not fed).
        """
        state = self._feedable("feed()")
        entry = state.entry(target_stage)
        _check_priority(priority)
        await state.feed(items, entry, priority)

    async def feed_async(
        self,
        items: AsyncIterable[Any],
        target_stage: str | None = None,
        priority: int = DEFAULT_PRIORITY,
    ) -> None:
        """Feed items from an async iterable; otherwise exactly like :meth:`feed`."""
        state = self._feedable("feed_async()")
        entry = state.entry(target_stage)
        _check_priority(priority)
        if not isinstance(items, AsyncIterable):
            raise TypeError(f"feed_async() needs an async iterable, got {items!r}; use feed()")
        await state.feed(items, entry, priority)

    async def join(self) -> None:
        """Wait until every item fed so far is processed or failed, then stop the workers.

        Call it after your ``feed()`` calls have returned. Results are in :attr:`results`
        (if ``collect_results``), failures in :meth:`get_error_summary`.

        Raises:
            PipelineError: the pipeline is not started.
        """
        state = self._started("join()")
        await state.wait_drained()
        state.close()
        await state.stopped.wait()
        self._lifecycle = PipelineState.IDLE
        _raise_if_failed(state)

    async def shutdown(self) -> None:
        """Stop every worker now (at its next checkpoint) and wait for them to exit.

        Items still queued or being processed are abandoned; ``get_stats().items_in_flight``
        says how many. Harmless if the pipeline is not running.
        """
        state = self._state
        if self._pending is not None:
            self._drop_pending()
            return
        if state is None or self._lifecycle is PipelineState.IDLE:
            return
        self._lifecycle = PipelineState.STOPPING
        state.cancel()
        with anyio.CancelScope(shield=True):
            await state.stopped.wait()
        self._lifecycle = PipelineState.IDLE

    async def __aenter__(self: _Self) -> _Self:
        if self._owner is not None:
            raise PipelineError("this Pipeline is already inside an `async with` block")
        owner = anyio.create_task_group()
        await owner.__aenter__()
        self._owner = owner
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Context manager exit with automatic shutdown (call ``join()`` first to finish work)."""
        owner = self._owner
        assert owner is not None
        try:
            await self.shutdown()
        finally:
            self._owner = None
        if exc_type is None:
            return await owner.__aexit__(None, None, None)
        # The body raised (or was cancelled): everything is shut down, so let the body's own
        # exception propagate unchanged. Handing it to the task group would wrap it in an
        # ExceptionGroup (the same rule as AsyncExecutor.__aexit__).
        owner.cancel_scope.cancel()
        await owner.__aexit__(None, None, None)
        return None

    # -- internals ---------------------------------------------------------------------------

    def _begin(self, what: str) -> None:
        """Mark the pipeline running, once its stages are checked again (a Stage may have been
        changed since the pipeline was built: better refused than a run that hangs)."""
        if self._lifecycle is not PipelineState.IDLE:
            raise PipelineError(
                f"{what}: this pipeline is already running; await join() or shutdown() first"
            )
        self._refuse_pending(what)
        for stage in self.stages:
            stage.validate()
        self._lifecycle = PipelineState.RUNNING

    def _feedable(self, what: str) -> RunState:
        """The run to feed: the running one, else the one ``start()`` will begin (made now)."""
        if self._lifecycle is PipelineState.RUNNING and self._state is not None:
            return self._state
        if self._lifecycle is not PipelineState.IDLE:
            raise PipelineError(f"{what}: the pipeline is stopping; feed it after shutdown()")
        if self._pending is None:
            for stage in self.stages:
                stage.validate()
            self._pending = self._state = RunState(
                self.stages, self.status_tracker, collect=self.collect_results
            )
        return self._pending

    def _refuse_pending(self, what: str) -> None:
        if self._pending is not None and not self._pending.ledger.in_flight:
            self._drop_pending()  # only empty feeds came before: nothing waits
        if self._pending is not None:
            raise PipelineError(
                f"{what}: {self._pending.ledger.in_flight} items were fed before start() and "
                "wait for it; call `await pipeline.start()` then `await pipeline.join()` to "
                "process them (or `await pipeline.shutdown()` to drop them)"
            )

    def _drop_pending(self) -> None:
        pending, self._pending = self._pending, None
        assert pending is not None
        if pending.ledger.in_flight:
            _log.warning(
                "shutdown(): %d items fed before start() were never processed",
                pending.ledger.in_flight,
            )
        pending.discard()

    def _started(self, what: str) -> RunState:
        state = self._state
        if state is None or self._lifecycle is not PipelineState.RUNNING:
            raise PipelineError(
                f"{what}: the pipeline is not running; call `await pipeline.start()` first, "
                "or use `await pipeline.run(items)`"
            )
        return state

    async def _launch(
        self,
        state: RunState,
        feed: Iterable[Any] | AsyncIterable[Any] | None,
        what: str,
        display: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        """Start ``state``'s workers (and ``display``) beside the ``async with`` block if any,
        else in the background of the event loop."""
        if self._owner is not None:
            await self._owner.start(state.serve, feed)
            if display is not None:
                self._owner.start_soon(display, name="antflow display")
        else:
            start_unowned(lambda: state.serve_unowned(feed), what=what)
            if display is not None:
                start_unowned(display, what=f"{what} display")

    def _title(self) -> str:
        return " → ".join(stage.name for stage in self.stages)

    def _driver(
        self, display: DashboardProtocol | None, interval: float, state: RunState
    ) -> DisplayDriver | None:
        if display is None:
            return None
        return DisplayDriver(display, interval, self.get_dashboard_snapshot, state.callbacks)


class PipelineBuilder:
    """Fluent construction: ``Pipeline.create().add(...).add(...).build()`` (or ``.run(items)``)."""

    def __init__(self) -> None:
        self._stages: list[Stage] = []
        self._tracker: StatusTracker | None = None
        self._collect = True

    def add(
        self,
        name: str | Stage,
        tasks: TaskFunc | Sequence[TaskFunc] | None = None,
        *,
        workers: int = 1,
        **options: Any,
    ) -> PipelineBuilder:
        """Append a stage: ``add(stage)``, or ``add(name, task_or_tasks, workers=..., **options)``
        where ``options`` are any other :class:`Stage` fields (``task_attempts=5``, ...).

        ``retries=n`` (antflow 0.10's keyword) is accepted for ``task_attempts=n + 1``: extra
        calls after a failed one, as everywhere ``retries`` is spelled. Giving both, saying
        different things, is a ``ValueError``.

        Raises:
            StageValidationError: the stage is invalid (at once, not at ``build()``).
        """
        if isinstance(name, Stage):
            if tasks is not None or options:
                raise TypeError("add(stage) takes no other arguments")
            self._stages.append(name)
            return self
        task_list: list[Any] = list(tasks) if isinstance(tasks, (list, tuple)) else [tasks]
        if "retries" in options:
            retries = options.pop("retries")
            check_int(retries, "retries", minimum=0, hint="extra calls after a failed one")
            options["task_attempts"] = attempts_of(retries, options.get("task_attempts"))
        self._stages.append(Stage(name=name, workers=workers, tasks=task_list, **options))
        return self

    def with_tracker(self, tracker: StatusTracker) -> PipelineBuilder:
        """Use ``tracker`` as the pipeline's status tracker."""
        self._tracker = tracker
        return self

    def collect_results(self, collect: bool = True) -> PipelineBuilder:
        """Set the pipeline's ``collect_results``."""
        self._collect = collect
        return self

    def build(self) -> Pipeline:
        """The configured :class:`Pipeline`."""
        return Pipeline(
            stages=list(self._stages),
            collect_results=self._collect,
            status_tracker=self._tracker,
        )

    async def run(self, items: Iterable[Any] | AsyncIterable[Any]) -> list[PipelineResult]:
        """``await self.build().run(items)``."""
        return await self.build().run(items)


def attempts_of(retries: int, task_attempts: object, default_retries: int | None = None) -> int:
    """The calls per task that ``retries`` (extra calls) and ``task_attempts`` (calls, the
    first included) say together: either may be given; both must agree.

    ``retries`` equal to ``default_retries`` counts as not given.
    """
    if task_attempts is None:
        return retries + 1
    check_int(task_attempts, "task_attempts", hint="calls per task, the first included")
    assert isinstance(task_attempts, int)
    if retries != default_retries and task_attempts != retries + 1:
        raise ValueError(
            f"retries={retries} and task_attempts={task_attempts} disagree: retries counts "
            "the extra calls after a failed one, task_attempts all calls (task_attempts = "
            "retries + 1); give one of them"
        )
    return task_attempts


def _length(items: object) -> int | None:
    """How many items ``items`` holds, if it says (``None`` for iterators)."""
    return len(items) if isinstance(items, Sized) else None


def _check_priority(priority: object) -> None:
    if not is_int(priority):
        raise TypeError(f"priority must be an int (lower enters first), got {priority!r}")


def _raise_if_failed(state: RunState) -> None:
    if state.fatal is not None:
        raise state.fatal
