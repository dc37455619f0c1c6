"""AsyncExecutor: a capacity-limited anyio task group that returns futures."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
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
from ._display import DEFAULT_UPDATE_INTERVAL, DisplayDriver, choose_display
from ._future import _CANCELLED, _FINISHED, _PENDING, _RUNNING, AsyncFuture, _deadline
from ._records import ErrorSummary
from ._retry import RetryPolicy
from ._stats import DashboardSnapshot, PipelineStats
from .exceptions import ExecutorShutdownError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["DEFAULT_MAX_WORKERS", "DEFAULT_RETRY_DELAY", "AsyncExecutor", "MapResult"]

T = TypeVar("T")
R = TypeVar("R")
_Self = TypeVar("_Self", bound="AsyncExecutor")

#: ``max_workers`` when none is given.
DEFAULT_MAX_WORKERS = 10
#: ``retry_delay`` when none is given: the first wait between attempts, in seconds.
DEFAULT_RETRY_DELAY = 0.1

# Modes of an executor: not started, owned by ``async with``, or serving in the background.
_IDLE = "idle"
_STRUCTURED = "structured"
_BACKGROUND = "background"

#: How many calls one map() may have submitted and not yet consumed, per worker. With 2, on
#: trio (whose scheduler runs ready tasks in a shuffled batch) workers went idle about once every
#: four items waiting for the consumer to free the window; 3 keeps them fed (measured with
#: benchmarks/executor_throughput.py).
_WINDOW_FACTOR = 3

# The keyword arguments of every call made by map(): none. Shared, never mutated.
_NO_KWARGS: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class _SubmitOptions:
    """What a call needs beyond ``fn(*args, **kwargs)``: retries and a shared limiter."""

    policy: RetryPolicy
    semaphore: Any  # any async context manager

    async def run(self, future: AsyncFuture[Any]) -> Any:
        fn, args, kwargs, semaphore = future._fn, future._args, future._kwargs, self.semaphore

        async def attempt() -> Any:
            if semaphore is None:
                return await _await_call(fn, args, kwargs)
            async with semaphore:
                return await _await_call(fn, args, kwargs)

        return await self.policy.call(attempt)


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


class _OrderedMap(Generic[R]):
    """One map(): submits calls lazily through a bounded window, returns results in input order.

    The window holds at most ``3 * max_workers`` futures: enough to keep every worker busy while
    an early slow call holds up the in-order output, few enough that inputs are never
    materialised. Consuming it twice is an error.
    """

    __slots__ = (
        "_arguments",
        "_consumed",
        "_delivered",
        "_driver",
        "_executor",
        "_failed",
        "_fn",
        "_options",
        "_timeout",
        "_total",
        "_window",
    )

    def __init__(
        self,
        executor: AsyncExecutor,
        fn: Callable[..., Awaitable[R]],
        arguments: Iterator[tuple[Any, ...]],
        options: _SubmitOptions | None,
        timeout: float | None,
    ) -> None:
        self._executor = executor
        self._fn = fn
        self._arguments: Iterator[tuple[Any, ...]] | None = arguments
        self._options = options
        self._timeout = timeout
        self._window: deque[AsyncFuture[R]] = deque()
        self._consumed = False
        # Only for a progress bar (set by map(progress=True)): results handed out, total, failed.
        self._driver: DisplayDriver | None = None
        self._total: int | None = None
        self._delivered = 0
        self._failed = 0

    async def collect(self) -> list[R]:
        if self._driver is not None:
            return await self._collect_displayed(self._driver)
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
        driver = self._driver
        try:
            if driver is None:
                while (batch := await self._next_batch(deadline)) is not None:
                    for result in batch:
                        yield result
                return
            # With a progress bar: refreshed as results are handed out, since an async
            # generator cannot own a background task across its yields.
            await driver.start(self._executor, self._total)
            try:
                while (batch := await self._next_batch(deadline)) is not None:
                    self._delivered += len(batch)
                    await driver.update_if_due()
                    for result in batch:
                        yield result
            except Exception:
                self._failed = 1
                raise
            finally:
                await driver.finish([], ErrorSummary(total_failed=self._failed))
        finally:
            self._cancel_outstanding()

    async def _collect_displayed(self, driver: DisplayDriver) -> list[R]:
        """collect() with a progress bar refreshed every interval by a task of its own."""
        results: list[R] = []
        deadline = self._start()
        error: Exception | None = None
        await driver.start(self._executor, self._total)
        try:
            stopped = anyio.Event()
            async with anyio.create_task_group() as tg:
                tg.start_soon(driver.follow, stopped, name="antflow map progress")
                try:
                    while (batch := await self._next_batch(deadline)) is not None:
                        results.extend(batch)
                        self._delivered = len(results)
                except Exception as exc:
                    error = exc
                    self._failed = 1
                finally:
                    stopped.set()
        finally:
            self._cancel_outstanding()
            await driver.finish([], ErrorSummary(total_failed=self._failed))
        if error is not None:
            raise error
        return results

    def snapshot(self) -> DashboardSnapshot:
        """The map's progress as a snapshot, for the progress bar."""
        in_flight = len(self._window)
        stats = PipelineStats(
            items_fed=self._delivered + in_flight,
            items_processed=self._delivered,
            items_failed=self._failed,
            items_in_flight=in_flight,
        )
        return DashboardSnapshot(
            {}, {}, stats, ErrorSummary(total_failed=self._failed), time.time()
        )

    def _start(self) -> float | None:
        if self._consumed:
            raise RuntimeError("this map() result was already consumed; call map() again")
        self._consumed = True
        return _deadline(self._timeout)

    async def _next_batch(self, deadline: float | None) -> list[R] | None:
        """Wait for the head of the window; return the run of successes that are ready.

        Returns None when every input is done. If the head call raised, raises its exception.
        An exception raised by the input iterables propagates from here too.
        """
        window = self._window
        self._fill()
        if not window:
            return None
        head = window[0]
        if head._state is _RUNNING:
            # A running head often finishes within one turn of the event loop: look again after
            # one checkpoint, which costs much less than parking on an event.
            await anyio.lowlevel.checkpoint()
        if head._state is _PENDING or head._state is _RUNNING:
            await head._wait(deadline)
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
        return batch

    def _fill(self) -> None:
        """Submit calls until the window is full or the inputs are exhausted."""
        arguments = self._arguments
        if arguments is None:
            return
        executor, window, fn, options = self._executor, self._window, self._fn, self._options
        queue, sleepers, max_workers = executor._queue, executor._sleepers, executor._max_workers
        limit = _WINDOW_FACTOR * max_workers
        for args in islice(arguments, limit - len(window)):
            if executor._shutdown:
                executor._ensure_accepting("map()")  # raises ExecutorShutdownError
            future: AsyncFuture[R] = AsyncFuture(fn, args, _NO_KWARGS, options)
            # executor._enqueue(future), inlined.
            queue.append(future)
            if sleepers:
                sleepers.popleft().set()
            elif (
                executor._workers < max_workers
                and len(queue) > executor._idle
                and executor._task_group is not None
            ):
                executor._start_worker(executor._task_group)
            window.append(future)
        if len(window) < limit:
            self._arguments = None  # exhausted

    def _cancel_outstanding(self) -> None:
        window, self._window = self._window, deque()
        for future in window:
            future.cancel()


class AsyncExecutor:
    """Run coroutine functions on at most ``max_workers`` concurrent workers, returning futures.

    The recommended use is structured::

        async with AsyncExecutor(max_workers=10) as executor:
            future = executor.submit(fetch, url)
            results = await executor.map(fetch, urls)

    Leaving the block waits for every submitted call. If the block raises or is cancelled, every
    queued and running call is cancelled before the exception propagates, and no task is left
    behind. A call that raises never affects the others: its exception is kept in its future.

    Manual use (no ``async with``) works too, on asyncio and on trio: the first ``submit`` (or
    ``map``) starts the workers in the background of the running event loop, and
    ``await executor.shutdown()`` stops them. Those workers have no owner in your code: if you
    never call ``shutdown()``, the event loop cancels them when it ends (``asyncio.run`` returns,
    or ``trio.run``'s main task returns). Prefer ``async with``.

    Args:
        max_workers: How many calls may run at the same time (at least 1).
    """

    def __init__(self, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int):
            raise TypeError(f"max_workers must be an int, got {max_workers!r}")
        if max_workers < 1:
            raise ValueError(
                f"max_workers must be at least 1, got {max_workers}; "
                "it is the number of calls that may run at the same time"
            )
        self._max_workers = max_workers
        # The queue of futures not yet taken by a worker. A plain deque rather than a memory
        # object stream: a worker takes a future with one popleft and no call, and an idle
        # worker parks on an event of its own in ``_sleepers`` (see _Worker._next).
        self._queue: deque[AsyncFuture[Any]] = deque()
        self._sleepers: deque[anyio.Event] = deque()
        self._mode = _IDLE
        self._shutdown = False
        self._task_group: TaskGroup | None = None
        # Worker bookkeeping, read on every submit to decide whether to start another worker.
        self._workers = 0  # workers alive
        self._idle = 0  # workers that found the queue empty and wait for work
        self._running: set[_Worker] = set()
        self._closed: anyio.Event | None = None  # set when shutdown begins
        self._all_exited: anyio.Event | None = None  # set when the last worker exited

    @property
    def max_workers(self) -> int:
        """How many calls may run at the same time."""
        return self._max_workers

    def __repr__(self) -> str:
        state = "shut down" if self._shutdown else self._mode
        return f"<AsyncExecutor max_workers={self._max_workers} {state}>"

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self: _Self) -> _Self:
        if self._shutdown:
            raise ExecutorShutdownError("this AsyncExecutor is shut down; create a new one")
        if self._mode is not _IDLE:
            raise RuntimeError(
                "this AsyncExecutor is already running in the background because submit() or "
                "map() was called before `async with`; use `async with` from the start, or "
                "call `await executor.shutdown()` instead"
            )
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._open(_STRUCTURED)
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
                return await task_group.__aexit__(None, None, None)
            # The body raised (or was cancelled): stop every call, then let the body's own
            # exception propagate unchanged. Handing it to the task group instead would wrap it
            # in an ExceptionGroup; the workers themselves never raise (calls' exceptions go to
            # their futures), except for a BaseException such as KeyboardInterrupt from a call,
            # which the task group then raises with the body's exception as its context.
            self._begin_shutdown(cancel_futures=True)
            task_group.cancel_scope.cancel()
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
        **kwargs: Any,
    ) -> AsyncFuture[T]:
        """Schedule ``await fn(*args, **kwargs)`` and return its future at once.

        Args:
            fn: A coroutine function (or any callable returning an awaitable).
            retries: Extra attempts after a failure (so ``retries + 1`` calls at most), with
                exponential backoff and jitter (see :class:`~antflow._retry.RetryPolicy`). The
                last attempt's exception is what the future raises.
            retry_delay: Seconds before the first retry; each later wait doubles.
            semaphore: Any async context manager (``anyio.Semaphore``, ``anyio.CapacityLimiter``,
                ``asyncio.Semaphore``, ``trio.Semaphore``, ...). Each attempt holds it while it
                runs, so the calls sharing it never exceed its limit, whatever ``max_workers``.

        Raises:
            ExecutorShutdownError: the executor is shut down.
        """
        _check_callable(fn, "submit()")
        options = _options(retries, retry_delay, semaphore)
        self._ensure_accepting("submit()")
        future: AsyncFuture[T] = AsyncFuture(fn, args, kwargs, options)
        self._enqueue(future)
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
            retries: As in :meth:`submit`, for every call.
            retry_delay: As in :meth:`submit`.
            progress: Show a one-line progress bar of the results handed out (done/total,
                rate, ETA), as ``Pipeline.run(progress=True)`` does. The total is known when
                every iterable has a length. Awaited, the bar is refreshed every 0.5 s;
                iterated, it is refreshed as results are handed out.
            console: The rich Console the bar draws on (default: rich's console on stdout).
        """
        return MapResult(
            self._ordered_map(fn, iterables, timeout, retries, retry_delay, progress, console)
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
        """
        return self._ordered_map(
            fn, iterables, timeout, retries, retry_delay, progress, console
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
    ) -> _OrderedMap[R]:
        _check_callable(fn, "map()")
        if not iterables:
            raise TypeError("map() needs at least one iterable of arguments")
        options = _options(retries, retry_delay, None)
        _deadline(timeout)  # validate now; the deadline itself starts with the iteration
        display = choose_display(
            progress,
            None,
            None,
            DEFAULT_UPDATE_INTERVAL,
            console,
            title=f"map({getattr(fn, '__name__', 'fn')})",
        )
        self._ensure_accepting("map()")
        arguments = zip(*iterables)  # noqa: B905 - builtin map() semantics: stop at the shortest
        if display is None:
            return _OrderedMap(self, fn, arguments, options, timeout)
        sizes = [len(it) for it in iterables if isinstance(it, Sized)]
        ordered: _OrderedMap[R] = _OrderedMap(self, fn, arguments, options, timeout)
        ordered._driver = DisplayDriver(display, DEFAULT_UPDATE_INTERVAL, ordered.snapshot)
        ordered._total = min(sizes) if len(sizes) == len(iterables) else None
        return ordered

    # -- waiting -------------------------------------------------------------------------------

    def as_completed(
        self, futures: Iterable[AsyncFuture[T]], timeout: float | None = None
    ) -> AsyncIterator[AsyncFuture[T]]:
        """Yield ``futures`` as they become done, in completion order.

        Futures already done come first. Duplicates are yielded once. The timeout counts from
        this call; once it has passed with futures pending, iteration raises ``TimeoutError``.
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
        if self._shutdown:
            raise ExecutorShutdownError(
                f"{what} after shutdown: this AsyncExecutor no longer accepts work; "
                "submit before leaving `async with` or calling shutdown(), or use a new executor"
            )
        if self._mode is _IDLE:
            start_unowned(self._serve_in_background, what=f"AsyncExecutor.{what}")
            self._open(_BACKGROUND)

    def _open(self, mode: str) -> None:
        self._mode = mode

    def _enqueue(self, future: AsyncFuture[Any]) -> None:
        # _OrderedMap._fill inlines this: keep the two in step.
        queue = self._queue
        queue.append(future)
        if self._sleepers:
            self._sleepers.popleft().set()
        elif (
            self._workers < self._max_workers
            and len(queue) > self._idle
            and self._task_group is not None
        ):
            self._start_worker(self._task_group)

    def _start_serving(self, task_group: TaskGroup) -> None:
        self._task_group = task_group
        self._closed = anyio.Event()
        self._all_exited = anyio.Event()
        if self._shutdown:
            self._closed.set()
            if self._workers == 0:
                self._all_exited.set()
        for _ in range(min(len(self._queue), self._max_workers)):
            self._start_worker(task_group)

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
        self._workers += 1
        task_group.start_soon(_Worker(self).run, name=f"antflow-executor-worker-{self._workers}")

    def _begin_shutdown(self, cancel_futures: bool) -> None:
        if cancel_futures:
            queue = self._queue
            while queue:
                queue.popleft().cancel()
            for worker in list(self._running):
                if worker.current is not None:
                    worker.current.cancel()
        if not self._shutdown:
            self._shutdown = True
            # Idle workers wake up, find the queue empty and the executor shut down, and exit.
            sleepers = self._sleepers
            while sleepers:
                sleepers.popleft().set()
            if self._closed is not None:
                self._closed.set()
            if self._workers == 0 and self._all_exited is not None:
                self._all_exited.set()

    def _worker_exited(self) -> None:
        self._workers -= 1
        if self._workers == 0 and self._shutdown and self._all_exited is not None:
            self._all_exited.set()


class _Worker:
    """One worker: takes futures off the executor's queue and runs them, one at a time."""

    __slots__ = ("current", "executor")

    def __init__(self, executor: AsyncExecutor) -> None:
        self.executor = executor
        self.current: AsyncFuture[Any] | None = None

    async def run(self) -> None:
        executor = self.executor
        queue = executor._queue
        executor._running.add(self)
        try:
            while True:
                # One cancel scope per run of calls, not per call (a scope costs more than a
                # no-op call). ``future.cancel()`` cancels this scope when it hits the running
                # call; the scope swallows that cancellation and a fresh scope takes over.
                with anyio.CancelScope() as scope:
                    while True:
                        # The hot loop: no helper call when there is work, nothing written that
                        # no one could read before the next await.
                        if queue:
                            future = queue.popleft()
                        else:
                            next_future = await self._next()
                            if next_future is None:
                                return  # shut down and nothing left to run
                            future = next_future
                        if future._state is not _PENDING:
                            continue  # cancelled while queued
                        future._state = _RUNNING
                        future._cancel_scope = scope
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
                                value = await future._options.run(future)
                        except Exception as exc:
                            future._set_exception(_explain_not_awaitable(exc, future, awaitable))
                            if future._state is _CANCELLED:
                                break  # its cancel() cancelled this scope: renew it
                            continue
                        # future._set_result(value), inlined.
                        if future._state is not _RUNNING:
                            # Cancelled: its cancel() cancelled this scope, yet the call
                            # finished. Renew the scope.
                            break
                        future._state = _FINISHED
                        future._result = value
                        future._cancel_scope = None
                        if future._waiters is not None or future._callbacks is not None:
                            future._wake()
                # The scope was cancelled by the current future's cancel(): it is cancelled.
        finally:
            # Cancelled from outside (executor cancelled) or a BaseException from the call: the
            # call in hand must not stay "running" forever. (cancel() is a no-op once done.)
            if self.current is not None:
                self.current.cancel()
                self.current = None
            executor._running.discard(self)
            executor._worker_exited()

    async def _next(self) -> AsyncFuture[Any] | None:
        """Wait until the queue has a future and take it; None once shut down and drained."""
        executor = self.executor
        queue = executor._queue
        executor._idle += 1
        try:
            if not executor._shutdown:
                # Work usually arrives within one turn of the event loop (a map refills its
                # window whenever its consumer runs): look again after one checkpoint, which
                # costs much less than parking on an event; park only if still nothing.
                await anyio.lowlevel.checkpoint()
            while not queue:
                if executor._shutdown:
                    return None
                event = anyio.Event()  # set by _enqueue (one sleeper per future) or shutdown
                executor._sleepers.append(event)
                try:
                    await event.wait()
                finally:
                    if not event.is_set():  # cancelled while parked
                        executor._sleepers.remove(event)
        finally:
            executor._idle -= 1
        return queue.popleft()


async def _await_call(fn: Callable[..., Awaitable[T]], args: tuple[Any, ...], kwargs: Any) -> T:
    awaitable = fn(*args, **kwargs)
    try:
        return await awaitable
    except TypeError as exc:
        raise _explain_not_awaitable(exc, fn, awaitable) from None


def _explain_not_awaitable(exc: Exception, fn: object, awaitable: object) -> Exception:
    """Replace the bare "can't be used in 'await' expression" TypeError by one that says why."""
    if awaitable is None or not isinstance(exc, TypeError) or _is_awaitable(awaitable):
        return exc
    if isinstance(fn, AsyncFuture):
        fn = fn._fn
    return TypeError(
        f"{_name(fn)} returned {type(awaitable).__name__}, not an awaitable: "
        "AsyncExecutor runs coroutine functions (`async def`); run blocking code with "
        "`await anyio.to_thread.run_sync(...)` inside one"
    )


def _is_awaitable(obj: object) -> bool:
    return hasattr(type(obj), "__await__")


def _name(fn: object) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def _check_callable(fn: object, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what} needs a coroutine function as its first argument, got {fn!r}")


def _options(retries: int, retry_delay: float, semaphore: Any) -> _SubmitOptions | None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0 (extra attempts), got {retries!r}")
    if (
        isinstance(retry_delay, bool)
        or not isinstance(retry_delay, (int, float))
        or not math.isfinite(retry_delay)
        or retry_delay < 0
    ):
        raise ValueError(f"retry_delay must be a number of seconds >= 0, got {retry_delay!r}")
    if semaphore is not None and not (
        hasattr(semaphore, "__aenter__") and hasattr(semaphore, "__aexit__")
    ):
        raise TypeError(
            "semaphore must be an async context manager (such as anyio.Semaphore, "
            f"anyio.CapacityLimiter or asyncio.Semaphore), got {semaphore!r}"
        )
    if retries == 0 and semaphore is None:
        return None
    return _SubmitOptions(RetryPolicy(attempts=retries + 1, wait_initial=retry_delay), semaphore)
