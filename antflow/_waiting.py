"""Waiting on several futures: completion order (as_completed) and wait strategies (wait)."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeVar

import anyio
import anyio.lowlevel

from ._fairness import CHECKPOINT_EVERY
from ._future import AsyncFuture, deadline, wait_for

__all__ = ["WaitStrategy", "as_completed", "wait"]

T = TypeVar("T")


class WaitStrategy(str, enum.Enum):
    """When :meth:`AsyncExecutor.wait` returns (the names of ``concurrent.futures``)."""

    #: Return when every future is done.
    ALL_COMPLETED = "ALL_COMPLETED"
    #: Return when at least one future is done.
    FIRST_COMPLETED = "FIRST_COMPLETED"
    #: Return when a future finishes by raising; if none raises, like ALL_COMPLETED.
    #: A cancelled future does not count as raising.
    FIRST_EXCEPTION = "FIRST_EXCEPTION"


def as_completed(
    futures: Iterable[AsyncFuture[T]], timeout: float | None = None
) -> AsyncIterator[AsyncFuture[T]]:
    """Yield the given futures as they become done (duplicates once each).

    Futures already done come first, in the order given. The timeout counts from this call;
    once it has passed with futures still pending, the iteration raises ``TimeoutError`` (the
    pending futures go on running). Handing out futures already done, it checkpoints at least
    once every :data:`~antflow._fairness.CHECKPOINT_EVERY` of them.
    """
    unique = list(dict.fromkeys(futures))
    return _as_completed(unique, deadline(timeout), timeout)


def _still_pending(futures: list[AsyncFuture[Any]], timeout: float | None) -> str:
    pending = sum(1 for f in futures if not f.done())
    return (
        f"as_completed: {pending} of {len(futures)} futures still pending after "
        f"timeout={timeout} s (they go on running)"
    )


async def _as_completed(
    futures: list[AsyncFuture[T]], when: float | None, timeout: float | None
) -> AsyncIterator[AsyncFuture[T]]:
    ready: deque[AsyncFuture[T]] = deque(f for f in futures if f.done())
    pending = [f for f in futures if not f.done()]
    wakeup: anyio.Event | None = None

    def on_done(future: AsyncFuture[T]) -> None:
        ready.append(future)
        if wakeup is not None:
            wakeup.set()

    for future in pending:
        future.add_done_callback(on_done)
    countdown = CHECKPOINT_EVERY  # futures left to hand out before a checkpoint is due
    try:
        for _ in range(len(futures)):
            if not ready:
                wakeup = anyio.Event()
                await wait_for(wakeup, when, lambda: _still_pending(futures, timeout))
                wakeup = None
                countdown = CHECKPOINT_EVERY
            else:
                countdown -= 1
                if not countdown:
                    countdown = CHECKPOINT_EVERY
                    await anyio.lowlevel.checkpoint()
            yield ready.popleft()
    finally:
        for future in pending:
            future.remove_done_callback(on_done)


async def wait(
    futures: Iterable[AsyncFuture[Any]],
    timeout: float | None = None,
    return_when: WaitStrategy | str = WaitStrategy.ALL_COMPLETED,
) -> tuple[set[AsyncFuture[Any]], set[AsyncFuture[Any]]]:
    """Wait for the futures as ``return_when`` says; return ``(done, pending)``.

    On timeout it returns what is done so far; it never raises ``TimeoutError``. It is always a
    checkpoint, even when the condition already holds.
    """
    strategy = _strategy(return_when)
    when = deadline(timeout)
    all_futures = set(futures)
    await anyio.lowlevel.checkpoint()
    pending = [f for f in all_futures if not f.done()]
    done_count = len(all_futures) - len(pending)
    raised = any(_raised(f) for f in all_futures)
    wakeup: anyio.Event | None = None

    def satisfied() -> bool:
        if done_count == len(all_futures):
            return True
        if strategy is WaitStrategy.FIRST_COMPLETED:
            return done_count > 0
        return strategy is WaitStrategy.FIRST_EXCEPTION and raised

    def on_done(future: AsyncFuture[Any]) -> None:
        nonlocal done_count, raised
        done_count += 1
        raised = raised or _raised(future)
        if wakeup is not None and satisfied():
            wakeup.set()

    if not satisfied():
        wakeup = anyio.Event()
        for future in pending:
            future.add_done_callback(on_done)
        try:
            timeout_left = None if when is None else max(0.0, when - anyio.current_time())
            with anyio.move_on_after(timeout_left):
                await wakeup.wait()
        finally:
            for future in pending:
                future.remove_done_callback(on_done)
    done = {f for f in all_futures if f.done()}
    return done, all_futures - done


def _raised(future: AsyncFuture[Any]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is not None


def _strategy(value: WaitStrategy | str) -> WaitStrategy:
    try:
        return WaitStrategy(value)
    except ValueError:
        names = ", ".join(f"WaitStrategy.{s.name}" for s in WaitStrategy)
        raise ValueError(f"return_when must be one of {names}; got {value!r}") from None
