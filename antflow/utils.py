"""antflow 0.10's helper functions (``antflow.utils``), adapted to an engine without tenacity.

- :func:`extract_exception` returns the exception a retry wrapper holds. antflow itself never
  wraps a task's exception (its retries go through stamina, which re-raises the original), so
  for anything antflow hands you it returns its argument unchanged; it still unwraps a tenacity
  ``RetryError`` you pass it from your own code, without antflow importing tenacity.
- :func:`setup_logger` gives a named logger a stream handler. It is the one place antflow adds a
  handler, and only because you call it: importing antflow configures no logging.
- :func:`get_task_name` is the name antflow uses for a task in events, limits and worker states.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, overload

from ._stage import task_name

__all__ = ["extract_exception", "get_task_name", "setup_logger"]

#: The format of the handler :func:`setup_logger` adds (0.10's).
LOG_FORMAT = "%(asctime)s | %(levelname)s | %(message)s"


@overload
def extract_exception(error: Exception) -> Exception: ...
@overload
def extract_exception(error: BaseException) -> BaseException: ...
def extract_exception(error: BaseException) -> BaseException:
    """The exception behind a retry wrapper, or ``error`` itself.

    A tenacity ``RetryError`` (recognised by its class, without importing tenacity) gives the
    exception of its last attempt, when that attempt raised an :class:`Exception`; anything else,
    including a ``RetryError`` whose last attempt did not raise, is returned unchanged. It never
    raises.

    antflow does not wrap task exceptions: a :class:`~antflow.FailedItem`'s ``error``, a
    ``StatusEvent``'s ``metadata["error"]`` and an :class:`~antflow.AsyncFuture`'s exception are
    the task's own exception already, so this returns them as they are.
    """
    if not _is_tenacity_retry_error(error):
        return error
    try:
        original = error.last_attempt.exception()  # type: ignore[attr-defined]
    except Exception:  # a malformed wrapper: keep what we were given
        return error
    return original if isinstance(original, Exception) else error


def _is_tenacity_retry_error(error: BaseException) -> bool:
    return any(
        cls.__name__ == "RetryError" and cls.__module__.split(".")[0] == "tenacity"
        for cls in type(error).__mro__
    )


def setup_logger(name: str, level: int = logging.INFO) -> logging.Logger:
    """The logger ``name``, given a stream handler (to stderr) if it has none.

    When the logger has no handler of its own, this adds a :class:`logging.StreamHandler`
    formatted ``"time | LEVEL | message"`` and sets the logger's level to ``level``; a logger
    that already has a handler is returned untouched, so calling it twice adds one handler.
    antflow never calls it itself (library modules only create loggers), so your logging
    configuration stays yours unless you call this.
    """
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(level)
    return logger


def get_task_name(task: Any) -> str:
    """A task's name: its ``__name__``; for a :func:`functools.partial` (nested too), the name of
    the function it wraps; for another object with a ``func`` attribute, that function's name;
    else the object's class name."""
    if not hasattr(task, "__name__") and not isinstance(task, functools.partial):
        inner_name = getattr(getattr(task, "func", None), "__name__", None)
        if isinstance(inner_name, str):
            return inner_name
    return task_name(task)
