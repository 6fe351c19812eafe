"""The statistics and verdict shared by every membership-inference probe.

Given one score per member and per non-member, it reports AUC with a bootstrap interval,
TPR at 10%, 1% and 0.1% FPR with Clopper-Pearson intervals, the membership advantage (Yeom et
al. 2018), and at the primary FPR a threshold chosen on a calibration split and judged on
held-out records: the non-members are cut in two random halves, each half sets the
threshold that the other half (and half of the members) is judged at, and the two
held-out halves are pooled ("cross-fitting"), so every record is judged once at a
threshold it did not help choose. The verdict reads the held-out figures: the epsilon
lower bound (Jagielski et al. 2020), and from it the likelihood ratio and the posterior
probability of membership at the plan's prior. Per subgroup and for rare-code carriers
the same figures come from `membership_strata`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families.membership import MembershipThresholds
from audit_core.probes.base import Headline, ProbeContext, ProbeOutcome
from audit_core.probes.membership_strata import (
    assess_strata,
    membership_strata,
    strata_findings,
)
from audit_core.results.figures import (
    format_auc,
    format_count,
    format_epsilon,
    format_fpr,
    format_interval,
    format_measure,
    format_percent,
    format_share,
)
from audit_core.results.verdicts import Verdict
from audit_core.stats.intervals import (
    bootstrap_advantage,
    bootstrap_auc,
    clopper_pearson,
    epsilon_lower_bound,
    posterior_membership,
)
from audit_core.stats.roc import (
    auc,
    membership_advantage,
    operating_point,
    roc_curve,
    score_histogram,
    thin_curve,
)

# LeakPro's and Carlini et al. 2022's operating points: 10%, 1% and 0.1% FPR.
REPORTED_FPRS = {"10pct": 0.1, "1pct": 0.01, "0.1pct": 0.001}
REFERENCE_FREE = "reference-free"
REFERENCE_CALIBRATED = "reference-calibrated"


@dataclass(frozen=True, slots=True)
class HeldOut:
    """Cross-fitted operating point: counts pooled over the two held-out halves."""

    true_positives: int
    members: int
    false_positives: int
    non_members: int
    calibration_false_positives: int  # in-sample, on the halves that set the thresholds
    flagged_members: np.ndarray  # per record: above the threshold it was judged at
    flagged_non_members: np.ndarray


def held_out_operating_point(members: np.ndarray, non_members: np.ndarray, target_fpr: float,
                             rng: np.random.Generator) -> HeldOut | None:
    if len(non_members) < 2 or len(members) < 2:
        return None
    halves_n = np.array_split(rng.permutation(len(non_members)), 2)
    halves_m = np.array_split(rng.permutation(len(members)), 2)
    flagged_m = np.zeros(len(members), dtype=bool)
    flagged_n = np.zeros(len(non_members), dtype=bool)
    calibration_fp = 0
    for calibration, judged in ((0, 1), (1, 0)):
        point = operating_point(members[halves_m[judged]], non_members[halves_n[calibration]],
                                target_fpr)
        calibration_fp += point.false_positives
        flagged_m[halves_m[judged]] = members[halves_m[judged]] > point.threshold
        flagged_n[halves_n[judged]] = non_members[halves_n[judged]] > point.threshold
    return HeldOut(int(flagged_m.sum()), len(members), int(flagged_n.sum()), len(non_members),
                   calibration_fp, flagged_m, flagged_n)


def assess_membership(members: np.ndarray, non_members: np.ndarray, ctx: ProbeContext,
                      attack: str, strength: str = REFERENCE_FREE) -> ProbeOutcome:
    thresholds = ctx.thresholds_of(MembershipThresholds)
    rng = ctx.rng
    n1, n0 = len(members), len(non_members)
    # The scores come from the shared pass; what is left is statistics (bootstraps first).
    ctx.progress.advance(0.0, "AUC and bootstrap intervals")
    value = auc(members, non_members)
    low, high = bootstrap_auc(members, non_members, rng)
    ctx.progress.advance(0.5, "TPR at low FPR and subgroups")
    metrics: dict[str, object] = {"n_members": n1, "n_non_members": n0,
                                  "auc": value, "auc_ci": [low, high]}
    findings = [f"{attack} separates members from non-members with AUC {format_auc(value)} "
                f"(95% CI {format_interval((low, high))}; {format_count(n1)} members, "
                f"{format_count(n0)} non-members; {strength} attack)."]

    for name, fpr in REPORTED_FPRS.items():
        key = f"tpr_at_{name}_fpr"
        if n0 * fpr < 1:
            metrics[key] = None
            metrics[f"{key}_ci"] = None
            findings.append(f"TPR at {format_fpr(fpr)} FPR is not resolvable with "
                            f"{format_count(n0)} non-members: fewer than one false positive is "
                            "expected at that rate.")
            continue
        point = operating_point(members, non_members, fpr)
        metrics[key] = point.tpr
        metrics[f"{key}_ci"] = list(clopper_pearson(point.true_positives, n1))

    advantage = membership_advantage(members, non_members)
    metrics["membership_advantage"] = advantage
    metrics["membership_advantage_ci"] = list(bootstrap_advantage(members, non_members, rng))

    primary = operating_point(members, non_members, thresholds.primary_fpr)
    powered = n0 * thresholds.primary_fpr >= thresholds.min_expected_false_positives
    in_sample_epsilon = epsilon_lower_bound(primary.true_positives, n1, primary.false_positives, n0)
    metrics.update({
        "primary_fpr": thresholds.primary_fpr,
        "tpr_at_primary_fpr": primary.tpr,
        "tpr_at_primary_fpr_ci": list(clopper_pearson(primary.true_positives, n1)),
        "fpr_observed": primary.fpr,
        "resolvable_fpr": min(1.0, thresholds.min_expected_false_positives / n0),
        "powered": powered,
        # Non-members the primary FPR needs for a PASS (the INCONCLUSIVE advice).
        "non_members_needed": int(np.ceil(thresholds.min_expected_false_positives
                                          / thresholds.primary_fpr)),
        # Training patients the attack singles out at the primary FPR (held out, below,
        # when the cohorts allow a calibration split).
        "members_flagged": primary.true_positives,
    })
    held = held_out_operating_point(members, non_members, thresholds.primary_fpr, rng)
    epsilon = in_sample_epsilon if held is None else _held_out_metrics(held, thresholds, metrics)
    metrics["epsilon_lower_bound"] = epsilon
    metrics["epsilon_lower_bound_in_sample"] = in_sample_epsilon
    findings.extend(_operating_findings(metrics, held, thresholds, epsilon))

    strata = membership_strata(ctx.cohorts, thresholds.rare_code_max_members, thresholds.min_cell)
    subgroups = assess_strata(strata, members, non_members,
                              held.flagged_members if held else None,
                              held.flagged_non_members if held else None, thresholds, rng)
    findings.extend(strata_findings(subgroups, value, thresholds.subgroup_fdr))

    verdict = _membership_verdict(low, epsilon, powered, thresholds)
    if verdict is Verdict.INCONCLUSIVE:
        needed = metrics["non_members_needed"]
        findings.append(f"No leakage was shown, but {format_count(n0)} non-members cannot resolve "
                        f"{format_fpr(thresholds.primary_fpr)} FPR (PASS needs at least "
                        f"{format_count(needed)}; the smallest FPR these cohorts resolve is "
                        f"{format_fpr(metrics['resolvable_fpr'])}).")
    fpr_curve, tpr_curve = thin_curve(*roc_curve(members, non_members))
    return ProbeOutcome(
        verdict=verdict,
        headline=Headline(label="AUC", value=value, text=f"AUC {format_auc(value, (low, high))}"),
        metrics=metrics, findings=tuple(findings),
        scores={Role.MEMBERS: members, Role.NON_MEMBERS: non_members},
        curves={"roc": {"fpr": fpr_curve, "tpr": tpr_curve},
                "histogram": score_histogram(members, non_members)},
        attack_strength=strength, subgroups=tuple(subgroups),
    )


def _held_out_metrics(held: HeldOut, t: MembershipThresholds, metrics: dict[str, object]) -> float:
    tpr, fpr = held.true_positives / held.members, held.false_positives / held.non_members
    tpr_ci = clopper_pearson(held.true_positives, held.members)
    fpr_ci = clopper_pearson(held.false_positives, held.non_members)
    ratio = tpr / fpr if fpr > 0 else None
    ratio_low = tpr_ci[0] / fpr_ci[1]
    metrics.update({
        "members_flagged": held.true_positives,
        "calibration_fpr": held.calibration_false_positives / held.non_members,
        "held_out_tpr": tpr, "held_out_tpr_ci": list(tpr_ci),
        "held_out_fpr": fpr, "held_out_fpr_ci": list(fpr_ci),
        "held_out_advantage": tpr - fpr,
        "likelihood_ratio": ratio, "likelihood_ratio_lower": ratio_low,
        "prior": t.prior,
        "posterior_at_prior": posterior_membership(t.prior, ratio) if ratio is not None else None,
        "posterior_at_prior_lower": posterior_membership(t.prior, ratio_low),
    })
    return epsilon_lower_bound(held.true_positives, held.members, held.false_positives,
                               held.non_members)


def _operating_findings(metrics: dict[str, object], held: HeldOut | None,
                        t: MembershipThresholds, epsilon: float) -> list[str]:
    if held is None:
        return [f"At {format_fpr(t.primary_fpr)} FPR the attack identifies "
                f"{format_percent(metrics['tpr_at_primary_fpr'])} of members; too few records to "
                f"hold out a calibration split, so this and the epsilon bound of "
                f"{format_epsilon(epsilon)} are in-sample."]
    text = [f"Threshold set for {format_fpr(t.primary_fpr)} FPR on a calibration half of the "
            f"non-members and judged on the other half (both ways, pooled): it flags "
            f"{format_share(held.true_positives, held.members)} members "
            f"({format_percent(metrics['held_out_tpr'])}) and "
            f"{format_share(held.false_positives, held.non_members)} non-members "
            f"({format_percent(metrics['held_out_fpr'])} FPR held out, "
            f"{format_percent(metrics['calibration_fpr'])} on the calibration halves); this "
            f"implies a differential-privacy epsilon of at least {format_epsilon(epsilon)}."]
    lower = metrics["posterior_at_prior_lower"]
    point = metrics["posterior_at_prior"]
    shown = format_percent(point) if point is not None else "up to 100%"
    text.append(f"At a {format_percent(t.prior)} prior, a flagged record is a member with "
                f"probability {shown} (at least {format_percent(lower)} from the interval "
                f"bounds); membership advantage (max TPR - FPR) "
                f"{format_measure(metrics['membership_advantage'])}.")
    return text


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
