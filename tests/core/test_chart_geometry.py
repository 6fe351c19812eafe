"""The chart geometry the app and the PDF share: log axes, ticks, clipping, bars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_core.report.sections.chart_geometry import (
    LogAxis,
    histogram_geometry,
    interpolated_curve,
    nice_ticks,
    roc_geometry,
    tick_label,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_log_axis_maps_decades_evenly_and_clips_zero_to_the_floor() -> None:
    axis = LogAxis(1e-3)
    assert axis.position(1e-3) == pytest.approx(0.0)
    assert axis.position(1e-2) == pytest.approx(1 / 3)
    assert axis.position(1.0) == pytest.approx(1.0)
    assert axis.position(0.0) == 0.0  # a zero rate sits on the axis
    assert axis.position(5.0) == 1.0
    majors = [t for t in axis.ticks() if t.major]
    assert [t.label for t in majors] == ["0.001", "0.01", "0.1", "1"]
    minors = [t for t in axis.ticks() if not t.major]
    assert len(minors) == 3 * 8 and all(t.label == "" for t in minors)
    assert tick_label(0.0001) == "0.0001"


def test_roc_geometry_stays_in_the_unit_square_and_marks_only_measured_points() -> None:
    geometry = roc_geometry([0.0, 0.001, 0.01, 0.2, 1.0], [0.0, 0.3, 0.5, 0.9, 1.0])
    assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y in geometry.curve)
    xs = [x for x, _ in geometry.curve]
    assert xs == sorted(xs)
    assert geometry.curve[-1] == (1.0, 1.0)
    assert len(geometry.markers) == 4  # (0, 0) cannot be shown on a log axis
    assert geometry.chance == ((0.0, 0.0), (1.0, 1.0))


def test_interpolation_follows_the_straight_roc_segment_in_linear_space() -> None:
    curve = interpolated_curve([0.0, 1.0], [0.0, 1.0], 1e-3)
    # Between the endpoints the chance line stays TPR = FPR at every added point.
    assert all(y == pytest.approx(x) for x, y in curve)
    assert len(curve) > 40  # 3 decades at 16 points each


def test_dense_curves_get_no_markers() -> None:
    n = 200
    fpr = [i / n for i in range(n + 1)]
    assert roc_geometry(fpr, fpr).markers == ()


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0.0, 1.0, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(-5.3, -0.2, 5) == [-4.0, -2.0]
    assert nice_ticks(1.0, 1.0) == [1.0]


def test_histogram_bars_share_edges_and_fit_under_the_top_tick() -> None:
    geometry = histogram_geometry([0.0, 0.5, 1.0, 1.5], [0.1, 0.3, 0.6], [0.7, 0.2, 0.1])
    assert geometry is not None
    assert [(b.x0, b.x1) for b in geometry.members] == [(b.x0, b.x1) for b in geometry.non_members]
    assert geometry.members[0].x0 == 0.0 and geometry.members[-1].x1 == 1.0
    assert max(b.height for b in (*geometry.members, *geometry.non_members)) <= 1.0
    assert geometry.y_ticks[0].label == "0%" and geometry.y_ticks[-1].position == pytest.approx(1.0)
    assert geometry.y_max >= 0.7
    assert histogram_geometry([], [], []) is None
    assert histogram_geometry([0.0, 1.0], [1.0, 0.0], [1.0]) is None


def test_every_curve_of_the_demo_results_has_geometry() -> None:
    results = json.loads((FIXTURES / "results_demo.json").read_text())
    for probe in results["probes"]:
        roc = probe["curves"]["roc"]
        assert roc_geometry(roc["fpr"], roc["tpr"]).curve
        hist = probe["curves"]["histogram"]
        assert histogram_geometry(hist["edges"], hist["members"], hist["non_members"]) is not None
