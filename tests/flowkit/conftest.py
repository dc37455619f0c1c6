from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from flowkit import Task


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    """Each test starts with no registered task, and leaves none behind."""
    Task.clear_registry()
    yield
    Task.clear_registry()


@pytest.fixture(autouse=True)
def _restore_flowkit_logger() -> Iterator[None]:
    """Undo whatever configure_logging did to the "flowkit" logger."""
    logger = logging.getLogger("flowkit")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)
    logger.propagate = propagate
