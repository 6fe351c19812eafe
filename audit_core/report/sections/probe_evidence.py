"""The charts of a probe's section (compliance.md 6.8): a log-log ROC curve with its
operating points and the score histograms for a probe that scores records; a forest plot
of the intervals a probe's verdict rests on, or T5's outcome bars, for the others
(probe_charts.py). The desktop app draws the same specs (`probe_figure`), so the two never
disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family

from .clinical_meaning import clinical_meaning
from .elements import (
    Block,
    Chart,
    Figure,
    HistogramChart,
    OperatingPoint,
    Paragraph,
    RocChart,
    RocSeries,
    TextStyle,
)
from .key_figures import interval, metrics_of, number
from .metrics import format_metric
from .probe_charts import interval_chart, outcome_chart
from .values import as_list, as_mapping, as_text, format_percent, is_number

OPERATING_POINTS = (("tpr_at_1pct_fpr", 0.01, "1% FPR"), ("tpr_at_0.1pct_fpr", 0.001, "0.1% FPR"))


def probe_figure(probe: Mapping[str, Any], title: str) -> Figure | None:
    charts: list[Chart] = [c for c in (roc_chart(probe, title), histogram_chart(probe)) if c is not None]
    if not charts:
        other = interval_chart(probe) or outcome_chart(probe)
        charts = [other] if other is not None else []
    return Figure(tuple(charts)) if charts else None


def roc_chart(probe: Mapping[str, Any], title: str) -> RocChart | None:
    roc = as_mapping(as_mapping(probe.get("curves")).get("roc"))
    fpr, tpr = as_list(roc.get("fpr")), as_list(roc.get("tpr"))
    points = [(x, y) for x, y in zip(fpr, tpr) if is_number(x) and is_number(y)]
    if len(points) < 2:
        return None
    metrics = metrics_of(probe)
    marks = []
    for name, rate, label in OPERATING_POINTS:
        value = number(metrics, name)
        if value is not None:
            bounds = interval(metrics, name)
            marks.append(OperatingPoint(label, rate, value, *(bounds or (None, None))))
    if marks:
        key = "; ".join(f"TPR {format_percent(m.tpr)} at {m.label}" for m in marks)
    else:
        key = as_text(as_mapping(probe.get("headline")).get("text"), "")
    auc = metrics.get("auc")
    auc_text = f"AUC {format_metric('auc', auc, metrics.get('auc_ci'))}. " if is_number(auc) else ""
    caption = (f"{key}. {auc_text}" if key else auc_text) + (
        "Log-log axes; dashed: chance" + ("; bars: 95% intervals at the operating points." if marks else "."))
    return RocChart(
        title="ROC curve (log-log)",
        series=(RocSeries(label=title, fpr=tuple(p[0] for p in points), tpr=tuple(p[1] for p in points)),),
        caption=caption,
        points=tuple(marks),
    )


def histogram_chart(probe: Mapping[str, Any]) -> HistogramChart | None:
    histogram = as_mapping(as_mapping(probe.get("curves")).get("histogram"))
    edges = [e for e in as_list(histogram.get("edges")) if is_number(e)]
    members = [m for m in as_list(histogram.get("members")) if is_number(m)]
    non_members = [m for m in as_list(histogram.get("non_members")) if is_number(m)]
    if len(edges) < 2 or len(members) != len(edges) - 1 or len(non_members) != len(edges) - 1:
        return None
    auc = metrics_of(probe).get("auc")
    separation = (f"The distributions overlap less the better the attack: AUC "
                  f"{format_metric('auc', auc)}. " if is_number(auc) else "")
    x_label = "Share of the continuation reproduced" if probe.get("family") == Family.EXTRACTION else \
        "Attack score (higher = more member-like)"
    return HistogramChart(
        title="Score distributions",
        edges=tuple(float(e) for e in edges),
        members=tuple(float(m) for m in members),
        non_members=tuple(float(m) for m in non_members),
        caption=separation + "Bars: share of each cohort per score bin; no individual record is shown.",
        x_label=x_label,
    )


def meaning_blocks(probe: Mapping[str, Any], verdict: str) -> list[Block]:
    """What a T2 or T6 PASS or INCONCLUSIVE means for a patient, in words that follow the
    intervals behind it (clinical_meaning.py): such a PASS covers only what could be
    assessed. Other results speak through their findings, and the front pages say what each
    means for patients, once."""
    meaning = clinical_meaning(probe, verdict)
    return [Paragraph(meaning, TextStyle.BODY)] if meaning else []
