"""antflow 0.10's public modules and names: each is importable from the same place on ours, and
the display classes, exceptions, helpers and version behave as documented in docs/api-modules.md.

The lists of 0.10's names are written here as literals (read from the published 0.10.0 source);
the published package is never imported.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import importlib.metadata
import io
import logging
import subprocess
import sys
import types
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from rich.console import Console

import antflow
from antflow import (
    AntFlowError,
    DashboardProtocol,
    DashboardSnapshot,
    ExecutorShutdownError,
    Pipeline,
    PipelineError,
    Stage,
    StageValidationError,
    TaskFailedError,
)
from antflow.display import (
    BaseDashboard,
    CompactDashboard,
    DetailedDashboard,
    FullDashboard,
    ProgressDisplay,
)
from antflow.utils import extract_exception, get_task_name, setup_logger

#: ``antflow.__all__`` of 0.10.0.
TOP_LEVEL_010 = [
    "__version__",
    "AsyncExecutor",
    "AsyncFuture",
    "AntFlowError",
    "DashboardProtocol",
    "DashboardSnapshot",
    "ErrorSummary",
    "ExecutorShutdownError",
    "FailedItem",
    "PipelineResult",
    "Pipeline",
    "PipelineBuilder",
    "PipelineError",
    "PipelineStats",
    "Stage",
    "StageValidationError",
    "StatusEvent",
    "StatusTracker",
    "StatusType",
    "TaskEvent",
    "TaskEventType",
    "TaskFailedError",
    "TaskFunc",
    "WaitStrategy",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
    "call_rate_has_capacity",
    "concurrency_limit",
    "rate_limit",
    "set_task_status",
    "install_fast_loop",
    "configure_telemetry",
    "telemetry_enabled",
]

#: What ``antflow`` exported before it took 0.10's names: still exported.
TOP_LEVEL_OURS = [
    "FutureCancelledError",
    "MapResult",
    "ResultStream",
]

#: The public names of each 0.10 module (those it defines, and those its users import from it).
MODULES_010 = {
    "antflow.types": [
        "TaskFunc",
        "StatusType",
        "WorkerStatus",
        "TaskEventType",
        "PipelineResult",
        "StageStats",
        "PipelineStats",
        "WorkerState",
        "WorkerMetrics",
        "TaskEvent",
        "DashboardSnapshot",
        "StatusEvent",
        "FailedItem",
        "ErrorSummary",
        "DashboardProtocol",
    ],
    "antflow.executor": ["AsyncExecutor", "AsyncFuture", "WaitStrategy", "ExecutorShutdownError"],
    "antflow.tracker": [
        "StatusTracker",
        "StatusEvent",
        "TaskEvent",
        "StatusType",
        "FailedItem",
        "ErrorSummary",
    ],
    "antflow.utils": ["extract_exception", "setup_logger", "get_task_name"],
    "antflow.exceptions": [
        "AntFlowError",
        "ExecutorShutdownError",
        "PipelineError",
        "StageValidationError",
        "TaskFailedError",
    ],
    "antflow.display": [
        "BaseDashboard",
        "CompactDashboard",
        "DetailedDashboard",
        "FullDashboard",
        "ProgressDisplay",
    ],
    "antflow.display.base": ["BaseDashboard"],
    "antflow.display.progress": ["ProgressDisplay"],
    "antflow.display.compact": ["CompactDashboard"],
    "antflow.display.detailed": ["DetailedDashboard"],
    "antflow.display.full": ["FullDashboard"],
    "antflow.pipeline": ["Pipeline", "PipelineBuilder", "Stage", "RendezvousChannel"],
    "antflow.telemetry": ["configure_telemetry", "is_enabled", "get_tracer", "get_meter"],
    "antflow.context": [
        "set_task_status",
        "get_worker_state",
        "concurrency_limit",
        "call_rate_has_capacity",
        "rate_limit",
    ],
}


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", list(MODULES_010))
def test_each_010_module_has_its_public_names(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in MODULES_010[module] if not hasattr(imported, name)]
    assert missing == []
    assert set(MODULES_010[module]) <= set(imported.__all__)


def test_the_top_level_has_010s_names_and_keeps_ours() -> None:
    wanted = TOP_LEVEL_010 + TOP_LEVEL_OURS
    assert [name for name in wanted if name not in antflow.__all__] == []
    assert [name for name in antflow.__all__ if not hasattr(antflow, name)] == []


@pytest.mark.parametrize("module", [m for m in MODULES_010 if not m.startswith("antflow.display")])
def test_the_public_modules_re_export_the_top_level_objects(module: str) -> None:
    imported = importlib.import_module(module)
    for name in MODULES_010[module]:
        if hasattr(antflow, name):
            assert getattr(imported, name) is getattr(antflow, name), name


def test_importing_the_public_modules_leaves_rich_out() -> None:
    code = (
        "import sys, antflow.types, antflow.executor, antflow.tracker, antflow.utils, "
        "antflow.exceptions, antflow.display; "
        "print(any(m == 'rich' or m.startswith('rich.') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_stage_stats_has_010s_fields() -> None:
    from antflow.types import StageStats

    stats = StageStats("A", 1, 2, 3, 4)
    assert (stats.stage_name, stats.pending_items, stats.in_progress_items) == ("A", 1, 2)
    assert (stats.completed_items, stats.failed_items) == (3, 4)


# -- the displays ----------------------------------------------------------------------------


async def fail_on_three(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    if x == 3:
        raise ValueError("three")
    return x * 2


def one_stage(workers: int = 2) -> Pipeline:
    return Pipeline([Stage("Double", workers=workers, tasks=[fail_on_three], task_attempts=1)])


def console(terminal: bool) -> Console:
    return Console(file=io.StringIO(), width=100, force_terminal=terminal)


def output(on: Console) -> str:
    file = on.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


#: Each display, built on a console, and text its final drawing shows.
DISPLAYS: dict[str, tuple[Any, list[str]]] = {
    "progress": (
        lambda c: ProgressDisplay(0, width=10, fill_char="#", empty_char="-", console=c),
        ["[##########] 100.0% | 6/6", "1 failed"],
    ),
    "compact": (lambda c: CompactDashboard(console=c), ["antflow · finished", "succeeded 5"]),
    "detailed": (lambda c: DetailedDashboard(console=c), ["Stages", "Double"]),
    "full": (lambda c: FullDashboard(console=c), ["Workers", "Double-W1", "ValueError"]),
}


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize("kind", list(DISPLAYS))
async def test_a_display_class_draws_a_pipeline_run(kind: str, terminal: bool) -> None:
    make, shown = DISPLAYS[kind]
    on = console(terminal)
    display: Any = make(on)
    results = await one_stage().run(
        range(6), custom_dashboard=display, dashboard_update_interval=0.001
    )
    assert sorted(r.value for r in results) == [0, 2, 4, 8, 10]
    text = output(on)
    assert [part for part in shown if part not in text] == []
    assert display.total == 6
    assert display.start_time is not None
    assert isinstance(display, DashboardProtocol)
    if terminal:
        assert text.endswith("\x1b[?25h")  # the live region was stopped: cursor shown again


async def test_progress_display_keeps_its_total_for_an_iterator() -> None:
    on = console(False)
    await one_stage().run(iter(range(6)), custom_dashboard=ProgressDisplay(6, console=on))
    assert "6/6" in output(on)
    on = console(False)
    await one_stage().run(iter(range(6)), custom_dashboard=ProgressDisplay(0, console=on))
    assert "6 items" in output(on)
    assert "%" not in output(on).splitlines()[-1]


async def test_full_dashboard_shows_at_most_max_items_shown_workers() -> None:
    on = console(False)
    await one_stage(workers=4).run(
        range(6), custom_dashboard=FullDashboard(max_items_shown=1, console=on)
    )
    assert "... 4 more" in output(on)  # at the end no worker is busy: none of the 4 shown
    on = console(False)
    await one_stage(workers=4).run(range(6), custom_dashboard=FullDashboard(console=on))
    assert "more" not in output(on)
    assert "Double-W3" in output(on)


class Printed(BaseDashboard):
    """A BaseDashboard that only implements render."""

    def __init__(self) -> None:
        self.rendered: list[DashboardSnapshot] = []

    def render(self, snapshot: DashboardSnapshot) -> None:
        self.rendered.append(snapshot)


async def test_base_dashboard_routes_updates_to_render() -> None:
    dashboard = Printed()
    await one_stage().run(range(6), custom_dashboard=dashboard, dashboard_update_interval=0.001)
    assert dashboard.rendered  # at least the final update
    final = dashboard.rendered[-1].pipeline_stats
    assert (final.items_processed, final.items_failed) == (5, 1)


def test_base_dashboard_needs_render() -> None:
    with pytest.raises(TypeError, match="render"):
        BaseDashboard()  # type: ignore[abstract]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: CompactDashboard(refresh_rate=0), ValueError, "refresh_rate"),
        (lambda: DetailedDashboard(refresh_rate="4"), TypeError, "refresh_rate"),  # type: ignore[arg-type]
        (lambda: FullDashboard(max_items_shown=0), ValueError, "max_items_shown"),
        (lambda: ProgressDisplay(10, width=0), ValueError, "width"),
        (lambda: ProgressDisplay(10, fill_char="##"), ValueError, "fill_char"),
        (lambda: ProgressDisplay(-1), ValueError, "total"),
        (lambda: CompactDashboard(console="stdout"), TypeError, "console"),  # type: ignore[arg-type]
    ],
)
def test_display_arguments_are_checked_at_construction(build: Any, error: Any, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_display_defaults_match_010() -> None:
    progress = ProgressDisplay(5)
    assert (progress.total, progress.width, progress.fill_char, progress.empty_char) == (
        5,
        30,
        "█",
        "░",
    )
    full = FullDashboard()
    assert (full.refresh_rate, full.max_items_shown) == (4.0, 20)
    assert CompactDashboard().refresh_rate == DetailedDashboard().refresh_rate == 4.0
    assert isinstance(full.console, Console)


# -- exceptions ------------------------------------------------------------------------------


def test_every_exception_derives_from_antflow_error() -> None:
    import antflow.exceptions as exceptions

    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), AntFlowError), name
    assert issubclass(StageValidationError, PipelineError)
    assert issubclass(StageValidationError, ValueError)
    assert issubclass(ExecutorShutdownError, RuntimeError)


def test_task_failed_error_takes_010s_arguments() -> None:
    boom = ConnectionError("boom")
    error = TaskFailedError("fetch", boom)
    assert str(error) == "Task 'fetch' failed: boom"
    assert error.task_name == "fetch"
    assert error.original_exception is boom
    assert error.error is boom
    assert error.__cause__ is boom
    assert (error.item_id, error.stage, error.attempts, error.failed_count) == (None, None, None, 1)


def test_task_failed_error_names_the_item_when_told() -> None:
    boom = ConnectionError("boom")
    error = TaskFailedError("fetch", boom, item_id=7, stage="Fetch", attempts=3, failed_count=2)
    assert str(error) == (
        "item 7 failed in stage 'Fetch': task 'fetch' raised ConnectionError: boom "
        "after 3 attempt(s) (1 more item(s) failed too)"
    )
    assert (error.item_id, error.stage, error.attempts) == (7, "Fetch", 3)


async def test_raise_for_failures_fills_010s_attributes() -> None:
    pipeline = one_stage()
    await pipeline.run(range(6))
    with pytest.raises(TaskFailedError) as info:
        pipeline.get_error_summary().raise_for_failures()
    assert info.value.task_name == "fail_on_three"
    assert isinstance(info.value.original_exception, ValueError)
    assert (info.value.item_id, info.value.stage, info.value.attempts) == (3, "Double", 1)


# -- install_fast_loop -----------------------------------------------------------------------


@pytest.fixture
def restore_loop_policy() -> Iterator[None]:
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


def running_loop_module() -> str:
    async def main() -> str:
        return type(asyncio.get_running_loop()).__module__

    return anyio.run(main, backend="asyncio")


@pytest.mark.usefixtures("restore_loop_policy")
def test_install_fast_loop_makes_asyncio_runs_use_uvloop() -> None:
    pytest.importorskip("uvloop")
    assert antflow.install_fast_loop() is True
    assert running_loop_module().startswith("uvloop")


@pytest.mark.usefixtures("restore_loop_policy")
def test_install_fast_loop_leaves_trio_runs_as_they_were() -> None:
    pytest.importorskip("trio")
    antflow.install_fast_loop()

    async def main() -> list[Any]:
        return [r.value for r in await one_stage().run(range(4))]

    assert anyio.run(main, backend="trio") == [0, 2, 4]


@pytest.mark.usefixtures("restore_loop_policy")
def test_install_fast_loop_does_nothing_without_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    monkeypatch.setattr(sys, "platform", "linux")
    before = asyncio.get_event_loop_policy()
    assert antflow.install_fast_loop() is False
    assert asyncio.get_event_loop_policy() is before


@pytest.mark.usefixtures("restore_loop_policy")
def test_install_fast_loop_uses_winloop_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    class Policy(asyncio.DefaultEventLoopPolicy):
        pass

    winloop = types.ModuleType("winloop")
    winloop.EventLoopPolicy = Policy  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "winloop", winloop)
    monkeypatch.setitem(sys.modules, "uvloop", None)
    monkeypatch.setattr(sys, "platform", "win32")
    assert antflow.install_fast_loop() is True
    assert isinstance(asyncio.get_event_loop_policy(), Policy)


# -- __version__ -----------------------------------------------------------------------------


def release(version: str) -> tuple[int, ...]:
    """The numeric release part of a version (``"1.0.0.dev0"`` -> ``(1, 0, 0)``)."""
    parts = []
    for part in version.split("+")[0].split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def test_version_is_the_installed_one_and_sorts_above_010() -> None:
    assert antflow.__version__ == importlib.metadata.version("antflow")
    try:
        from packaging.version import Version
    except ImportError:  # pragma: no cover - packaging is usually there
        assert release(antflow.__version__) > (0, 10, 0)
    else:
        assert Version(antflow.__version__) > Version("0.10.0")
        assert Version(antflow.__version__) > Version("0.10.99")


def test_version_of_a_source_tree_never_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert antflow._installed_version() == "0+unknown"


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        antflow.no_such_name  # type: ignore[attr-defined]  # noqa: B018


# -- utils -----------------------------------------------------------------------------------


class Attempt:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def exception(self) -> BaseException | None:
        return self.error


def fake_retry_error(last: BaseException | None) -> Exception:
    """An exception shaped like tenacity's RetryError, from a module named tenacity."""
    cls = type("RetryError", (Exception,), {"__module__": "tenacity"})
    error: Exception = cls("gave up")
    error.last_attempt = Attempt(last)  # type: ignore[attr-defined]
    return error


def test_extract_exception_unwraps_a_retry_error() -> None:
    boom = ValueError("boom")
    assert extract_exception(fake_retry_error(boom)) is boom


def test_extract_exception_unwraps_tenacitys_own_retry_error() -> None:
    tenacity = pytest.importorskip("tenacity")
    boom = ValueError("boom")
    future = tenacity.Future(1)
    future.set_exception(boom)
    assert extract_exception(tenacity.RetryError(future)) is boom


def test_extract_exception_returns_anything_else_unchanged() -> None:
    plain = KeyError("k")
    assert extract_exception(plain) is plain
    empty = fake_retry_error(None)
    assert extract_exception(empty) is empty
    cancelled = fake_retry_error(KeyboardInterrupt())
    assert extract_exception(cancelled) is cancelled
    broken = type("RetryError", (Exception,), {"__module__": "tenacity"})("no attempt")
    assert extract_exception(broken) is broken


def test_setup_logger_adds_one_handler_once() -> None:
    logger = logging.getLogger("antflow.tests.setup_logger")
    assert logger.handlers == []
    try:
        assert setup_logger(logger.name, logging.DEBUG) is logger
        assert len(logger.handlers) == 1
        assert logger.level == logging.DEBUG
        setup_logger(logger.name, logging.ERROR)
        assert len(logger.handlers) == 1
        assert logger.level == logging.DEBUG  # a logger with a handler is left as it is
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)


def test_get_task_name() -> None:
    class Wrapper:
        func = staticmethod(fail_on_three)

        def __call__(self, x: int) -> Any:
            return x

    assert get_task_name(fail_on_three) == "fail_on_three"
    assert get_task_name(functools.partial(functools.partial(fail_on_three))) == "fail_on_three"
    assert get_task_name(Wrapper()) == "fail_on_three"
    assert get_task_name(Printed()) == "Printed"
