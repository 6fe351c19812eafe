"""The findings register (compliance.md 6.10): one row per thing that needs action, with
its severity, the probe that found it, the evidence, how many patients it touches and
what to do.

Findings are derived from the results (probe verdicts, subgroup flags, split validity),
never typed in, so the register always agrees with the sections it points to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .elements import Align, Badge, Block, Paragraph, Section, Table, TextStyle
from .families import family_of
from .key_figures import affected_count
from .values import as_list, as_mapping, as_text, format_count, is_number
from .verdicts import ERROR, probe_verdict


@dataclass(frozen=True)
class Finding:
    severity: str  # high, medium, low
    probe: str
    evidence: str
    affected: str
    action: str


SEVERITY_OF_VERDICT = {"fail": "high", "warn": "medium", "inconclusive": "low", ERROR: "medium"}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SEVERITY_WORDS = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW"}
# Severity badges reuse the verdict colours: high reads as FAIL, medium as WARN.
SEVERITY_COLOURS = {"high": "fail", "medium": "warn", "low": "inconclusive"}


def _more_data(probe: Mapping[str, Any]) -> str:
    needed = as_mapping(probe.get("metrics")).get("non_members_needed")  # the engine's figure
    if is_number(needed):
        return f"Rerun with at least {format_count(needed)} non-members from the same population."
    return "Rerun with more non-members from the same population."


def derive_findings(results: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for probe in map(as_mapping, as_list(results.get("probes"))):
        verdict = probe_verdict(probe)
        title = as_text(probe.get("title"), as_text(probe.get("id")))
        if verdict in ("fail", "warn"):
            count = affected_count(probe)
            findings.append(Finding(
                severity=SEVERITY_OF_VERDICT[verdict],
                probe=title,
                evidence=as_text(as_mapping(probe.get("headline")).get("text"), "see the probe's section"),
                affected=f"{format_count(count)} training patients" if count is not None else "not counted",
                action=family_of(probe).mitigations[0],
            ))
        elif verdict == "inconclusive":
            findings.append(Finding(
                severity="low", probe=title,
                evidence="The cohorts are too small to resolve the verdict's threshold.",
                affected="unknown",
                action=_more_data(probe),
            ))
        elif verdict == ERROR:
            findings.append(Finding(
                severity="medium", probe=title,
                evidence="The probe stopped with an error and gives no evidence.",
                affected="unknown",
                action="Fix the cause named in the probe's section and rerun the audit.",
            ))
        findings += _subgroup_findings(probe, title)
    findings += _split_findings(results)
    return sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))


def _subgroup_findings(probe: Mapping[str, Any], title: str) -> list[Finding]:
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
    names = ", ".join(f"{as_text(g.get('column'))} = {as_text(g.get('value'))}" for g in flagged[:4])
    more = f" and {len(flagged) - 4} more" if len(flagged) > 4 else ""
    count = sum(int(g["n_members"]) for g in flagged if isinstance(g.get("n_members"), int))
    return [Finding(
        severity="medium", probe=f"{title} (subgroups)",
        evidence=f"Members are told from non-members significantly (Benjamini–Hochberg) in: {names}{more}.",
        affected=f"{format_count(count)} training patients" if count else "not counted",
        action="Examine these groups' records for duplication and rare codes; consider DP retraining.",
    )]


def _split_findings(results: Mapping[str, Any]) -> list[Finding]:
    from .provenance import split_summary, split_verdict

    split = as_mapping(results.get("split_validity"))
    verdict = split_verdict(split)
    if not split or verdict in ("pass", "unknown"):
        return []
    return [Finding(
        severity="high" if verdict == "fail" else "medium",
        probe="Split validity (model-free)",
        evidence=split_summary(split),
        affected="every membership result",
        action="Draw non-members from the same population and period as the members, then rerun.",
    )]


def findings_section(results: Mapping[str, Any], number: int) -> Section:
    findings = derive_findings(results)
    blocks: list[Block] = [Paragraph(
        "Every result that calls for action, most severe first. Severity: HIGH for a FAIL, "
        "MEDIUM for a WARN, a significant subgroup or a probe that could not be assessed, "
        "LOW for an inconclusive probe. Affected: training patients the attack singles "
        "out at its operating point.", TextStyle.SMALL)]
    if not findings:
        blocks.append(Paragraph("No finding calls for action: every probe passed.", TextStyle.BODY))
    else:
        blocks.append(findings_table(findings))
    return Section(key="findings", title=f"{number}. Findings register", blocks=tuple(blocks), new_page=False)


def findings_table(findings: list[Finding], limit: int | None = None) -> Table:
    shown = findings[:limit] if limit else findings
    return Table(
        header=("Id", "Severity", "Probe", "Evidence", "Affected", "Recommended action"),
        rows=tuple(
            (f"F-{i}", Badge(SEVERITY_COLOURS[f.severity], SEVERITY_WORDS[f.severity]),
             f.probe, f.evidence, f.affected, f.action)
            for i, f in enumerate(shown, start=1)
        ),
        widths=(0.06, 0.12, 0.17, 0.25, 0.13, 0.27),
        align=(Align.LEFT, Align.CENTER, *(Align.LEFT,) * 4),
    )
