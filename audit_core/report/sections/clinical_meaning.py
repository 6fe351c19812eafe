"""What a PASS or an INCONCLUSIVE of T2 (sensitive attributes) and T6 (vulnerable
subgroups) means for a patient, in words that follow the intervals behind it.

The generic wording ("a training patient cannot be told from a non-member better than
the thresholds allow") overstates these two: a T2 PASS means only that no gap was
detected in the categories that had enough carriers, and its intervals still allow a
gap up to their upper bound; a T6 PASS covers only the strata large enough to show.
Every figure comes from the probe's own metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family
from audit_core.results.figures import format_gap

from .values import as_mapping, format_count, is_number


def clinical_meaning(probe: Mapping[str, Any], verdict: str) -> str | None:
    """The sentence for a PASS or INCONCLUSIVE of T2 or T6; None: the generic one."""
    if verdict not in ("pass", "inconclusive"):
        return None
    metrics = as_mapping(probe.get("metrics"))
    family = probe.get("family")
    if family == Family.ATTRIBUTE and "categories_assessed" in metrics:
        return _attribute(metrics, verdict)
    if family == Family.SUBGROUPS and "strata_tested" in metrics:
        return _subgroups(metrics, verdict)
    return None


def _attribute(metrics: Mapping[str, Any], verdict: str) -> str:
    assessed, tested = metrics.get("categories_assessed"), metrics.get("categories_tested")
    missing = metrics.get("categories_not_assessed")
    not_covered = (f" {format_count(missing)} of {format_count(tested)} categories had too few carriers "
                   "to assess and are not covered: for them nothing is known either way."
                   if is_number(missing) and missing else "")
    if verdict == "inconclusive":
        if not assessed:
            return ("No sensitive category had enough carriers in both cohorts to compare members "
                    "with non-members: nothing can be said either way, and this is not evidence "
                    "of safety.")
        return "The data could not resolve the threshold: nothing can yet be said either way." + not_covered
    allowed = metrics.get("largest_auroc_gap_allowed")
    room = (f", though the intervals still allow members' AUROC to exceed non-members' by up to "
            f"{format_gap(allowed)}, so a smaller leak is not ruled out" if is_number(allowed) else "")
    return (f"No member/non-member difference was detected in the {format_count(assessed)} sensitive "
            f"categories that could be assessed: no gap interval lies above 0{room}." + not_covered)


def _subgroups(metrics: Mapping[str, Any], verdict: str) -> str:
    suppressed = metrics.get("strata_suppressed")
    small = (f" {format_count(suppressed)} strata too small to show were not assessed."
             if is_number(suppressed) and suppressed else "")
    if verdict == "inconclusive":
        return ("No stratum could be compared with the whole cohort: nothing can be said either "
                "way about which patients are most at risk." + small)
    return (f"No stratum fared worse than the whole cohort at the plan's false discovery rate: of "
            f"the {format_count(metrics.get('strata_tested'))} strata compared, none has a "
            "disparity whose lower confidence bound lies above 0 (Subgroups table); smaller "
            "disparities are not ruled out." + small)
