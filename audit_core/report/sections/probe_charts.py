"""Forest plots for the probes that do not score records one by one: the intervals their
verdicts rest on, drawn against the line that means "no difference" (compliance.md 6.8:
attribute inference as member against non-member figures with their intervals).

* trajectory reconstruction (T1): the members' minus non-members' distance to the true
  future, per attacker-knowledge tier;
* sensitive attributes (T2): the members' minus non-members' AUROC, per category and tier;
* re-identification: the share of generated records that single out a member, and a
  non-member (the control);
* sensitive attributes in hidden states (T3): the members' minus non-members' AUROC of a
  probe on the model's hidden states, per category;
* vulnerable subgroups (T6): each stratum's membership AUC minus the whole cohort's;
* patient-specific memories (T5, `outcome_chart`): not intervals but counts, each cohort's
  sensitive signals split into a memory of one patient, a population pattern, or below
  the signal threshold, members against the non-member control.

Read only from the columns the probes store; a probe without them has no chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family

from .elements import Interval, IntervalChart, StackedBar, StackedBarChart
from .elicitation_table import elicitation_chart
from .values import as_list, as_mapping, as_text, humanize, is_number

CATEGORY_PREFIX = "category:"
GAP_PREFIX = "auc_gap_"


def tier_name(known: Any) -> str:
    if not is_number(known):
        return "—"
    value = int(known)
    return {-1: "Start token", 0: "Demographics"}.get(value, f"First {value} codes")


def _value(values: list[Any], index: int) -> float | None:
    if index < len(values) and is_number(values[index]):
        return float(values[index])
    return None


def _rows(table: Mapping[str, Any], label: Any) -> list[Interval]:
    """One interval per row of a column table with gap, gap_low and gap_high."""
    gaps, lows, highs = (as_list(table.get(k)) for k in ("gap", "gap_low", "gap_high"))
    rows = []
    for index, known in enumerate(as_list(table.get("known_tokens"))):
        value = _value(gaps, index)
        if value is None:
            continue
        low, high = _value(lows, index), _value(highs, index)
        rows.append(Interval(label(known), value, low, high))
    return rows


def interval_chart(probe: Mapping[str, Any]) -> IntervalChart | None:
    family = probe.get("family")
    curves = as_mapping(probe.get("curves"))
    if family == Family.TRAJECTORY:
        return _trajectory(as_mapping(curves.get("tiers")))
    if family == Family.ATTRIBUTE:
        return _attribute(curves)
    if family == Family.REIDENTIFICATION:
        return _reidentification(as_mapping(probe.get("metrics")))
    if family == Family.SUBGROUPS:
        return _strata([as_mapping(g) for g in as_list(probe.get("subgroups"))])
    if family == Family.IDENTIFIERS:
        return elicitation_chart(probe)
    if family == Family.EMBEDDING:
        return _hidden_states(as_mapping(probe.get("metrics")), as_mapping(probe.get("thresholds")))
    return None


def _trajectory(tiers: Mapping[str, Any]) -> IntervalChart | None:
    rows = [Interval(r.label, r.value, r.low, r.high, flagged=r.high is not None and r.high < 0)
            for r in _rows(tiers, tier_name)]
    if not rows:
        return None
    return IntervalChart(
        title="Members' futures against non-members', by what the attacker knows",
        rows=tuple(rows), reference=0.0, reference_label="no difference",
        x_label="Distance to the true future, members − non-members",
        caption="Below 0: members' sampled futures are closer to their true future than "
                "non-members' are to theirs, i.e. the model remembers them. Bars: 95% intervals; "
                "red: the interval lies wholly below 0.")


def _attribute(curves: Mapping[str, Any]) -> IntervalChart | None:
    rows = []
    for key, table in curves.items():
        if not str(key).startswith(CATEGORY_PREFIX):
            continue
        label = str(key)[len(CATEGORY_PREFIX):].split(":", 1)[-1]
        for row in _rows(as_mapping(table), tier_name):
            rows.append(Interval(f"{label}, {row.label.lower()}", row.value, row.low, row.high,
                                 flagged=row.low is not None and row.low > 0))
    if not rows:
        return None
    return IntervalChart(
        title="Sensitive categories: members against non-members",
        rows=tuple(rows), reference=0.0, reference_label="no difference",
        x_label="AUROC gap, members − non-members",
        caption="Above 0: the model brings a removed sensitive category back more readily for "
                "training patients than for patients it never saw. Only categories and tiers with "
                "enough carriers to estimate are drawn. Bars: simultaneous 95% intervals over every "
                "category and tier compared (Bonferroni), the ones the verdict reads; red: wholly "
                "above 0.")


def _reidentification(metrics: Mapping[str, Any]) -> IntervalChart | None:
    rows = []
    for name, label in (("singling_out_rate_members", "Members"),
                        ("singling_out_rate_non_members", "Non-members (control)")):
        value = metrics.get(name)
        if not is_number(value):
            continue
        bounds = [b for b in as_list(metrics.get(name + "_ci")) if is_number(b)]
        low, high = (bounds if len(bounds) == 2 else (None, None))
        rows.append(Interval(label, 100 * float(value), None if low is None else 100 * low,
                             None if high is None else 100 * high, flagged=label == "Members"))
    if len(rows) < 2:
        return None
    return IntervalChart(
        title="Generated records that single out one patient",
        rows=tuple(rows), x_label="Share of generated records (%)",
        caption="The share of generated records whose quasi-identifiers match exactly one member, "
                "against exactly one non-member: what chance alone gives. Bars: 95% intervals.")


def _strata(groups: list[Mapping[str, Any]]) -> IntervalChart | None:
    rows = []
    for group in groups:
        value = group.get("auc_disparity")
        if group.get("suppressed") is True or not is_number(value):
            continue
        # The one-sided lower bound the flag was decided on; results written before it
        # carry a two-sided interval instead.
        bounds = [b for b in as_list(group.get("auc_disparity_ci")) if is_number(b)]
        low, high = (bounds if len(bounds) == 2 else (None, None))
        if is_number(group.get("auc_disparity_lower_bound")):
            low, high = float(group["auc_disparity_lower_bound"]), None
        flagged = "membership" in as_list(group.get("at_risk_by")) if "at_risk_by" in group \
            else group.get("at_risk") is True
        rows.append(Interval(as_text(group.get("value")), float(value), low, high, flagged=flagged))
    if not rows:
        return None
    return IntervalChart(
        title="Membership AUC by stratum, against the whole cohort",
        rows=tuple(rows), reference=0.0, reference_label="the whole cohort",
        x_label="Membership AUC, stratum − whole cohort",
        caption="Right of 0: membership is easier to detect in the stratum than in the cohort as a "
                "whole. Bars reach down to the lower confidence bound the flag was decided on; red: "
                "flagged by membership AUC (its bound lies above 0). Suppressed strata are not drawn.")


def _hidden_states(metrics: Mapping[str, Any], thresholds: Mapping[str, Any]) -> IntervalChart | None:
    alpha = thresholds.get("alpha")
    rows = []
    for name, value in metrics.items():
        if not name.startswith(GAP_PREFIX) or name.endswith("_ci") or not is_number(value):
            continue
        key = name[len(GAP_PREFIX):]
        bounds = [b for b in as_list(metrics.get(name + "_ci")) if is_number(b)]
        low, high = bounds if len(bounds) == 2 else (None, None)
        q = metrics.get(f"q_value_{key}")
        rows.append(Interval(humanize(key), float(value), low, high,
                             flagged=is_number(q) and is_number(alpha) and q <= alpha))
    if not rows:
        return None
    return IntervalChart(
        title="Sensitive categories read from the hidden states",
        rows=tuple(rows), reference=0.0, reference_label="no difference",
        x_label="AUROC gap, members − non-members",
        caption="Above 0: a classifier on the model's hidden states reads the category more easily "
                "for training patients than for patients the model never saw. Bars: 95% intervals; "
                "red: significant after Benjamini–Hochberg adjustment.")


OUTCOMES = (("patient_specific", "Patient-specific", "alert"), ("population", "Population pattern", "main"),
            ("no_signal", "Below the signal threshold", "quiet"))


def outcome_chart(probe: Mapping[str, Any]) -> StackedBarChart | None:
    """T5: what the perturbations showed for each sensitive signal examined, per cohort."""
    if probe.get("family") != Family.PERTURBATION:
        return None
    metrics = as_mapping(probe.get("metrics"))
    bars = []
    for role, label in (("members", "Members"), ("non_members", "Non-members")):
        counts = [c for key, _, _ in OUTCOMES if is_number(c := metrics.get(f"{key}_signals_{role}"))]
        if len(counts) < len(OUTCOMES):
            return None
        bars.append(StackedBar(label, tuple(int(c) for c in counts)))
    return StackedBarChart(
        title="Sensitive signals: a memory of one patient, or a population pattern",
        parts=tuple(name for _, name, _ in OUTCOMES), tones=tuple(tone for _, _, tone in OUTCOMES),
        bars=tuple(bars), x_label="Sensitive signals examined (one per patient and category)",
        caption="Each examined patient's signal for a sensitive category they carry. Patient-specific: "
                "it collapsed when one of the patient's own details (age, visit timing, a rare code) "
                "was changed, a memory of that one person. Population pattern: it held. Below the "
                "signal threshold: too weak at the true prompt to examine. Non-members are the "
                "control: what the model does for patients it never saw.")
