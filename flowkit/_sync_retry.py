"""The attempt loop of a sync task called directly (``extract()``), through stamina.

The sync twin of :meth:`antflow._retry.RetryPolicy.call` (which a run, and a direct call of an
``async def`` task, use): the same policy, the same waits (stamina's exponential backoff with
jitter, each wait capped at one day), only :class:`Exception` retried, the last attempt's own
exception propagated unchanged, and stamina's switches (``set_testing``, ``set_active``) apply.
The waits block the calling thread (``time.sleep``, through stamina).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import stamina

from antflow._retry import _MAX_WAIT_SECONDS, RetryPolicy

__all__ = ["call_with_retries"]

T = TypeVar("T")


def call_with_retries(policy: RetryPolicy, fn: Callable[[], T]) -> T:
    """Call ``fn()`` until it returns, retrying on :class:`Exception` as ``policy`` says."""
    if policy.attempts == 1 or not stamina.is_active():
        return fn()
    for attempt in stamina.retry_context(
        on=Exception,
        attempts=policy.attempts,
        timeout=None,
        wait_initial=policy.wait_initial,
        wait_max=_MAX_WAIT_SECONDS,
        wait_jitter=policy.wait_initial / 2,
        wait_exp_base=policy.wait_exp_base,
    ):
        with attempt:
            return fn()
    raise AssertionError("unreachable: stamina re-raises the last attempt's exception")
