"""AsyncExecutor: a capacity-limited anyio task group that returns futures."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Sequence,
    Sized,
)
from dataclasses import dataclass
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from . import _waiting
from ._background import start_unowned
from ._call import SubmitOptions, check_fn, explain_not_awaitable, submit_options
from ._callbacks import CallbackErrors
from ._display import DEFAULT_UPDATE_INTERVAL, DisplayDriver, choose_display
from ._fairness import CHECKPOINT_EVERY
from ._future import (
    _FINISHED,
    _PENDING,
    _RUNNING,
    AsyncFuture,
    deadline,
)
from ._interrupts import bare_interrupts
from ._limits import call_limits, current_limits
from ._observe import Event, EventKind, Hook, hook_of, now
from ._records import ErrorSummary
from ._retry import RetryOn
from ._tally import Tally
from ._validation import check_int
from ._work_queue import WorkQueue
from .exceptions import ExecutorShutdownError
from .telemetry import _call_tracer

if TYPE_CHECKING:
    from rich.console import Console

    from ._otel_observer import CallTracer

__all__ = ["DEFAULT_MAX_WORKERS", "DEFAULT_RETRY_DELAY", "AsyncExecutor", "MapResult"]

T = TypeVar("T")
R = TypeVar("R")
_Self = TypeVar("_Self", bound="AsyncExecutor")

#: ``max_workers`` when none is given.
DEFAULT_MAX_WORKERS = 10
#: ``retry_delay`` when none is given: the first wait between attempts, in seconds.
DEFAULT_RETRY_DELAY = 0.1


class Lifecycle(enum.Enum):
    """Where an executor is in its life. It moves forward only, and ends shut down."""

    #: Created, no worker yet: ``async with`` makes it OWNED, a first submit() or map()
    #: outside ``async with`` makes it BACKGROUND, shutdown() makes it SHUT_DOWN.
    NOT_STARTED = "idle"
    #: Serving inside ``async with``: the block owns the workers' task group.
    OWNED = "structured"
    #: Serving from a task of its own in the background of the event loop (started by the first
    #: submit() or map() outside ``async with``), which owns the workers' task group.
    BACKGROUND = "background"
    #: Accepts no more work. Its workers finish (or, told to, cancel) what is left and exit.
    SHUT_DOWN = "shut down"


# Module-level aliases, compared by identity on every submit.
_NOT_STARTED = Lifecycle.NOT_STARTED
_OWNED = Lifecycle.OWNED
_BACKGROUND = Lifecycle.BACKGROUND
_SHUT_DOWN = Lifecycle.SHUT_DOWN

#: How many calls one map() may have submitted and not yet consumed, per worker. With 2, on
#: trio (whose scheduler runs ready tasks in a shuffled batch) workers went idle about once every
#: four items waiting for the consumer to free the window; 3 keeps them fed (measured with
#: benchmarks/executor_throughput.py).
_WINDOW_FACTOR = 3

# The keyword arguments of every call made by map(): none. Shared, never mutated.
_NO_KWARGS: dict[str, Any] = {}


class MapResult(Generic[R]):
    """What :meth:`AsyncExecutor.map` returns: await it for a list, or ``async for`` over it.

    ``await executor.map(fn, items)`` returns every result in input order, as the seed's guide
    shows; ``async for result in executor.map(fn, items)`` streams them in input order, exactly like
    :meth:`AsyncExecutor.map_iter`. Nothing is submitted until you do one or the other, and a
    ``MapResult`` can be consumed once.
    """

    __slots__ = ("_map",)

    def __init__(self, ordered_map: _OrderedMap[R]) -> None:
        self._map = ordered_map

    def __await__(self) -> Generator[Any, None, list[R]]:
        return self._map.collect().__await__()

    def __aiter__(self) -> AsyncIterator[R]:
        return self._map.stream()


@dataclass(frozen=True, slots=True)
class _Bar:
    """map(progress=True)'s bar: the driver drawing it, and the Tally it samples."""

    driver: DisplayDriver
    tally: Tally
    total: int | None


class _OrderedMap(Generic[R]):
    """One map(): submits calls lazily through a bounded window, returns results in input order.

    The window holds at most ``3 * max_workers`` futures: enough to keep every worker busy while
    an early slow call holds up the in-order output, few enough that inputs are never
    materialised. Consuming it twice is an error.

    With an observation hook (``map(progress=True)``: the bar's Tally observes it), the map
    reports ITEM_STARTED when a call enters the window, ITEM_SUCCEEDED when its result is handed
    out and ITEM_FAILED when an exception propagates from the map; ``item_id`` is the input's
    index. Without one, a reporting site costs one ``is not None`` test.
    """

    __slots__ = (
        "_arguments",
        "_bar",
        "_consumed",
        "_executor",
        "_fn",
        "_handed_out",
        "_hook",
        "_options",
        "_source",
        "_started",
        "_timeout",
        "_window",
    )

    def __init__(
        self,
        executor: AsyncExecutor,
        fn: Callable[..., Awaitable[R]],
        arguments: Iterator[tuple[Any, ...]],
        options: SubmitOptions | None,
        timeout: float | None,
        bar: _Bar | None = None,
        hook: Hook | None = None,
        source: str = "",
    ) -> None:
        self._executor = executor
        self._fn = fn
        # Invariant: written only by _fill (None once the inputs are exhausted).
        self._arguments: Iterator[tuple[Any, ...]] | None = arguments
        self._options = options
        self._timeout = timeout
        # Invariant: written only by _fill (extend), _next_batch (popleft), _cancel_outstanding.
        self._window: deque[AsyncFuture[R]] = deque()
        self._consumed = False  # Invariant: written only by _start.
        self._bar = bar
        self._hook = hook
        self._source = source  # the events' source: the bar's title
        # Only with a hook, for the events' item ids: calls submitted, results handed out.
        # Invariant: written only by _report_started and _report_succeeded.
        self._started = 0
        self._handed_out = 0

    async def collect(self) -> list[R]:
        if self._bar is not None:
            return await self._collect_displayed(self._bar)
        results: list[R] = []
        deadline = self._start()
        try:
            while (batch := await self._next_batch(deadline)) is not None:
                results.extend(batch)
        finally:
            self._cancel_outstanding()
        return results

    async def stream(self) -> AsyncIterator[R]:
        deadline = self._start()
        bar = self._bar
        try:
            if bar is None:
                while (batch := await self._next_batch(deadline)) is not None:
                    for result in batch:
                        yield result
                return
            # With a progress bar: refreshed as results are handed out, since an async
            # generator cannot own a background task across its yields.
            driver = bar.driver
            await driver.start(self._executor, bar.total)
            try:
                while (batch := await self._next_batch(deadline)) is not None:
                    await driver.update_if_due()
                    for result in batch:
                        yield result
            except Exception as exc:
                await self._report_failed(exc)
                raise
            finally:
                await driver.finish([], ErrorSummary(total_failed=bar.tally.failed))
        finally:
            self._cancel_outstanding()

    async def _collect_displayed(self, bar: _Bar) -> list[R]:
        """collect() with a progress bar refreshed every interval by a task of its own."""
        results: list[R] = []
        deadline = self._start()
        error: Exception | None = None
        driver = bar.driver
        await driver.start(self._executor, bar.total)
        try:
            stopped = anyio.Event()
            # bare_interrupts: Ctrl-C on trio arrives inside this task group, wrapped.
            with bare_interrupts():
                async with anyio.create_task_group() as tg:
                    tg.start_soon(driver.follow, stopped, name="antflow map progress")
                    try:
                        while (batch := await self._next_batch(deadline)) is not None:
                            results.extend(batch)
                    except Exception as exc:
                        error = exc
                        await self._report_failed(exc)
                    finally:
                        stopped.set()
        finally:
            self._cancel_outstanding()
            await driver.finish([], ErrorSummary(total_failed=bar.tally.failed))
        if error is not None:
            raise error
        return results

    def _start(self) -> float | None:
        if self._consumed:
            raise RuntimeError("this map() result was already consumed; call map() again")
        self._consumed = True
        return deadline(self._timeout)

    async def _next_batch(self, deadline: float | None) -> list[R] | None:
        """Wait for the head of the window; return the run of successes that are ready.

        Returns None when every input is done. If the head call raised, raises its exception.
        An exception raised by the input iterables propagates from here too.

        A batch holds at most the window (``3 * max_workers`` results), and the call after it
        waits for a call that is not done (the batch stops at one), so a consumer of batches
        yields to the event loop at least once per window.
        """
        window = self._window
        if self._arguments is not None:
            added = self._fill()
            if self._hook is not None and added:
                await self._report_started(added)
        if not window:
            return None
        head = window[0]
        if head._state is _RUNNING:
            # A running head often finishes within one turn of the event loop: look again after
            # one checkpoint, which costs much less than parking on an event.
            await anyio.lowlevel.checkpoint()
        if head._state is _PENDING or head._state is _RUNNING:
            await head._wait(deadline, self._timed_out)
        batch: list[R] = []
        while window:
            future = window[0]
            if future._state is _FINISHED and future._exception is None:
                window.popleft()
                batch.append(future._result)  # type: ignore[arg-type]
            elif future.done() and not batch:
                window.popleft()
                future._outcome()  # raises the call's exception (or FutureCancelledError)
            else:
                break  # not done yet, or a failure that raises once the batch is delivered
        if self._hook is not None:
            await self._report_succeeded(batch)
        return batch

    def _timed_out(self) -> str:
        name = getattr(self._fn, "__name__", "fn")
        return (
            f"map({name}): a result was not ready within timeout={self._timeout} s (counted "
            "from the start of the iteration); this map's outstanding calls are cancelled"
        )

    def _fill(self) -> int:
        """Submit calls until the window is full or the inputs are exhausted; return how many."""
        arguments = self._arguments
        if arguments is None:
            return 0
        fn, options = self._fn, self._options
        room = _WINDOW_FACTOR * self._executor._max_workers - len(self._window)
        futures: list[AsyncFuture[R]] = [
            AsyncFuture(fn, args, _NO_KWARGS, options) for args in islice(arguments, room)
        ]
        if len(futures) < room:
            self._arguments = None  # exhausted
        if futures:
            # Queued in one call, not one per future: 3.5% fewer instructions per call of map()
            # (benchmarks/executor_throughput.py workload, counted with valgrind).
            self._executor._enqueue_all(futures, "map()")
            self._window.extend(futures)
        return len(futures)

    def _cancel_outstanding(self) -> None:
        window, self._window = self._window, deque()
        for future in window:
            future.cancel()

    # -- reporting to the hook (only when there is one) -----------------------------------------

    async def _report_started(self, count: int) -> None:
        assert self._hook is not None
        first, self._started = self._started, self._started + count
        for index in range(first, first + count):
            await self._hook.emit(
                Event(EventKind.ITEM_STARTED, self._source, item_id=index, timestamp=now())
            )

    async def _report_succeeded(self, results: list[R]) -> None:
        assert self._hook is not None
        first, self._handed_out = self._handed_out, self._handed_out + len(results)
        for index, value in enumerate(results, first):
            await self._hook.emit(
                Event(
                    EventKind.ITEM_SUCCEEDED,
                    self._source,
                    item_id=index,
                    value=value,
                    timestamp=now(),
                )
            )

    async def _report_failed(self, exc: Exception) -> None:
        """The map stops on ``exc``: its item is the first whose result was not handed out."""
        if self._hook is not None:
            await self._hook.emit(
                Event(
                    EventKind.ITEM_FAILED,
                    self._source,
                    item_id=self._handed_out,
                    error=exc,
                    timestamp=now(),
                )
            )


class AsyncExecutor:
    """Run coroutine functions on at most ``max_workers`` concurrent workers, returning futures.

    The recommended use is structured::

        async with AsyncExecutor(max_workers=10) as executor:
            future = executor.submit(fetch, url)
            results = await executor.map(fetch, urls)

    Leaving the block waits for every submitted call. If the block raises or is cancelled, every
    queued and running call is cancelled before the exception propagates, and no task is left
    behind. A call that raises never affects the others: its exception is kept in its future.

    Workers yield to the event loop at least once every 64 calls
    (:data:`~antflow._fairness.CHECKPOINT_EVERY`), even when no call awaits anything, so
    that other tasks keep running beside a flood of calls that complete at once.

    Manual use (no ``async with``) works too, on asyncio and on trio: the first ``submit`` (or
    ``map``) starts the workers in the background of the running event loop, and
    ``await executor.shutdown()`` stops them. Those workers have no owner in your code: if you
    never call ``shutdown()``, the event loop cancels them when it ends (``asyncio.run`` returns,
    or ``trio.run``'s main task returns). Prefer ``async with``.

    Args:
        max_workers: How many calls may run at the same time (at least 1).
        call_rate: At most this many entries per ``call_rate_period`` seconds into
            ``async with antflow.context.rate_limit():`` across the executor's calls (``None``:
            no rate limit). A leaky bucket: see ``docs/limits.md``.
        call_rate_period: The period, in seconds, ``call_rate`` counts over (default 60).
        call_concurrency: At most this many calls at once inside
            ``async with antflow.context.concurrency_limit():`` (``None``: no cap).

    Raises:
        ValueError: an argument is out of range, naming it (``TypeError``: of the wrong type).
    """

    def __init__(
        self,
        max_workers: int = DEFAULT_MAX_WORKERS,
        *,
        call_rate: float | None = None,
        call_rate_period: float = 60.0,
        call_concurrency: int | None = None,
    ) -> None:
        self._max_workers = check_int(
            max_workers,
            "max_workers",
            hint="the number of calls that may run at the same time",
            type_error=TypeError,
        )
        # What rate_limit() and concurrency_limit() use in the calls: each worker sets it once.
        self._limits = call_limits(
            "AsyncExecutor",
            "AsyncExecutor",
            call_rate,
            call_rate_period,
            call_concurrency,
            type_error=TypeError,
        )
        # The futures not yet taken by a worker, and the idle workers parked on it.
        self._work = WorkQueue()
        # Invariant: written only by _begin (NOT_STARTED -> OWNED or BACKGROUND) and
        # _begin_shutdown (-> SHUT_DOWN).
        self._lifecycle = _NOT_STARTED
        # The workers alive, read on every submit to decide whether to start another one.
        # Invariant: written only by _start_worker and _worker_exited.
        self._workers: set[_Worker] = set()
        # Invariant: the three below are written only by _start_serving (set) and by
        # __aexit__ and _serve_in_background (task group reset when it is left).
        self._task_group: TaskGroup | None = None
        self._closed: anyio.Event | None = None  # set when shutdown begins
        self._all_exited: anyio.Event | None = None  # set when the last worker exited
        # Wraps each call in a span when telemetry was on as serving began. Invariant: written
        # only by _begin.
        self._telemetry: CallTracer | None = None

    @property
    def max_workers(self) -> int:
        """How many calls may run at the same time."""
        return self._max_workers

    def __repr__(self) -> str:
        return f"<AsyncExecutor max_workers={self._max_workers} {self._lifecycle.value}>"

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self: _Self) -> _Self:
        lifecycle = self._lifecycle
        if lifecycle is _SHUT_DOWN:
            raise ExecutorShutdownError("this AsyncExecutor is shut down; create a new one")
        if lifecycle is _BACKGROUND:
            raise RuntimeError(
                "this AsyncExecutor is already running in the background because submit() or "
                "map() was called before `async with`; use `async with` from the start, or "
                "call `await executor.shutdown()` instead"
            )
        if lifecycle is _OWNED:
            raise RuntimeError(
                "this AsyncExecutor is already open in another `async with` block; "
                "an executor is entered once"
            )
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._begin(_OWNED)
        self._start_serving(task_group)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        assert task_group is not None
        try:
            if exc_type is None:
                self._begin_shutdown(cancel_futures=False)
                with bare_interrupts():  # a call's KeyboardInterrupt/SystemExit comes out bare
                    return await task_group.__aexit__(None, None, None)
            # The body raised (or was cancelled): stop every call, then let the body's own
            # exception propagate unchanged. Handing it to the task group instead would wrap it
            # in an ExceptionGroup; the workers themselves never raise (calls' exceptions go to
            # their futures), except for a BaseException such as KeyboardInterrupt from a call,
            # which then comes out (bare) with the body's exception as its context.
            self._begin_shutdown(cancel_futures=True)
            task_group.cancel_scope.cancel()
            with bare_interrupts():
                await task_group.__aexit__(None, None, None)
            return None
        finally:
            # If waiting for the workers was cancelled, calls still queued never ran: cancel
            # them so that nothing stays pending forever.
            self._begin_shutdown(cancel_futures=True)
            self._task_group = None

    async def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop accepting work; optionally cancel what is queued and running; optionally wait.

        Args:
            wait: Wait until every worker has exited (all remaining calls done or cancelled).
            cancel_futures: Cancel every queued call *and* every running one (a running call is
                interrupted at its next checkpoint). ``concurrent.futures`` can only cancel
                queued calls because it cannot interrupt a thread; a coroutine can be.

        After ``shutdown()``, ``submit()`` and ``map()`` raise :class:`ExecutorShutdownError`.
        Calling it again is harmless. Inside ``async with``, leaving the block still waits.
        """
        self._begin_shutdown(cancel_futures)
        if wait:
            if self._all_exited is not None:
                await self._all_exited.wait()
            else:
                await anyio.lowlevel.checkpoint()

    # -- submitting ----------------------------------------------------------------------------

    def submit(
        self,
        fn: Callable[..., Awaitable[T]],
        /,
        *args: Any,
        retries: int = 0,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        semaphore: Any = None,
        retry_on: RetryOn = Exception,
        **kwargs: Any,
    ) -> AsyncFuture[T]:
        """Schedule ``await fn(*args, **kwargs)`` and return its future at once.

        ``fn`` and its arguments are checked here, before anything runs: a plain ``def``
        function, an async generator function, or arguments its signature cannot take raise
        ``TypeError`` at once (a lambda, a callable object or a decorated function may return
        an awaitable, and is accepted).

        Args:
            fn: A coroutine function (or a lambda or callable object returning an awaitable).
            retries: Retries: extra calls after a failed one (so ``retries + 1`` calls at
                most), with exponential backoff and jitter (see
                :class:`~antflow._retry.RetryPolicy`). The last attempt's exception is what
                the future raises. Each retry is logged once on the ``"antflow.retry"`` logger
                (INFO), naming the call, the attempt and the error.
            retry_delay: Seconds before the first retry; each later wait doubles.
            retry_on: The exceptions worth a retry: an exception class or a tuple of them
                (default :class:`Exception`). Any other exception fails the call at once.
            semaphore: Any async context manager (``anyio.Semaphore``, ``anyio.CapacityLimiter``,
                ``asyncio.Semaphore``, ``trio.Semaphore``, ...). Each attempt holds it while it
                runs, so the calls sharing it never exceed its limit, whatever ``max_workers``.

        Raises:
            ExecutorShutdownError: the executor is shut down.
            TypeError: ``fn`` cannot be called as ``await fn(*args, **kwargs)`` (see above).
        """
        check_fn(fn, "submit()", args, kwargs)
        options = submit_options(retries, retry_delay, semaphore, retry_on)
        self._ensure_accepting("submit()")
        if self._telemetry is not None:
            fn = self._telemetry.wrap(fn)
        future: AsyncFuture[T] = AsyncFuture(fn, args, kwargs, options)
        self._enqueue(future, "submit()")
        return future

    def map(
        self,
        fn: Callable[..., Awaitable[R]],
        /,
        *iterables: Iterable[Any],
        timeout: float | None = None,
        retries: int = 0,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        progress: bool = False,
        console: Console | None = None,
        retry_on: RetryOn = Exception,
    ) -> MapResult[R]:
        """Apply ``fn`` to the items of ``iterables`` (zipped, like builtin ``map``).

        ``await executor.map(...)`` returns the results as a list in input order;
        ``async for r in executor.map(...)`` streams them in input order (same as
        :meth:`map_iter`). If a call raises, its exception propagates unchanged and the calls
        still in flight for this map are cancelled. Inputs are consumed lazily (see
        :meth:`map_iter`).

        Args:
            timeout: Seconds, counted from the start of the iteration, within which every result
                must be ready; past it, ``TimeoutError`` is raised and this map's outstanding
                calls are cancelled.
            retries: As in :meth:`submit`, for every call: extra calls after a failed one.
            retry_delay: As in :meth:`submit`.
            retry_on: As in :meth:`submit`.
            progress: Show a one-line progress bar of the results handed out (done/total,
                rate, ETA), as ``Pipeline.run(progress=True)`` does. The total is known when
                every iterable has a length. Awaited, the bar is refreshed every 0.5 s;
                iterated, it is refreshed as results are handed out.
            console: The rich Console the bar draws on (default: rich's console on stdout).
        """
        return MapResult(
            self._ordered_map(
                fn, iterables, timeout, retries, retry_delay, progress, console, retry_on
            )
        )

    def map_iter(
        self,
        fn: Callable[..., Awaitable[R]],
        /,
        *iterables: Iterable[Any],
        timeout: float | None = None,
        retries: int = 0,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        progress: bool = False,
        console: Console | None = None,
        retry_on: RetryOn = Exception,
    ) -> AsyncIterator[R]:
        """Stream ``fn``'s results over ``iterables`` in input order, consuming inputs lazily.

        At most ``3 * max_workers`` inputs are taken from the iterables ahead of the result
        being yielded: enough to keep every worker busy while an early slow call holds up the
        in-order output, and few enough that a generator of millions of items is never
        materialised. Arguments are checked at once; nothing is submitted before iteration.

        If a call raises, its exception propagates unchanged and this map's calls still in
        flight are cancelled. If you stop early, close the iterator
        (``async with contextlib.aclosing(executor.map_iter(...))``) to cancel the calls still in
        flight at once; otherwise they finish on their own (and leaving
        ``async with AsyncExecutor`` waits for them).

        ``progress`` and ``console`` are as in :meth:`map`: the bar is refreshed (at most every
        0.5 s) as results are handed out, and finished when the iterator is exhausted or closed.
        ``retries``, ``retry_delay`` and ``retry_on`` are as in :meth:`submit`. ``fn`` is
        checked at once, as :meth:`submit` checks it, for one argument per iterable.
        """
        return self._ordered_map(
            fn, iterables, timeout, retries, retry_delay, progress, console, retry_on
        ).stream()

    def _ordered_map(
        self,
        fn: Callable[..., Awaitable[R]],
        iterables: tuple[Iterable[Any], ...],
        timeout: float | None,
        retries: int,
        retry_delay: float,
        progress: bool,
        console: Console | None,
        retry_on: RetryOn,
    ) -> _OrderedMap[R]:
        if not iterables:
            raise TypeError("map() needs at least one iterable of arguments")
        check_fn(fn, "map()", (None,) * len(iterables), _NO_KWARGS)
        options = submit_options(retries, retry_delay, None, retry_on)
        deadline(timeout)  # validate now; the deadline itself starts with the iteration
        title = f"map({getattr(fn, '__name__', 'fn')})"
        display = choose_display(
            progress, None, None, DEFAULT_UPDATE_INTERVAL, console, title=title
        )
        self._ensure_accepting("map()")
        if self._telemetry is not None:
            fn = self._telemetry.wrap(fn)
        arguments = zip(*iterables)  # noqa: B905 - builtin map() semantics: stop at the shortest
        if display is None:
            return _OrderedMap(self, fn, arguments, options, timeout)
        # The bar is a consumer of the map's observation hook: a Tally counts what the map
        # reports, and the driver samples the Tally.
        sizes = [len(it) for it in iterables if isinstance(it, Sized)]
        total = min(sizes) if len(sizes) == len(iterables) else None
        tally, errors = Tally(), CallbackErrors()
        driver = DisplayDriver(display, DEFAULT_UPDATE_INTERVAL, tally.snapshot, errors)
        bar = _Bar(driver, tally, total)
        hook = hook_of([tally], errors)
        return _OrderedMap(self, fn, arguments, options, timeout, bar, hook, title)

    # -- waiting -------------------------------------------------------------------------------

    def as_completed(
        self, futures: Iterable[AsyncFuture[T]], timeout: float | None = None
    ) -> AsyncIterator[AsyncFuture[T]]:
        """Yield ``futures`` as they become done, in completion order.

        Futures already done come first. Duplicates are yielded once. The timeout counts from
        this call; once it has passed with futures pending, iteration raises ``TimeoutError``.
        It checkpoints at least once every 64 futures, even when all of them are done already.
        """
        return _waiting.as_completed(futures, timeout)

    async def wait(
        self,
        futures: Iterable[AsyncFuture[Any]],
        timeout: float | None = None,
        return_when: _waiting.WaitStrategy | str = _waiting.WaitStrategy.ALL_COMPLETED,
    ) -> tuple[set[AsyncFuture[Any]], set[AsyncFuture[Any]]]:
        """Wait for ``futures`` as ``return_when`` says and return the sets ``(done, pending)``.

        On timeout it returns what is done so far (it does not raise), as in
        ``concurrent.futures.wait``.
        """
        return await _waiting.wait(futures, timeout, return_when)

    # -- machinery -----------------------------------------------------------------------------

    def _ensure_accepting(self, what: str) -> None:
        """Raise if shut down; start serving in the background if not started yet."""
        if self._lifecycle is _SHUT_DOWN:
            raise ExecutorShutdownError(
                f"{what} after shutdown: this AsyncExecutor no longer accepts work; "
                "submit before leaving `async with` or calling shutdown(), or use a new executor"
            )
        if self._lifecycle is _NOT_STARTED:
            # The events exist before the serving task runs, so that a shutdown(wait=True)
            # right after this first submit waits for the calls instead of returning at once.
            self._closed = anyio.Event()
            self._all_exited = anyio.Event()
            start_unowned(self._serve_in_background, what=f"AsyncExecutor.{what}")
            self._begin(_BACKGROUND)

    def _begin(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle
        self._telemetry = _call_tracer()  # telemetry as it is when serving begins

    def _enqueue(self, future: AsyncFuture[Any], what: str) -> None:
        """Queue ``future``, starting a worker if no idle one takes it and there is room.

        Raises ExecutorShutdownError (naming ``what``) once shut down.
        """
        if self._lifecycle is _SHUT_DOWN:
            self._ensure_accepting(what)  # raises
        if (
            self._work.put(future)
            and len(self._workers) < self._max_workers
            and self._task_group is not None
        ):
            self._start_worker(self._task_group)

    def _enqueue_all(self, futures: Sequence[AsyncFuture[Any]], what: str) -> None:
        """:meth:`_enqueue` for each of ``futures``, in one call (a map's refill)."""
        if self._lifecycle is _SHUT_DOWN:
            self._ensure_accepting(what)  # raises
        wanted = self._work.put_all(futures)
        if wanted and self._task_group is not None:
            for _ in range(min(wanted, self._max_workers - len(self._workers))):
                self._start_worker(self._task_group)

    def _start_serving(self, task_group: TaskGroup) -> None:
        self._task_group = task_group
        if self._closed is None or self._all_exited is None:  # async with: made here
            self._closed = anyio.Event()
            self._all_exited = anyio.Event()
        for _ in range(min(len(self._work), self._max_workers)):
            self._start_worker(task_group)
        if self._lifecycle is _SHUT_DOWN:  # shut down before serving began: run what is queued
            self._closed.set()
            if not self._workers:
                self._all_exited.set()

    async def _serve_in_background(self) -> None:
        try:
            async with anyio.create_task_group() as task_group:
                self._start_serving(task_group)
                assert self._closed is not None
                await self._closed.wait()
        finally:
            # Cancelled (the event loop is ending): nothing may stay pending forever.
            self._begin_shutdown(cancel_futures=True)
            self._task_group = None

    def _start_worker(self, task_group: TaskGroup) -> None:
        worker = _Worker(self)
        self._workers.add(worker)
        task_group.start_soon(worker.run, name=f"antflow-executor-worker-{len(self._workers)}")

    def _worker_exited(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        if not self._workers and self._lifecycle is _SHUT_DOWN and self._all_exited is not None:
            self._all_exited.set()

    def _begin_shutdown(self, cancel_futures: bool) -> None:
        if cancel_futures:
            self._work.cancel_all()
            for worker in list(self._workers):
                if worker.current is not None:
                    worker.current.cancel()
        if self._lifecycle is not _SHUT_DOWN:
            self._lifecycle = _SHUT_DOWN
            # Idle workers wake up, find the queue empty and closed, and exit.
            self._work.close()
            if self._closed is not None:
                self._closed.set()
            # Before the serving task has begun (task_group None), queued calls are still to
            # run: _start_serving sets _all_exited once they have.
            if not self._workers and self._all_exited is not None and self._task_group is not None:
                self._all_exited.set()


class _Worker:
    """One worker: takes futures off the executor's queue and runs them, one at a time.

    It yields to the event loop at least once every :data:`CHECKPOINT_EVERY` calls, even
    when no call awaits anything.
    """

    __slots__ = ("current", "executor")

    def __init__(self, executor: AsyncExecutor) -> None:
        self.executor = executor
        # The future taken last, read by the executor to cancel it at shutdown.
        # Invariant: written only by run.
        self.current: AsyncFuture[Any] | None = None

    async def run(self) -> None:
        executor = self.executor
        work = executor._work
        take_nowait = work.take_nowait
        countdown = CHECKPOINT_EVERY  # calls left before this worker must checkpoint
        current_limits.set(executor._limits)  # once per worker, not per call
        try:
            while True:
                # One cancel scope per run of calls, not per call (a scope costs more than a
                # no-op call). ``future.cancel()`` cancels this scope when it hits the running
                # call; the scope swallows that cancellation and a fresh scope takes over.
                with anyio.CancelScope() as scope:
                    while True:
                        countdown -= 1
                        if not countdown:
                            countdown = CHECKPOINT_EVERY
                            await anyio.lowlevel.checkpoint()
                        try:
                            future = take_nowait()
                        except IndexError:  # the queue is empty
                            next_future = await work.take()  # a checkpoint while there is work
                            if next_future is None:
                                return  # shut down and nothing left to run
                            future = next_future
                            countdown = CHECKPOINT_EVERY
                        # The future's own transitions, not an inlined copy: inlining _start
                        # and _finish saved 2.6% of map()'s instructions per call (valgrind,
                        # benchmarks/executor_throughput.py workload), under the ~5% that would
                        # pay for a second writer of the future's fields.
                        if not future._start(scope):
                            continue  # cancelled while queued
                        self.current = future
                        awaitable = None
                        try:
                            if future._options is None:
                                if future._kwargs:
                                    awaitable = future._fn(*future._args, **future._kwargs)
                                else:
                                    awaitable = future._fn(*future._args)
                                value = await awaitable
                            else:
                                value = await future._options.run(
                                    future._fn, future._args, future._kwargs
                                )
                        except Exception as exc:
                            if not future._fail(explain_not_awaitable(exc, future._fn, awaitable)):
                                break  # cancelled: its cancel() cancelled this scope: renew it
                        else:
                            if not future._finish(value):
                                break  # cancelled, yet the call finished: renew the scope
                # The scope was cancelled by the current future's cancel(): it is cancelled.
        finally:
            # Cancelled from outside (executor cancelled) or a BaseException from the call: the
            # call in hand must not stay "running" forever. (cancel() is a no-op once done.)
            if self.current is not None:
                self.current.cancel()
                self.current = None
            executor._worker_exited(self)
