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


class StageValidationError(PipelineError, ValueError):
    """A :class:`~antflow.Stage` has an invalid setting.

    Raised when the stage is constructed (and again by ``Stage.validate()``); the message names
    the field and says how to fix it. As in antflow 0.10 it is a :class:`PipelineError`; it is
    also a :class:`ValueError`.
    """


class TaskFailedError(AntFlowError):
    """A task failed: antflow 0.10's wrapper that keeps the original exception.

    The pipeline never raises this for an item's failure (the other items go on); it is what
    :meth:`~antflow.ErrorSummary.raise_for_failures` raises, carrying the first failure. The
    task's own exception, unchanged, is ``original_exception`` (also ``error``) and the
    ``__cause__``.

    ``TaskFailedError(task_name, original_exception)`` is 0.10's constructor, with 0.10's message
    (``"Task 'fetch' failed: boom"``). The keyword-only arguments say which item failed where;
    when ``stage`` is given the message names the item, the stage and the attempts.

    Attributes:
        task_name: The failing task's name (``None`` when the stage's ``skip_if`` raised).
        original_exception: The task's exception, unchanged.
        error: The same exception (the name this class used before it took 0.10's signature).
        item_id: The failed item's id (``None`` when not given).
        stage: The stage it failed in (``None`` when not given).
        attempts: Attempts made (``None`` when not given).
        failed_count: Items that failed in the run this error reports on (at least 1).
    """

    def __init__(
        self,
        task_name: str | None,
        original_exception: BaseException,
        *,
        item_id: object = None,
        stage: str | None = None,
        attempts: int | None = None,
        failed_count: int = 1,
    ) -> None:
        if stage is None:
            message = f"Task '{task_name}' failed: {original_exception}"
        else:
            task = f"task {task_name!r}" if task_name is not None else "the stage"
            tries = f" after {attempts} attempt(s)" if attempts is not None else ""
            more = f" ({failed_count - 1} more item(s) failed too)" if failed_count > 1 else ""
            message = (
                f"item {item_id!r} failed in stage {stage!r}: {task} raised "
                f"{type(original_exception).__name__}: {original_exception}{tries}{more}"
            )
        super().__init__(message)
        self.task_name = task_name
        self.original_exception = original_exception
        self.item_id = item_id
        self.stage = stage
        self.attempts = attempts
        self.failed_count = failed_count
        self.__cause__ = original_exception

    @property
    def error(self) -> BaseException:
        """The task's exception, unchanged (``original_exception``)."""
        return self.original_exception
