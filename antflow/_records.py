"""What a pipeline hands back: results, failed items and the error summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .exceptions import TaskFailedError

__all__ = ["ErrorSummary", "FailedItem", "PipelineResult"]


@dataclass(slots=True)
class PipelineResult:
    """An item that went through every stage.

    A plain record (not frozen: a frozen dataclass costs three times as much to build, and one
    is built per item); changing it does not affect the pipeline.

    Attributes:
        id: The item's id: its position in the input (0, 1, ...) for plain values, or the
            ``"id"`` of a ``{"id": ..., "value": ...}`` dict.
        value: What the last task of the last stage returned.
        sequence: The order in which the item was fed (``run()`` sorts results by it).
    """

    id: Any
    value: Any
    sequence: int


@dataclass(frozen=True, slots=True)
class FailedItem:
    """An item that failed a stage after all its attempts.

    Attributes:
        item_id: The item's id.
        stage: The stage it failed in.
        task: The failing task's name (``None`` if ``skip_if`` raised).
        attempts: Attempts made (task attempts in ``per_task`` mode, stage runs in ``per_stage``).
        error: The exception of the last attempt, unchanged.
        value: The value the item had when it entered the stage (feed it again to retry it).
        timestamp: ``time.time()`` of the failure.
    """

    item_id: Any
    stage: str
    task: str | None
    attempts: int
    error: BaseException
    value: Any
    timestamp: float

    @property
    def error_type(self) -> str:
        """The exception's class name."""
        return type(self.error).__name__


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """Aggregated failures of a pipeline run.

    Attributes:
        total_failed: Items that failed.
        errors_by_type: Failure count per exception class name.
        errors_by_stage: Failure count per stage name.
        failed_items: Every failed item, in failure order.
        callback_errors: Callbacks that raised (each one was logged on the ``"antflow"`` logger).
    """

    total_failed: int = 0
    errors_by_type: dict[str, int] = field(default_factory=dict)
    errors_by_stage: dict[str, int] = field(default_factory=dict)
    failed_items: list[FailedItem] = field(default_factory=list)
    callback_errors: int = 0

    @classmethod
    def of(cls, failures: Iterable[FailedItem], callback_errors: int = 0) -> ErrorSummary:
        items = list(failures)
        return cls(
            total_failed=len(items),
            errors_by_type=dict(Counter(f.error_type for f in items)),
            errors_by_stage=dict(Counter(f.stage for f in items)),
            failed_items=items,
            callback_errors=callback_errors,
        )

    def raise_for_failures(self) -> None:
        """Raise :class:`~antflow.TaskFailedError` for the first failed item, if any failed."""
        if self.failed_items:
            first = self.failed_items[0]
            raise TaskFailedError(
                first.task,
                first.error,
                item_id=first.item_id,
                stage=first.stage,
                attempts=first.attempts,
                failed_count=self.total_failed,
            )
