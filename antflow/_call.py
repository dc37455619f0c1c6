"""One call submitted to an AsyncExecutor: its options, how it is awaited, and its argument checks.

Both the future (which holds a call's options) and the executor (which checks and runs them)
import this module; it imports neither, so the dependency arrows run one way:
``_executor -> _waiting -> _future -> _call``.
"""

from __future__ import annotations

import inspect
import reprlib
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ._retry import RetryOn, RetryPolicy, check_retry_on
from ._stage import task_name
from ._validation import (
    CallShape,
    async_generator_hint,
    call_shape,
    check_int,
    is_async_generator_function,
    is_int,
    is_number,
    unwrap_partial,
)

__all__ = ["SubmitOptions", "await_call", "check_fn", "explain_not_awaitable", "submit_options"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SubmitOptions:
    """What a call needs beyond ``fn(*args, **kwargs)``: retries and a shared limiter."""

    policy: RetryPolicy
    semaphore: Any  # any async context manager

    async def run(
        self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: Any
    ) -> Any:
        """Await ``fn(*args, **kwargs)`` under the retry policy; each attempt holds the limiter."""
        semaphore = self.semaphore

        async def attempt() -> Any:
            if semaphore is None:
                return await await_call(fn, args, kwargs)
            async with semaphore:
                return await await_call(fn, args, kwargs)

        def label() -> str:
            return f"AsyncExecutor call {_call_text(fn, args, kwargs)}"

        return await self.policy.call(attempt, label=label)


def _call_text(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> str:
    """``fetch('https://…', timeout=3)``: the call, its arguments shortened."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = 40
    parts = [short.repr(arg) for arg in args]
    parts += [f"{key}={short.repr(value)}" for key, value in dict(kwargs).items()]
    name = getattr(fn, "__qualname__", None) or task_name(fn)
    return f"{name}({', '.join(parts)})"


def submit_options(
    retries: int, retry_delay: float, semaphore: Any, retry_on: RetryOn = Exception
) -> SubmitOptions | None:
    """Check the options of submit() and map(); None when there are none (the fast path)."""
    # Called on every submit(): the predicates first, the full check only to raise its error.
    if not (is_int(retries) and retries >= 0):
        check_int(retries, "retries", minimum=0, hint="extra calls after a failed one")
    # Not check_seconds: its "a finite number of seconds" would change the phrase users match.
    if not (is_number(retry_delay) and retry_delay >= 0):
        raise ValueError(f"retry_delay must be a number of seconds >= 0, got {retry_delay!r}")
    if semaphore is not None and not (
        hasattr(semaphore, "__aenter__") and hasattr(semaphore, "__aexit__")
    ):
        raise TypeError(
            "semaphore must be an async context manager (such as anyio.Semaphore, "
            f"anyio.CapacityLimiter or asyncio.Semaphore), got {semaphore!r}"
        )
    if retry_on is not Exception:
        retry_on = check_retry_on(retry_on)
    if retries == 0 and semaphore is None:
        return None
    return SubmitOptions(
        RetryPolicy(attempts=retries + 1, wait_initial=retry_delay, retry_on=retry_on), semaphore
    )


#: ``async def`` functions that passed :func:`check_fn`, by code object: their shape, so that
#: checking the next submit() of the same function costs a dict lookup and a few comparisons.
_CHECKED: dict[types.CodeType, CallShape | None] = {}


def check_fn(fn: object, what: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise TypeError at once unless ``fn`` (the first argument of ``what``) can be called as
    ``await fn(*args, **kwargs)``.

    Refused: what is not callable; an async generator function; a plain (``def``) function,
    which returns no awaitable; a function whose signature cannot take ``args`` and
    ``kwargs``. A lambda, a callable object or a decorated function is accepted whatever its
    kind (it may return an awaitable), and a signature that cannot be read is not checked.
    """
    if type(fn) is types.FunctionType:
        shape = _CHECKED.get(fn.__code__, _UNSEEN)
        if shape is None or (shape is not _UNSEEN and shape.refuses(args, kwargs) is None):
            return
    _check_fn(fn, what, args, kwargs)


_UNSEEN: Any = object()


def _check_fn(fn: Any, what: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if not callable(fn):
        raise TypeError(f"{what} needs a coroutine function as its first argument, got {fn!r}")
    name = task_name(fn)
    if is_async_generator_function(fn):
        raise TypeError(f"{what}: {async_generator_hint(name)}")
    if _is_sync_function(fn):
        raise TypeError(
            f"{what} needs an async function (`async def`), got the plain function {name}: "
            f"make it `async def {name}(...)`, or to run blocking code, call "
            f"`await anyio.to_thread.run_sync({name}, ...)` inside an `async def`"
        )
    shape = call_shape(fn)
    if shape is not None and (reason := shape.refuses(args, kwargs)) is not None:
        raise TypeError(f"{what}: {name} cannot be called with the arguments given ({reason})")
    if (
        isinstance(fn, types.FunctionType)
        and not {"__signature__", "__wrapped__"} & fn.__dict__.keys()
    ):
        _CHECKED[fn.__code__] = shape


def _is_sync_function(fn: Callable[..., Any]) -> bool:
    """A ``def`` function or method (a partial of one included) that surely returns no
    awaitable: not a coroutine function, not a lambda (``lambda: fetch(x)`` returns one), not
    a decorated function (``__wrapped__``: its wrapper may return one)."""
    func = unwrap_partial(fn)
    if isinstance(func, types.MethodType):
        func = func.__func__
    if not isinstance(func, types.FunctionType):
        return False
    return (
        not inspect.iscoroutinefunction(func)
        and func.__name__ != "<lambda>"
        and not hasattr(func, "__wrapped__")
        and not (func.__code__.co_flags & inspect.CO_ITERABLE_COROUTINE)
    )


async def await_call(fn: Callable[..., Awaitable[T]], args: tuple[Any, ...], kwargs: Any) -> T:
    """``await fn(*args, **kwargs)``, explaining a result that is not awaitable."""
    awaitable = fn(*args, **kwargs)
    try:
        return await awaitable
    except TypeError as exc:
        raise explain_not_awaitable(exc, fn, awaitable) from None


def explain_not_awaitable(exc: Exception, fn: object, awaitable: object) -> Exception:
    """Replace the bare "can't be used in 'await' expression" TypeError by one that says why.

    ``awaitable`` is what ``fn`` returned (None if the call itself raised): any other exception,
    or a TypeError raised while awaiting a real awaitable, is returned unchanged.
    """
    if awaitable is None or not isinstance(exc, TypeError) or _is_awaitable(awaitable):
        return exc
    name = getattr(fn, "__qualname__", None) or repr(fn)
    return TypeError(
        f"{name} returned {type(awaitable).__name__}, not an awaitable: "
        "AsyncExecutor runs coroutine functions (`async def`); run blocking code with "
        "`await anyio.to_thread.run_sync(...)` inside one"
    )


def _is_awaitable(obj: object) -> bool:
    return hasattr(type(obj), "__await__")
