"""Known answers for the per-stratum membership figures: a stratum that leaks is found and
named, the others are not flagged, and small cells stay hidden."""

from __future__ import annotations

import numpy as np

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.families.membership import MembershipThresholds
from audit_core.probes.membership_strata import (
    RARE_CODES,
    assess_strata,
    membership_strata,
    most_at_risk,
    strata_findings,
)


def _cohort(role: Role, sites: list[str], sequences: list[str]) -> Cohort:
    info = DatasetInfo(role=role.value, file=f"{role.value}.csv", sha256="0", records=len(sites),
                       format="csv", columns={"kind": "codes"})
    return Cohort(role=role, ids=tuple(f"{role.value}{i}" for i in range(len(sites))),
                  sequences=tuple(sequences), subgroups={"site": np.array(sites, dtype=object)},
                  info=info)


def test_the_leaking_stratum_is_flagged_named_and_small_cells_are_hidden() -> None:
    rng = np.random.default_rng(0)
    # Members: 200 at site A (memorized: high scores), 190 at B, 5 at C (too few to show),
    # 180 at D. Non-members: 200 at A, 190 at B, 30 at C, 180 at D.
    m_sites = ["A"] * 200 + ["B"] * 190 + ["C"] * 5 + ["D"] * 180
    n_sites = ["A"] * 200 + ["B"] * 190 + ["C"] * 30 + ["D"] * 180
    # Members 0-9 hold a code no one else has: the rare-code carriers.
    m_seqs = [f"X1 Y{i}" if i < 10 else "X1 X2" for i in range(len(m_sites))]
    n_seqs = ["X1 X2"] * len(n_sites)
    cohorts = {Role.MEMBERS: _cohort(Role.MEMBERS, m_sites, m_seqs),
               Role.NON_MEMBERS: _cohort(Role.NON_MEMBERS, n_sites, n_seqs)}
    members = np.r_[rng.normal(2.0, 1, 200), rng.normal(0, 1, 375)]
    non_members = rng.normal(0, 1, 600)
    t = MembershipThresholds()
    strata = membership_strata(cohorts, t.rare_code_max_members)
    assert [(s.column, s.value) for s in strata][:3] == [("site", "A"), ("site", "B"), ("site", "C")]
    rare = strata[-1]
    assert rare.column == RARE_CODES and rare.members.sum() == 10 and rare.non_members.sum() == 0

    flagged_m = members > 2.3
    flagged_n = non_members > 2.3
    rows = assess_strata(strata, members, non_members, flagged_m, flagged_n, t, np.random.default_rng(1))
    by_value = {r["value"]: r for r in rows}
    a, b, c, d = (by_value[v] for v in "ABCD")
    assert a["significant"] and a["auc"] > 0.85 and a["q_value"] < 1e-6
    assert not b["significant"] and b["auc_ci"][0] < 0.5 < b["auc_ci"][1] and b["n_members"] == 190
    # C has 5 members: its member count is hidden as small, its 30 non-members are shown;
    # D's member count (the smallest other) is hidden too, or C's 5 would be the members'
    # total minus the counts shown. D's 180 non-members stay: nothing is recovered from them.
    assert c["suppressed"] and c["auc"] is None
    assert (c["n_members"], c["n_non_members"], c["hidden_counts"]) == (None, 30, {"n_members": "small"})
    assert d["suppressed"] and not d["significant"]
    assert (d["n_members"], d["n_non_members"], d["hidden_counts"]) == (None, 180, {"n_members": "complement"})
    assert by_value[rare.value]["suppressed"]  # no non-member carries a rare code
    top = most_at_risk(rows)
    assert top["value"] == "A"
    text = " ".join(strata_findings(rows, 0.75, t.subgroup_fdr))
    assert "Most at risk: site = A" in text and "suppressed" in text


def test_complementary_suppression_hides_one_more_cell_of_the_same_column() -> None:
    rng = np.random.default_rng(2)
    m_sites = ["A"] * 100 + ["B"] * 40 + ["C"] * 4
    n_sites = ["A"] * 100 + ["B"] * 40 + ["C"] * 20
    cohorts = {Role.MEMBERS: _cohort(Role.MEMBERS, m_sites, ["X1"] * len(m_sites)),
               Role.NON_MEMBERS: _cohort(Role.NON_MEMBERS, n_sites, ["X1"] * len(n_sites))}
    strata = membership_strata(cohorts, 1)
    rows = assess_strata(strata, rng.normal(0, 1, 144), rng.normal(0, 1, 160), None, None,
                         MembershipThresholds(), np.random.default_rng(3))
    shown = {r["value"]: r["suppressed"] for r in rows if r["column"] == "site"}
    assert shown == {"A": False, "B": True, "C": True}
    counts = {r["value"]: (r["n_members"], r["n_non_members"]) for r in rows if r["column"] == "site"}
    assert counts == {"A": (100, 100), "B": (None, 40), "C": (None, 20)}


def test_only_counts_below_the_cell_size_are_labelled_small() -> None:
    """Issue 14, defect 2: the demo's AGE_80_89 (51 / 64) and AGE_90_PLUS (23 / 10) both
    printed "<11 / <11". Only the 10 is small; the 64 is hidden so that the 10 cannot be
    recovered by subtraction (and says so); 51 and 23 are shown as they are."""
    rng = np.random.default_rng(4)
    m_sites = ["AGE_18_29"] * 300 + ["AGE_80_89"] * 51 + ["AGE_90_PLUS"] * 23
    n_sites = ["AGE_18_29"] * 300 + ["AGE_80_89"] * 64 + ["AGE_90_PLUS"] * 10
    cohorts = {Role.MEMBERS: _cohort(Role.MEMBERS, m_sites, ["X1"] * len(m_sites)),
               Role.NON_MEMBERS: _cohort(Role.NON_MEMBERS, n_sites, ["X1"] * len(n_sites))}
    rows = assess_strata(membership_strata(cohorts, 1), rng.normal(0, 1, len(m_sites)),
                         rng.normal(0, 1, len(n_sites)), None, None, MembershipThresholds(),
                         np.random.default_rng(5))
    by_value = {r["value"]: r for r in rows if r["column"] == "site"}
    assert (by_value["AGE_90_PLUS"]["n_members"], by_value["AGE_90_PLUS"]["n_non_members"]) == (23, None)
    assert by_value["AGE_90_PLUS"]["hidden_counts"] == {"n_non_members": "small"}
    assert (by_value["AGE_80_89"]["n_members"], by_value["AGE_80_89"]["n_non_members"]) == (51, None)
    assert by_value["AGE_80_89"]["hidden_counts"] == {"n_non_members": "complement"}
    assert by_value["AGE_18_29"]["hidden_counts"] == {} and not by_value["AGE_18_29"]["suppressed"]
