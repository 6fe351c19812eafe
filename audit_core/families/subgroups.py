"""Vulnerable subgroups (T6 of Tonekaboni et al. 2025): are some strata (a rare condition,
the very old, carriers of a sensitive diagnosis) more exposed than the cohort as a whole?"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families.carrier_setting import carrier_top_rank
from audit_core.families.spec import Family, FamilySpec, Methods, Wording
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class SubgroupThresholds:
    """T6, vulnerable subgroups: a stratum against the whole cohort."""

    rare_code_max_members: int = param(
        1, label="Rare code: seen in at most this many members", min=1, max=1000,
        help="Records holding such a code form the rare-code carriers stratum.",
        anchor="Tonekaboni et al. 2025 (T6): codes that occur once")
    min_cell: int = param(
        11, label="Smallest subgroup cell shown", min=1, max=1000,
        help="A stratum with fewer members or non-members is suppressed, its counts too.",
        anchor="CMS cell-size suppression policy (cells of 1-10 not shown)")
    subgroup_fdr: float = param(
        0.10, label="False discovery rate across strata", min=1e-4, max=0.5,
        help="A stratum is at higher risk when its disparity's Benjamini-Hochberg q-value is "
             "at most this, which is when its one-sided lower bound at the matching level "
             "(1 - flagged x this / strata) lies above 0.",
        anchor="Benjamini and Hochberg 1995: false discovery rate 0.10 for subgroup flags")
    fail_auc_lower: float = param(
        0.75, label="FAIL when an at-risk stratum's AUC lower 95% bound exceeds", min=0.5, max=1.0,
        anchor="the membership FAIL level: most member/non-member pairs told apart with confidence")
    carrier_top_rank: int = carrier_top_rank()  # T2 and T6 name carriers by one rule


SPEC = FamilySpec(
    family=Family.SUBGROUPS,
    thresholds=SubgroupThresholds,
    wording=Wording(
        name="Vulnerable subgroups",
        nist="Membership and attribute inference, disaggregated by subgroup",
        edpb="Membership inference; attribute inference (per subgroup)",
        patient=(
            "Patients of the named subgroup (a rare condition, the very old, carriers of a "
            "sensitive diagnosis) can be singled out or exposed more easily than the cohort "
            "as a whole."
        ),
        mitigations=(
            ("Generalise what makes the subgroup identifiable (rare codes, ages over 89) in the "
             "training data."),
            "Aggregate ages of 90 and over into one category (HIPAA Safe Harbor).",
            "Retrain with differential privacy and audit the subgroup again.",
        ),
        risk="Groups at higher risk",
        found="Some groups of patients are more exposed than others.",
        actions=("generalise", "dp"),
    ),
    methods=Methods(strength="reference_free"),
    plain={},
    known_answers=(),  # its known answers run in tests/clinical (test_verdict_evidence.py)
)
