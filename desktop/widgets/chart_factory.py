"""One probe's charts as desktop widgets, from the very function that gives the PDF its
figure (`probe_evidence.probe_figure`): a ROC curve and score histogram for a probe that
scores records, a forest plot of the intervals a verdict rests on, or T5's outcome bars."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from audit_core.report.sections import elements as el
from audit_core.report.sections.probe_evidence import probe_figure
from desktop.widgets.charts import RocChart, ScoreHistogram
from desktop.widgets.interval_chart import ForestPlot, OutcomeBars


def chart_widget(chart: el.Chart) -> QWidget:
    match chart:
        case el.RocChart():
            return RocChart(chart)
        case el.HistogramChart():
            return ScoreHistogram(chart)
        case el.IntervalChart():
            return ForestPlot(chart)
        case el.StackedBarChart():
            return OutcomeBars(chart)
    raise TypeError(f"the desktop has no widget for {type(chart).__name__}")


def chart_widgets(probe: Mapping[str, Any], title: str) -> list[QWidget]:
    """The probe's charts, as the PDF draws them; none when the results hold nothing to draw."""
    figure = probe_figure(probe, title)
    return [chart_widget(c) for c in figure.charts] if figure is not None else []
