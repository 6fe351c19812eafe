"""Membership inference: can training patients be told apart from patients the model never
saw? Loss, zlib, Min-K%, RMIA, LiRA, and the tabular and encoder attacks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_core.families.answers import NEGATIVE, POSITIVE, auc_interval, check, not_run, probes_by_id
from audit_core.families.spec import (
    Audit,
    CalibrationNote,
    Check,
    Family,
    FamilySpec,
    KnownAnswers,
    Methods,
    Wording,
)
from audit_core.results.verdicts import Verdict
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipThresholds:
    primary_fpr: float = param(
        0.01, label="Primary false-positive rate", min=1e-5, max=0.5,
        help="The FPR at which TPR and the epsilon bound are judged.",
        anchor="Carlini et al. 2022 (S&P): judge attacks at low FPR")
    warn_auc_lower: float = param(
        0.55, label="WARN when the AUC's lower 95% bound exceeds", min=0.5, max=1.0,
        anchor="product default (no regulatory anchor)")
    fail_auc_lower: float = param(
        0.75, label="FAIL when the AUC's lower 95% bound exceeds", min=0.5, max=1.0,
        anchor="product default: a majority of member/non-member pairs told apart with confidence")
    warn_epsilon: float = param(
        0.0, label="WARN when the epsilon lower bound exceeds", min=0.0, max=50.0,
        anchor="any statistically significant leakage at the primary FPR")
    fail_epsilon: float = param(
        1.0, label="FAIL when the epsilon lower bound exceeds", min=0.0, max=50.0,
        anchor="epsilon = 1, the conventional strong differential-privacy level")
    min_expected_false_positives: int = param(
        10, label="Non-members needed per resolved false positive", min=1, max=1000,
        help="PASS needs n_non_members x primary FPR of at least this (10 -> 1,000 at 1%).",
        anchor="powered to detect a likelihood ratio of 10 (Clopper–Pearson resolution of the FPR)")
    prior: float = param(
        0.05, label="Prior probability that a record is a member", min=1e-6, max=0.5,
        help="The posterior probability of membership of a flagged record is stated at this "
             "prior (the share of the attacker's candidates who were in training).",
        anchor="EMA Policy 0070 / Health Canada PRCI: a 5% prior and a likelihood ratio of 2 "
               "give their 0.09 posterior")
    rare_code_max_members: int = param(
        1, label="Rare code: seen in at most this many members", min=1, max=1000,
        help="Records holding such a code (counting the record itself) form the rare-code "
             "carriers stratum.",
        anchor="Tonekaboni et al. 2025 (T6): codes that occur once")
    min_cell: int = param(
        11, label="Smallest subgroup cell shown", min=1, max=1000,
        help="A stratum with fewer members or non-members is suppressed, its counts too.",
        anchor="CMS cell-size suppression policy (cells of 1-10 not shown)")
    subgroup_fdr: float = param(
        0.10, label="False discovery rate across subgroups", min=1e-4, max=0.5,
        help="A stratum is significant when its Benjamini-Hochberg q-value is at most this.",
        anchor="Benjamini and Hochberg 1995: false discovery rate 0.10 for subgroup flags")


TABULAR_MEMBERSHIP = ("confidence", "entropy", "modified_entropy")


def tabular_checks(folder: Path, audit: Audit) -> list[Check]:
    """The overfit forest (`resources/examples/tabular`; the same recipe trained on other
    patients is the negative side) fails every membership attack; a forest that never saw
    either file does not. It has no manifest: its files are covered by the installation
    record only."""
    checks = []
    results = audit(folder / POSITIVE)
    title = "Tabular classifier (overfit forest): membership attacks"
    expected = ("overall fail; confidence, entropy and modified entropy each fail with the AUC's "
                "lower bound above the fail threshold; the reference-calibrated confidence fails")
    found = _every(results, (*TABULAR_MEMBERSHIP, "calibrated_confidence"))
    if found is None:
        checks.append(not_run("tabular.membership", title, expected))
    else:
        *plain, calibrated = found
        checks.append(check(
            "tabular.membership", title, expected,
            f"overall {results['overall_verdict']}; "
            + "; ".join(f"{p['id']} {p['verdict']}, {auc_interval(p['metrics'])}" for p in plain)
            + f"; calibrated confidence {calibrated['verdict']}",
            results["overall_verdict"] == "fail" and all(map(_flags, plain))
            and calibrated["verdict"] == "fail"))

    results = audit(folder / NEGATIVE)
    title = "Tabular classifier: nothing found by a forest that never saw either file"
    expected = "no fail; each membership AUC interval covering 0.5"
    found = _every(results, TABULAR_MEMBERSHIP)
    if found is None:
        checks.append(not_run("tabular.negative", title, expected))
    else:
        checks.append(check(
            "tabular.negative", title, expected,
            f"overall {results['overall_verdict']}; "
            + "; ".join(f"{p['id']} {p['verdict']}, {auc_interval(p['metrics'])}" for p in found),
            results["overall_verdict"] != "fail" and all(map(_covers, found))))
    return checks


def _every(results: dict[str, Any], probe_ids: tuple[str, ...]) -> list[dict[str, Any]] | None:
    """The probes named, in that order; None when any of them did not run."""
    probes = probes_by_id(results)
    found = [probes[p] for p in probe_ids if p in probes]
    return found if len(found) == len(probe_ids) else None


def _flags(probe: dict[str, Any]) -> bool:
    """FAIL, with the AUC's lower bound above the probe's fail threshold."""
    low = _lower(probe)
    return (probe["verdict"] == "fail" and low is not None
            and low > probe["thresholds"].get("fail_auc_lower", 0.75))


def _covers(probe: dict[str, Any]) -> bool:
    """Not FAIL or ERROR, with an AUC interval covering 0.5."""
    low = _lower(probe)
    return (low is not None and low <= 0.5 <= probe["metrics"]["auc_ci"][1]
            and probe["verdict"] not in ("fail", "error"))


def _lower(probe: dict[str, Any]) -> float | None:
    return (probe["metrics"].get("auc_ci") or [None])[0]


SPEC = FamilySpec(
    family=Family.MEMBERSHIP,
    thresholds=MembershipThresholds,
    wording=Wording(
        name="Membership inference",
        nist="Membership inference (privacy attack)",
        edpb="Membership inference",
        patient=(
            "Someone holding the model and a patient's record can tell, better than by "
            "chance, whether that patient's record was used to train it; being in a "
            "clinical training set can itself reveal a diagnosis or a hospital stay."
        ),
        mitigations=(
            "Retrain with differential privacy (DP-SGD) at a per-patient epsilon of 1 to 10.",
            "Deduplicate the training data and remove records repeated across patients.",
            "Keep the weights internal and expose only generated text, with query limits.",
        ),
        risk="Being recognised as a training patient",
        found="Training patients can be told apart from patients the model never saw.",
        actions=("dp", "dedup", "access"),
    ),
    methods=Methods(
        strength="reference_free",
        endpoint="for membership, the TPR at the primary FPR and the epsilon lower bound",
        policies=(
            "The epsilon lower bound is ln((TPR_low − δ) / FPR_high) with δ = 0 and one-sided 97.5% "
            "Clopper–Pearson bounds (Jagielski et al. 2020): it can refute a privacy claim, never "
            "prove one.",
            CalibrationNote(
                held_out="Membership thresholds for the primary FPR are set on one half of the "
                         "non-members and judged on the other (both ways, pooled), so no reported "
                         "FPR is tuned on the data it is judged on (Carlini et al. 2022).",
                same_sample="The decision threshold is placed on the same non-members the FPR is "
                            "reported on (no separate calibration split), so FPR at very low rates "
                            "is optimistic for the model."),
            "Subgroup flags use Benjamini–Hochberg q-values across subgroups.",
        ),
    ),
    plain={
        Verdict.FAIL: "An attacker could tell, far better than by chance, whether a patient's "
                      "record was used to train this model.",
        Verdict.WARN: "Training patients can be told apart from others somewhat better than chance.",
        Verdict.PASS: "Training patients could not be told apart from others at the thresholds set.",
        Verdict.INCONCLUSIVE: "The cohorts are too small to show the absence of leakage at "
                              "the false-positive rate required.",
    },
    known_answers=(KnownAnswers("tabular", "Tabular control", "examples/tabular", False,
                                tabular_checks, 0.96),),
)
