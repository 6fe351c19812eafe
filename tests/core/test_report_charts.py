"""Forest plots and T5's outcome bars: one geometry for the PDF and the app, and a chart for
every probe of the demo in the report (issue 16: every probe's result is a picture)."""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from audit_core.report.pdf import interval_drawing as interval_module
from audit_core.report.pdf import stacked_drawing as stacked_module
from audit_core.report.pdf.figures import chart_drawing
from audit_core.report.sections.chart_geometry import (
    interval_geometry,
    label_column,
    nice_ticks,
    stacked_bar_geometry,
)
from audit_core.report.sections.elements import (
    Interval,
    IntervalChart,
    StackedBar,
    StackedBarChart,
)
from audit_core.report.sections.probe_charts import outcome_chart
from audit_core.report.sections.probe_evidence import probe_figure


def forest(*rows: Interval, reference: float | None = 0.0) -> IntervalChart:
    return IntervalChart(title="t", rows=rows, caption="c", x_label="Gap", reference=reference,
                         reference_label="no difference" if reference is not None else "")


def test_the_forest_axis_spans_every_interval_and_the_reference_on_round_ticks() -> None:
    chart = forest(Interval("Start token", 0.03, -0.008, 0.063),
                   Interval("First 20 codes", -0.198, -0.297, -0.096, flagged=True),
                   Interval("First 50 codes", -0.12, -0.338, 0.082))
    g = interval_geometry(chart)
    assert g is not None
    assert [t.label for t in g.ticks] == ["−0.4", "−0.2", "0", "0.2"]  # a true minus, a plain 0
    assert (g.low, g.high) == (-0.4, 0.2)
    assert g.ticks[0].position == 0.0 and g.ticks[-1].position == pytest.approx(1.0)
    assert g.reference == pytest.approx(0.4 / 0.6)
    assert g.x_title == "Gap (dashed: no difference)"
    first, second, third = g.rows
    # Rows spread from the top down, each at the centre of its band.
    assert [r.y for r in g.rows] == pytest.approx([5 / 6, 1 / 2, 1 / 6])
    assert second.flagged and not first.flagged
    assert second.point == pytest.approx((-0.198 + 0.4) / 0.6)
    assert second.bar == pytest.approx(((-0.297 + 0.4) / 0.6, (-0.096 + 0.4) / 0.6))
    assert all(0.0 <= x <= 1.0 for r in g.rows for x in (r.point, *r.caps))


def test_a_one_sided_bound_is_drawn_from_the_bound_to_the_estimate() -> None:
    g = interval_geometry(forest(Interval("HIV carriers", 0.033, 0.028, None, flagged=True)))
    assert g is not None
    row = g.rows[0]
    assert len(row.caps) == 1 and row.bar == pytest.approx((row.caps[0], row.point))


def test_a_forest_without_any_value_has_no_geometry_and_one_value_gets_a_unit_axis() -> None:
    assert interval_geometry(forest(reference=None)) is None
    g = interval_geometry(forest(Interval("only", 0.5), reference=None))
    assert g is not None and g.low <= 0.0 and g.high >= 1.0 and g.reference is None


def test_one_nice_ticks_serves_both_axes() -> None:
    assert nice_ticks(-0.338, 0.082, enclose=True) == [-0.4, -0.2, 0.0, 0.2]  # encloses the range
    assert nice_ticks(-0.338, 0.082) == [-0.2, 0.0]  # inside the range
    assert label_column(500.0, 400.0) == pytest.approx(180.0)  # never more than 45% of the width
    assert label_column(60.0, 400.0) == pytest.approx(68.0)


def test_the_pdf_draws_forest_plots_and_outcome_bars_from_the_shared_geometry() -> None:
    # Regression: interval_drawing.py once computed its own layout with its own nice_ticks.
    for module in (interval_module, stacked_module):
        source = inspect.getsource(module)
        assert "def nice_ticks" not in source and "nice_ticks(" not in source
    assert interval_module.interval_geometry is interval_geometry
    assert stacked_module.stacked_bar_geometry is stacked_bar_geometry
    from reportlab.graphics.shapes import String

    chart = forest(Interval("Members", 27.0, 21.0, 33.7), Interval("Non-members", 5.5, 2.8, 9.6), reference=None)
    drawn = [s.text for s in chart_drawing(chart, 400, "Helvetica").contents if isinstance(s, String)]
    g = interval_geometry(chart)
    assert g is not None and [t.label for t in g.ticks] == [t for t in drawn if t in {t.label for t in g.ticks}]


T5_METRICS = {"patient_specific_signals_members": 1, "patient_specific_signals_non_members": 0,
              "population_signals_members": 4, "population_signals_non_members": 0,
              "no_signal_signals_members": 2, "no_signal_signals_non_members": 5}


def test_t5_gets_outcome_bars_from_the_counts_it_stores() -> None:
    probe = {"family": "perturbation", "metrics": T5_METRICS}
    chart = outcome_chart(probe)
    assert chart is not None
    assert chart.parts == ("Patient-specific", "Population pattern", "Below the signal threshold")
    assert chart.tones[0] == "alert"
    assert [(b.label, b.counts) for b in chart.bars] == [("Members", (1, 4, 2)), ("Non-members", (0, 0, 5))]
    figure = probe_figure(probe, "T5")
    assert figure is not None and figure.charts == (chart,)
    # Without its counts (an older results.json, an errored probe) there is nothing to draw.
    assert outcome_chart({"family": "perturbation", "metrics": {}}) is None
    assert outcome_chart({"family": "trajectory", "metrics": T5_METRICS}) is None


def test_outcome_bars_share_one_count_axis_with_whole_ticks() -> None:
    chart = outcome_chart({"family": "perturbation", "metrics": T5_METRICS})
    assert chart is not None
    g = stacked_bar_geometry(chart)
    assert g is not None
    assert [t.label for t in g.ticks] == ["0", "2", "4", "6", "8"] and g.maximum == 8
    members, non_members = g.rows
    assert members.label == "Members (7)" and non_members.label == "Non-members (5)"
    assert [(s.x0, s.x1, s.label) for s in members.segments] == [(0, 1 / 8, "1"), (1 / 8, 5 / 8, "4"),
                                                                 (5 / 8, 7 / 8, "2")]
    assert [s.label for s in non_members.segments] == ["", "", "5"]  # an empty part prints nothing
    one = StackedBarChart(title="t", parts=("a", "b"), tones=("alert", "quiet"), caption="", x_label="n",
                          bars=(StackedBar("Members", (1, 0)),))
    g1 = stacked_bar_geometry(one)
    assert g1 is not None and [t.label for t in g1.ticks] == ["0", "1"]  # no half patients
    empty = StackedBarChart(title="t", parts=("a",), tones=("main",), caption="", x_label="n",
                            bars=(StackedBar("Members", (0,)),))
    assert stacked_bar_geometry(empty) is None
    with pytest.raises(ValueError):
        StackedBarChart(title="t", parts=("a",), tones=("main",), caption="", x_label="n",
                        bars=(StackedBar("Members", (1, 2)),))


def test_every_probe_of_the_demo_has_a_figure_and_the_pdf_draws_t5(demo_outputs: Path) -> None:
    results = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    for probe in results["probes"]:
        assert probe_figure(probe, probe["title"]) is not None, probe["id"]
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", str(demo_outputs / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    section = text[text.index("Probe id: perturbation"):]
    for words in ("a memory of one patient, or a population pattern", "Patient-specific",
                  "Population pattern", "Below the signal threshold", "Members (", "Non-members ("):
        assert words in section[:3000], words
