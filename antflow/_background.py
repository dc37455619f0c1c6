"""Backend-specific: start a task that has no owner, for manual (non-``async with``) executor use.

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

from collections.abc import Awaitable, Callable
from typing import Any

import sniffio

__all__ = ["start_unowned"]

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
