"""Exceptions raised by antflow.

Every exception antflow raises on its own account derives from :class:`AntFlowError`. Exceptions
raised by *your* code (a task, a callback) are never wrapped: they reach you unchanged, with the
same type and message.
"""

from __future__ import annotations

import concurrent.futures

__all__ = ["AntFlowError", "ExecutorShutdownError", "FutureCancelledError"]


class AntFlowError(Exception):
    """Base class of the errors antflow raises on its own account."""


class ExecutorShutdownError(AntFlowError, RuntimeError):
    """Work was submitted to an :class:`~antflow.AsyncExecutor` that is shut down or shutting down.

    Submit everything you need before leaving ``async with AsyncExecutor(...)`` or before calling
    ``shutdown()``, or create a new executor.
    """


class FutureCancelledError(AntFlowError, concurrent.futures.CancelledError):
    """The result of a cancelled :class:`~antflow.AsyncFuture` was asked for.

    It is also a :class:`concurrent.futures.CancelledError`, so code written for
    ``concurrent.futures`` catches it unchanged. It is deliberately *not* the event loop's own
    cancellation exception: that one belongs to the backend's cancel scopes, and raising it from
    ``result()`` would cancel the caller instead of reporting the future's fate.
    """
