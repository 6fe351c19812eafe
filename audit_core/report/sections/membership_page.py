"""One section for every membership-inference attack together (LOSS, zlib, Min-K%,
Min-K%++, reference and RMIA when run): one table, one row per attack, and their ROC
curves overlaid on log-log axes, as LeakPro and the membership literature present them
(Carlini et al. 2022: TPR at 10%, 1% and 0.1% FPR, with AUC beside them).

The attacks answer the same question on the same records, so their prose was the same
four times over; what differs between them is a few numbers, and those sit side by side
here. Every figure is formatted by metrics.format_metric, from the results alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from audit_core.families import Family

from .elements import (
    Align,
    Block,
    Cell,
    Figure,
    OperatingPoint,
    Paragraph,
    RocChart,
    RocSeries,
    Section,
    Table,
    TextStyle,
)
from .key_figures import interval, meaning_for_patient, number
from .metrics import format_metric
from .probe_evidence import histogram_chart
from .values import as_list, as_mapping, as_text, format_count, format_percent, is_number
from .verdicts import ERROR, probe_verdict, verdict_badge

# (metric, FPR, label) of the columns, LeakPro's three operating points.
OPERATING_POINTS = (("tpr_at_10pct_fpr", 0.1, "10%"), ("tpr_at_1pct_fpr", 0.01, "1%"),
                    ("tpr_at_0.1pct_fpr", 0.001, "0.1%"))
# Marks on the strongest attack's curve, with their intervals.
MARKED = (("tpr_at_1pct_fpr", 0.01, "1% FPR"), ("tpr_at_0.1pct_fpr", 0.001, "0.1% FPR"))
# Metrics this section prints; the appendix lists the rest (each figure once).
SHOWN = frozenset({
    "n_members", "n_non_members", "auc", "tpr_at_10pct_fpr", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr",
    "held_out_tpr", "held_out_fpr", "epsilon_lower_bound", "primary_fpr", "resolvable_fpr",
})
BELOW_RESOLUTION = "†"


def fpr_label(fpr: float) -> str:
    """An operating point's FPR with as few decimals as it has: 10%, 1%, 0.1%."""
    percent = 100 * fpr
    decimals = 0 if percent >= 1 else max(1, -math.floor(math.log10(percent) + 1e-9))
    return format_percent(fpr, decimals)


def is_membership(probe: Mapping[str, Any]) -> bool:
    return probe.get("family") == Family.MEMBERSHIP


def short_name(probe: Mapping[str, Any]) -> str:
    """"LOSS membership inference" -> "LOSS": the page already says what they infer."""
    title = as_text(probe.get("title"), as_text(probe.get("id")))
    return re.sub(r"\s*membership inference", "", title, flags=re.IGNORECASE).strip() or title


def strongest(probes: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The attack with the highest AUC (the first on a tie); None when none has one."""
    scored = [p for p in probes if number(as_mapping(p.get("metrics")), "auc") is not None]
    return max(scored, key=lambda p: number(as_mapping(p.get("metrics")), "auc") or 0.0, default=None)


def membership_section(probes: Sequence[Mapping[str, Any]], number_text: str) -> Section:
    best = strongest(probes)
    blocks: list[Block] = [Paragraph(
        "Can someone holding the model tell whether a patient's record was in its training set?",
        TextStyle.LEAD)]
    blocks.append(_table(probes))
    charts = [c for c in (_roc_overlay(probes, best), _best_histogram(best)) if c is not None]
    if charts:
        blocks.append(Figure(tuple(charts)))
    if best is not None:
        meaning = meaning_for_patient(best)
        if meaning:
            blocks.append(Paragraph(f"Strongest attack, {short_name(best)}. {meaning}", TextStyle.BODY))
    blocks += _alerts(probes)
    return Section(key="membership", title=f"{number_text} Membership inference", blocks=tuple(blocks),
                   new_page=False, keep_together=True)


def _table(probes: Sequence[Mapping[str, Any]]) -> Table:
    metrics = [as_mapping(p.get("metrics")) for p in probes]
    stated = [fpr for fpr in (number(m, "primary_fpr") for m in metrics) if fpr]
    primary = stated[0] if stated else 0.01
    counts = {_n(m) for m in metrics}
    shared_n = len(counts) == 1
    header = ["Attack", "AUC (95% CI)", *(f"TPR at {label} FPR" for _, _, label in OPERATING_POINTS),
              f"Held out at {fpr_label(primary)} FPR: TPR, observed FPR", "ε lower bound", "Verdict"]
    widths = [0.12, 0.13, 0.13, 0.13, 0.13, 0.16, 0.08, 0.12]
    if not shared_n:
        header.insert(1, "n (members / non-members)")
        widths = [0.11, 0.1, 0.11, 0.11, 0.11, 0.11, 0.15, 0.08, 0.12]
    rows: list[tuple[Cell, ...]] = []
    for probe, m in zip(probes, metrics):
        verdict = probe_verdict(probe)
        if verdict == ERROR:
            figures = ["not assessed"] + [""] * 5
        else:
            figures = [format_metric("auc", m.get("auc"), m.get("auc_ci")),
                       *(_tpr_cell(m, name, fpr) for name, fpr, _ in OPERATING_POINTS),
                       _held_out(m), format_metric("epsilon_lower_bound", m.get("epsilon_lower_bound"))
                       if "epsilon_lower_bound" in m else "—"]
        row: list[Cell] = [short_name(probe), *figures, verdict_badge(verdict, probe.get("verdict"))]
        if not shared_n:
            row.insert(1, _n(m) or "—")
        rows.append(tuple(row))
    return Table(header=tuple(header), rows=tuple(rows), widths=tuple(widths),
                 align=(Align.LEFT,) + (Align.RIGHT,) * (len(header) - 2) + (Align.CENTER,),
                 caption=_caption(metrics, shared_n, primary,
                                  marked=any(BELOW_RESOLUTION in str(c) for r in rows for c in r)))


def _n(metrics: Mapping[str, Any]) -> str:
    members, non = metrics.get("n_members"), metrics.get("n_non_members")
    if is_number(members) and is_number(non):
        return f"{format_count(members)} / {format_count(non)}"
    return ""


def _tpr_cell(metrics: Mapping[str, Any], name: str, fpr: float) -> str:
    if name not in metrics:
        return "—"  # results written before this operating point was reported
    shown = format_metric(name, metrics.get(name), metrics.get(name + "_ci"))
    resolvable = number(metrics, "resolvable_fpr")
    if metrics.get(name) is not None and resolvable is not None and fpr < resolvable - 1e-12:
        value, _, bounds = shown.partition(" ")  # the mark on the figure, not on its interval
        shown = f"{value}{BELOW_RESOLUTION} {bounds}".strip()
    return shown


def _held_out(metrics: Mapping[str, Any]) -> str:
    if "held_out_tpr" not in metrics:
        return "not held out"
    tpr = format_metric("held_out_tpr", metrics.get("held_out_tpr"), metrics.get("held_out_tpr_ci"))
    fpr = metrics.get("held_out_fpr")
    return f"{tpr} at {format_metric('held_out_fpr', fpr)}" if is_number(fpr) else tpr


def _caption(metrics: Sequence[Mapping[str, Any]], shared_n: bool, primary: float, marked: bool) -> str:
    parts = []
    if shared_n and metrics and _n(metrics[0]):
        parts.append(f"n = {_n(metrics[0])} (members / non-members) behind every figure.")
    parts.append("TPR: the share of members an attack flags when it flags that share (FPR) of "
                 "non-members. Held out: threshold set on half of the non-members, judged on the other "
                 "half; the verdict reads these.")
    resolvable = sorted({fpr for fpr in (number(m, "resolvable_fpr") for m in metrics) if fpr is not None})
    if marked and resolvable:
        parts.append(f"{BELOW_RESOLUTION} Below the smallest FPR these cohorts resolve "
                     f"({format_percent(resolvable[0])}): indicative only.")
    parts.append("Not resolvable: too few non-members for that FPR.")
    return " ".join(parts)


def _roc_overlay(probes: Sequence[Mapping[str, Any]], best: Mapping[str, Any] | None) -> RocChart | None:
    series = []
    for probe in probes:
        roc = as_mapping(as_mapping(probe.get("curves")).get("roc"))
        points = [(x, y) for x, y in zip(as_list(roc.get("fpr")), as_list(roc.get("tpr")))
                  if is_number(x) and is_number(y)]
        if len(points) >= 2:
            series.append(RocSeries(short_name(probe), tuple(p[0] for p in points), tuple(p[1] for p in points)))
    if not series:
        return None
    marks = []
    if best is not None:
        metrics = as_mapping(best.get("metrics"))
        for name, rate, label in MARKED:
            value = number(metrics, name)
            if value is not None:
                marks.append(OperatingPoint(label, rate, value, *(interval(metrics, name) or (None, None))))
    marked = f" Squares: {short_name(best)} at 1% and 0.1% FPR, with 95% intervals." if marks and best else ""
    return RocChart(title="ROC curves (log-log)", series=tuple(series), points=tuple(marks),
                    caption=f"Log-log axes show the low false-positive rates that matter; dashed: chance.{marked}")


def _best_histogram(best: Mapping[str, Any] | None):
    if best is None:
        return None
    chart = histogram_chart(best)
    if chart is None:
        return None
    return type(chart)(title=f"Score distributions, {short_name(best)}", edges=chart.edges,
                       members=chart.members, non_members=chart.non_members, x_label=chart.x_label,
                       caption=f"{short_name(best)}, the attack with the highest AUC: share of each "
                               "cohort per score bin; the less they overlap, the better it tells them apart.")


def _alerts(probes: Sequence[Mapping[str, Any]]) -> list[Block]:
    blocks: list[Block] = []
    for probe in probes:
        if probe_verdict(probe) == ERROR:
            blocks.append(Paragraph(
                f"{short_name(probe)}: not assessed. The attack stopped with an error, so it gives "
                f"no evidence either way. Error: {as_text(probe.get('error'))}", TextStyle.ALERT))
    unreliable = [short_name(p) for p in probes if p.get("reliable") is False]
    if unreliable:
        blocks.append(Paragraph(
            f"Not reliable ({', '.join(unreliable)}): members and non-members differ without the "
            "model (see Split validity), so these results cannot be credited to the model.",
            TextStyle.ALERT))
    return blocks
