"""Backend-specific: start a task that has no owner, for manual (non-``async with``) executor use;
and :func:`install_fast_loop`, which sets asyncio's event loop policy.

This is the one place in antflow that reaches past anyio to the backends, and the reason is
structural: ``executor = AsyncExecutor(); executor.submit(...)`` (the manual use the seed documents)
happens outside any ``async with``, so no anyio task group is there to own the workers. asyncio
can start a task from plain code (``loop.create_task``); trio can only through a *system task*
(``trio.lowlevel.spawn_system_task``), which the run cancels when the main task returns. Any other
backend gets a clear error that points to ``async with``.

The started coroutine must not raise except by cancellation: the executor's serve loop captures
every task failure in its future.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

import sniffio

__all__ = ["install_fast_loop", "start_unowned"]

# asyncio only keeps weak references to tasks: hold them until they finish.
_ASYNCIO_TASKS: set[Any] = set()


def start_unowned(fn: Callable[[], Awaitable[None]], *, what: str) -> None:
    """Start ``fn()`` in the background of the running event loop.

    Args:
        fn: The coroutine function to start.
        what: The user-facing call that needs it, named in error messages.

    Raises:
        RuntimeError: not inside a running event loop, or on a backend other than asyncio/trio.
    """
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        raise RuntimeError(
            f"{what} must be called from inside a running asyncio or trio event loop"
        ) from None
    if library == "asyncio":
        import asyncio  # backend-specific: see the module docstring

        task = asyncio.get_running_loop().create_task(_as_coroutine(fn))
        _ASYNCIO_TASKS.add(task)
        task.add_done_callback(_ASYNCIO_TASKS.discard)
    elif library == "trio":
        import trio  # backend-specific: see the module docstring

        trio.lowlevel.spawn_system_task(fn, name=what)
    else:
        raise RuntimeError(
            f"{what} outside `async with` is not supported on {library!r}; "
            "use `async with AsyncExecutor(...) as executor:` instead"
        )


async def _as_coroutine(fn: Callable[[], Awaitable[None]]) -> None:
    await fn()


def install_fast_loop() -> bool:
    """Make asyncio use the fastest event loop installed: uvloop on Linux and macOS, winloop on
    Windows (antflow 0.10's function).

    It sets asyncio's event loop *policy*, so it acts on the loops created after it: call it
    before ``asyncio.run(...)`` or ``anyio.run(...)``. (With anyio, ``anyio.run(main,
    backend_options={"use_uvloop": True})`` does the same for one run.) It changes nothing for
    trio, which has its own event loop: a program run on trio works as before, and calling it
    there is harmless. If the package is not installed, or cannot be used, it does nothing and
    raises nothing.

    Returns:
        True if the fast loop's policy was installed, False if nothing changed (0.10 returned
        ``None``; code that ignores the result is unaffected).
    """
    name = "winloop" if sys.platform in ("win32", "cygwin", "cli") else "uvloop"
    try:
        fast_loop = import_module(name)
        import asyncio  # backend-specific: see the module docstring

        with warnings.catch_warnings():
            # Python 3.14 deprecates event loop policies; until they are removed this is still
            # how a loop is chosen for asyncio.run(), which is what 0.10's callers rely on.
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(fast_loop.EventLoopPolicy())
    except Exception:  # missing, unusable on this platform, or policies removed from asyncio
        return False
    return True
