"""OpenTelemetry traces and metrics for pipelines, the executor and flowkit (``antflow[otel]``).

Optional: install ``antflow[otel]`` (``opentelemetry-api``) and set up an OpenTelemetry SDK
(a tracer provider, a meter provider, exporters) as your application does for any other
library. antflow then reports what its runs do through the OpenTelemetry API:

* spans ``antflow.pipeline.run``, ``antflow.stage.<stage>``, ``antflow.task.<task>`` for each
  pipeline run, ``antflow.executor.task`` for each executor call, and ``flowkit.run``,
  ``flowkit.task.<task>`` for each flowkit run;
* metrics ``antflow.pipeline.items.processed``, ``antflow.pipeline.items.failed``,
  ``antflow.pipeline.items.retried`` (counters) and ``antflow.task.duration`` (a histogram, in
  seconds).

The full list of names and attributes is in the telemetry guide (``docs/telemetry.md``).

The switch is read when a run starts (``Pipeline.run()``, ``stream()``, ``start()``, a flowkit
run) or an executor starts serving (``async with`` or its first ``submit``/``map``): turning it
on or off affects the runs started afterwards, not one in progress.

Cost: ``import antflow`` never imports ``opentelemetry``. A run with telemetry off, or with the
package absent, costs nothing per item (one check when the run starts, one ``is not None`` test
per executor ``submit``). The observer that turns a run's events into spans and metrics is built
only when telemetry is on, from the engine's one observation hook (``antflow._observe``).
"""

from __future__ import annotations

import contextlib
import enum
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._validation import check_bool

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter
    from opentelemetry.trace import Tracer

    from ._observe import Observer
    from ._otel_observer import CallTracer

__all__ = [
    "NoOpInstrument",
    "NoOpMeter",
    "NoOpSpan",
    "NoOpTracer",
    "configure_telemetry",
    "get_meter",
    "get_tracer",
    "is_enabled",
]

# Invariant: written only by configure_telemetry. None: never configured (the default).
_enabled: bool | None = None
# Whether the opentelemetry API is installed; None until first asked (finding it imports nothing).
_installed: bool | None = None


def configure_telemetry(*, enabled: bool = True) -> None:
    """Turn OpenTelemetry instrumentation on or off for the runs started from now on.

    Never calling it leaves telemetry on, as in antflow 0.10, whenever ``opentelemetry`` is
    installed; see :func:`is_enabled` for when a run then actually reports.

    Args:
        enabled: ``True`` to report spans and metrics, ``False`` to report nothing (and build
            nothing: a run then costs what it costs without the package).

    Raises:
        TypeError: ``enabled`` is not a bool.

    .. versionadded:: 0.10
    """
    global _enabled
    _enabled = check_bool(enabled, "enabled", where="configure_telemetry()")


def is_enabled() -> bool:
    """``True`` if telemetry is on (not turned off by ``configure_telemetry(enabled=False)``)
    and the ``opentelemetry`` API is installed.

    Finding the package does not import it. When telemetry was never configured, a run reports
    only if something in the process has imported ``opentelemetry`` (an SDK set up, an
    instrumentation loaded): without that no tracer or meter provider can exist, every span
    would be dropped unrecorded, and the run skips building them. After
    ``configure_telemetry(enabled=True)`` every run reports, importing ``opentelemetry``.

    Exported at the top level as ``antflow.telemetry_enabled``.

    .. versionadded:: 0.10
    """
    return _enabled is not False and _otel_installed()


def get_tracer() -> Tracer | NoOpTracer:
    """antflow's OpenTelemetry tracer, or a :class:`NoOpTracer` when :func:`is_enabled` is
    ``False``. Use it to add spans of your own under antflow's scope.

    .. versionadded:: 0.10
    """
    if is_enabled():
        from opentelemetry import trace

        from ._otel_observer import SCOPE

        return trace.get_tracer(SCOPE)
    return NoOpTracer()


def get_meter() -> Meter | NoOpMeter:
    """antflow's OpenTelemetry meter, or a :class:`NoOpMeter` when :func:`is_enabled` is
    ``False``.

    .. versionadded:: 0.10
    """
    if is_enabled():
        from opentelemetry import metrics

        from ._otel_observer import SCOPE

        return metrics.get_meter(SCOPE)
    return NoOpMeter()


# -- stand-ins when telemetry is off ---------------------------------------------------------


class NoOpSpan:
    """A span that records nothing: the methods of ``opentelemetry.trace.Span`` antflow 0.10
    offered, each doing nothing. Usable as a context manager."""

    def set_attribute(self, key: str, value: Any) -> NoOpSpan:
        """Do nothing; return this span."""
        return self

    def set_status(self, status: Any, description: str | None = None) -> NoOpSpan:
        """Do nothing; return this span."""
        return self

    def record_exception(
        self, exception: BaseException, attributes: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        """Do nothing."""

    def add_event(self, name: str, attributes: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Do nothing."""

    def end(self, end_time: int | None = None) -> None:
        """Do nothing."""

    def is_recording(self) -> bool:
        """Always ``False``."""
        return False

    def __enter__(self) -> NoOpSpan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class NoOpTracer:
    """A tracer whose spans record nothing (``start_span``, ``start_as_current_span``)."""

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> NoOpSpan:
        """A :class:`NoOpSpan`."""
        return NoOpSpan()

    @contextlib.contextmanager
    def start_as_current_span(self, name: str, *args: Any, **kwargs: Any) -> Iterator[NoOpSpan]:
        """A context manager giving a :class:`NoOpSpan`."""
        yield NoOpSpan()


class NoOpInstrument:
    """A counter or histogram that records nothing."""

    def add(self, amount: float, attributes: dict[str, Any] | None = None) -> None:
        """Do nothing."""

    def record(self, amount: float, attributes: dict[str, Any] | None = None) -> None:
        """Do nothing."""


class NoOpMeter:
    """A meter whose instruments record nothing."""

    def create_counter(self, name: str, *args: Any, **kwargs: Any) -> NoOpInstrument:
        """A :class:`NoOpInstrument`."""
        return NoOpInstrument()

    def create_up_down_counter(self, name: str, *args: Any, **kwargs: Any) -> NoOpInstrument:
        """A :class:`NoOpInstrument`."""
        return NoOpInstrument()

    def create_histogram(self, name: str, *args: Any, **kwargs: Any) -> NoOpInstrument:
        """A :class:`NoOpInstrument`."""
        return NoOpInstrument()


class _StatusCode(enum.Enum):
    """0.10's stand-in for ``opentelemetry.trace.StatusCode`` without the package."""

    UNSET = 0
    OK = 1
    ERROR = 2


def __getattr__(name: str) -> Any:
    # 0.10 exported StatusCode from here: OpenTelemetry's when installed, else a stand-in. Looked
    # up lazily, so that importing this module never imports opentelemetry.
    if name == "StatusCode":
        if _otel_installed():
            from opentelemetry.trace import StatusCode

            return StatusCode
        return _StatusCode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the engine's side: asked once when a run (or an executor) starts --------------------------


def _otel_installed() -> bool:
    global _installed
    if _installed is None:
        import importlib.util  # here, not at the top: only the first run start pays for it

        _installed = "opentelemetry.trace" in sys.modules or (
            importlib.util.find_spec("opentelemetry") is not None
        )
    return _installed


def _active() -> bool:
    """Whether a run starting now reports (see :func:`is_enabled` for the rule)."""
    if _enabled is False or not _otel_installed():
        return False
    if _enabled is None and not (
        "opentelemetry.trace" in sys.modules or "opentelemetry.metrics" in sys.modules
    ):
        return False  # never configured, and nothing has set OpenTelemetry up
    try:
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    except ImportError:  # a broken or partial install: as if absent
        global _installed
        _installed = False
        return False
    return True


def _pipeline_observer(stages: Sequence[str]) -> Observer | None:
    """The observer that reports a pipeline run with ``stages``, or ``None`` when inactive."""
    if not _active():
        return None
    from ._otel_observer import PipelineTelemetry

    return PipelineTelemetry(stages)


def _flow_observer(workflow: str) -> Observer | None:
    """The observer that reports a flowkit run of ``workflow``, or ``None`` when inactive."""
    if not _active():
        return None
    from ._otel_observer import FlowTelemetry

    return FlowTelemetry(workflow)


def _call_tracer() -> CallTracer | None:
    """What wraps an executor's calls in ``antflow.executor.task`` spans, or ``None``."""
    if not _active():
        return None
    from ._otel_observer import CallTracer

    return CallTracer()
