"""Two audits side by side: what changed between a first audit and a second (typically the
same model before and after a mitigation: deduplication, differential-privacy retraining).

Probes are paired by id. For each pair: the two verdicts and whether the second is better
or worse; the membership AUC and the members an extraction probe reproduced, each with its
95% interval, formatted by audit_core.results.figures as the report prints them; and
whether the two intervals overlap (when they do, the figures alone do not show a change).
Nothing is recomputed: every number is read from the two results.

The two audits should be of the same model family on the same cohorts; where they are not,
`warnings` says so in words, since the figures then differ for that reason as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from audit_core.results.figures import (
    format_auc,
    format_count,
    format_rate,
    interval_bounds,
    is_number,
)
from audit_core.results.result import AuditResult, ProbeResult
from audit_core.results.verdicts import Verdict, severity


class Change(StrEnum):
    """What happened from the first audit to the second, in the words a person reads."""

    BETTER = "Better"
    WORSE = "Worse"
    SAME = "No change"
    UNCLEAR = "Cannot tell"  # an inconclusive or unassessed side, or overlapping intervals
    ONLY_FIRST = "Only in the first audit"
    ONLY_SECOND = "Only in the second audit"


# Verdicts that say nothing about memorization either way: a move to or from one is no
# improvement and no worsening (a smaller cohort can turn a FAIL into INCONCLUSIVE).
_UNDECIDED = (Verdict.INCONCLUSIVE, Verdict.ERROR)


@dataclass(frozen=True, slots=True)
class FigureChange:
    """One figure of one probe in both audits (texts as the report prints them)."""

    label: str
    first: str
    second: str
    overlap: bool | None  # the two 95% intervals overlap; None: an interval is missing
    change: Change


@dataclass(frozen=True, slots=True)
class ProbeChange:
    probe_id: str
    title: str
    first: Verdict | None  # None: the probe was not in that audit
    second: Verdict | None
    change: Change
    first_headline: str
    second_headline: str
    figures: tuple[FigureChange, ...]


@dataclass(frozen=True, slots=True)
class AuditComparison:
    first_title: str
    second_title: str
    overall: ProbeChange  # the audits' overall verdicts, as a row like the probes'
    probes: tuple[ProbeChange, ...]
    warnings: tuple[str, ...]


def compare_audits(first: AuditResult, second: AuditResult) -> AuditComparison:
    before = {p.id: p for p in first.probes}
    after = {p.id: p for p in second.probes}
    ids = list(before) + [i for i in after if i not in before]
    overall = ProbeChange(probe_id="", title="Overall verdict", first=first.overall_verdict,
                          second=second.overall_verdict,
                          change=verdict_change(first.overall_verdict, second.overall_verdict),
                          first_headline=first.overall_rationale, second_headline=second.overall_rationale,
                          figures=())
    return AuditComparison(first_title=str(first.audit.get("title") or ""),
                           second_title=str(second.audit.get("title") or ""),
                           overall=overall,
                           probes=tuple(_probe_change(before.get(i), after.get(i)) for i in ids),
                           warnings=tuple(_warnings(first, second)))


def verdict_change(first: Verdict, second: Verdict) -> Change:
    if first == second:
        return Change.SAME
    if first in _UNDECIDED or second in _UNDECIDED:
        return Change.UNCLEAR
    return Change.BETTER if severity(second) < severity(first) else Change.WORSE


def _probe_change(first: ProbeResult | None, second: ProbeResult | None) -> ProbeChange:
    either = first or second
    assert either is not None
    if first is None or second is None:
        change = Change.ONLY_SECOND if first is None else Change.ONLY_FIRST
        figures: tuple[FigureChange, ...] = ()
    else:
        change = verdict_change(first.verdict, second.verdict)
        figures = tuple(_figures(first.family, first.metrics, second.metrics))
    return ProbeChange(probe_id=either.id, title=either.title,
                       first=first.verdict if first else None, second=second.verdict if second else None,
                       change=change, first_headline=_headline(first), second_headline=_headline(second),
                       figures=figures)


def _headline(probe: ProbeResult | None) -> str:
    if probe is None:
        return ""
    text = probe.headline.get("text") if isinstance(probe.headline, Mapping) else None
    return str(text or probe.error or "")


def _figures(family: str, first: Mapping[str, Any], second: Mapping[str, Any]) -> list[FigureChange]:
    """The membership AUC and the extraction counts, when both audits have them. Lower is
    better for both: an attack that separates members less, fewer records reproduced.
    (Other families' AUCs, e.g. extraction's or a stratum's, are not the membership one.)"""
    out = []
    if family == "membership" and "auc" in first and "auc" in second:
        out.append(_figure("Membership AUC", first, second, "auc",
                           lambda m: format_auc(m.get("auc"), m.get("auc_ci"))))
    if "extracted_members" in first and "extracted_members" in second:
        out.append(_figure("Members reproduced", first, second, "extraction_rate_members", _extracted))
    return out


def _extracted(metrics: Mapping[str, Any]) -> str:
    """"11 of 1,000 (1.1% (0.6–2.0%))": the count, its denominator and the rate's interval."""
    count = format_count(metrics.get("extracted_members"))
    eligible = metrics.get("eligible_members")
    rate = format_rate(metrics.get("extraction_rate_members"), metrics.get("extraction_rate_members_ci"))
    return f"{count} of {format_count(eligible)}, {rate}" if is_number(eligible) else f"{count}, {rate}"


def _figure(label: str, first: Mapping[str, Any], second: Mapping[str, Any], key: str,
            text: Any) -> FigureChange:
    a, b = interval_bounds(first.get(f"{key}_ci")), interval_bounds(second.get(f"{key}_ci"))
    overlap = None if a is None or b is None else not (a[1] < b[0] or b[1] < a[0])
    x, y = first.get(key), second.get(key)
    if not (is_number(x) and is_number(y)):
        change = Change.UNCLEAR
    elif x == y:
        change = Change.SAME
    elif overlap is not False:  # the intervals overlap (or are unknown): no clear change
        change = Change.UNCLEAR
    else:
        change = Change.BETTER if y < x else Change.WORSE
    return FigureChange(label=label, first=text(first), second=text(second), overlap=overlap, change=change)


def _warnings(first: AuditResult, second: AuditResult) -> list[str]:
    out = []
    kinds = first.model.get("kind"), second.model.get("kind")
    if kinds[0] != kinds[1]:
        out.append("The two audits are of different kinds of model: their figures cannot be compared.")
    elif first.model.get("sha256") != second.model.get("sha256"):
        names = first.model.get("name"), second.model.get("name")
        named = "" if names[0] == names[1] else " (and named differently)"
        out.append(f"The two audits are of different model files{named}. That is expected when the "
                   "second audits the model retrained after a mitigation; otherwise check that "
                   "you chose the audits you meant to compare.")
    files = {d.get("role"): d.get("sha256") for d in first.datasets}
    others = {d.get("role"): d.get("sha256") for d in second.datasets}
    changed = [role for role in ("members", "non_members") if files.get(role) != others.get(role)]
    if changed:
        which = " and ".join(r.replace("_", "-") for r in changed)
        out.append(f"The {which} files differ between the two audits: a change in the figures may "
                   "come from the data as well as from the model.")
    if first.cancelled or second.cancelled:
        out.append("One of the audits was cancelled: probes that did not finish are missing from it.")
    return out
