"""What T2 (sensitive attributes) says about its cells, in words that follow the intervals.

A gap whose simultaneous interval lies above 0 is said to be one ("members higher"); a
gap whose interval spans 0 is "no difference detected", with the largest gap the
interval still allows, never "cannot be told apart". A category with too few carriers
is "not assessed", with its counts, and is not counted as evidence either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audit_core.clinical.code_sets import CodeSet
from audit_core.families.attribute import AttributeThresholds
from audit_core.probes.base import Headline
from audit_core.results.figures import (
    format_auc,
    format_count,
    format_count_pair,
    format_gap,
    format_gap_interval,
    format_general,
    format_p_value,
    format_percent,
    format_share,
)

HEADLINE_LABEL = "Member minus non-member AUROC gap with the strongest evidence of risk"


def _where(s: dict) -> str:
    return f"{s['label']}, {s['tier_label'].lower()}"


def _ci(s: dict) -> str:
    return f"simultaneous 95% CI {format_gap_interval((s['gap_low'], s['gap_high']))}"


def attribute_headline(strongest: dict | None, *, categories: tuple[int, int], flagged: tuple[int, int],
                       p_flag: float | None) -> Headline:
    """`strongest`: the assessed cell with the highest lower bound of its gap interval."""
    assessed, tested = categories
    if strongest is None:
        gap = "no category could be assessed (too few carriers)"
    elif strongest["gap_low"] > 0:
        gap = f"members higher by {format_gap(strongest['gap'])} ({_where(strongest)}; {_ci(strongest)})"
    else:
        gap = (f"no member/non-member gap detected; strongest {format_gap(strongest['gap'])} "
               f"({_where(strongest)}; {_ci(strongest)})")
    f_m, f_n = flagged
    p = f", Fisher p = {format_p_value(p_flag)}" if p_flag is not None and f_m + f_n else ""
    text = (f"{gap}; {format_share(assessed, tested)} categories assessed; "
            f"{format_count(f_m)} members and {format_count(f_n)} non-members flagged for review{p}")
    return Headline(label=HEADLINE_LABEL, value=strongest["gap"] if strongest else None, text=text)


def attribute_findings(stats: list[dict], present: Sequence[CodeSet], base_rate: np.ndarray, *,
                       flagged: tuple[int, int], scored: tuple[int, int], p_flag: float | None,
                       t: AttributeThresholds, dropped: list[str], confidence: float) -> list[str]:
    f_m, f_n = flagged
    # What the verdict rests on comes first (the desktop app shows the first finding).
    lines = [_basis(stats, t, confidence),
             f"{format_share(f_m, scored[0])} members and {format_share(f_n, scored[1])} "
             f"non-members had a sensitive category of theirs come up with a signal of at least "
             f"{format_general(t.flag_signal)} after it was removed from the prompt"
             + (f" (one-sided Fisher p = {format_p_value(p_flag)})." if p_flag is not None else ".")]
    unassessed = []
    for k, code_set in enumerate(present):
        mine = [s for s in stats if s["name"] == code_set.name]
        judged = [s for s in mine if s["assessed"]]
        base = format_percent(base_rate[k])
        if judged:
            s = max(judged, key=lambda s: (s["gap_low"], s["gap"]))
            reading = ("members higher: the interval excludes 0" if s["gap_low"] > 0 else
                       f"no difference detected; the interval allows a gap up to {format_gap(s['gap_high'])}")
            tiers = (f" ({format_share(len(judged), len(mine))} tiers assessed)"
                     if len(judged) < len(mine) else "")
            lines.append(f"{code_set.label}: strongest at {s['tier_label'].lower()}{tiers}, AUROC "
                         f"{format_auc(s['auroc_members'])} for members and "
                         f"{format_auc(s['auroc_non_members'])} for non-members, gap "
                         f"{format_gap(s['gap'])} ({_ci(s)}): {reading}; unprompted base rate {base}.")
        else:
            most_m = max((s["positives_members"] for s in mine), default=0)
            most_n = max((s["positives_non_members"] for s in mine), default=0)
            unassessed.append(f"{code_set.label} (at most {format_count_pair(most_m, most_n)}; {base})")
    if unassessed:
        lines.append(f"Not assessed, not evidence either way: fewer than {format_count(t.min_positives)} patients "
                     "with and without the category after the prompt in each cohort at every tier "
                     "(carriers after the prompt, members / non-members; unprompted base rate): "
                     + "; ".join(unassessed) + ".")
    if dropped:
        lines.append(f"Not tested (no code of the category in the model's vocabulary): {', '.join(dropped)}.")
    return lines


def _basis(stats: list[dict], t: AttributeThresholds, confidence: float) -> str:
    """The sentence the gap part of the verdict rests on."""
    assessed = [s for s in stats if s["assessed"]]
    if not assessed:
        return (f"No category had {format_count(t.min_positives)} patients with and without it after the prompt "
                "in both cohorts at any tier: the member/non-member gap could not be assessed.")
    intervals = (f"{format_count(len(assessed))} category x tier cells assessed, their gap intervals "
                 f"simultaneous at 95% (each at {format_percent(confidence, 2)}, Bonferroni)")
    above = [s for s in assessed if s["gap_low"] > 0]
    if above:
        return (f"{intervals}; the interval lies above 0 (AUROC higher for members) for "
                + "; ".join(f"{_where(s)} ({format_gap(s['gap'])}, {_ci(s)})" for s in above) + ".")
    widest = max(assessed, key=lambda s: s["gap_high"])
    return (f"{intervals}; no interval lies above 0: no member/non-member difference detected, "
            f"though the intervals allow the AUROC of members to exceed that of non-members by up to "
            f"{format_gap(widest['gap_high'])} ({_where(widest)}).")
