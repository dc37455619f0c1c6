"""What a task can reach of the worker running it: its state, its status text, and the call
limits of its stage or executor.

Use these inside a pipeline task (or a call submitted to an :class:`~antflow.AsyncExecutor`)::

    from antflow.context import concurrency_limit, rate_limit

    async def fetch(item):
        payload = prepare(item)               # not limited
        async with rate_limit():              # the stage's call_rate
            async with concurrency_limit():   # the stage's call_concurrency
                response = await client.post(payload)
        return parse(response)                # not limited

The limits are shared by every worker of the stage (or executor), and hold only around the
block: the rest of the task runs unlimited. The exact semantics are in ``docs/limits.md``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from ._limits import CallLimits, ConcurrencyLimiter, current_limits
from ._stage_worker import StageWorker
from ._stats import WorkerState
from ._worker_state import current_worker, set_task_status

__all__ = [
    "call_rate_has_capacity",
    "concurrency_limit",
    "get_worker_state",
    "rate_limit",
    "set_task_status",
]


def get_worker_state() -> WorkerState | None:
    """What the stage worker running this task is doing (a snapshot), or ``None`` outside a
    pipeline task (in an executor call, or outside antflow)."""
    worker = current_worker.get()
    if isinstance(worker, StageWorker):
        return worker.state()
    return None


def rate_limit(amount: float = 1) -> AbstractAsyncContextManager[None]:
    """``async with rate_limit():`` enters when the stage's (or executor's) ``call_rate``
    allows, waiting as long as needed; nothing is dropped.

    The limiter is a leaky bucket shared by the stage's workers: bursts of up to ``call_rate``
    entries, ``call_rate / call_rate_period`` per second in the long run, waiters served first
    in, first out. Each entry counts when it is admitted (leaving the block gives nothing
    back). A task cancelled while waiting takes nothing. Entering without waiting is not a
    checkpoint.

    Args:
        amount: What the entry costs (default 1 call; at most ``call_rate``).

    Raises:
        RuntimeError: no ``call_rate`` is configured on the stage or executor running the task
            (or the task runs outside both); the message names the field to set.
        ValueError: ``amount`` is not > 0, or exceeds ``call_rate``.
    """
    limits = current_limits.get()
    if limits is not None and limits.rate is not None:
        return limits.rate if amount == 1 else limits.rate.entry(amount)
    raise _missing(limits, "rate_limit()", "call_rate", "call_rate=N, call_rate_period=seconds")


def concurrency_limit() -> ConcurrencyLimiter:
    """``async with concurrency_limit():`` holds one of the stage's (or executor's)
    ``call_concurrency`` slots for the block, waiting for a free one if need be.

    Slots are shared by the stage's workers and handed to waiters first in, first out. A task
    cancelled while waiting takes no slot. Entering a free slot is not a checkpoint.

    Raises:
        RuntimeError: no ``call_concurrency`` is configured on the stage or executor running
            the task (or the task runs outside both); the message names the field to set.
    """
    limits = current_limits.get()
    if limits is not None and limits.concurrency is not None:
        return limits.concurrency
    raise _missing(limits, "concurrency_limit()", "call_concurrency", "call_concurrency=N")


def call_rate_has_capacity(amount: float = 1) -> bool:
    """Whether ``rate_limit()`` would admit an entry of ``amount`` now, without waiting.

    Takes nothing. ``False`` while other tasks wait to enter (they go first) and when
    ``amount`` exceeds ``call_rate``; ``True`` when no ``call_rate`` is configured (no limit:
    always free), as in antflow 0.10.
    """
    limits = current_limits.get()
    if limits is None or limits.rate is None:
        return True
    return limits.rate.has_capacity(amount)


def _missing(limits: CallLimits | None, call: str, field: str, setting: str) -> RuntimeError:
    """The error for ``call`` when no ``field`` applies: it names the field and where to set it."""
    if limits is None:
        return RuntimeError(
            f"{call} was called outside a pipeline task and outside an AsyncExecutor call, so "
            f"there is no {field} to apply; call it from a task of a Stage with {setting}, or "
            f"from a call submitted to AsyncExecutor({setting})"
        )
    return RuntimeError(
        f"{call} was called but {limits.where} has no {field} configured; "
        f"set {limits.owner}(..., {setting}) to use {call}"
    )
