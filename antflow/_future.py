"""AsyncFuture: the handle to one piece of work submitted to an AsyncExecutor."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import anyio.lowlevel

from .exceptions import FutureCancelledError

if TYPE_CHECKING:
    from ._executor import _SubmitOptions

__all__ = ["AsyncFuture"]

T = TypeVar("T")

logger = logging.getLogger("antflow")

# The four states, compared by identity on the hot path.
_PENDING = "pending"
_RUNNING = "running"
_FINISHED = "finished"
_CANCELLED = "cancelled"


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
        options: _SubmitOptions | None,
    ) -> None:
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._options = options
        self._state = _PENDING
        self._result: T | None = None
        self._exception: BaseException | None = None
        self._waiters: list[anyio.Event] | None = None
        self._callbacks: list[Callable[[AsyncFuture[T]], object]] | None = None
        self._cancel_scope: anyio.CancelScope | None = None

    def __repr__(self) -> str:
        name = getattr(self._fn, "__qualname__", None) or repr(self._fn)
        if self._state is _FINISHED and self._exception is not None:
            outcome = f" raised {type(self._exception).__name__}"
        else:
            outcome = ""
        return f"<AsyncFuture {name} {self._state}{outcome}>"

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
        deadline = _deadline(timeout)
        if self.done():
            await anyio.lowlevel.checkpoint()
        else:
            await self._wait(deadline)
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

    # -- used by the executor ----------------------------------------------------------------

    def _set_result(self, value: T) -> None:
        if self._state is _RUNNING:  # not cancelled meanwhile
            self._state = _FINISHED
            self._result = value
            self._cancel_scope = None
            if self._waiters is not None or self._callbacks is not None:
                self._wake()

    def _set_exception(self, exc: BaseException) -> None:
        if self._state is _RUNNING:  # not cancelled meanwhile
            self._state = _FINISHED
            self._exception = exc
            self._cancel_scope = None
            if self._waiters is not None or self._callbacks is not None:
                self._wake()

    def _outcome(self) -> T:
        """Return the value or raise the exception of a done future."""
        if self._state is _CANCELLED:
            raise FutureCancelledError(f"{self!r} was cancelled")
        if self._exception is not None:
            raise self._exception
        return self._result  # type: ignore[return-value]

    async def _wait(self, deadline: float | None) -> None:
        """Wait until done; raise TimeoutError once ``deadline`` (anyio clock) has passed."""
        event = anyio.Event()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(event)
        try:
            if deadline is None:
                await event.wait()
            else:
                with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                    await event.wait()
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


def _deadline(timeout: float | None) -> float | None:
    """Turn a relative timeout into an absolute deadline on anyio's clock."""
    if timeout is None:
        return None
    if not (isinstance(timeout, (int, float)) and not math.isnan(timeout)):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    return anyio.current_time() + timeout
