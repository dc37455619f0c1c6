"""Exceptions raised by antflow.

Every exception antflow raises on its own account derives from :class:`AntFlowError`. Exceptions
raised by *your* code (a task, a callback) are never wrapped: they reach you unchanged, with the
same type and message.
"""

from __future__ import annotations

import concurrent.futures

__all__ = [
    "AntFlowError",
    "ExecutorShutdownError",
    "FutureCancelledError",
    "PipelineError",
    "StageValidationError",
    "TaskFailedError",
]


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


class PipelineError(AntFlowError):
    """A :class:`~antflow.Pipeline` was configured or driven wrongly.

    Raised for an empty or inconsistent stage list, an unknown ``target_stage``, ``start()`` on a
    pipeline that is already running, or ``feed()``/``join()`` on one that is not.
    """


class StageValidationError(AntFlowError, ValueError):
    """A :class:`~antflow.Stage` has an invalid setting.

    Raised when the stage is constructed (and again by ``Stage.validate()``); the message names
    the field and says how to fix it. It is also a :class:`ValueError`.
    """


class TaskFailedError(AntFlowError):
    """An item failed a stage: one of its tasks raised on every attempt.

    The pipeline never raises this for an item's failure (the other items go on); it is what
    :meth:`~antflow.ErrorSummary.raise_for_failures` raises, carrying the first failure. The
    task's own exception, unchanged, is its ``__cause__`` and its ``error`` attribute.
    """

    def __init__(
        self,
        item_id: object,
        stage: str,
        task_name: str | None,
        attempts: int,
        error: BaseException,
        failed_count: int = 1,
    ) -> None:
        task = f"task {task_name!r}" if task_name is not None else "the stage"
        more = f" ({failed_count - 1} more item(s) failed too)" if failed_count > 1 else ""
        super().__init__(
            f"item {item_id!r} failed in stage {stage!r}: {task} raised "
            f"{type(error).__name__}: {error} after {attempts} attempt(s){more}"
        )
        self.item_id = item_id
        self.stage = stage
        self.task_name = task_name
        self.attempts = attempts
        self.error = error
        self.failed_count = failed_count
        self.__cause__ = error
