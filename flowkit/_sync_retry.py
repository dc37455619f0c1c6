"""The attempt loop of a sync task called directly (``extract()``), outside a run.

The blocking twin of :meth:`antflow._retry.RetryPolicy.call` (which a run, and a direct call of
an ``async def`` task, use), built from the same pieces: the policy's waits (stamina's
exponential backoff with jitter, 0 in stamina's testing mode), the attempts stamina's switches
allow, ``retry_on``, and one INFO record on ``"antflow.retry"`` per retry. The last attempt's
own exception propagates unchanged. The waits block the calling thread (``time.sleep``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from antflow._retry import Label, RetryPolicy, _attempts_allowed, _log_retry, retry_logger

__all__ = ["call_with_retries"]

T = TypeVar("T")


def call_with_retries(policy: RetryPolicy, fn: Callable[[], T], *, label: Label = None) -> T:
    """Call ``fn()`` until it returns, retrying as ``policy`` says (see the module docstring)."""
    try:
        return fn()
    except Exception as exc:
        error = exc
    attempts = _attempts_allowed(policy.attempts)
    failed = 1
    while failed < attempts and isinstance(error, policy.retry_on):
        wait = policy._wait_after(failed)
        if retry_logger.isEnabledFor(logging.INFO):
            _log_retry(label, failed, attempts, error, wait)
        time.sleep(wait)
        failed += 1
        try:
            return fn()
        except Exception as exc:
            error = exc
    raise error
