"""One task of a stage, ready to call with the previous value: unpacking, limit, thread."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

from ._stage import is_async_callable, task_name

__all__ = ["TaskCall"]


class TaskCall:
    """Calls one task function the way its stage says.

    ``async def`` tasks are awaited; plain functions run in a worker thread
    (``anyio.to_thread.run_sync``). With ``unpack``, a tuple or list value is passed as
    positional arguments and a dict as keyword arguments. With a limit, at most that many calls
    of this task run at once across the stage's workers.
    """

    __slots__ = ("fn", "is_async", "limiter", "name", "plain", "unpack")

    def __init__(self, fn: Callable[..., Any], unpack: bool, limit: int | None) -> None:
        self.fn = fn
        self.name = task_name(fn)
        self.is_async = is_async_callable(fn)
        self.unpack = unpack
        self.limiter = anyio.Semaphore(limit) if limit is not None else None
        #: The common case, which the worker calls inline as ``await fn(value)``.
        self.plain = self.is_async and not unpack and self.limiter is None

    async def __call__(self, value: Any) -> Any:
        if self.limiter is None:
            return await self._invoke(value)
        async with self.limiter:
            return await self._invoke(value)

    async def _invoke(self, value: Any) -> Any:
        args: tuple[Any, ...] = (value,)
        kwargs: dict[str, Any] = {}
        if self.unpack:
            if isinstance(value, dict):
                args, kwargs = (), value
            elif isinstance(value, (tuple, list)):
                args = tuple(value)
        if self.is_async:
            return await self.fn(*args, **kwargs)
        # Boxed: trio's to_thread refuses a function whose result is a coroutine ("Trio
        # expected a sync function"), and asyncio's does not; in a tuple it passes on both.
        (result,) = await anyio.to_thread.run_sync(_boxed, self.fn, args, kwargs)
        if inspect.isawaitable(result):  # a plain function that returned a coroutine
            result = await result
        return result


def _boxed(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any]:
    """In the worker thread: call ``fn``, its result in a 1-tuple."""
    return (fn(*args, **kwargs),)
