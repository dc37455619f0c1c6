"""Retries: the one attempt loop of antflow (and flowkit), with stamina's backoff and switches.

A :class:`RetryPolicy` says how many attempts a call gets, which errors are worth another one,
and how long to wait between them; :meth:`RetryPolicy.call` is the loop that makes them: the
pipeline's per-task and per-stage retries, the executor's ``retries=`` and flowkit's
``@task(retries=)`` all go through it.

Counting: ``attempts`` is the total number of calls, the first one included (``1``: no retry).
Where a public parameter is called ``retries`` it counts the extra calls after the first one:
``retries=n`` is ``attempts=n + 1``.

The waits are stamina's exponential backoff with jitter: before attempt ``n + 1`` the wait is
``wait_initial * wait_exp_base ** (n - 1)`` plus a random jitter of up to ``wait_initial / 2``,
each wait capped at one day. Only errors matching ``retry_on`` (default: any
:class:`Exception`) are retried; any other exception propagates at once, after attempt 1 as
after attempt 3. Cancellation, ``KeyboardInterrupt`` and ``SystemExit`` always go through at
once. After the last attempt the call's own exception propagates, unwrapped.

stamina's switches apply: ``stamina.set_testing(True, ...)`` removes the waits (and sets the
number of attempts as it says), and ``stamina.set_active(False)`` turns retrying off.

Each retry is reported once, before its wait: to the caller's ``on_retry`` (which tells the
run's observers an ``ITEM_RETRYING`` event) and as ONE ``INFO`` record on the ``"antflow.retry"``
logger that says what is retried (the caller's ``label``), which attempt comes next out of how
many, after what error, and the wait. The loop does not go through stamina's instrumented
retry path, so stamina's own instrumentation (its ``stamina.retry_scheduled`` log line, its
Prometheus counter) sees none of these retries; the application's own uses of stamina keep it.
The package logger ``"antflow"`` has a ``NullHandler``: with no logging configured, nothing
reaches stderr.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar, Union

import anyio
import stamina

from ._validation import check_int, check_seconds, is_number

__all__ = ["OnRetry", "RetryOn", "RetryPolicy", "check_retry_on", "retry_logger"]

T = TypeVar("T")

#: The longest single wait between two attempts, whatever the backoff computes.
_MAX_WAIT_SECONDS = 86_400.0

#: ``on_retry(failed_attempt, error, wait)``: an attempt failed and another follows after
#: ``wait`` seconds (stamina's backoff, jitter included).
OnRetry = Callable[[int, Exception, float], Awaitable[None]]

#: What ``retry_on`` accepts: an exception class, or a tuple of them.
RetryOn = Union[type[Exception], tuple[type[Exception], ...]]  # noqa: UP007 - a runtime alias

#: What says what is retried, in the log record: a text, or a function that makes it (called
#: only when a retry is logged).
Label = Union[str, Callable[[], str], None]  # noqa: UP007 - a runtime alias

#: The package logger: a NullHandler, so that no record reaches ``logging.lastResort`` (stderr)
#: while the application configures no logging. Records still propagate to the application's
#: handlers once it configures some.
logging.getLogger("antflow").addHandler(logging.NullHandler())

#: One record per retry, at INFO.
retry_logger = logging.getLogger("antflow.retry")


def check_retry_on(
    value: object, where: str = "", error: type[Exception] = TypeError
) -> tuple[type[Exception], ...]:
    """``value`` as a tuple of exception classes; raise ``error`` naming ``retry_on`` if it is
    not an :class:`Exception` subclass or a tuple of them."""
    classes = value if isinstance(value, tuple) else (value,)
    if not classes or not all(
        isinstance(cls, type) and issubclass(cls, Exception) for cls in classes
    ):
        prefix = f"{where}: " if where else ""
        raise error(
            f"{prefix}retry_on must be an exception class or a tuple of them, got {value!r} "
            "(for example retry_on=ConnectionError or retry_on=(ConnectionError, TimeoutError))"
        )
    return classes


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to call, on which errors, and how long to wait between calls.

    Args:
        attempts: Total number of calls, the first one included (``1`` means no retry).
        wait_initial: Seconds to wait before the second call; later waits grow exponentially.
        wait_exp_base: Factor by which each wait grows over the previous one.
        retry_on: The exceptions worth another attempt: an :class:`Exception` subclass or a
            tuple of them (default: any :class:`Exception`). Any other exception propagates
            at once, without a retry.
    """

    attempts: int = 1
    wait_initial: float = 1.0
    wait_exp_base: float = 2.0
    retry_on: RetryOn = Exception

    def __post_init__(self) -> None:
        check_int(self.attempts, "attempts", hint="one call, no retry", type_error=TypeError)
        check_seconds(self.wait_initial, "wait_initial")
        if not is_number(self.wait_exp_base) or self.wait_exp_base < 1:
            raise ValueError(
                f"wait_exp_base must be a finite number >= 1, got {self.wait_exp_base!r}"
            )
        if self.retry_on is not Exception:
            object.__setattr__(self, "retry_on", check_retry_on(self.retry_on))

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        on_retry: OnRetry | None = None,
        first_failure: Exception | None = None,
        *,
        label: Label = None,
        logger: logging.Logger = retry_logger,
    ) -> T:
        """Await ``fn()`` until it returns, retrying on ``retry_on`` as the policy says.

        ``fn`` is called afresh for every attempt. Before each wait, the retry is logged (one
        INFO record on ``"antflow.retry"``, naming ``label``: what is retried, such as
        ``"item 7 in stage 'Fetch', task 'fetch'"``) and ``on_retry`` (if given) is awaited
        with the number of the attempt that failed, its exception and the wait. The exception
        of the last attempt, or of an attempt whose exception does not match ``retry_on``,
        propagates unchanged. Cancellation during a call or a wait stops at once, without
        another attempt.

        ``first_failure`` says that the caller already made attempt 1 itself (its own fast
        path) and that it raised this: the loop goes on from there, as if it had made it.
        ``logger`` is where the record goes (flowkit passes ``"flowkit.retry"``).
        """
        error = first_failure
        if error is None:
            try:
                return await fn()
            except Exception as exc:
                error = exc
        attempts = _attempts_allowed(self.attempts)
        failed = 1
        while failed < attempts and isinstance(error, self.retry_on):
            wait = self._wait_after(failed)
            if logger.isEnabledFor(logging.INFO):
                _log_retry(logger, label, failed, attempts, error, wait)
            if on_retry is not None:
                await on_retry(failed, error, wait)
            await anyio.sleep(wait)  # a checkpoint even when stamina's testing mode gives 0
            failed += 1
            try:
                return await fn()
            except Exception as exc:
                error = exc
        raise error

    def call_sync(
        self,
        fn: Callable[[], T],
        *,
        label: Label = None,
        logger: logging.Logger = retry_logger,
    ) -> T:
        """The blocking twin of :meth:`call` (without ``on_retry``), for a sync function called
        outside an event loop (flowkit's direct call of a sync task): the same attempts, waits,
        ``retry_on`` and log record; the waits block the calling thread (``time.sleep``)."""
        try:
            return fn()
        except Exception as exc:
            error = exc
        attempts = _attempts_allowed(self.attempts)
        failed = 1
        while failed < attempts and isinstance(error, self.retry_on):
            wait = self._wait_after(failed)
            if logger.isEnabledFor(logging.INFO):
                _log_retry(logger, label, failed, attempts, error, wait)
            time.sleep(wait)
            failed += 1
            try:
                return fn()
            except Exception as exc:
                error = exc
        raise error

    def _wait_after(self, failed: int) -> float:
        """stamina's backoff after attempt ``failed`` (1-based): 0 in its testing mode."""
        if stamina.is_testing():
            return 0.0
        jitter = random.uniform(0, self.wait_initial / 2)
        try:
            wait = self.wait_initial * self.wait_exp_base ** (failed - 1) + jitter
        except OverflowError:
            return _MAX_WAIT_SECONDS
        return min(_MAX_WAIT_SECONDS, wait)


def _attempts_allowed(attempts: int) -> int:
    """The attempts stamina's switches allow: 1 when it is inactive; in its testing mode, the
    number ``stamina.set_testing(True, attempts=..., cap=...)`` says."""
    if not stamina.is_active():
        return 1
    if not stamina.is_testing():
        return attempts
    # stamina has no public getter for the testing attempts: read its config, and keep ours
    # if that ever moves.
    try:
        from stamina._config import CONFIG

        testing = CONFIG.testing
        return attempts if testing is None else max(1, int(testing.get_attempts(attempts)))
    except (ImportError, AttributeError):  # pragma: no cover - another stamina layout
        return attempts


def _log_retry(
    logger: logging.Logger, label: Label, failed: int, attempts: int, error: Exception, wait: float
) -> None:
    what = label() if callable(label) else (label or "a call")
    logger.info(
        "%s failed with %s: %s; attempt %d of %d in %s s",
        what,
        type(error).__name__,
        error,
        failed + 1,
        attempts,
        f"{wait:.2f}" if wait >= 1 else f"{wait:.2g}",
        extra={
            "retrying": what,
            "attempt": failed + 1,
            "attempts": attempts,
            "wait": wait,
            "error": error,
        },
    )
