"""Who is most at risk: membership figures per subgroup and for rare-code carriers.

Tonekaboni et al. (NeurIPS 2025, test T6) ask whether memorization falls harder on some
patients; rare conditions and small demographic cells are the usual suspects (Carlini
et al.'s "Secret Sharer", USENIX Security 2019: rare sequences are the ones memorized).
Every declared subgroup column gives one stratum per value, and (for code sequences) the
records holding a code seen in at most k members form the rare-code carriers. Per stratum: AUC with a
bootstrap interval, a one-sided Mann-Whitney p-value for AUC > 0.5, the held-out TPR
and FPR at the primary FPR threshold, and Benjamini-Hochberg q-values across strata.
Strata with fewer than `min_cell` members or non-members are suppressed, their counts
too, and one more cell of the same column when a single suppressed count could be
recovered by subtraction from the cohort total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.split_validity import record_tokens
from audit_core.stats.intervals import auc_greater_p_value, bootstrap_auc, clopper_pearson
from audit_core.stats.multiple_testing import benjamini_hochberg
from audit_core.stats.roc import auc
from audit_core.verdicts import MembershipThresholds

RARE_CODES = "rare_codes"


@dataclass(frozen=True, slots=True)
class Stratum:
    column: str
    value: str
    members: np.ndarray  # boolean mask over the members
    non_members: np.ndarray  # boolean mask over the non-members
    partition: bool  # the column's strata cover the cohort (complements can be subtracted)


def membership_strata(cohorts: dict[Role, Cohort], rare_max_members: int) -> list[Stratum]:
    members, non_members = cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS]
    strata = []
    for column in members.subgroups:
        m_values, n_values = members.subgroups[column], non_members.subgroups[column]
        for value in sorted(set(m_values.tolist()) | set(n_values.tolist())):
            strata.append(Stratum(column, str(value), m_values == value, n_values == value, True))
    kind = members.info.columns.get("kind", "codes")
    if kind != "codes":  # in free text nearly every record holds a word seen once
        return strata
    # Two passes, tokenizing one record at a time: a set of codes per record, held for a
    # whole cohort, would weigh more than the records themselves.
    seen: dict[str, int] = {}
    for s in members.sequences:
        for code in set(record_tokens(s, kind)):
            seen[code] = seen.get(code, 0) + 1
    m_rare = np.array([any(seen[c] <= rare_max_members for c in set(record_tokens(s, kind)))
                       for s in members.sequences], dtype=bool)
    # A non-member's code is counted as if the record were a member too, so that a random
    # split puts members and non-members into this stratum alike.
    n_rare = np.array([any(seen.get(c, 0) + 1 <= rare_max_members
                           for c in set(record_tokens(s, kind))) for s in non_members.sequences],
                     dtype=bool)
    label = (f"carriers of a code seen in at most {rare_max_members} "
             f"member{'s' if rare_max_members > 1 else ''}")
    strata.append(Stratum(RARE_CODES, label, m_rare, n_rare, False))
    return strata


def assess_strata(strata: list[Stratum], members: np.ndarray, non_members: np.ndarray,
                  flagged_members: np.ndarray | None, flagged_non_members: np.ndarray | None,
                  t: MembershipThresholds, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One entry per stratum, in the order given (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    for s in strata:
        n1, n0 = int(s.members.sum()), int(s.non_members.sum())
        row: dict[str, Any] = {"column": s.column, "value": s.value, "n_members": n1,
                               "n_non_members": n0, "suppressed": n1 < t.min_cell or n0 < t.min_cell,
                               "auc": None, "auc_ci": None, "p_value": None,
                               "tpr_at_primary_fpr": None, "tpr_at_primary_fpr_ci": None,
                               "fpr_at_primary_fpr": None, "fpr_at_primary_fpr_ci": None,
                               "q_value": None, "significant": False}
        rows.append(row)
    _suppress_complements(strata, rows)
    tested = []
    for s, row in zip(strata, rows):
        if row["suppressed"]:
            row["n_members"] = row["n_non_members"] = None
            continue
        m, n = members[s.members], non_members[s.non_members]
        row["auc"] = auc(m, n)
        row["auc_ci"] = list(bootstrap_auc(m, n, rng))
        row["p_value"] = auc_greater_p_value(m, n)
        if flagged_members is not None and flagged_non_members is not None:
            tp, fp = int(flagged_members[s.members].sum()), int(flagged_non_members[s.non_members].sum())
            row["tpr_at_primary_fpr"] = tp / len(m)
            row["tpr_at_primary_fpr_ci"] = list(clopper_pearson(tp, len(m)))
            row["fpr_at_primary_fpr"] = fp / len(n)
            row["fpr_at_primary_fpr_ci"] = list(clopper_pearson(fp, len(n)))
        tested.append(row)
    for row, q in zip(tested, benjamini_hochberg([r["p_value"] for r in tested])):
        row["q_value"] = q
        row["significant"] = q <= t.subgroup_fdr
    return rows


def _suppress_complements(strata: list[Stratum], rows: list[dict[str, Any]]) -> None:
    """A lone suppressed cell of a partition is total minus the others: hide one more."""
    columns = {s.column for s in strata if s.partition}
    for column in columns:
        cells = [(s, r) for s, r in zip(strata, rows) if s.column == column]
        hidden = [r for _, r in cells if r["suppressed"]]
        shown = [r for _, r in cells if not r["suppressed"]]
        if len(hidden) == 1 and shown:
            smallest = min(shown, key=lambda r: (min(r["n_members"], r["n_non_members"]), r["value"]))
            smallest["suppressed"] = True


def most_at_risk(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The shown stratum whose AUC is highest with confidence (highest lower bound)."""
    shown = [r for r in rows if not r["suppressed"]]
    return max(shown, key=lambda r: (r["auc_ci"][0], r["auc"]), default=None)


def strata_findings(rows: list[dict[str, Any]], overall_auc: float, fdr: float) -> list[str]:
    if not rows:
        return []
    suppressed = sum(r["suppressed"] for r in rows)
    significant = [r for r in rows if r["significant"]]
    top = most_at_risk(rows)
    text = [f"Subgroups: {len(rows) - suppressed} of {len(rows)} strata shown"
            + (f" ({suppressed} suppressed as small cells)" if suppressed else "")
            + f"; {len(significant)} separate members from non-members significantly "
              f"(Benjamini-Hochberg q <= {fdr:.2f})."]
    if top is not None:
        low, high = top["auc_ci"]
        name = top["value"] if top["column"] == RARE_CODES else f"{top['column']} = {top['value']}"
        text.append(f"Most at risk: {name}, AUC {top['auc']:.3f} (95% CI {low:.3f}-{high:.3f}, "
                    f"q = {top['q_value']:.2g}; {top['n_members']} members, "
                    f"{top['n_non_members']} non-members) against {overall_auc:.3f} overall.")
    return text
