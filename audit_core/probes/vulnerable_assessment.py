"""From per-stratum disparities to T6's flags, verdict, headline and findings.

Two signals per stratum, each the stratum's figure minus the whole cohort's, with a
one-sided bootstrap p-value for "the stratum fares worse": membership (the LOSS AUC) and
sensitive disclosure (members' minus non-members' T2 AUROC). Each signal's p-values are
adjusted across strata (Benjamini-Hochberg). With R of m strata at q <= the plan's false
discovery rate Q, a stratum is flagged exactly when its p-value is at most R Q / m, so the
bound printed for it is the one-sided lower confidence bound at 1 - R Q / m read off the
same bootstrap draws (the false-coverage-rate adjusted level of Benjamini and Yekutieli,
"False Discovery Rate-Adjusted Multiple Confidence Intervals for Selected Parameters",
JASA 2005): it lies above 0 exactly for the flagged strata. With R = 0 the level is Q / m,
the least a single flag would have needed. The q column of the report is the q-value that
was compared with Q, per signal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit_core.probes.base import Headline
from audit_core.probes.membership_strata import RARE_CODES
from audit_core.results.figures import (
    format_auc,
    format_count,
    format_gap,
    format_general,
    format_p_value,
    format_percent,
    format_share,
)
from audit_core.results.verdicts import Verdict
from audit_core.stats.disparity import lower_bound
from audit_core.stats.multiple_testing import benjamini_hochberg

# (row key, the signal's name in the report)
SIGNALS = (("auc_disparity", "membership"), ("disclosure_gap_disparity", "disclosure"))
HEADLINE_LABEL = "Strata at higher risk than the whole cohort"


def flag_strata(rows: list[dict[str, Any]], draws: dict[str, list[np.ndarray | None]],
                fdr: float) -> dict[str, float | None]:
    """Sets, per row and signal, `{key}_q_value`, `{key}_lower_bound` and `{key}_flagged`,
    and `at_risk` / `at_risk_by`; returns each signal's one-sided confidence (None: no
    stratum tested). `draws[key][i]`: row i's bootstrap differences (None: not tested)."""
    confidence: dict[str, float | None] = {}
    for key, _name in SIGNALS:
        tested = [(i, d) for i, (r, d) in enumerate(zip(rows, draws[key], strict=True))
                  if r.get(f"{key}_p_value") is not None and d is not None]
        q_values = benjamini_hochberg([rows[i][f"{key}_p_value"] for i, _ in tested])
        rejected = sum(q <= fdr for q in q_values)
        level = max(rejected, 1) * fdr / max(len(tested), 1)
        confidence[key] = 1.0 - level if tested else None
        for row in rows:
            row[f"{key}_q_value"] = row[f"{key}_lower_bound"] = None
            row[f"{key}_flagged"] = False
        for (i, draw), q in zip(tested, q_values):
            bound = lower_bound(draw, level)
            rows[i][f"{key}_q_value"], rows[i][f"{key}_lower_bound"] = q, bound
            # Both hold together by construction; requiring both keeps a flag from ever
            # standing next to a printed bound at or below 0 (floating-point edges).
            rows[i][f"{key}_flagged"] = q <= fdr and bound is not None and bound > 0
    for row in rows:
        row["at_risk_by"] = [name for key, name in SIGNALS if row[f"{key}_flagged"]]
        row["at_risk"] = bool(row["at_risk_by"])
    return confidence


def stratum_name(row: dict[str, Any]) -> str:
    return row["value"] if row["column"] in (RARE_CODES, "age", "sensitive_diagnosis") else (
        f"{row['column']} = {row['value']}")


def _why(row: dict[str, Any]) -> str:
    """The figures that flagged the stratum: disparity, its lower bound, and q."""
    parts = []
    for key, name in SIGNALS:
        if row[f"{key}_flagged"]:
            what = "membership AUC" if name == "membership" else "sensitive-disclosure gap"
            parts.append(f"{what} {format_gap(row[key])} above the cohort, lower bound "
                         f"{format_gap(row[f'{key}_lower_bound'])}, q = "
                         f"{format_p_value(row[f'{key}_q_value'])}")
    return "; ".join(parts)


def _strongest(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row with the strongest evidence: the highest membership lower bound among the
    flagged (or, with none flagged, among all tested), disclosure failing that."""
    for key, _name in SIGNALS:
        ranked = [r for r in rows if r[f"{key}_lower_bound"] is not None]
        flagged = [r for r in ranked if r[f"{key}_flagged"]]
        pool = flagged or (ranked if not any(r["at_risk"] for r in rows) else [])
        if pool:
            return max(pool, key=lambda r: (r[f"{key}_lower_bound"], r[key]))
    return None


def vulnerable_outcome(rows: list[dict[str, Any]], confidence: dict[str, float | None],
                       overall_auc: float, overall_gap: float, sizes: tuple[int, int],
                       t: Any) -> tuple[Verdict, Headline, dict[str, Any], list[str]]:
    shown = [r for r in rows if not r["suppressed"]]
    tested = [r for r in shown if any(r[f"{key}_q_value"] is not None for key, _ in SIGNALS)]
    at_risk = [r for r in shown if r["at_risk"]]
    top = _strongest(shown)
    metrics: dict[str, Any] = {
        "n_members": sizes[0], "n_non_members": sizes[1], "auc": overall_auc,
        "disclosure_gap": overall_gap if np.isfinite(overall_gap) else None,
        "strata": len(rows), "strata_suppressed": len(rows) - len(shown),
        "strata_tested": len(tested), "strata_at_risk": len(at_risk),
        **{f"strata_at_risk_{name}": sum(r[f"{key}_flagged"] for r in shown) for key, name in SIGNALS},
        **{f"{key}_bound_confidence": confidence[key] for key, _ in SIGNALS},
        "most_at_risk_auc_disparity": top["auc_disparity"] if top else None,
        "most_at_risk_auc_disparity_lower_bound": top["auc_disparity_lower_bound"] if top else None,
    }
    findings = [f"{format_share(len(shown), len(rows))} strata shown"
                + (f" ({format_count(len(rows) - len(shown))} suppressed by the small-cell rule: "
                   f"a count below {format_count(t.min_cell)}, or one that would reveal it)"
                   if len(rows) > len(shown) else "")
                + f"; whole cohort: membership AUC {format_auc(overall_auc)}"
                + (f", sensitive-disclosure AUROC gap (members minus non-members) {format_gap(overall_gap)}."
                   if np.isfinite(overall_gap) else "; no sensitive category to test disclosure.")]
    rule = "; ".join(f"{name}: {format_share(sum(r[f'{key}_flagged'] for r in shown), sum(r[f'{key}_q_value'] is not None for r in shown))} "
                     f"strata, bound at {format_percent(confidence[key], 1)}"
                     for key, name in SIGNALS if confidence[key] is not None)
    if rule:
        findings.append(f"A stratum is at higher risk when the Benjamini-Hochberg q-value of a disparity "
                        f"is at most {format_general(t.subgroup_fdr)}, which is when its one-sided lower "
                        f"confidence bound at the matching level lies above 0 ({rule}).")
    if at_risk:
        findings.append("At higher risk than the whole cohort: "
                        + "; ".join(f"{stratum_name(r)} ({_why(r)})" for r in at_risk) + ".")
    elif tested:
        largest = ""
        if top is not None and top["auc_disparity_lower_bound"] is not None:
            largest = (f"; largest membership disparity: {stratum_name(top)}, "
                       f"{format_gap(top['auc_disparity'])} (lower bound "
                       f"{format_gap(top['auc_disparity_lower_bound'])})")
        findings.append(f"No stratum fares worse than the whole cohort: no lower bound lies above 0"
                        f"{largest}.")
    if not shown:
        verdict = Verdict.INCONCLUSIVE
        findings.append("Every stratum is too small to show.")
    elif not tested:
        verdict = Verdict.INCONCLUSIVE
        findings.append("No stratum could be compared with the whole cohort.")
    elif any(r["auc_ci"][0] > t.fail_auc_lower for r in at_risk if r["auc_disparity_flagged"]):
        verdict = Verdict.FAIL
    else:
        verdict = Verdict.WARN if at_risk else Verdict.PASS
    return verdict, _headline(at_risk, tested, top), metrics, findings


def _headline(at_risk: list[dict[str, Any]], tested: list[dict[str, Any]],
              top: dict[str, Any] | None) -> Headline:
    if not tested:
        text = "no stratum large enough to compare with the whole cohort"
    elif at_risk and top is not None:
        text = (f"{format_share(len(at_risk), len(tested))} strata at higher risk; strongest: "
                f"{stratum_name(top)} ({_why(top)})")
    else:
        text = f"{format_share(0, len(tested))} strata at higher risk: no lower bound above 0"
        if top is not None and top["auc_disparity_lower_bound"] is not None:
            text += (f"; largest membership disparity {stratum_name(top)} "
                     f"{format_gap(top['auc_disparity'])} (lower bound "
                     f"{format_gap(top['auc_disparity_lower_bound'])})")
    return Headline(label=HEADLINE_LABEL, value=float(len(at_risk)), text=text)
