"""OpenTelemetry consumers of the observation hook: a run's events become spans and metrics.

Imported only when telemetry is on (:mod:`antflow.telemetry` decides, once per run), so that
nothing here is imported or paid otherwise.

Parenting never relies on which task a span is started from: each observer captures the
caller's current context when the run is built (in the task that called ``run()``, ``start()``,
a flowkit run, ``submit()`` or ``map()``) and starts every span with an explicit parent. A
pipeline's stage and task spans are also made *current* in the worker's task while the item is
in the stage and the task runs (attached when the engine reports the start, detached when it
reports the end; both are reported by the task holding the item, so the attach and detach happen
in one context on any backend). Spans a task opens itself (an instrumented HTTP client, your own
``tracer.start_as_current_span``) thus nest under ``antflow.task.<task>``. flowkit's task spans
are not made current: their events may come from worker threads.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import Span, Status, StatusCode

from ._call import explain_not_awaitable
from ._observe import Event, EventKind

__all__ = ["SCOPE", "CallTracer", "FlowTelemetry", "PipelineTelemetry"]

#: The instrumentation scope of every span and metric antflow and flowkit report.
SCOPE = "antflow"

T = TypeVar("T")

_PIPELINE_KINDS = frozenset(
    {
        EventKind.RUN_STARTED,
        EventKind.RUN_ENDED,
        EventKind.ITEM_STARTED,
        EventKind.ITEM_RETRYING,
        EventKind.ITEM_SUCCEEDED,
        EventKind.ITEM_SKIPPED,
        EventKind.ITEM_FAILED,
        EventKind.TASK_STARTED,
        EventKind.TASK_ENDED,
    }
)
_FLOW_KINDS = _PIPELINE_KINDS - {EventKind.TASK_STARTED, EventKind.TASK_ENDED}

#: What an abandoned span (its run ended before its item or task did) says.
_ABANDONED = "the run ended before this finished (cancelled)"


def _fail(span: Span, error: BaseException) -> None:
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, str(error)))


class _Open:
    """The spans one pipeline worker has open: its item's stage span and its task's span, with
    the tokens that made them current (detached in reverse order, in the worker's task)."""

    __slots__ = ("stage", "stage_token", "task", "task_token")

    def __init__(self, stage: Span, stage_token: object) -> None:
        self.stage = stage
        self.stage_token = stage_token
        self.task: Span | None = None
        self.task_token: object = None


class PipelineTelemetry:
    """Reports one pipeline run as 0.10 did (see ``docs/telemetry.md`` for every name).

    Spans: ``antflow.pipeline.run`` (the run), ``antflow.stage.<stage>`` (one item in one
    stage, its retries included), ``antflow.task.<task>`` (one attempt of one task). Metrics:
    ``antflow.pipeline.items.processed`` (items through the last stage),
    ``antflow.pipeline.items.failed``, ``antflow.pipeline.items.retried`` (each retry, of a task
    or of a stage) and ``antflow.task.duration`` (each successful attempt, seconds).
    """

    def __init__(self, stages: Sequence[str]) -> None:
        self._stages = list(stages)
        self._last = self._stages[-1] if self._stages else None
        self._tracer = trace.get_tracer(SCOPE)
        self._parent = otel_context.get_current()  # the caller's: the run span's parent
        meter = metrics.get_meter(SCOPE)
        self._processed = meter.create_counter(
            "antflow.pipeline.items.processed", description="Total items successfully processed"
        )
        self._failed = meter.create_counter(
            "antflow.pipeline.items.failed", description="Total items that failed processing"
        )
        self._retried = meter.create_counter(
            "antflow.pipeline.items.retried", description="Total retry attempts"
        )
        self._duration = meter.create_histogram(
            "antflow.task.duration", description="Task execution duration in seconds", unit="s"
        )
        self._run: Span | None = None
        self._run_context = self._parent
        # Open spans by worker name: a worker holds one item at a time.
        self._open: dict[Any, _Open] = {}
        self._count_processed = 0
        self._count_failed = 0

    def __repr__(self) -> str:
        return "<antflow OpenTelemetry observer>"

    def wants(self, kind: EventKind) -> bool:
        return kind in _PIPELINE_KINDS

    def __call__(self, event: Event) -> None:
        kind = event.kind
        if kind is EventKind.TASK_STARTED:
            self._task_started(event)
        elif kind is EventKind.TASK_ENDED:
            self._task_ended(event)
        elif kind is EventKind.ITEM_STARTED:
            self._item_started(event)
        elif kind is EventKind.ITEM_SUCCEEDED or kind is EventKind.ITEM_SKIPPED:
            self._item_done(event, kind is EventKind.ITEM_SKIPPED)
        elif kind is EventKind.ITEM_FAILED:
            self._item_failed(event)
        elif kind is EventKind.ITEM_RETRYING:
            self._retrying(event)
        elif kind is EventKind.RUN_STARTED:
            self._run_started()
        elif kind is EventKind.RUN_ENDED:
            self._run_ended(event)

    # -- the run ---------------------------------------------------------------------------

    def _run_started(self) -> None:
        self._run = self._tracer.start_span(
            "antflow.pipeline.run",
            context=self._parent,
            attributes={
                "antflow.pipeline.stages": len(self._stages),
                "antflow.pipeline.stage_names": self._stages,
            },
        )
        self._run_context = trace.set_span_in_context(self._run, self._parent)

    def _run_ended(self, event: Event) -> None:
        for open_ in self._open.values():  # workers cancelled while holding an item
            for span in (open_.task, open_.stage):
                if span is not None:
                    span.set_status(Status(StatusCode.ERROR, _ABANDONED))
                    span.end()
        self._open.clear()
        run = self._run
        if run is None:
            return
        stats = event.value
        fed = getattr(stats, "items_fed", None)
        if fed is not None:
            run.set_attribute("antflow.pipeline.total_items", fed)
        run.set_attribute(
            "antflow.pipeline.items_processed",
            getattr(stats, "items_processed", self._count_processed),
        )
        run.set_attribute(
            "antflow.pipeline.items_failed", getattr(stats, "items_failed", self._count_failed)
        )
        if event.error is not None:
            _fail(run, event.error)
        run.end()
        self._run = None

    # -- items in a stage ----------------------------------------------------------------------

    def _stage_span(self, event: Event) -> Span:
        return self._tracer.start_span(
            f"antflow.stage.{event.source}",
            context=self._run_context,
            attributes={
                "antflow.stage.name": event.source,
                "antflow.worker.name": event.worker or "",
                "antflow.item.id": str(event.item_id),
                "antflow.item.attempt": 1,
            },
        )

    def _item_started(self, event: Event) -> None:
        span = self._stage_span(event)
        token = otel_context.attach(trace.set_span_in_context(span, self._run_context))
        self._open[event.worker] = _Open(span, token)

    def _retrying(self, event: Event) -> None:
        self._retried.add(1, {"stage": event.source})
        open_ = self._open.get(event.worker)
        if open_ is not None:
            error = event.error
            open_.stage.add_event(
                "antflow.retry",
                {
                    "antflow.task.name": event.task or "",
                    "antflow.retry.attempt": event.attempt or 0,
                    "antflow.retry.wait": event.wait or 0.0,
                    "exception.type": type(error).__name__ if error is not None else "",
                    "exception.message": str(error) if error is not None else "",
                },
            )

    def _item_done(self, event: Event, skipped: bool) -> None:
        if event.source == self._last:
            self._count_processed += 1
            self._processed.add(1, {"stage": event.source})
        open_ = self._open.pop(event.worker, None)
        if open_ is not None:
            if skipped:
                open_.stage.set_attribute("antflow.item.skipped", True)
            self._close_stage(open_)
        elif skipped:  # skip_if is asked before the item is reported started: a span of its own
            span = self._stage_span(event)
            span.set_attribute("antflow.item.skipped", True)
            span.end()

    def _item_failed(self, event: Event) -> None:
        self._count_failed += 1
        self._failed.add(1, {"stage": event.source})
        open_ = self._open.pop(event.worker, None)
        span = open_.stage if open_ is not None else self._stage_span(event)  # skip_if raised
        if event.error is not None:
            _fail(span, event.error)
        if event.attempt is not None:
            span.set_attribute("antflow.item.attempts", event.attempt)
        if open_ is not None:
            self._close_stage(open_)
        else:
            span.end()

    def _close_stage(self, open_: _Open) -> None:
        if open_.task is not None:  # not ended by its TASK_ENDED: a bug upstream, but close it
            otel_context.detach(open_.task_token)  # type: ignore[arg-type]
            open_.task.end()
        otel_context.detach(open_.stage_token)  # type: ignore[arg-type]
        open_.stage.end()

    # -- attempts of tasks -------------------------------------------------------------------

    def _task_started(self, event: Event) -> None:
        open_ = self._open.get(event.worker)
        parent = (
            trace.set_span_in_context(open_.stage, self._run_context)
            if open_ is not None
            else self._run_context
        )
        span = self._tracer.start_span(
            f"antflow.task.{event.task}",
            context=parent,
            attributes={
                "antflow.task.name": event.task or "",
                "antflow.task.attempt": event.attempt or 1,
                "antflow.worker.name": event.worker or "",
                "antflow.stage.name": event.source,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        if open_ is None:  # a task outside an observed item: keep it alone under the run
            open_ = self._open[event.worker] = _Open(span, token)
            return
        open_.task, open_.task_token = span, token

    def _task_ended(self, event: Event) -> None:
        open_ = self._open.get(event.worker)
        if open_ is None or open_.task is None:
            return
        span, token = open_.task, open_.task_token
        open_.task = open_.task_token = None
        if event.error is not None:
            _fail(span, event.error)
        elif event.duration is not None:
            self._duration.record(event.duration, {"stage": event.source, "task": event.task})
        otel_context.detach(token)  # type: ignore[arg-type]
        span.end()


class FlowTelemetry:
    """Reports one flowkit run: a ``flowkit.run`` span, and a ``flowkit.task.<task>`` span per
    task under it (from its start to its success, skip or final failure, retries included).

    Thread-safe: a flowkit run reports sync tasks from its worker threads.
    """

    def __init__(self, workflow: str) -> None:
        self._workflow = workflow
        self._tracer = trace.get_tracer(SCOPE)
        self._parent = otel_context.get_current()
        self._run: Span | None = None
        self._run_context = self._parent
        self._tasks: dict[Any, Span] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "<flowkit OpenTelemetry observer>"

    def wants(self, kind: EventKind) -> bool:
        return kind in _FLOW_KINDS

    def __call__(self, event: Event) -> None:
        kind = event.kind
        with self._lock:
            if kind is EventKind.ITEM_STARTED:
                self._tasks[event.item_id] = self._task_span(event.item_id)
            elif kind is EventKind.ITEM_RETRYING:
                span = self._tasks.get(event.item_id)
                if span is not None:
                    error = event.error
                    span.add_event(
                        "flowkit.retry",
                        {
                            "flowkit.retry.attempt": event.attempt or 0,
                            "flowkit.retry.wait": event.wait or 0.0,
                            "exception.type": type(error).__name__ if error is not None else "",
                            "exception.message": str(error) if error is not None else "",
                        },
                    )
            elif kind is EventKind.ITEM_SUCCEEDED or kind is EventKind.ITEM_SKIPPED:
                span = self._tasks.pop(event.item_id, None) or self._task_span(event.item_id)
                if kind is EventKind.ITEM_SKIPPED:
                    span.set_attribute("flowkit.task.skipped", True)
                span.end()
            elif kind is EventKind.ITEM_FAILED:
                span = self._tasks.pop(event.item_id, None) or self._task_span(event.item_id)
                if event.attempt is not None:
                    span.set_attribute("flowkit.task.attempts", event.attempt)
                if event.error is not None:
                    _fail(span, event.error)
                span.end()
            elif kind is EventKind.RUN_STARTED:
                self._run = self._tracer.start_span(
                    "flowkit.run",
                    context=self._parent,
                    attributes={"flowkit.workflow.name": self._workflow},
                )
                self._run_context = trace.set_span_in_context(self._run, self._parent)
            elif kind is EventKind.RUN_ENDED:
                self._run_ended(event)

    def _task_span(self, name: Any) -> Span:
        return self._tracer.start_span(
            f"flowkit.task.{name}",
            context=self._run_context,
            attributes={"flowkit.task.name": str(name), "flowkit.workflow.name": self._workflow},
        )

    def _run_ended(self, event: Event) -> None:
        for span in self._tasks.values():  # cancelled coroutines, never reported
            span.set_status(Status(StatusCode.ERROR, _ABANDONED))
            span.end()
        self._tasks.clear()
        run = self._run
        if run is not None:
            if event.error is not None:
                _fail(run, event.error)
            run.end()
            self._run = None


class CallTracer:
    """Wraps an executor's calls so that each runs in an ``antflow.executor.task`` span.

    One per executor (its ``antflow.executor.task_id`` numbers count its calls from 0). A call
    wrapped by :meth:`wrap` runs under the context current when it was wrapped (at ``submit()``
    or ``map()``), on any backend.
    """

    __slots__ = ("_ids", "_tracer")

    def __init__(self) -> None:
        self._tracer = trace.get_tracer(SCOPE)
        self._ids = itertools.count()

    def wrap(self, fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        """``fn``, traced: each call of the result is one span, parented where ``wrap`` ran."""
        return _TracedCall(fn, self._tracer, self._ids, otel_context.get_current())


class _TracedCall:
    """A call of ``fn`` inside an ``antflow.executor.task`` span (made current while it runs).

    Has ``fn``'s ``__name__`` and ``__qualname__``, so that the executor's messages and the
    future's repr still name ``fn``.
    """

    def __init__(
        self,
        fn: Callable[..., Awaitable[Any]],
        tracer: trace.Tracer,
        ids: itertools.count[int],
        parent: otel_context.Context,
    ) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "fn")
        self.__qualname__ = getattr(fn, "__qualname__", self.__name__)
        self._tracer = tracer
        self._ids = ids
        self._parent = parent

    def __call__(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return self._run(args, kwargs)

    async def _run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        with self._tracer.start_as_current_span(
            "antflow.executor.task",
            context=self._parent,
            attributes={"antflow.executor.task_id": next(self._ids)},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            awaitable = None
            try:
                awaitable = self.fn(*args, **kwargs)
                return await awaitable
            except Exception as exc:
                error = explain_not_awaitable(exc, self.fn, awaitable)
                _fail(span, error)
                if error is exc:
                    raise
                raise error from None
