"""Retries: the one attempt loop of antflow (and flowkit), through stamina.

A :class:`RetryPolicy` says how many attempts a call gets and how long to wait between them, and
:meth:`RetryPolicy.call` is the loop that makes them: the pipeline's per-task and per-stage
retries, the executor's ``retries=`` and flowkit's ``@task(retries=)`` all go through it.

The waits are stamina's exponential backoff with jitter: before attempt ``n + 1`` the wait is
``wait_initial * wait_exp_base ** (n - 1)`` plus a random jitter of up to ``wait_initial / 2``,
each wait capped at one day. Only :class:`Exception` is retried: cancellation, ``KeyboardInterrupt``
and ``SystemExit`` go through at once. After the last attempt the call's own exception propagates,
unwrapped.

Because the waits go through stamina, stamina's switches apply: ``stamina.set_testing(True, ...)``
removes the waits in a test suite, and ``stamina.set_active(False)`` turns retrying off globally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import stamina

from ._validation import check_int, check_seconds, is_number

__all__ = ["OnRetry", "RetryPolicy"]

T = TypeVar("T")

#: The longest single wait between two attempts, whatever the backoff computes.
_MAX_WAIT_SECONDS = 86_400.0

#: ``on_retry(failed_attempt, error, wait)``: an attempt failed and another follows after about
#: ``wait`` seconds (stamina's backoff without its jitter: a lower bound).
OnRetry = Callable[[int, Exception, float], Awaitable[None]]


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
        check_int(self.attempts, "attempts", hint="one call, no retry", type_error=TypeError)
        check_seconds(self.wait_initial, "wait_initial")
        if not is_number(self.wait_exp_base) or self.wait_exp_base < 1:
            raise ValueError(
                f"wait_exp_base must be a finite number >= 1, got {self.wait_exp_base!r}"
            )

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        on_retry: OnRetry | None = None,
        first_failure: Exception | None = None,
    ) -> T:
        """Await ``fn()`` until it returns, retrying on :class:`Exception` as the policy says.

        ``fn`` is called afresh for every attempt. Before each wait, ``on_retry`` (if given) is
        awaited with the number of the attempt that failed, its exception and the wait. The
        exception of the last attempt propagates unchanged. Cancellation during a call or a
        wait stops at once, without another attempt.

        ``first_failure`` says that the caller already made attempt 1 itself (its own fast
        path) and that it raised this: the loop goes on from there, as if it had made it.
        """
        first = first_failure
        if first is None:
            # Most calls succeed at once, and entering stamina's retry context costs more than
            # a no-op call: the first attempt is a plain call; stamina takes over on a failure.
            try:
                return await fn()
            except Exception as exc:
                first = exc
        if self.attempts == 1 or not stamina.is_active():
            raise first
        replay: list[Exception] = [first]  # attempt 1, made above: stamina sees its failure
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
                if replay:
                    error = replay.pop()
                else:
                    try:
                        return await fn()
                    except Exception as exc:
                        error = exc
                if on_retry is not None and attempt.num < self.attempts:
                    await on_retry(attempt.num, error, attempt.next_wait)
                raise error
        raise AssertionError("unreachable: stamina re-raises the last attempt's exception")
