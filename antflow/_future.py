"""AsyncFuture: the handle to one piece of work submitted to an AsyncExecutor."""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel

from ._call import SubmitOptions
from ._validation import is_number
from .exceptions import FutureCancelledError

__all__ = ["AsyncFuture", "FutureState", "deadline", "wait_for"]

T = TypeVar("T")

logger = logging.getLogger("antflow")


class FutureState(enum.Enum):
    """Where a future is in its life: pending, then running, then finished; or cancelled."""

    #: Queued: no worker has taken the call yet.
    PENDING = "pending"
    #: A worker is awaiting the call, inside a cancel scope that :meth:`AsyncFuture.cancel` cancels.
    RUNNING = "running"
    #: Done: the call returned a value or raised an exception, kept in the future.
    FINISHED = "finished"
    #: Done: cancelled while queued (it never ran) or while running (it was interrupted).
    CANCELLED = "cancelled"


# Module-level aliases: the hot paths compare states by identity without an attribute lookup.
_PENDING = FutureState.PENDING
_RUNNING = FutureState.RUNNING
_FINISHED = FutureState.FINISHED
_CANCELLED = FutureState.CANCELLED


class AsyncFuture(Generic[T]):
    """The eventual outcome of one call submitted to an :class:`~antflow.AsyncExecutor`.

    Futures are created by :meth:`AsyncExecutor.submit` (and internally by ``map``); do not
    create them yourself. A future is *pending* while queued, *running* while a worker awaits
    its coroutine, and then *done*: finished with a result, finished with an exception, or
    cancelled.

    Futures belong to the event loop that created them: await them from that loop only.
    """

    __slots__ = (
        "__weakref__",
        "_args",
        "_callbacks",
        "_cancel_scope",
        "_exception",
        "_fn",
        "_kwargs",
        "_options",
        "_result",
        "_state",
        "_waiters",
    )

    def __init__(
        self,
        fn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: SubmitOptions | None,
    ) -> None:
        self._fn = fn
        self._options = options
        # The call's arguments. Invariant: written only by __init__ and _wake (which drops them
        # once the future is done, so that they can be collected early).
        self._args = args
        self._kwargs = kwargs
        # Invariant: _state, _result, _exception and _cancel_scope are written only by the
        # transitions below: _start (pending -> running), _finish and _fail (running ->
        # finished) and cancel (pending or running -> cancelled). A worker calls the first three.
        self._state = _PENDING
        self._result: T | None = None
        self._exception: BaseException | None = None
        self._cancel_scope: anyio.CancelScope | None = None  # set while running
        # Invariant: written only by _wait, add_done_callback, remove_done_callback and _wake.
        self._waiters: list[anyio.Event] | None = None
        self._callbacks: list[Callable[[AsyncFuture[T]], object]] | None = None

    def __repr__(self) -> str:
        name = getattr(self._fn, "__qualname__", None) or repr(self._fn)
        if self._state is _FINISHED and self._exception is not None:
            outcome = f" raised {type(self._exception).__name__}"
        else:
            outcome = ""
        return f"<AsyncFuture {name} {self._state.value}{outcome}>"

    # -- queries ---------------------------------------------------------------------------

    def done(self) -> bool:
        """Return True if the future finished (with a result or an exception) or was cancelled."""
        return self._state is _FINISHED or self._state is _CANCELLED

    def running(self) -> bool:
        """Return True while a worker is running the call."""
        return self._state is _RUNNING

    def cancelled(self) -> bool:
        """Return True if the future was cancelled."""
        return self._state is _CANCELLED

    def exception(self) -> BaseException | None:
        """Return the exception the call raised, without waiting.

        Returns None if the call returned a value, and also while the future is not done yet
        (check :meth:`done` to tell the two apart; ``await future.result()`` waits).

        Raises:
            FutureCancelledError: the future was cancelled.
        """
        if self._state is _CANCELLED:
            raise FutureCancelledError(f"{self!r} was cancelled")
        return self._exception

    async def result(self, timeout: float | None = None) -> T:
        """Wait for the call to finish and return its value.

        If the call raised, that very exception is raised here, unchanged. Waiting is a
        checkpoint. If the wait times out or the waiting task is cancelled, the call itself goes
        on: call :meth:`cancel` to stop it.

        Args:
            timeout: Seconds to wait at most; None waits as long as it takes.

        Raises:
            TimeoutError: the future was not done within ``timeout`` seconds.
            FutureCancelledError: the future was cancelled.
        """
        when = deadline(timeout)
        if self.done():
            await anyio.lowlevel.checkpoint()
        else:
            await self._wait(
                when,
                lambda: (
                    f"{self!r} was not done within {timeout} s; the call goes on "
                    "(cancel() stops it)"
                ),
            )
        return self._outcome()

    # -- control ---------------------------------------------------------------------------

    def cancel(self) -> bool:
        """Cancel the call, queued or running.

        A queued call never starts. A running call is interrupted at its next checkpoint (unlike
        ``concurrent.futures``, which cannot stop a running thread). The future is cancelled at
        once: ``done()`` and ``cancelled()`` return True and waiters wake up.

        Returns:
            False if the future was already done, True otherwise.
        """
        if self.done():
            return False
        scope = self._cancel_scope
        self._cancel_scope = None
        self._state = _CANCELLED
        if scope is not None:
            scope.cancel()
        self._wake()
        return True

    def add_done_callback(self, fn: Callable[[AsyncFuture[T]], object]) -> None:
        """Call ``fn(future)`` once the future is done (at once if it already is).

        Callbacks run in the event loop thread, in the order they were added. An exception in a
        callback is logged on the ``antflow`` logger and does not affect the future or the other
        callbacks.
        """
        if self.done():
            _run_callback(fn, self)
            return
        if self._callbacks is None:
            self._callbacks = []
        self._callbacks.append(fn)

    def remove_done_callback(self, fn: Callable[[AsyncFuture[T]], object]) -> int:
        """Remove every registration of ``fn``; return how many were removed."""
        if not self._callbacks:
            return 0
        kept = [cb for cb in self._callbacks if cb != fn]
        removed = len(self._callbacks) - len(kept)
        self._callbacks = kept
        return removed

    # -- transitions, made by the worker running the call ------------------------------------

    def _start(self, scope: anyio.CancelScope) -> bool:
        """Pending -> running inside ``scope``, which :meth:`cancel` will cancel.

        Returns False, changing nothing, if the future was cancelled while queued.
        """
        if self._state is not _PENDING:
            return False
        self._state = _RUNNING
        self._cancel_scope = scope
        return True

    def _finish(self, value: T) -> bool:
        """Running -> finished with ``value``; wakes the waiters and runs the callbacks.

        Returns False, changing nothing, if the future was cancelled meanwhile (its
        :meth:`cancel` then cancelled the worker's scope, which the worker must renew).
        """
        if self._state is not _RUNNING:
            return False
        self._state = _FINISHED
        self._result = value
        self._cancel_scope = None
        if self._waiters is not None or self._callbacks is not None:
            self._wake()
        return True

    def _fail(self, exc: BaseException) -> bool:
        """Running -> finished with the exception ``exc``; otherwise as :meth:`_finish`."""
        if self._state is not _RUNNING:
            return False
        self._state = _FINISHED
        self._exception = exc
        self._cancel_scope = None
        if self._waiters is not None or self._callbacks is not None:
            self._wake()
        return True

    # -- used by the executor and the waiting functions ---------------------------------------

    def _outcome(self) -> T:
        """Return the value or raise the exception of a done future."""
        if self._state is _CANCELLED:
            raise FutureCancelledError(f"{self!r} was cancelled")
        if self._exception is not None:
            raise self._exception
        return self._result  # type: ignore[return-value]

    async def _wait(self, deadline: float | None, timed_out: Callable[[], str]) -> None:
        """Wait until done; past ``deadline`` (anyio clock), raise ``TimeoutError(timed_out())``
        (see :func:`wait_for`)."""
        event = anyio.Event()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(event)
        try:
            await wait_for(event, deadline, timed_out)
        finally:
            if not event.is_set() and self._waiters is not None:
                self._waiters.remove(event)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, None
        callbacks, self._callbacks = self._callbacks, None
        self._args = ()  # drop the call's arguments so they can be collected early
        self._kwargs = {}
        if waiters:
            for event in waiters:
                event.set()
        if callbacks:
            for fn in callbacks:
                _run_callback(fn, self)


def _run_callback(fn: Callable[[AsyncFuture[Any]], object], future: AsyncFuture[Any]) -> None:
    try:
        fn(future)
    except Exception:
        logger.exception("exception in done callback %r of %r", fn, future)


def deadline(timeout: float | None) -> float | None:
    """Turn a relative timeout into an absolute deadline on anyio's clock.

    ``0`` means "only what is already done"; ``math.inf`` waits forever, like ``None``.

    Raises:
        TypeError: ``timeout`` is not a number (``bool`` included) or None.
        ValueError: ``timeout`` is negative or NaN.
    """
    if timeout is None:
        return None
    if not (is_number(timeout) or (isinstance(timeout, float) and math.isinf(timeout))):
        if isinstance(timeout, float):  # NaN
            raise ValueError(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if timeout < 0:
        raise ValueError(
            f"timeout must be a number of seconds >= 0 or None, got {timeout!r} "
            "(0 takes only what is already done; None waits as long as it takes)"
        )
    return anyio.current_time() + timeout


async def wait_for(event: anyio.Event, when: float | None, timed_out: Callable[[], str]) -> None:
    """Wait until ``event`` is set; past ``when`` (anyio clock), raise ``TimeoutError``.

    The deadline is looked at before waiting: once it has passed, nothing more is waited for,
    on every backend alike (a race between the deadline and a call finishing in the same turn
    of the event loop would otherwise go one way on asyncio and the other on trio). It is a
    checkpoint either way. The error's message is ``timed_out()``.
    """
    if when is None:
        await event.wait()
        return
    left = when - anyio.current_time()
    if left <= 0 and not event.is_set():
        await anyio.lowlevel.checkpoint()
        raise TimeoutError(timed_out())
    try:
        with anyio.fail_after(left):
            await event.wait()
    except TimeoutError:
        raise TimeoutError(timed_out()) from None
