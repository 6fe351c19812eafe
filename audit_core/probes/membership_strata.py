"""Who is most at risk: membership figures per subgroup and for rare-code carriers.

Tonekaboni et al. (NeurIPS 2025, test T6) ask whether memorization falls harder on some
patients; rare conditions and small demographic cells are the usual suspects (Carlini
et al.'s "Secret Sharer", USENIX Security 2019: rare sequences are the ones memorized).
Every declared subgroup column gives one stratum per value (a value held by fewer than
`min_cell` patients is not named: such values share one pooled stratum), and (for code sequences) the
records holding a code seen in at most k members form the rare-code carriers. Per stratum: AUC with a
bootstrap interval, a one-sided Mann-Whitney p-value for AUC > 0.5, the held-out TPR
and FPR at the primary FPR threshold, and Benjamini-Hochberg q-values across strata.
A count below `min_cell` is suppressed (CMS cell-size rule: cells of 1 to 10 are not
shown), and so is one more count of the same column and cohort when a lone suppressed
count could be recovered by subtraction from the cohort total; every other count is kept.
`hidden_counts` says which counts are hidden and why ("small" or "complement"), so the
report can label each truthfully. A stratum with a hidden count shows no figures
(`suppressed`): a rate and its interval can give its count away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from audit_core.clinical.code_reading import is_static_row
from audit_core.data.cohort import Cohort, Role
from audit_core.data.split_validity import record_tokens
from audit_core.data.subgroup_categories import MIN_CELL, pooled_label, split_categories, value_floor
from audit_core.results.figures import (
    format_auc,
    format_count,
    format_general,
    format_interval,
    format_p_value,
    format_share,
)
from audit_core.stats.intervals import auc_greater_p_value, bootstrap_auc, clopper_pearson
from audit_core.stats.multiple_testing import benjamini_hochberg
from audit_core.stats.roc import auc

RARE_CODES = "rare_codes"
COUNTS = ("n_members", "n_non_members")
SMALL = "small"  # below min_cell: the report prints "<11"
COMPLEMENT = "complement"  # at least min_cell, hidden so a small count stays unrecoverable: "≥11"


@dataclass(frozen=True, slots=True)
class Stratum:
    column: str
    value: str
    members: np.ndarray  # boolean mask over the members
    non_members: np.ndarray  # boolean mask over the non-members
    partition: bool  # the column's strata cover the cohort (complements can be subtracted)


def membership_strata(cohorts: dict[Role, Cohort], rare_max_members: int,
                      min_cell: int = MIN_CELL) -> list[Stratum]:
    """`min_cell`: the plan's smallest cell; a value held by fewer patients than it (or than
    the CMS 11, whichever is larger) is not named but pooled (data/subgroup_categories.py)."""
    members, non_members = cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS]
    floor = value_floor([min_cell])
    strata = []
    for column in members.subgroups:
        m_values, n_values = members.subgroups[column], non_members.subgroups[column]
        common, rare = split_categories(m_values, n_values, floor)
        for value in common:
            strata.append(Stratum(column, str(value), m_values == value, n_values == value, True))
        if rare:
            pooled = set(rare)
            strata.append(Stratum(column, pooled_label(len(rare), floor),
                                  np.array([v in pooled for v in m_values.tolist()], dtype=bool),
                                  np.array([v in pooled for v in n_values.tolist()], dtype=bool),
                                  True))
    kind = members.info.columns.get("kind", "codes")
    if kind != "codes":  # in free text nearly every record holds a word seen once
        return strata
    # Two passes, tokenizing one record at a time: a set of codes per record, held for a
    # whole cohort, would weigh more than the records themselves.
    seen: dict[str, int] = {}
    for s in members.sequences:
        for code in _codes(s, kind):
            seen[code] = seen.get(code, 0) + 1
    m_rare = np.array([any(seen[c] <= rare_max_members for c in _codes(s, kind))
                       for s in members.sequences], dtype=bool)
    # A non-member's code is counted as if the record were a member too, so that a random
    # split puts members and non-members into this stratum alike.
    n_rare = np.array([any(seen.get(c, 0) + 1 <= rare_max_members for c in _codes(s, kind))
                       for s in non_members.sequences], dtype=bool)
    label = (f"carriers of a code seen in at most {rare_max_members} "
             f"member{'s' if rare_max_members > 1 else ''}")
    strata.append(Stratum(RARE_CODES, label, m_rare, n_rare, False))
    return strata


def _codes(sequence: str, kind: str) -> set[str]:
    """A record's distinct codes of care: MEDS rows about the person (GENDER//UNK, MEDS_BIRTH,
    in either convention: clinical.code_reading) do not make a patient a rare-code carrier."""
    # Distinct tokens first: a record repeats its codes, and each test is a call.
    return {c for c in set(record_tokens(sequence, kind)) if not is_static_row(c)}


class StrataRules(Protocol):
    """The two thresholds the strata read, in both families that judge strata: membership
    (its subgroup table) and subgroups (the vulnerable-subgroups probe)."""

    @property
    def min_cell(self) -> int: ...  # a count below this is suppressed
    @property
    def subgroup_fdr(self) -> float: ...  # the false discovery rate of the strata's flags


def assess_strata(strata: list[Stratum], members: np.ndarray, non_members: np.ndarray,
                  flagged_members: np.ndarray | None, flagged_non_members: np.ndarray | None,
                  t: StrataRules, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One entry per stratum, in the order given (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    for s in strata:
        n1, n0 = int(s.members.sum()), int(s.non_members.sum())
        hidden = {key: SMALL for key, n in zip(COUNTS, (n1, n0)) if n < t.min_cell}
        row: dict[str, Any] = {"column": s.column, "value": s.value, "n_members": n1,
                               "n_non_members": n0, "suppressed": bool(hidden),
                               "hidden_counts": hidden,
                               "auc": None, "auc_ci": None, "p_value": None,
                               "tpr_at_primary_fpr": None, "tpr_at_primary_fpr_ci": None,
                               "fpr_at_primary_fpr": None, "fpr_at_primary_fpr_ci": None,
                               "q_value": None, "significant": False}
        rows.append(row)
    _suppress_complements(strata, rows)
    tested = []
    for s, row in zip(strata, rows):
        for key in row["hidden_counts"]:
            row[key] = None
        if row["suppressed"]:
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
    """A lone hidden count of a partition is the cohort total minus the others: hide the
    smallest other count of the same column and cohort too (its stratum then shows no
    figures either)."""
    columns = {s.column for s in strata if s.partition}
    for column in sorted(columns):
        cells = [r for s, r in zip(strata, rows) if s.column == column]
        for key in COUNTS:
            shown = [r for r in cells if key not in r["hidden_counts"]]
            if len(cells) - len(shown) == 1 and shown:
                smallest = min(shown, key=lambda r: (r[key], r["value"]))
                smallest["hidden_counts"][key] = COMPLEMENT
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
    text = [f"Subgroups: {format_share(len(rows) - suppressed, len(rows))} strata shown"
            + (f" ({format_count(suppressed)} suppressed by the small-cell rule)" if suppressed else "")
            + f"; {format_count(len(significant))} separate members from non-members significantly "
              f"(Benjamini-Hochberg q <= {format_general(fdr)})."]
    if top is not None:
        name = top["value"] if top["column"] == RARE_CODES else f"{top['column']} = {top['value']}"
        text.append(f"Most at risk: {name}, AUC {format_auc(top['auc'])} (95% CI "
                    f"{format_interval(top['auc_ci'])}, q = {format_p_value(top['q_value'])}; "
                    f"{format_count(top['n_members'])} members, "
                    f"{format_count(top['n_non_members'])} non-members) against "
                    f"{format_auc(overall_auc)} overall.")
    return text
