"""Call limits inside a task: a leaky-bucket rate limiter, a concurrency cap, and how a task
finds the ones of the stage or executor running it.

A stage (``Stage(call_rate=, call_rate_period=, call_concurrency=)``) or an executor
(``AsyncExecutor(call_rate=, ...)``) owns one :class:`CallLimits`, shared by all its workers;
each worker puts it in :data:`current_limits` once, when it starts, and
:mod:`antflow.context`'s ``rate_limit()`` and ``concurrency_limit()`` read it from there.

Only anyio is used, so both limiters behave the same on asyncio and on trio.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from typing import Protocol

import anyio

from ._validation import check_int, check_number, check_seconds

__all__ = [
    "CallLimits",
    "Clock",
    "ConcurrencyLimiter",
    "RateLimiter",
    "SystemClock",
    "call_limits",
    "current_limits",
]

# Float slack when comparing a bucket level with its capacity, relative to the capacity: the
# level is drained by multiplying elapsed time, and a waiter woken exactly on time must fit.
_SLACK = 1e-9


class Clock(Protocol):
    """Where a :class:`RateLimiter` reads the time and how it waits (injectable for tests)."""

    def now(self) -> float:
        """Seconds on a monotonic clock."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (a checkpoint; cancellable)."""


class SystemClock:
    """Real time: :func:`time.monotonic`, waited with :func:`anyio.sleep`.

    ``time.monotonic`` rather than ``anyio.current_time``: it is the same clock in every event
    loop (a limiter may be built outside one) and costs no backend lookup per call.
    """

    now = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class _EnterOnly:
    """An async context manager whose leaving does nothing: what counts is being admitted."""

    __slots__ = ()

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class RateLimiter(_EnterOnly):
    """A leaky bucket: at most ``rate`` entries per ``period`` seconds in the long run.

    Exact semantics. The bucket holds a level, 0 when new. An entry of ``amount`` (default 1)
    is admitted when ``level + amount <= capacity``, where ``capacity = max(rate, 1)``, and
    raises the level by ``amount``; the level drains continuously at ``rate / period`` per
    second. Hence:

    - a burst of up to ``capacity`` entries is admitted at once after an idle spell;
    - over any window of ``t`` seconds at most ``capacity + rate * t / period`` are admitted
      (so up to ``2 * rate`` in one period that starts with a full burst allowance);
    - under steady demand entries are admitted at ``rate / period`` per second.

    Waiters are served first in, first out: while anyone waits, a newcomer queues behind them
    even if its own amount would fit (so a large amount is never starved by small ones). Only
    the first in line sleeps, exactly until its amount fits; the others wait for their turn.

    Cancellation: a waiter cancelled at any point has taken nothing; if it was first in line,
    the next waiter becomes first at once. Entering without waiting is not a checkpoint (as
    anyio's ``acquire_nowait``); waiting is.

    Args:
        rate: Entries per ``period`` (a finite number > 0).
        period: Seconds (a finite number > 0).
        clock: Time source and sleep; :class:`SystemClock` by default.
        where: Who owns the limiter, for error messages (``"Stage 'Fetch'"``).
    """

    __slots__ = ("_capacity", "_clock", "_last", "_level", "_now", "_per_second", "_waiters")

    def __init__(
        self,
        rate: float,
        period: float = 60.0,
        *,
        clock: Clock | None = None,
        where: str = "",
    ) -> None:
        rate = check_number(rate, "call_rate", positive=True, unit="calls", where=where)
        period = check_seconds(period, "call_rate_period", positive=True, where=where)
        self._capacity = max(rate, 1.0)
        self._per_second = rate / period
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._now: Callable[[], float] = self._clock.now
        # Invariant: _level and _last are written only by _fits, acquire and __aenter__;
        # _waiters only by acquire and _leave.
        self._level = 0.0
        self._last = self._now()  # the time the level was last drained to
        self._waiters: deque[anyio.Event] = deque()  # each waiter's turn, first in line first

    @property
    def capacity(self) -> float:
        """The largest burst, and the largest ``amount`` one entry may take."""
        return self._capacity

    @property
    def waiting(self) -> int:
        """How many tasks wait to enter."""
        return len(self._waiters)

    def has_capacity(self, amount: float = 1) -> bool:
        """Whether an entry of ``amount`` would be admitted now, without waiting.

        False while other tasks wait (they go first), and for an amount above
        :attr:`capacity`. Takes nothing.
        """
        amount = _check_amount(amount)
        return not self._waiters and self._fits(amount)

    async def acquire(self, amount: float = 1) -> None:
        """Wait until an entry of ``amount`` is admitted (see the class for the exact rule).

        Raises:
            ValueError: ``amount`` is not a finite number > 0, or exceeds :attr:`capacity`
                (it could never be admitted).
        """
        amount = _check_amount(amount)
        if amount > self._capacity:
            raise ValueError(
                f"rate_limit(amount={amount!r}) can never be admitted: the bucket holds "
                f"{self._capacity!r} (call_rate); ask for at most that, or raise call_rate"
            )
        if not self._waiters and self._fits(amount):
            self._level += amount
            return
        turn = anyio.Event()  # set when this waiter becomes the first in line
        self._waiters.append(turn)
        try:
            if self._waiters[0] is not turn:
                await turn.wait()
            while not self._fits(amount):
                await self._clock.sleep((self._level + amount - self._capacity) / self._per_second)
            self._level += amount
        finally:
            self._leave(turn)

    async def __aenter__(self) -> None:
        # acquire(1) with its fast path (_fits) inlined: no second coroutine, no amount check,
        # no method call. Inlining _fits saved 2,250 of the 8,540 instructions that
        # rate_limit() added per item (callgrind, benchmarks/rate_limit.py overhead workload,
        # asyncio); most of the rest is the cost of any ``async with`` in Python.
        if not self._waiters:
            now = self._now()
            level = self._level - (now - self._last) * self._per_second
            self._last = now
            if level < 0.0:
                level = 0.0
            if level + 1.0 <= self._capacity:
                self._level = level + 1.0
                return
            self._level = level
        await self.acquire()

    def entry(self, amount: float) -> _Entry:
        """``async with limiter.entry(amount):`` is ``await limiter.acquire(amount)``."""
        return _Entry(self, amount)

    def _fits(self, amount: float) -> bool:
        """Drain the level to now; whether ``amount`` fits on top of it."""
        now = self._now()
        last = self._last
        self._last = now
        if now > last:
            self._level = max(0.0, self._level - (now - last) * self._per_second)
        return self._level + amount - self._capacity <= _SLACK * self._capacity

    def _leave(self, turn: anyio.Event) -> None:
        """Take a waiter out of line (admitted or cancelled); signal the next first in line."""
        waiters = self._waiters
        if waiters[0] is turn:
            waiters.popleft()
            if waiters:
                waiters[0].set()
        else:
            waiters.remove(turn)


class _Entry(_EnterOnly):
    """An entry of ``amount`` into a :class:`RateLimiter`."""

    __slots__ = ("amount", "limiter")

    def __init__(self, limiter: RateLimiter, amount: float) -> None:
        self.limiter = limiter
        self.amount = amount

    async def __aenter__(self) -> None:
        await self.limiter.acquire(self.amount)


class ConcurrencyLimiter:
    """At most ``limit`` tasks at once inside ``async with limiter:``; the others wait.

    Waiters are served first in, first out: a slot freed while anyone waits is handed to the
    first in line, never taken by a newcomer. A waiter cancelled before it got a slot takes
    nothing; one cancelled just after a slot was handed to it hands the slot on. Entering a
    free slot is not a checkpoint (like anyio's ``Semaphore(fast_acquire=True)``, without
    its cancellation check: the block's first await raises a pending cancellation).

    Not anyio's ``Semaphore``: its cancellation check on entry made ``concurrency_limit()``
    cost 18,400 instructions per item on asyncio against 5,000 for this one (callgrind,
    ``benchmarks/rate_limit.py`` overhead workload).

    Args:
        limit: How many at once (an int >= 1).
    """

    __slots__ = ("_free", "_waiters", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = check_int(limit, "call_concurrency")
        # Invariant: _free and _waiters are written only by __aenter__ and _release.
        self._free = limit
        self._waiters: deque[anyio.Event] = deque()

    @property
    def in_use(self) -> int:
        """How many slots are taken."""
        return self.limit - self._free

    @property
    def waiting(self) -> int:
        """How many tasks wait for a slot."""
        return len(self._waiters)

    async def __aenter__(self) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        handed = anyio.Event()  # set when a slot is handed to this waiter
        self._waiters.append(handed)
        try:
            await handed.wait()
        except BaseException:
            if handed.is_set():
                self._release()  # handed a slot it will not use: on to the next
            else:
                self._waiters.remove(handed)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()  # the slot goes straight to the first in line
        else:
            self._free += 1


def _check_amount(amount: float) -> float:
    if not isinstance(amount, (int, float)) or isinstance(amount, bool):
        raise TypeError(f"amount must be a finite number > 0, got {amount!r}")
    if not math.isfinite(amount) or amount <= 0:
        raise ValueError(f"amount must be a finite number > 0, got {amount!r}")
    return amount


class CallLimits:
    """The limits of one stage or executor, shared by all its workers.

    Attributes:
        where: Who owns them, for error messages: ``"Stage 'Fetch'"`` or ``"AsyncExecutor"``.
        owner: The class the limit fields are set on, for the fix in error messages
            (``"Stage"`` or ``"AsyncExecutor"``).
        rate: The rate limiter, or ``None`` without ``call_rate``.
        concurrency: The limiter behind ``concurrency_limit()``, or ``None`` without
            ``call_concurrency``.
    """

    __slots__ = ("concurrency", "owner", "rate", "where")

    def __init__(
        self,
        where: str,
        owner: str,
        rate: RateLimiter | None,
        concurrency: ConcurrencyLimiter | None,
    ) -> None:
        self.where = where
        self.owner = owner
        self.rate = rate
        self.concurrency = concurrency


def check_call_limits(
    where: str,
    call_rate: object,
    call_rate_period: object,
    call_concurrency: object,
    *,
    error: type[Exception] = ValueError,
    type_error: type[Exception] | None = None,
) -> None:
    """Check the three limit fields of a stage or an executor, raising ``error`` naming the
    field (``type_error`` for a value of the wrong type)."""
    if call_concurrency is not None:
        check_int(
            call_concurrency,
            "call_concurrency",
            where=where,
            hint="None means no limit",
            error=error,
            type_error=type_error,
        )
    check_seconds(
        call_rate_period,
        "call_rate_period",
        positive=True,
        where=where,
        error=error,
        type_error=type_error,
    )
    if call_rate is not None:
        check_number(
            call_rate,
            "call_rate",
            positive=True,
            unit="calls per call_rate_period",
            where=where,
            hint="None means no limit",
            error=error,
            type_error=type_error,
        )


def call_limits(
    where: str,
    owner: str,
    call_rate: float | None,
    call_rate_period: float,
    call_concurrency: int | None,
    *,
    error: type[Exception] = ValueError,
    type_error: type[Exception] | None = None,
) -> CallLimits:
    """Check the three limit fields (see :func:`check_call_limits`) and build the limits."""
    check_call_limits(
        where, call_rate, call_rate_period, call_concurrency, error=error, type_error=type_error
    )
    rate = None
    if call_rate is not None:
        rate = RateLimiter(call_rate, float(call_rate_period), where=where)
    concurrency = None if call_concurrency is None else ConcurrencyLimiter(call_concurrency)
    return CallLimits(where, owner, rate, concurrency)


#: The limits of the stage or executor whose worker runs the current task: set once per worker.
current_limits: ContextVar[CallLimits | None] = ContextVar("antflow_current_limits", default=None)
