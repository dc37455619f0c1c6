"""OpenTelemetry's SDK set up once per test session, in memory, and a fixture that isolates tests.

OpenTelemetry's global tracer and meter providers can be set once per process, so they are set
here once (on first use, not at import: importing ``opentelemetry`` would turn telemetry on for
every later run of the session, see ``antflow.telemetry.is_enabled``) with an in-memory span
exporter and a metric reader of *delta* temporality. The :func:`otel` fixture turns telemetry on
for one test, clears the spans and drains the metrics before it, and afterwards turns telemetry
*off* (not back to "never configured"): with ``opentelemetry`` now imported, "never configured"
would mean "on" for the rest of the suite.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from antflow import telemetry

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Otel:
    """What one test reads: the spans finished and the metrics recorded during it."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        spans = list(self.exporter.get_finished_spans())
        return spans if name is None else [s for s in spans if s.name == name]

    def span(self, name: str) -> ReadableSpan:
        (span,) = self.spans(name)
        return span

    def metrics(self) -> dict[str, dict[tuple[tuple[str, Any], ...], Any]]:
        """``{metric name: {sorted attributes: value}}`` recorded since the last call; a
        histogram's value is its ``(count, sum)``."""
        found: dict[str, dict[tuple[tuple[str, Any], ...], Any]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = found.setdefault(metric.name, {})
                    for point in metric.data.data_points:
                        key = tuple(sorted(point.attributes.items()))
                        if hasattr(point, "count"):
                            points[key] = (point.count, point.sum)
                        elif point.value:
                            points[key] = point.value
        return {name: points for name, points in found.items() if points}


@functools.cache
def _providers() -> Otel:
    pytest.importorskip("opentelemetry.sdk", reason="the test extra installs opentelemetry-sdk")
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    delta = AggregationTemporality.DELTA
    reader = InMemoryMetricReader(preferred_temporality={Counter: delta, Histogram: delta})
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return Otel(exporter, reader)


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


@pytest.fixture
def otel(caplog: pytest.LogCaptureFixture) -> Iterator[Otel]:
    """Telemetry on, nothing recorded yet; afterwards off, and OpenTelemetry logged no error
    (a context detached in the wrong task is logged, not raised)."""
    found = _providers()
    found.exporter.clear()
    found.metrics()  # drain what earlier tests recorded
    telemetry.configure_telemetry(enabled=True)
    try:
        with caplog.at_level(logging.WARNING, logger="opentelemetry"):
            yield found
        errors = [r for r in caplog.records if r.name.startswith("opentelemetry")]
        assert errors == []
    finally:
        telemetry.configure_telemetry(enabled=False)
