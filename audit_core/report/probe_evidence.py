"""The evidence blocks of a probe's section: the key figures with their method and
resolution, the charts (log-log ROC with operating points, score histograms), what the
result means for a patient, the mitigation when it is not a PASS, and the thresholds with
the source of each (compliance.md 6.8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .clinical_meaning import clinical_meaning
from .elements import (
    Align,
    Block,
    BulletList,
    Code,
    Figure,
    Heading,
    HistogramChart,
    OperatingPoint,
    Paragraph,
    RocChart,
    RocSeries,
    Table,
    TextStyle,
)
from .families import THRESHOLD_ANCHORS, family_of
from .key_figures import interval, meaning_for_patient, metrics_of, number, primary_figure, smallest_resolvable_fpr
from .metrics import format_metric
from .values import as_list, as_mapping, as_text, format_count, format_general, format_percent, humanize, is_number
from .verdicts import ERROR

CI_METHODS = {
    "tpr_at_primary_fpr": "Clopper–Pearson exact, 95%",
    "tpr_at_1pct_fpr": "Clopper–Pearson exact, 95%",
    "extraction_rate_members": "Clopper–Pearson exact, 95%",
}
OPERATING_POINTS = (("tpr_at_1pct_fpr", 0.01, "1% FPR"), ("tpr_at_0.1pct_fpr", 0.001, "0.1% FPR"))


def key_figure_blocks(probe: Mapping[str, Any]) -> list[Block]:
    metrics = metrics_of(probe)
    figure = primary_figure(probe)
    if figure is None:
        return []
    rows: list[tuple[Any, ...]] = [("Data (members / non-members)", figure.n or "not recorded")]
    method = next((m for k, m in CI_METHODS.items() if k in metrics), "as recorded by the engine")
    rows.append(("Primary metric", f"{figure.label}: {figure.value} ({method})"))
    secondary = [
        f"{label} {format_metric(name, metrics.get(name), metrics.get(name + '_ci'))}"
        for name, label in (("auc", "AUC"), ("membership_advantage", "advantage"),
                            ("epsilon_lower_bound", "ε_lb"), ("p_value", "Fisher p"))
        if name in metrics
    ]
    if secondary:
        rows.append(("Secondary metrics", "; ".join(secondary)))
    non_members = metrics.get("n_non_members", metrics.get("eligible_non_members"))
    # A false-positive rate to resolve exists only where non-members are scored as
    # candidates (membership and extraction); T5 examines a handful of flagged patients.
    resolvable = (smallest_resolvable_fpr(non_members)
                  if probe.get("family") in ("membership", "extraction") else None)
    if resolvable is not None:
        primary = number(metrics, "primary_fpr")
        verdict = ""
        if primary is not None:
            verdict = (" — the primary FPR is resolvable" if primary >= resolvable
                       else " — the primary FPR is NOT resolvable with these data")
        rows.append(("Smallest resolvable FPR", f"{format_percent(resolvable)} with "
                                                f"{format_count(non_members)} non-members{verdict}"))
    return [Heading("Key figures", 3), Table(header=(), rows=tuple(rows), widths=(0.26, 0.74), key_value=True)]


def probe_figure(probe: Mapping[str, Any], title: str) -> Figure | None:
    charts = [c for c in (roc_chart(probe, title), histogram_chart(probe)) if c is not None]
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
        "Log-log axes; dashed: chance; bars: 95% intervals at the operating points.")
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
    x_label = "Share of the continuation reproduced" if probe.get("family") == "extraction" else \
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
    if verdict == ERROR:
        return []
    family = family_of(probe)
    blocks: list[Block] = [Heading("What this means for a patient", 3)]
    # T2 and T6 word a PASS by the intervals behind it (clinical_meaning); others generically.
    meaning = clinical_meaning(probe, verdict) or (family.patient if verdict in ("fail", "warn") else (
        "No signal above the warning threshold was found: by these attacks, a training patient "
        "cannot be told from a non-member better than the thresholds allow."
        if verdict == "pass" else
        "The data could not resolve the threshold: nothing can yet be said either way."))
    posterior = meaning_for_patient(probe)
    blocks.append(Paragraph(meaning + (f" {posterior}" if posterior else ""), TextStyle.BODY))
    if verdict != "pass":
        blocks += [Heading("Recommended mitigation", 3), BulletList(family.mitigations)]
    return blocks


def threshold_blocks(probe: Mapping[str, Any]) -> list[Block]:
    thresholds = as_mapping(probe.get("thresholds"))
    heading = Heading("Thresholds that set the verdict", 3)
    if not thresholds:
        return [heading, Paragraph("No thresholds were recorded for this verdict.", TextStyle.NOTE)]
    meta = {str(m.get("name")): as_mapping(m) for m in map(as_mapping, as_list(probe.get("thresholds_meta")))}
    rows = []
    for name, value in thresholds.items():
        info = meta.get(str(name), {})
        anchor = as_text(info.get("anchor"), THRESHOLD_ANCHORS.get(str(name), "product default"))
        rows.append((as_text(info.get("label"), humanize(str(name))), Code(str(name)),
                     format_general(value), anchor))
    return [
        heading,
        Table(
            header=("Threshold", "Plan key", "Value", "Source"),
            rows=tuple(rows),
            widths=(0.26, 0.28, 0.08, 0.38),
            align=(Align.LEFT, Align.LEFT, Align.RIGHT, Align.LEFT),
        ),
    ]
