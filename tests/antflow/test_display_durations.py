"""The one time format of every display: units by size, times left rounded up."""

from __future__ import annotations

import math

import pytest

from antflow import DashboardSnapshot, ErrorSummary, PipelineStats
from antflow._durations import format_seconds
from antflow._progress import RunView, eta

from ._monitoring import sample_snapshot


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.72, "720 ms"),
        (0.0042, "4.2 ms"),
        (1.0, "1.0 s"),
        (59.9, "59.9 s"),
        (65.4, "0:01:05"),
        (3600.0, "1:00:00"),
        (0.0, "0 s"),
        (-2.0, "0 s"),
        (math.inf, "--:--:--"),
    ],
)
def test_an_elapsed_time_is_rounded_to_the_nearest_in_a_unit_that_suits_it(
    seconds: float, shown: str
) -> None:
    assert format_seconds(seconds) == shown


@pytest.mark.parametrize(
    ("left", "shown"),
    [
        (0.3, "300 ms"),
        (1.0, "1.0 s"),
        (0.95, "950 ms"),
        (0.9996, "1.0 s"),
        (1.1, "1.1 s"),  # 1.1 * 10 is 11.000000000000002: still 11 tenths
        (59.91, "0:01:00"),
        (65.4, "0:01:06"),
        (3600.0, "1:00:00"),
        (1e-7, "0.1 ms"),
    ],
)
def test_a_time_left_is_rounded_up(left: float, shown: str) -> None:
    assert format_seconds(left, round_up=True) == shown


def test_a_second_left_never_shows_as_zero() -> None:
    # 5 items left at 5 items/s
    view = RunView("Fetch", total=10, elapsed=1.0, rate=5.0)
    assert eta(sample_snapshot(), view) == "ETA 1.0 s"


def test_a_third_of_a_second_left_shows_in_ms() -> None:
    view = RunView("Fetch", total=10, elapsed=1.0, rate=5 / 0.3)
    assert eta(sample_snapshot(), view) == "ETA 300 ms"


def test_a_sub_second_run_says_how_long_it_took() -> None:
    snapshot = DashboardSnapshot({}, {}, PipelineStats(items_processed=5), ErrorSummary(), 0.0)
    view = RunView("Fetch", total=5, elapsed=0.72, rate=5.0, finished=True)
    assert eta(snapshot, view) == "took 720 ms"
