"""Retries: the one place antflow (and flowkit) retry a failing call, through stamina.

A :class:`RetryPolicy` says how many attempts a call gets and how long to wait between them. The
waits are stamina's exponential backoff with jitter: before attempt ``n + 1`` the wait is
``wait_initial * wait_exp_base ** (n - 1)`` plus a random jitter of up to ``wait_initial / 2``,
each wait capped at one day. Only :class:`Exception` is retried: cancellation, ``KeyboardInterrupt``
and ``SystemExit`` go through at once. After the last attempt the call's own exception propagates,
unwrapped.

Because the waits go through stamina, stamina's switches apply: ``stamina.set_testing(True, ...)``
removes the waits in a test suite, and ``stamina.set_active(False)`` turns retrying off globally.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import stamina

__all__ = ["RetryPolicy"]

T = TypeVar("T")

#: The longest single wait between two attempts, whatever the backoff computes.
_MAX_WAIT_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to call, and how long to wait between calls.

    Args:
        attempts: Total number of calls, the first one included (``1`` means no retry).
        wait_initial: Seconds to wait before the second call; later waits grow exponentially.
        wait_exp_base: Factor by which each wait grows over the previous one.
    """

    attempts: int = 1
    wait_initial: float = 1.0
    wait_exp_base: float = 2.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"attempts must be an int, got {self.attempts!r}")
        if self.attempts < 1:
            raise ValueError(
                f"attempts must be at least 1 (one call, no retry), got {self.attempts}"
            )
        if not _is_finite_non_negative(self.wait_initial):
            raise ValueError(
                f"wait_initial must be a finite number of seconds >= 0, got {self.wait_initial!r}"
            )
        if not _is_finite_non_negative(self.wait_exp_base) or self.wait_exp_base < 1:
            raise ValueError(
                f"wait_exp_base must be a finite number >= 1, got {self.wait_exp_base!r}"
            )

    @property
    def retries(self) -> int:
        """Number of calls after the first one."""
        return self.attempts - 1

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` until it returns, retrying on :class:`Exception` as the policy says.

        ``fn`` is called afresh for every attempt. The exception of the last attempt propagates
        unchanged. Cancellation during a call or a wait stops at once, without another attempt.
        """
        if self.attempts == 1:
            return await fn()
        async for attempt in stamina.retry_context(
            on=Exception,
            attempts=self.attempts,
            timeout=None,
            wait_initial=self.wait_initial,
            wait_max=_MAX_WAIT_SECONDS,
            wait_jitter=self.wait_initial / 2,
            wait_exp_base=self.wait_exp_base,
        ):
            with attempt:
                return await fn()
        raise AssertionError("unreachable: stamina re-raises the last attempt's exception")


def _is_finite_non_negative(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
