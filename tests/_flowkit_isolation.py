"""Keep flowkit's process-wide state (the task registry, the "flowkit" logger) test-local."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from flowkit import Task


@contextlib.contextmanager
def isolated_flowkit() -> Iterator[None]:
    """Start with no registered task; afterwards drop the tasks registered meanwhile and undo
    whatever ``configure_logging`` did to the "flowkit" logger."""
    logger = logging.getLogger("flowkit")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    Task.clear_registry()
    try:
        yield
    finally:
        Task.clear_registry()
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)
                handler.close()
        logger.setLevel(level)
        logger.propagate = propagate
