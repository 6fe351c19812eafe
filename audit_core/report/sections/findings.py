"""What the audit found and what to do about it, derived once from the results and printed
once (compliance.md 6.2, 6.10): every probe, every flagged subgroup and a failed split check
becomes one finding, sorted the way SACRO-ML's release summary sorts its evidence: grounds
to reject, evidence against release, evidence for release, and results that give no
evidence either way (inconclusive or not assessed, never read as a pass).

Each finding points at the required actions by number; an action several findings call for
(retrain with differential privacy, say) is listed once. Nothing here is typed in, so the
front pages always agree with the sections they summarise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_core.families import FAMILIES, Family

from .family_terms import ACTIONS, family_of
from .values import DASH, as_list, as_mapping, as_text
from .verdicts import ERROR, probe_verdict, verdict_word

REJECT, AGAINST, FOR, NONE = "reject", "against", "for", "none"
BUCKETS = {
    REJECT: "Reject: grounds to refuse release as assessed",
    AGAINST: "Evidence against release",
    FOR: "Evidence for release",
    NONE: "No evidence either way",
}
BUCKET_OF_VERDICT = {"fail": REJECT, "warn": AGAINST, "pass": FOR}
# Rows of one bucket are grouped by risk, in the order a reader weighs them: the family
# registry's order (who was in the training data, what comes out of the model verbatim or
# identifies a patient, then what can be inferred about them).
# Keyed by text: a result names its family as a string (a Family equals its value).
RISK_ORDER: dict[str, int] = {family: index for index, family in enumerate(FAMILIES)}


def risk_rank(probe: Mapping[str, Any]) -> int:
    return RISK_ORDER.get(as_text(probe.get("family"), ""), len(RISK_ORDER))

NO_SIGNAL = "No signal above the warning threshold."
NO_EVIDENCE = {
    "inconclusive": "Too few patients to resolve the threshold: no evidence either way.",
    ERROR: "Stopped with an error: no evidence either way.",
}


@dataclass(frozen=True)
class Finding:
    bucket: str  # a key of BUCKETS
    risk: str  # the risk in a patient's words; rows are grouped by it
    probe: str  # the probe's title, or what was checked
    verdict: str  # verdict value, for the badge
    verdict_label: str
    found: str  # what it found, in one plain sentence
    evidence: str  # the figure it rests on (the probe's headline), or ""
    actions: tuple[str, ...]  # keys of ACTIONS
    order: int = 99


def derive_findings(results: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for probe in map(as_mapping, as_list(results.get("probes"))):
        findings.append(_probe_finding(probe))
        findings += _subgroup_findings(probe)
    findings += _split_findings(results)
    bucket_order = list(BUCKETS)
    return sorted(findings, key=lambda f: (bucket_order.index(f.bucket), f.order))


def _probe_finding(probe: Mapping[str, Any]) -> Finding:
    verdict = probe_verdict(probe)
    family = family_of(probe)
    title = as_text(probe.get("title"), as_text(probe.get("id")))
    evidence = as_text(as_mapping(probe.get("headline")).get("text"), "")
    bucket = BUCKET_OF_VERDICT.get(verdict, NONE)
    if bucket in (REJECT, AGAINST):
        found, actions = family.found, family.actions
    elif bucket == FOR:
        # The badge says PASS; the sentence is needed only when there is no figure to show.
        found, actions = ("" if evidence else NO_SIGNAL), ()
    else:
        found = NO_EVIDENCE.get(verdict, "No verdict was recorded: no evidence either way.")
        actions = ("fix_error",) if verdict == ERROR else ("more_data",)
        evidence = "" if verdict == ERROR else evidence
    return Finding(
        bucket=bucket, risk=family.risk, probe=title, verdict=verdict,
        verdict_label=verdict_word(verdict, probe.get("verdict")),
        found=found, evidence=evidence, actions=actions, order=risk_rank(probe),
    )


def _subgroup_findings(probe: Mapping[str, Any]) -> list[Finding]:
    # A subgroup flag adds something only when the whole-cohort verdict did not already
    # report leakage: an average that passes can hide a group whose members are exposed.
    if probe_verdict(probe) in ("fail", "warn"):
        return []
    flagged = [
        g for g in map(as_mapping, as_list(probe.get("subgroups")))
        if g.get("significant") is True and not g.get("suppressed")
    ]
    if not flagged:
        return []
    # "age_band AGE_18_29, AGE_30_39; sex F": the column named once, at most four values.
    by_column: dict[str, list[str]] = {}
    for group in flagged[:4]:
        by_column.setdefault(as_text(group.get("column")), []).append(as_text(group.get("value")))
    names = "; ".join(f"{column} {', '.join(values)}" for column, values in by_column.items())
    more = f" and {len(flagged) - 4} more" if len(flagged) > 4 else ""
    return [Finding(
        bucket=AGAINST, risk=FAMILIES[Family.SUBGROUPS].wording.risk,
        probe=f"{as_text(probe.get('title'), as_text(probe.get('id')))}, by subgroup",
        verdict="warn", verdict_label="FLAGGED",
        found="The whole cohort passes, but some subgroups do not.",
        evidence=f"Members told from non-members significantly (Benjamini–Hochberg) in: {names}{more}.",
        actions=("generalise", "dp"), order=RISK_ORDER[Family.SUBGROUPS],
    )]


def _split_findings(results: Mapping[str, Any]) -> list[Finding]:
    from .provenance import split_summary, split_verdict

    split = as_mapping(results.get("split_validity"))
    verdict = split_verdict(split)
    if not split or verdict in ("pass", "unknown"):
        return []
    return [Finding(
        bucket=NONE, risk="Whether the data can show anything", probe="Split validity (model-free)",
        verdict=verdict, verdict_label="INVALID" if verdict == "fail" else verdict_word(verdict),
        found=("Members and non-members differ without the model, so membership results cannot "
               "be credited to it."),
        evidence=split_summary(split),
        actions=("redraw",), order=-1,
    )]


def required_actions(findings: list[Finding], overall: str) -> tuple[str, ...]:
    """The keys of ACTIONS, each once, in the order the most serious findings call for them;
    what keeps a passing result valid when nothing needs doing."""
    keys: list[str] = []
    for finding in findings:
        for key in finding.actions:
            if key in ACTIONS and key not in keys:
                keys.append(key)
    if any(f.bucket in (REJECT, AGAINST) for f in findings):
        keys.append("reaudit")
    if not keys and overall == "pass":
        keys = ["keep_context", "reaudit_on_change"]
    return tuple(keys)


def action_numbers(finding: Finding, actions: tuple[str, ...]) -> str:
    """The numbers of the actions that answer `finding`, runs written as ranges: "1–3, 5"."""
    numbers = sorted(actions.index(key) + 1 for key in finding.actions if key in actions)
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{run[0]}{DASH}{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs)
