"""A workflow's run on a thread of its own, for ``run()`` called inside a running event loop.

A Jupyter cell, or any ``async def`` code, already runs an event loop in its thread, and a
second one cannot start there. ``run()`` then starts the run on a new thread with its own event
loop and blocks the caller until it ends; the caller's loop is blocked meanwhile, as a sync call
blocks it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel
import sniffio

__all__ = ["loop_running_here", "run_on_new_thread"]

T = TypeVar("T")

#: How often the caller wakes while it waits, to let a pending signal (Ctrl-C) through: a
#: blocked ``Event.wait`` is interrupted by ``KeyboardInterrupt`` on POSIX already, not on
#: every platform.
_POLL_SECONDS = 0.1


def loop_running_here() -> str | None:
    """The library of the event loop running in this thread (``"asyncio"``, ``"trio"``), or
    ``None`` when there is none."""
    try:
        anyio.lowlevel.current_token()
    except anyio.NoEventLoopError:
        return None
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:  # pragma: no cover - anyio found one above
        return "asyncio"


class _Run(Generic[T]):
    """The run's outcome and the handle to cancel it, shared by the caller and the thread."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.started = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.scope: anyio.CancelScope | None = None
        self.token: anyio.lowlevel.EventLoopToken | None = None

    async def main(self, fn: Callable[[], Awaitable[T]]) -> None:
        with anyio.CancelScope() as scope:
            self.scope, self.token = scope, anyio.lowlevel.current_token()
            self.started.set()
            self.result = await fn()

    def cancel(self) -> None:
        """Cancel the run from the caller's thread (a no-op once it has ended)."""
        self.started.wait()
        if self.done.is_set() or self.scope is None or self.token is None:
            return
        # Backend-specific, and on purpose: anyio.from_thread refuses a caller thread that
        # runs an event loop of its own, which is the very case here (a Jupyter cell). Both
        # native tokens have a thread-safe "call this soon in the loop": asyncio's loop
        # (call_soon_threadsafe) and trio's TrioToken (run_sync_soon).
        native: Any = self.token.native_token
        schedule = getattr(native, "call_soon_threadsafe", None) or native.run_sync_soon
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the run is over
            schedule(self.scope.cancel)


def run_on_new_thread(
    fn: Callable[[], Awaitable[T]],
    backend: str,
    backend_options: dict[str, Any] | None,
    thread_name: str,
) -> T:
    """Run ``fn()`` with ``anyio.run`` on a new thread and return its result (or raise its
    exception) in the caller's thread.

    The caller waits on a :class:`threading.Event`. A ``KeyboardInterrupt`` (or any exception)
    raised in the caller while it waits cancels the run; the caller then waits for the thread
    to end (its running sync calls finish, as on any cancellation; a second Ctrl-C stops that
    wait) and re-raises the interrupt. The thread never outlives a call that returned.
    """
    run: _Run[T] = _Run()

    def target() -> None:
        try:
            anyio.run(run.main, fn, backend=backend, backend_options=backend_options)
        except BaseException as exc:
            run.error = exc
        finally:
            run.started.set()  # also when anyio.run failed before main started
            run.done.set()

    thread = threading.Thread(target=target, name=thread_name, daemon=True)
    try:
        thread.start()
        while not run.done.wait(_POLL_SECONDS):
            pass
    except BaseException:
        if thread.ident is not None:  # it started
            run.cancel()
            while thread.is_alive():
                thread.join(_POLL_SECONDS)
        raise
    thread.join()
    if run.error is not None:
        raise run.error
    return run.result  # type: ignore[return-value]  # set: main() returned
