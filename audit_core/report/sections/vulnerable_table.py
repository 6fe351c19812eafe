"""The vulnerable-subgroups (T6) table: per stratum, the two disparities against the whole
cohort, each with the lower bound and the q-value its flag was decided on.

A stratum is AT RISK exactly when a disparity's q-value is at most the plan's false
discovery rate, which is exactly when the one-sided lower bound printed next to it lies
above 0 (`probes.vulnerable_assessment`); the table prints those two figures and names
the signal that flagged, so nothing the reader sees contradicts the flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family
from audit_core.results.figures import format_count_pair, format_gap, format_general, format_percent

from .elements import Align, Badge, Table
from .metrics import format_metric
from .small_cells import counts, min_cell, rule
from .values import MISSING, as_list, as_mapping, as_text, format_p_value, humanize, is_number

# (row key, column title, the signal's name in `at_risk_by`, its word in the flag column)
SIGNALS = (("auc_disparity", "AUC − cohort", "membership", "AUC"),
           ("disclosure_gap_disparity", "Disclosure gap − cohort", "disclosure", "GAP"))


def is_vulnerable_probe(probe: Mapping[str, Any]) -> bool:
    return probe.get("family") == Family.SUBGROUPS


def _disparity(value: Any, bound: Any) -> str:
    if not is_number(value):
        return MISSING
    return f"{format_gap(value)} (≥ {format_gap(bound)})" if is_number(bound) else format_gap(value)


def _q(value: Any) -> str:
    return format_p_value(value) if is_number(value) else MISSING


def _stratum(group: Mapping[str, Any]) -> str:
    column, value = as_text(group.get("column")), as_text(group.get("value"))
    if column in ("rare_codes", "age", "sensitive_diagnosis"):
        return value[:1].upper() + value[1:]
    return f"{humanize(column)} {value}"


def _flag(group: Mapping[str, Any]) -> Any:
    by = [word for _key, _title, name, word in SIGNALS if name in as_list(group.get("at_risk_by"))]
    if group.get("at_risk") is not True or not by:
        return ""
    return Badge("fail", "BOTH" if len(by) > 1 else by[0])


def vulnerable_table(probe: Mapping[str, Any]) -> Table:
    metrics = as_mapping(probe.get("metrics"))
    smallest = min_cell(probe)
    rows = []
    for group in map(as_mapping, as_list(probe.get("subgroups"))):
        if group.get("suppressed") is True:
            rows.append((_stratum(group), counts(group, smallest), "suppressed", "", "", "", "", ""))
            continue
        rows.append((
            _stratum(group),
            format_count_pair(group.get("n_members"), group.get("n_non_members")),
            format_metric("auc", group.get("auc"), group.get("auc_ci")),
            *(cell for key, _title, _name, _word in SIGNALS
              for cell in (_disparity(group.get(key), group.get(f"{key}_lower_bound")),
                           _q(group.get(f"{key}_q_value")))),
            _flag(group),
        ))
    header = ("Stratum", "n (M / N)", "AUC (95% CI)",
              *(h for _key, title, _name, _word in SIGNALS for h in (f"{title} (≥ lower bound)", "q")),
              "Flagged by")
    return Table(header=header, rows=tuple(rows),
                 widths=(0.17, 0.1, 0.14, 0.15, 0.08, 0.15, 0.08, 0.13),
                 align=(Align.LEFT,) + (Align.RIGHT,) * 6 + (Align.CENTER,),
                 caption=_caption(metrics, as_mapping(probe.get("thresholds"))) + " " + rule(smallest))


def _caption(metrics: Mapping[str, Any], thresholds: Mapping[str, Any]) -> str:
    fdr = thresholds.get("subgroup_fdr")
    levels = [f"{name} {format_percent(metrics[f'{key}_bound_confidence'], 1)}" for key, _title, name, _word in SIGNALS
              if is_number(metrics.get(f"{key}_bound_confidence"))]
    return ("M / N: members / non-members. Disparity: the stratum's figure minus the whole cohort's "
            "(membership AUC; members' minus non-members' sensitive-disclosure AUROC). ≥: its one-sided lower confidence bound at the "
            "level matching the Benjamini–Hochberg adjustment across strata"
            + (f" ({'; '.join(levels)})" if levels else "")
            + ". q: that signal's Benjamini–Hochberg q-value. Flagged by: the signal (AUC: membership; GAP: "
              "sensitive disclosure; BOTH) whose q is at most "
            + (format_general(fdr) if is_number(fdr) else "the plan's false discovery rate")
            + ", which is exactly when its lower bound lies above 0.")
