"""One section per probe that is not a membership attack (those share one section,
membership_page.py): the question, the verdict, a chart where a picture says it faster
than a table, the probe's own table, its findings, and the records it reproduced
(compliance.md 6.8). Settings, thresholds and the metrics not shown here are printed once,
in the appendix (probe_appendix.py), not per probe.

Extraction probes also list the records they reproduced, by keyed pseudonym (`ref`) only:
the record `id` is a patient identifier and is never read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family

from .carrier_table import carrier_blocks
from .clinical_tables import clinical_blocks
from .elements import (
    Align,
    Block,
    BulletList,
    Code,
    Heading,
    Paragraph,
    Section,
    Table,
    TextStyle,
)
from .metrics import metric_rows
from .privacy_tables import privacy_blocks
from .probe_charts import CATEGORY_PREFIX, tier_name
from .probe_evidence import meaning_blocks, probe_figure
from .template_figures import template_blocks, without_template
from .values import (
    as_list,
    as_mapping,
    as_text,
    format_count,
    format_seconds,
    is_number,
    role_label,
)
from .verdicts import ERROR, probe_verdict, verdict_badge
from .vulnerable_table import is_vulnerable_probe, vulnerable_table

# Past a few dozen, a list of pseudonyms says nothing a count does not; the full list
# stays in records.csv on the audit workstation.
MAX_LISTED_RECORDS = 50


def probe_section(probe: Mapping[str, Any], number: str) -> Section:
    probe_id = as_text(probe.get("id"), f"probe-{number}")
    title = as_text(probe.get("title"), probe_id)
    verdict = probe_verdict(probe)
    blocks: list[Block] = [Paragraph(_identity_line(probe, probe_id), TextStyle.NOTE)]
    if probe.get("question"):
        blocks.append(Paragraph(as_text(probe.get("question")), TextStyle.LEAD))
    blocks.append(_verdict_table(probe, verdict))
    if verdict == ERROR:
        blocks.append(
            Paragraph(
                "Not assessed: this probe stopped with an error, so it gives no evidence "
                f"either way. Error: {as_text(probe.get('error'))}",
                TextStyle.ALERT,
            )
        )
    blocks += meaning_blocks(probe, verdict)
    if probe.get("reliable") is False:
        blocks.append(Paragraph(
            "Not reliable: members and non-members differ without the model (see Split validity), "
            "so this probe's result cannot be credited to the model.", TextStyle.ALERT))
    figure = probe_figure(probe, title)
    if figure is not None:
        blocks.append(figure)
    specific = specific_blocks(probe)
    if specific:
        blocks += specific
    elif as_mapping(probe.get("metrics")):
        blocks.append(metrics_table(without_template(as_mapping(probe.get("metrics")))))
    blocks += template_blocks(probe)  # extraction and identifiers: raw and net of template text
    findings = _findings(probe)
    if findings:
        blocks += [Heading("Findings", 3), BulletList(findings)]
    # The records an extraction probe reproduced are its evidence: right by its findings.
    if probe.get("family") == Family.EXTRACTION or "extracted" in probe:
        blocks += _extracted_blocks(probe)
    blocks += carrier_blocks(probe, MAX_LISTED_RECORDS)
    return Section(key=f"probe:{probe_id}", title=f"{number} {title}", blocks=tuple(blocks), new_page=False)


def specific_blocks(probe: Mapping[str, Any]) -> list[Block]:
    """The probe's own table (T1 tiers, T2 categories, identifiers, canaries, T6 strata);
    empty for a probe whose metrics table is its evidence."""
    blocks = privacy_blocks(probe) + clinical_blocks(probe)
    if is_vulnerable_probe(probe) and as_list(probe.get("subgroups")):
        blocks.append(vulnerable_table(probe))
    return blocks


def metrics_on_page(probe: Mapping[str, Any]) -> bool:
    """Whether the probe's section prints its metrics table (else the appendix does)."""
    return probe.get("family") != Family.MEMBERSHIP and not specific_blocks(probe)


def metrics_table(metrics: Mapping[str, Any], dense: bool = False) -> Table:
    """Every metric with its interval. When one n stands behind every figure (the usual
    case), it goes in the caption and the metrics run in two columns: half the height."""
    rows = metric_rows(metrics)
    shared = {n for _, _, n in rows if n}
    if len(shared) == 1 and len(rows) > 6:
        n = shared.pop()
        half = (len(rows) + 1) // 2
        left, right = rows[:half], rows[half:] + [("", "", "")] * (2 * half - len(rows))
        return Table(
            header=("Metric", "Value (95% CI)", "Metric", "Value (95% CI)"),
            rows=tuple((a[0], a[1], b[0], b[1]) for a, b in zip(left, right)),
            widths=(0.29, 0.21, 0.29, 0.21),
            align=(Align.LEFT, Align.RIGHT, Align.LEFT, Align.RIGHT),
            caption=f"n = {n} (members / non-members); a count is its own n.", dense=dense,
        )
    return Table(
        header=("Metric", "Value (95% CI)", "n"),
        rows=tuple(rows),
        widths=(0.44, 0.36, 0.20),
        align=(Align.LEFT, Align.RIGHT, Align.RIGHT),
        caption="n: the records behind each figure.", dense=dense,
    )


def _identity_line(probe: Mapping[str, Any], probe_id: str) -> str:
    parts = [f"Probe id: {probe_id}"]
    metrics = as_mapping(probe.get("metrics"))
    members = next((metrics[k] for k in ("n_members", "eligible_members") if is_number(metrics.get(k))), None)
    non = next((metrics[k] for k in ("n_non_members", "eligible_non_members") if is_number(metrics.get(k))), None)
    if members is not None and non is not None:
        parts.append(f"{format_count(members)} members, {format_count(non)} non-members")
    if is_number(probe.get("seconds")):
        parts.append(f"run time: {format_seconds(probe.get('seconds'))}")
    return " · ".join(parts)


def _findings(probe: Mapping[str, Any]) -> tuple[str, ...]:
    """The engine's findings, less those that restate a row of the probe's own table
    ("First 20 codes: members' sampled futures lie ..."): each figure once."""
    rows = _table_labels(probe)
    kept = []
    for finding in (as_text(f) for f in as_list(probe.get("findings")) if f):
        head = finding.split(":", 1)[0].removesuffix(" only").strip().lower() if ":" in finding else ""
        if head and head in rows:
            continue
        kept.append(finding)
    return tuple(kept)


def _table_labels(probe: Mapping[str, Any]) -> set[str]:
    curves = as_mapping(probe.get("curves"))
    labels = set()
    if probe.get("family") == Family.TRAJECTORY:
        labels |= {tier_name(k).lower() for k in as_list(as_mapping(curves.get("tiers")).get("known_tokens"))}
    for key in curves:
        if str(key).startswith(CATEGORY_PREFIX):
            labels.add(str(key)[len(CATEGORY_PREFIX):].split(":", 1)[-1].lower())
    return labels


def _verdict_table(probe: Mapping[str, Any], verdict: str) -> Table:
    headline = as_mapping(probe.get("headline"))
    text = as_text(headline.get("text"), "No headline result was recorded.")
    if verdict == ERROR:
        text = "The probe did not complete."
    return Table(
        header=(),
        rows=((verdict_badge(verdict, probe.get("verdict")), text),),
        widths=(0.2, 0.8),
        align=(Align.CENTER, Align.LEFT),
    )


def _extracted_blocks(probe: Mapping[str, Any]) -> list[Block]:
    records = [as_mapping(r) for r in as_list(probe.get("extracted"))]
    # Sensitive-attribute probes list patients to review, not records reproduced.
    what = "flagged for clinical review" if probe.get("family") == Family.ATTRIBUTE else "reproduced"
    blocks: list[Block] = [Heading("Records reproduced" if what == "reproduced" else
                                   "Patients flagged for clinical review", 3)]
    if not records:
        return blocks + [Paragraph(f"No record was {what}.", TextStyle.SMALL)]
    listed = records[:MAX_LISTED_RECORDS]
    by_role: dict[str, list[str]] = {}
    for record in listed:
        by_role.setdefault(role_label(record.get("role")), []).append(as_text(record.get("ref"), "(no reference)"))
    more = len(records) - len(listed)
    blocks.append(Table(
        header=("Cohort", "Records", "Keyed pseudonyms"),
        rows=tuple((role, format_count(len(refs)), Code("  ".join(refs))) for role, refs in by_role.items()),
        widths=(0.14, 0.1, 0.76), align=(Align.LEFT, Align.RIGHT, Align.LEFT),
        caption=(f"{len(records)} record(s) {what}, by keyed pseudonym (see Record pseudonyms in the "
                 "appendix)" + (f"; {more} more not listed here." if more > 0 else "."))))
    return blocks
