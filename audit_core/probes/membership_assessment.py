"""The statistics and verdict shared by every membership-inference probe.

Given one score per member and per non-member, it reports AUC with a bootstrap interval,
TPR at 1% and 0.1% FPR with Clopper-Pearson intervals, an epsilon lower bound at the
primary FPR, and the verdict under the plan's membership thresholds.
"""

from __future__ import annotations

import numpy as np

from audit_core.data.cohort import Role
from audit_core.probes.base import Headline, ProbeOutcome
from audit_core.stats.intervals import bootstrap_auc, clopper_pearson, epsilon_lower_bound
from audit_core.stats.roc import auc, operating_point, roc_curve, score_histogram, thin_curve
from audit_core.verdicts import MembershipThresholds, Verdict

REPORTED_FPRS = {"1pct": 0.01, "0.1pct": 0.001}


def assess_membership(members: np.ndarray, non_members: np.ndarray,
                      thresholds: MembershipThresholds, rng: np.random.Generator,
                      attack: str) -> ProbeOutcome:
    n1, n0 = len(members), len(non_members)
    value = auc(members, non_members)
    low, high = bootstrap_auc(members, non_members, rng)
    metrics: dict[str, object] = {"n_members": n1, "n_non_members": n0,
                                  "auc": value, "auc_ci": [low, high]}
    findings = [f"{attack} separates members from non-members with AUC {value:.3f} "
                f"(95% CI {low:.3f}-{high:.3f}; {n1} members, {n0} non-members)."]

    for name, fpr in REPORTED_FPRS.items():
        key = f"tpr_at_{name}_fpr"
        if n0 * fpr < 1:
            metrics[key] = None
            metrics[f"{key}_ci"] = None
            findings.append(f"TPR at {fpr:.1%} FPR is not resolvable with {n0} non-members "
                            f"(needs at least {int(np.ceil(1 / fpr))}).")
            continue
        point = operating_point(members, non_members, fpr)
        metrics[key] = point.tpr
        metrics[f"{key}_ci"] = list(clopper_pearson(point.true_positives, n1))

    primary = operating_point(members, non_members, thresholds.primary_fpr)
    epsilon = epsilon_lower_bound(primary.true_positives, n1, primary.false_positives, n0)
    powered = n0 * thresholds.primary_fpr >= thresholds.min_expected_false_positives
    metrics.update({
        "primary_fpr": thresholds.primary_fpr,
        "tpr_at_primary_fpr": primary.tpr,
        "tpr_at_primary_fpr_ci": list(clopper_pearson(primary.true_positives, n1)),
        "fpr_observed": primary.fpr,
        "epsilon_lower_bound": epsilon,
        "powered": powered,
    })
    findings.append(f"At {thresholds.primary_fpr:.1%} FPR the attack identifies {primary.tpr:.1%} "
                    f"of members ({primary.true_positives} of {n1}); this implies a "
                    f"differential-privacy epsilon of at least {epsilon:.2f}.")

    verdict = _membership_verdict(low, epsilon, powered, thresholds)
    if verdict is Verdict.INCONCLUSIVE:
        needed = int(np.ceil(thresholds.min_expected_false_positives / thresholds.primary_fpr))
        findings.append(f"No leakage was shown, but {n0} non-members cannot resolve "
                        f"{thresholds.primary_fpr:.1%} FPR (PASS needs at least {needed}).")
    fpr_curve, tpr_curve = thin_curve(*roc_curve(members, non_members))
    return ProbeOutcome(
        verdict=verdict,
        headline=Headline(label="AUC", value=value, text=f"AUC {value:.3f} ({low:.3f}-{high:.3f})"),
        metrics=metrics, findings=tuple(findings),
        scores={Role.MEMBERS: members, Role.NON_MEMBERS: non_members},
        curves={"roc": {"fpr": fpr_curve, "tpr": tpr_curve},
                "histogram": score_histogram(members, non_members)},
    )


def _membership_verdict(auc_low: float, epsilon: float, powered: bool,
                        t: MembershipThresholds) -> Verdict:
    if auc_low > t.fail_auc_lower or epsilon > t.fail_epsilon:
        return Verdict.FAIL
    if auc_low > t.warn_auc_lower or epsilon > t.warn_epsilon:
        return Verdict.WARN
    return Verdict.PASS if powered else Verdict.INCONCLUSIVE


def mean_of_lowest(values: np.ndarray, fraction: float) -> float:
    """Mean of the lowest `fraction` of values (at least one): the Min-K% aggregate."""
    count = max(1, int(np.ceil(len(values) * fraction)))
    return float(np.partition(values, count - 1)[:count].mean())
