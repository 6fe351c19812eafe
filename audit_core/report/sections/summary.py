"""Page 2: every result in plain words, sorted the way SACRO-ML's release summary sorts its
evidence (grounds to reject, evidence against release, evidence for release, no evidence
either way), grouped by the risk to patients, each pointing at the numbered actions that
answer it; then the actions page 1 had no room for (compliance.md 6.2, 6.10).

This page replaces the executive summary's key-number table, the cover's verdict table and
the findings register, which said the same things three times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cover import TOP_ACTIONS, action_table, incomplete_notice, is_incomplete
from .elements import Align, Badge, Block, Heading, Paragraph, Section, Table, TextStyle
from .findings import BUCKETS, Finding, action_numbers, derive_findings, required_actions
from .verdicts import verdict_value

TITLE = "Findings and required actions"


def summary_section(results: Mapping[str, Any]) -> Section:
    overall = verdict_value(results.get("overall_verdict"))
    findings = derive_findings(results)
    actions = required_actions(findings, overall)
    blocks: list[Block] = []
    if is_incomplete(results):
        blocks.append(Paragraph(incomplete_notice(results), TextStyle.ALERT))
    blocks.append(Paragraph(
        "Sorted as SACRO-ML's release summary sorts evidence, grouped by the risk to patients; "
        "an inconclusive or unassessed result is never a pass. Actions: the numbered required "
        "actions that answer each result.", TextStyle.SMALL))
    empty = []
    for bucket, title in BUCKETS.items():
        rows = [f for f in findings if f.bucket == bucket]
        if rows:
            blocks += [Heading(f"{title} ({len(rows)})", 3), _bucket_table(rows, actions)]
        else:
            empty.append(title)
    if empty:
        blocks.append(Paragraph("No result falls under: " + "; ".join(empty) + ".", TextStyle.SMALL))
    if len(actions) > TOP_ACTIONS:
        numbers = f"actions {TOP_ACTIONS + 1} to {len(actions)}" if len(actions) > TOP_ACTIONS + 1 \
            else f"action {len(actions)}"
        blocks += [
            Heading(f"Required {numbers} (actions 1 to {TOP_ACTIONS} are on page 1)", 3),
            action_table(actions, TOP_ACTIONS, len(actions)),
        ]
    return Section(key="summary", title=TITLE, blocks=tuple(blocks))


def _bucket_table(rows: list[Finding], actions: tuple[str, ...]) -> Table:
    shown = []
    previous = None
    for finding in rows:
        # The risk and what it means are printed once per run of rows that share them (four
        # membership attacks find the same thing); each row keeps its own figure.
        first = (finding.risk, finding.found) != previous
        previous = (finding.risk, finding.found)
        # A row without a figure of its own keeps the sentence: a cell is never left empty.
        found = " ".join(part for part in (
            finding.found if first or not finding.evidence else "", finding.evidence) if part)
        found = found[:1].upper() + found[1:]  # an engine headline may start in lower case
        shown.append((finding.risk if first else "", finding.probe,
                      Badge(finding.verdict, finding.verdict_label), found,
                      action_numbers(finding, actions) or "none"))
    return Table(
        header=("Risk", "Probe", "Verdict", "What it found", "Actions"),
        rows=tuple(shown),
        widths=(0.15, 0.22, 0.14, 0.4, 0.09),  # the verdict column holds INCONCLUSIVE unbroken
        align=(Align.LEFT, Align.LEFT, Align.CENTER, Align.LEFT, Align.LEFT),
    )
