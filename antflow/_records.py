"""What a pipeline hands back: results, failed items and the error summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .exceptions import AntFlowError, TaskFailedError

__all__ = ["ErrorSummary", "FailedItem", "PipelineResult"]


@dataclass(slots=True, init=False)
class PipelineResult:
    """An item that went through every stage.

    A plain record (not frozen: a frozen dataclass costs three times as much to build, and one
    is built per item); changing it does not affect the pipeline.

    antflow 0.10's fields, in 0.10's order.

    Attributes:
        id: The item's id: its position in the input (0, 1, ...) for plain values, or the
            ``"id"`` of a fed dict that has one.
        value: What the last task of the last stage returned.
        sequence_id: The order in which the item was fed (``run()`` sorts results by it).
        metadata: The fed dict's keys other than ``"id"`` and ``"value"`` (else empty).
        error: Always ``None`` for the results a pipeline hands back: a failed item is not a
            result (see :meth:`Pipeline.get_error_summary`). Kept for 0.10's sake.
    """

    id: Any
    value: Any
    sequence_id: int
    metadata: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None

    def __init__(
        self,
        id: Any,
        value: Any,
        sequence_id: int,
        metadata: dict[str, Any] | None = None,
        error: Exception | None = None,
    ) -> None:
        # Written by hand: a {} literal costs half of the generated __init__'s default_factory
        # call (300 of 880 instructions per result, callgrind, no-op one-stage pipeline).
        self.id = id
        self.value = value
        self.sequence_id = sequence_id
        self.metadata = {} if metadata is None else metadata
        self.error = error

    @property
    def is_success(self) -> bool:
        """True when ``error`` is ``None`` (always, for the results a pipeline hands back)."""
        return self.error is None

    @property
    def sequence(self) -> int:
        """This library's earlier name of ``sequence_id``."""
        return self.sequence_id


@dataclass(frozen=True, slots=True)
class FailedItem:
    """An item that failed a stage after all its attempts.

    The first six fields are 0.10's, in 0.10's order (so positional construction keeps
    working); the last three are ours and optional. Build one from an exception with
    :meth:`of`.

    Attributes:
        item_id: The item's id.
        error: ``str()`` of the last attempt's exception.
        error_type: The exception's class name.
        stage: The stage it failed in.
        attempts: Attempts made (task attempts in ``per_task`` mode, stage runs in ``per_stage``).
        timestamp: ``time.time()`` of the failure.
        task: The failing task's name (``None`` if ``skip_if`` raised, or not known).
        value: The value the item had when it entered the stage (feed it again to retry it).
        exception: The last attempt's exception itself, unchanged (``None`` if not known).
    """

    item_id: Any
    error: str
    error_type: str
    stage: str
    attempts: int
    timestamp: float
    task: str | None = None
    value: Any = None
    exception: BaseException | None = None

    @classmethod
    def of(
        cls,
        item_id: Any,
        stage: str,
        task: str | None,
        attempts: int,
        exception: BaseException,
        value: Any,
        timestamp: float,
    ) -> FailedItem:
        """The record of ``exception``, raised by the item's last attempt."""
        return cls(
            item_id,
            str(exception),
            type(exception).__name__,
            stage,
            attempts,
            timestamp,
            task,
            value,
            exception,
        )


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
        """The summary of ``failures``: the counts are in first-seen order of type and stage."""
        items = list(failures)
        return cls(
            total_failed=len(items),
            errors_by_type=dict(Counter(f.error_type for f in items)),
            errors_by_stage=dict(Counter(f.stage for f in items)),
            failed_items=items,
            callback_errors=callback_errors,
        )

    def __str__(self) -> str:
        """0.10's text: ``"No errors occurred"``, or the count, then the counts by type and by
        stage, each most frequent first (equal counts keep their order in the dicts)."""
        if self.total_failed == 0:
            return "No errors occurred"
        lines = [f"ErrorSummary: {self.total_failed} failed items", "", "By type:"]
        lines += _by_count(self.errors_by_type)
        lines += ["", "By stage:"]
        lines += _by_count(self.errors_by_stage)
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise :class:`~antflow.TaskFailedError` for the first failed item, if any failed.

        Its ``error`` (and ``__cause__``) is the item's exception; for a :class:`FailedItem`
        built without one, an :class:`~antflow.AntFlowError` holding its type and message.
        """
        if self.failed_items:
            first = self.failed_items[0]
            error = first.exception
            if error is None:
                error = AntFlowError(f"{first.error_type}: {first.error}")
            raise TaskFailedError(
                first.task,
                error,
                item_id=first.item_id,
                stage=first.stage,
                attempts=first.attempts,
                failed_count=self.total_failed,
            )


def _by_count(counts: dict[str, int]) -> list[str]:
    """``"  name: count"`` lines, highest count first; ``sorted`` is stable, so equal counts
    keep their order in ``counts``."""
    return [f"  {name}: {count}" for name, count in sorted(counts.items(), key=lambda kv: -kv[1])]
