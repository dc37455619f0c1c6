"""The benchmark report, on synthetic results: direction of each row, and noise told apart.

``python -m benchmarks`` takes minutes; these tests feed ``benchmarks._report`` records of the
shape the benchmark modules write and check what the table and the chart are built from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks._report import Row, Target, print_report, with_targets, write_chart


def _record(
    name: str,
    low: float,
    median: float,
    high: float,
    *,
    baseline: str = "no display",
    baseline_median: float = 100.0,
    higher_is_better: bool = True,
    unit: str = "items/s",
) -> dict[str, Any]:
    return {
        "workload": "100,000 no-op items",
        "backend": "asyncio",
        "name": name,
        "unit": unit,
        "min": low,
        "median": median,
        "max": high,
        "baseline": baseline,
        "baseline_median": baseline_median,
        "higher_is_better": higher_is_better,
    }


def _rows(*contenders: dict[str, Any], baseline: dict[str, Any]) -> list[Row]:
    return with_targets("dashboard_overhead", [baseline, *contenders])


def test_overlapping_repeats_are_within_noise_whatever_the_medians() -> None:
    # A display cannot make the run 1.39x faster: the baseline's repeats reach 160/s.
    (row,) = _rows(
        _record("dashboard='compact'", 120.0, 139.0, 150.0),
        baseline=_record("no display", 60.0, 100.0, 160.0),
    )
    assert row.ratio == pytest.approx(1.39)
    assert row.within_noise


def test_separate_repeats_are_a_result() -> None:
    (row,) = _rows(
        _record("dashboard='compact'", 70.0, 75.0, 80.0),
        baseline=_record("no display", 95.0, 100.0, 105.0),
    )
    assert not row.within_noise
    assert row.met is False  # the target is at most 10% slower


def test_the_baselines_spread_comes_from_its_own_record() -> None:
    (row,) = _rows(
        _record("progress=True", 90.0, 95.0, 98.0),
        baseline=_record("no display", 97.0, 100.0, 103.0),
    )
    assert (row.baseline_minimum, row.baseline_maximum) == (97.0, 103.0)
    assert row.within_noise


def test_without_a_baseline_record_its_median_is_the_bound() -> None:
    # dag_makespan's baseline is the critical path: computed, not measured, so no spread.
    (row,) = with_targets(
        "dag_makespan",
        [
            _record(
                "flowkit DAG",
                0.44,
                0.45,
                0.46,
                baseline="critical path",
                baseline_median=0.40,
                higher_is_better=False,
                unit="s",
            )
        ],
    )
    assert row.baseline_minimum is None
    assert not row.within_noise
    assert row.met is False  # at most 5% above the critical path


def test_lower_is_better_rows_are_inverted_onto_the_better_axis() -> None:
    row = Row(
        "dag_makespan",
        "3 chains",
        "trio",
        "flowkit DAG",
        "s",
        0.48,
        0.5,
        0.52,
        "critical path",
        0.4,
        higher_is_better=False,
        target=Target(ratio_max=1.05),
    )
    assert row.direction == "lower is better"
    assert row.ratio == pytest.approx(1.25)
    assert row.better == pytest.approx(0.8)  # 25% slower: behind the baseline
    assert row.target_better == pytest.approx(1 / 1.05)


def test_higher_is_better_rows_keep_their_ratio() -> None:
    (row,) = with_targets(
        "executor_throughput",
        [
            _record("AsyncExecutor.map", 70.0, 80.0, 90.0, baseline="hand-written pool"),
            _record("hand-written pool", 95.0, 100.0, 110.0, baseline="hand-written pool"),
        ],
    )
    assert row.direction == "higher is better"
    assert row.better == pytest.approx(0.8)
    assert row.target_better == pytest.approx(0.6)


def test_the_table_marks_noise(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(
        _record("dashboard='compact'", 90.0, 139.0, 150.0),
        _record("dashboard='full'", 70.0, 75.0, 80.0),
        baseline=_record("no display", 95.0, 100.0, 105.0),
    )
    print_report(rows)
    out = capsys.readouterr().out
    assert "≈ 1.39x" in out
    assert "≈ 0.75x" not in out
    assert "0.75x" in out


def test_the_chart_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the chart needs the bench extra (matplotlib)")
    rows = _rows(
        _record("dashboard='compact'", 120.0, 139.0, 150.0),
        _record("dashboard='full'", 70.0, 75.0, 80.0),
        baseline=_record("no display", 95.0, 100.0, 105.0),
    )
    chart = tmp_path / "chart.png"
    write_chart(rows, chart)
    assert chart.read_bytes().startswith(b"\x89PNG")
