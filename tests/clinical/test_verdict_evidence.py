"""Verdicts and their wording follow the intervals the report prints (issue 14, defects 5
and 6), on small synthetic inputs to the probes' pure functions.

T2 (sensitive attributes): the gap interval printed is the one the verdict reads, so an
interval above 0 is never a PASS and a PASS never rests on a headline whose interval
spans 0 while another excludes it; a category with too few carriers is "not assessed"
and never counts towards a PASS. T6 (vulnerable subgroups): a stratum is flagged only
when the lower bound printed next to it lies above 0, and the q printed is the q that
was compared with the false discovery rate.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from audit_core.clinical.code_sets import CodeSet
from audit_core.clinical.record_layout import Tier
from audit_core.data.cohort import Role
from audit_core.families.attribute import AttributeThresholds
from audit_core.families.subgroups import SubgroupThresholds
from audit_core.probes.attribute_assessment import CategoryTier, assess
from audit_core.probes.vulnerable_assessment import SIGNALS, flag_strata, vulnerable_outcome
from audit_core.report.sections.clinical_tables import clinical_blocks
from audit_core.report.sections.elements import Badge, Paragraph, Table
from audit_core.report.sections.probe_evidence import meaning_blocks
from audit_core.report.sections.redaction import scrub_text
from audit_core.report.sections.values import format_p_value
from audit_core.report.sections.vulnerable_table import vulnerable_table
from audit_core.results.verdicts import Verdict
from audit_core.stats.disparity import one_sided_p

N = 200  # patients per cohort


# --- T2 --------------------------------------------------------------------------------


def _cohort(carriers: int, auroc: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels and signals (all below the flag level) whose AUROC is `auroc`: non-carriers
    spread evenly over [0, 0.4], carriers evenly over [0.4 (2 auroc - 1), 0.4]."""
    labels = np.r_[np.ones(carriers), np.zeros(N - carriers)]
    signals = np.r_[np.linspace(0.4 * (2 * auroc - 1), 0.4, carriers), np.linspace(0.0, 0.4, N - carriers)]
    return labels, signals


def _t2(*categories: tuple[str, int, float, int, float], seed: int = 1):
    """Run T2's assessment on (name, member carriers, member AUROC, non-member carriers,
    non-member AUROC) cells at one tier; returns the outcome and a results.json-like probe."""
    sets, cells = [], []
    for name, k_m, a_m, k_n, a_n in categories:
        code_set = CodeSet(name, name.replace("_", " ").capitalize(), ("X",), "test")
        (y_m, s_m), (y_n, s_n) = _cohort(k_m, a_m), _cohort(k_n, a_n)
        sets.append(code_set)
        cells.append(CategoryTier(category=code_set, tier=Tier("10", 10),
                                  rows={Role.MEMBERS: np.arange(N), Role.NON_MEMBERS: np.arange(N)},
                                  labels={Role.MEMBERS: y_m, Role.NON_MEMBERS: y_n},
                                  signals={Role.MEMBERS: s_m, Role.NON_MEMBERS: s_n}))
    t = AttributeThresholds()
    outcome = assess(t, np.random.default_rng(seed), cells, sets, np.zeros(len(sets)),
                     sizes={Role.MEMBERS: N, Role.NON_MEMBERS: N}, dropped=[])
    probe = {"id": "sensitive_attributes", "family": "attribute", "verdict": outcome.verdict.value,
             "metrics": outcome.metrics, "curves": outcome.curves, "findings": list(outcome.findings),
             "headline": {"label": outcome.headline.label, "text": outcome.headline.text},
             "thresholds": {"alpha": t.alpha, "fail_auc_gap": t.fail_auc_gap, "min_positives": t.min_positives}}
    return outcome, probe


def _printed_gaps(probe: dict) -> list[tuple[str, float, float]]:
    """(category, low, high) of every gap interval the report's T2 table prints."""
    table = next(b for b in clinical_blocks(probe) if isinstance(b, Table))
    out, category = [], ""
    for row in table.rows:
        category = row[0] or category
        found = re.fullmatch(r"[+-]\d\.\d+ \(([+-]\d\.\d+) to ([+-]\d\.\d+)\)", row[7])
        if found:
            out.append((category, float(found[1]), float(found[2])))
    return out


def _meaning(probe: dict) -> str:
    return " ".join(b.text for b in meaning_blocks(probe, probe["verdict"]) if isinstance(b, Paragraph))


# A gap of 0.12 among six cells: its plain 95% interval lies above 0 but the interval
# simultaneous over the six does not (the demo's "Alcohol use, first 10 codes" case); a
# gap of 0.25 lies above 0 either way. The five other categories have no gap.
NULLS = [(name, 40, 0.6, 40, 0.6) for name in ("mental_health", "hiv", "stimulants", "opioids", "repro")]


@pytest.mark.parametrize("gap", [0.12, 0.25])
def test_t2_verdict_reads_the_interval_the_report_prints(gap: float) -> None:
    outcome, probe = _t2(("alcohol", 60, 0.56 + gap, 60, 0.56), *NULLS)
    printed = _printed_gaps(probe)
    assert len(printed) == 6
    above = [p for p in printed if p[1] > 0]
    if above:
        assert outcome.verdict in (Verdict.WARN, Verdict.FAIL)
        assert outcome.headline.text.startswith("members higher by")
        assert above[0][0] in outcome.headline.text
    else:
        assert outcome.verdict is Verdict.PASS
        assert outcome.headline.text.startswith("no member/non-member gap detected")
        # The PASS is worded by its interval: no difference detected, up to how much allowed.
        allowed = max(p[2] for p in printed)
        assert f"up to {allowed:+.3f}" in _meaning(probe)
        assert "cannot be told" not in _meaning(probe)
    assert (gap == 0.25) == bool(above)  # both branches are exercised
    # The report masks quoted passages in probe text: the wording must reach it whole.
    assert [scrub_text(f) for f in outcome.findings] == list(outcome.findings)


def test_t2_headline_is_the_strongest_evidence_not_the_largest_point_gap() -> None:
    # Alcohol: a gap of 0.2 among 80 carriers per cohort, its interval well above 0.
    # Mental health: a larger gap (0.3) on 5 carriers per cohort, its interval spanning 0.
    outcome, probe = _t2(("alcohol", 80, 0.75, 80, 0.55), ("mental_health", 5, 0.75, 5, 0.45))
    printed = {p[0]: p for p in _printed_gaps(probe)}
    assert printed["Alcohol"][1] > 0 and printed["Mental health"][1] < 0 < printed["Mental health"][2]
    curves = outcome.curves
    assert curves["category:mental_health:Mental health"]["gap"][0] > curves["category:alcohol:Alcohol"]["gap"][0]
    assert outcome.verdict in (Verdict.WARN, Verdict.FAIL)
    alcohol = curves["category:alcohol:Alcohol"]["gap"][0]
    assert outcome.headline.text.startswith(f"members higher by {alcohol:+.3f} (Alcohol")
    assert outcome.metrics["strongest_auroc_gap"] == alcohol


def test_t2_a_category_with_too_few_carriers_is_not_assessed_and_never_a_pass() -> None:
    few = [("opioids", 2, 0.9, 3, 0.5), ("sedatives", 4, 0.9, 1, 0.5)]
    outcome, probe = _t2(*few)
    assert outcome.verdict is Verdict.INCONCLUSIVE  # nobody flagged used to read as PASS
    assert outcome.metrics["categories_assessed"] == 0 and outcome.metrics["categories_not_assessed"] == 2
    assert outcome.headline.text.startswith("no category could be assessed")
    assert "not evidence of safety" in _meaning(probe)
    finding = next(f for f in outcome.findings if f.startswith("Not assessed"))
    assert "Opioids (at most 2 / 3;" in finding and "Sedatives (at most 4 / 1;" in finding

    # Next to one assessed category without a gap: a PASS that covers that one only.
    outcome, probe = _t2(("alcohol", 60, 0.6, 60, 0.6), *few)
    assert outcome.verdict is Verdict.PASS
    assert outcome.metrics["categories_assessed"] == 1 and outcome.metrics["categories_not_assessed"] == 2
    assert "1 of 3 categories assessed" in outcome.headline.text
    assert "2 of 3 categories had too few carriers to assess and are not covered" in _meaning(probe)
    note = next(b.text for b in clinical_blocks(probe) if isinstance(b, Paragraph) and "Not assessed" in b.text)
    assert "Opioids (at most 2 / 3 carriers)" in note and "Sedatives (at most 4 / 1 carriers)" in note


# --- T6 --------------------------------------------------------------------------------

# Disparities (stratum minus whole cohort) per stratum, bootstrap spread 0.01: clear,
# borderline (a one-sided p near 0.04, whose two-sided 95% interval includes 0) and null.
MEANS = (0.03, 0.025, 0.02, 0.018, 0.017, 0.0, -0.01, 0.005)


def _t6(means=MEANS, disclosure=None):
    rng = np.random.default_rng(3)
    rows, draws = [], {key: [] for key, _ in SIGNALS}
    for i, mean in enumerate(means):
        row = {"column": "age_band", "value": f"BAND_{i}", "suppressed": False, "n_members": 50,
               "n_non_members": 50, "auc": 0.7, "auc_ci": [0.6, 0.8], "auc_disparity": mean,
               "disclosure_gap": None, "disclosure_gap_disparity": None}
        membership = rng.normal(mean, 0.01, 1000)
        row["auc_disparity_p_value"] = one_sided_p(membership)
        draws["auc_disparity"].append(membership)
        gap = None if disclosure is None else rng.normal(disclosure[i], 0.05, 1000)
        row["disclosure_gap_disparity_p_value"] = None if gap is None else one_sided_p(gap)
        row["disclosure_gap_disparity"] = None if gap is None else disclosure[i]
        draws["disclosure_gap_disparity"].append(gap)
        rows.append(row)
    t = SubgroupThresholds()
    confidence = flag_strata(rows, draws, t.subgroup_fdr)
    verdict, headline, metrics, findings = vulnerable_outcome(rows, confidence, 0.9, float("nan"), (400, 400), t)
    probe = {"family": "subgroups", "subgroups": rows, "metrics": metrics,
             "thresholds": {"subgroup_fdr": t.subgroup_fdr}}
    return rows, draws, verdict, headline, probe


def _parse(cell: str) -> float | None:
    found = re.search(r"\(≥ ([+-]\d\.\d+)\)", cell)
    return float(found[1]) if found else None


@pytest.mark.parametrize("disclosure", [None, (0.0, 0.0, 0.0, 0.2, 0.0, 0.15, 0.0, -0.1)])
def test_t6_flags_only_on_the_printed_bound_and_prints_the_q_that_flagged(disclosure) -> None:
    rows, draws, verdict, headline, probe = _t6(disclosure=disclosure)
    table = vulnerable_table(probe)
    fdr = probe["thresholds"]["subgroup_fdr"]
    flagged = 0
    for row, printed in zip(rows, table.rows):
        by = printed[-1].label if isinstance(printed[-1], Badge) else ""
        for (key, _name), word, (bound_cell, q_cell) in zip(SIGNALS, ("AUC", "GAP"),
                                                          ((printed[3], printed[4]), (printed[5], printed[6]))):
            bound = _parse(bound_cell)
            q = row[f"{key}_q_value"]
            if q is not None:
                assert q_cell == format_p_value(q)  # the q printed is the q compared
            if row[f"{key}_flagged"]:
                flagged += 1
                assert by in (word, "BOTH") and bound is not None and bound > 0 and q <= fdr
            else:
                assert bound is None or bound <= 0 or q > fdr
                assert by != word
            if bound is not None and bound <= 0:
                assert not row[f"{key}_flagged"]  # a printed bound at or below 0 never flags
    assert flagged and verdict is Verdict.WARN and headline.value == sum(r["at_risk"] for r in rows)
    assert scrub_text(headline.text) == headline.text
    # The case that used to contradict itself: flagged, yet its two-sided 95% interval
    # (the one printed before) includes 0.
    assert any(r["auc_disparity_flagged"] and np.percentile(d, 2.5) <= 0
               for r, d in zip(rows, draws["auc_disparity"]))


def test_t6_with_nothing_above_zero_is_a_pass_worded_by_its_bounds() -> None:
    rows, _draws, verdict, headline, probe = _t6(means=(0.0, -0.01, 0.005, 0.002))
    assert not any(r["at_risk"] for r in rows) and verdict is Verdict.PASS
    assert headline.text.startswith("0 of 4 strata at higher risk: no lower bound above 0")
    probe["verdict"] = "pass"
    assert "none has a disparity whose lower confidence bound lies above 0" in _meaning(probe)
