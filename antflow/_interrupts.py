"""Letting a KeyboardInterrupt or SystemExit out of our task groups the way it went in: bare."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup
else:  # pragma: no cover - the backport anyio depends on there
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]

__all__ = ["BaseExceptionGroup", "bare_interrupts", "lone_interrupt"]


def lone_interrupt(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The ``KeyboardInterrupt`` or ``SystemExit`` that ``group`` holds alone, else ``None``.

    anyio's task groups wrap whatever crosses them in an exception group, so Ctrl-C during a
    run (trio delivers it inside the run's task group) would reach the caller as a
    ``BaseExceptionGroup``, which ``except KeyboardInterrupt`` does not catch. Nested groups
    count as one if, all the way down, they hold that one exception and nothing else.
    """
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        else:
            leaves.append(exc)
    if len(leaves) == 1 and isinstance(leaves[0], (KeyboardInterrupt, SystemExit)):
        return leaves[0]
    return None


@contextlib.contextmanager
def bare_interrupts() -> Iterator[None]:
    """Let a lone ``KeyboardInterrupt`` or ``SystemExit`` out of the task groups inside bare.

    anyio's task groups wrap what crosses them in an exception group, and Ctrl-C on trio arrives
    inside the innermost one; ``except KeyboardInterrupt`` would miss it. Every task group a
    caller of ours waits on (a pipeline run, an executor map with a progress bar, a flowkit run)
    is entered under this.
    """
    try:
        yield
    except BaseExceptionGroup as group:
        interrupt = lone_interrupt(group)
        if interrupt is None:
            raise
        raise interrupt from None
