"""One section per probe: the question, the verdict and the thresholds behind it, every
figure with its interval and n, the ROC curve, the findings, and the settings as run
(compliance.md 6.8).

Extraction probes also list the records they reproduced, by keyed pseudonym (`ref`) only:
the record `id` is a patient identifier and is never read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from .probe_evidence import key_figure_blocks, meaning_blocks, probe_figure, threshold_blocks
from .values import (
    as_list,
    as_mapping,
    as_text,
    format_general,
    format_seconds,
    humanize,
    is_number,
    role_label,
)
from .verdicts import ERROR, probe_verdict, verdict_badge

# Past a few dozen, a list of pseudonyms says nothing a count does not; the full list
# stays in records.csv on the audit workstation.
MAX_LISTED_RECORDS = 50
REFS_PER_ROW = 3


def probe_section(probe: Mapping[str, Any], number: str) -> Section:
    probe_id = as_text(probe.get("id"), f"probe-{number}")
    title = as_text(probe.get("title"), probe_id)
    verdict = probe_verdict(probe)
    blocks: list[Block] = [Paragraph(_identity_line(probe, probe_id), TextStyle.NOTE)]
    if probe.get("question"):
        blocks.append(Paragraph(as_text(probe.get("question")), TextStyle.LEAD))
    if probe.get("citation"):
        blocks.append(Paragraph(f"Method: {as_text(probe.get('citation'))}.", TextStyle.SMALL))

    blocks.append(Heading("Verdict", 3))
    blocks.append(_verdict_table(probe, verdict))
    if verdict == ERROR:
        blocks.append(
            Paragraph(
                "Not assessed: this probe stopped with an error, so it gives no evidence "
                f"either way. Error: {as_text(probe.get('error'))}",
                TextStyle.ALERT,
            )
        )
    if probe.get("reliable") is False:
        blocks.append(Paragraph(
            "Not reliable: members and non-members differ without the model (see Split validity "
            "in the Datasets section), so this probe's result cannot be credited to the model.",
            TextStyle.ALERT))
    blocks += key_figure_blocks(probe)
    figure = probe_figure(probe, title)
    if figure is not None:
        blocks.append(figure)
    blocks += meaning_blocks(probe, verdict)
    # What it means comes before the numbers: a privacy officer may stop reading here.
    blocks.append(Heading("Findings", 3))
    findings = tuple(as_text(f) for f in as_list(probe.get("findings")) if f)
    blocks.append(
        BulletList(findings) if findings else Paragraph("No findings were recorded.", TextStyle.NOTE)
    )
    blocks += privacy_blocks(probe)  # per-category identifiers, canary exposure per repeat
    blocks += clinical_blocks(probe)  # T1 per tier, T2 per sensitive category
    # The records an extraction probe reproduced are its evidence: right by its findings.
    if probe.get("family") == "extraction" or "extracted" in probe:
        blocks += _extracted_blocks(probe)
    blocks += threshold_blocks(probe)

    metrics = as_mapping(probe.get("metrics"))
    blocks.append(Heading("All metrics", 3))
    blocks.append(metrics_table(metrics) if metrics else
                  Paragraph("No metrics were recorded for this probe.", TextStyle.NOTE))

    blocks.append(Heading("Settings", 3))
    blocks.append(_settings_block(probe))

    return Section(key=f"probe:{probe_id}", title=f"{number} {title}", blocks=tuple(blocks))


def metrics_table(metrics: Mapping[str, Any]) -> Table:
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
            caption=f"n = {n} (members / non-members) behind every figure except the counts themselves.",
        )
    return Table(
        header=("Metric", "Value (95% CI)", "n"),
        rows=tuple(rows),
        widths=(0.44, 0.36, 0.20),
        align=(Align.LEFT, Align.RIGHT, Align.RIGHT),
        caption="n: records behind the figure (members / non-members where both are used).",
    )


def _identity_line(probe: Mapping[str, Any], probe_id: str) -> str:
    parts = [f"Probe id: {probe_id}"]
    if probe.get("family"):
        parts.append(f"family: {as_text(probe.get('family'))}")
    if is_number(probe.get("seconds")):
        parts.append(f"run time: {format_seconds(probe.get('seconds'))}")
    return " · ".join(parts)


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


def _settings_block(probe: Mapping[str, Any]) -> Block:
    settings = as_mapping(probe.get("settings"))
    meta = {
        str(m.get("name")): m for m in map(as_mapping, as_list(probe.get("settings_meta"))) if m.get("name")
    }
    names = list(settings) + [name for name in meta if name not in settings]
    if not names:
        return Paragraph("This probe has no configurable settings.", TextStyle.NOTE)
    rows = []
    for name in names:
        info = meta.get(name, {})
        rows.append(
            (
                as_text(info.get("label"), humanize(name)),
                Code(name),
                format_general(settings[name]) if name in settings else "not recorded",
                format_general(info["default"]) if "default" in info else "",
                as_text(info.get("help"), ""),
            )
        )
    return Table(
        header=("Setting", "Plan key", "Value", "Default", "Meaning"),
        rows=tuple(rows),
        widths=(0.22, 0.17, 0.1, 0.1, 0.41),
        align=(Align.LEFT, Align.LEFT, Align.RIGHT, Align.RIGHT, Align.LEFT),
    )


def _extracted_blocks(probe: Mapping[str, Any]) -> list[Block]:
    records = [as_mapping(r) for r in as_list(probe.get("extracted"))]
    # Sensitive-attribute probes list patients to review, not records reproduced.
    what = "flagged for clinical review" if probe.get("family") == "attribute" else "reproduced"
    blocks: list[Block] = [Heading("Records reproduced" if what == "reproduced" else
                                   "Patients flagged for clinical review", 3)]
    if not records:
        return blocks + [Paragraph(f"No record was {what}.", TextStyle.BODY)]
    listed = records[:MAX_LISTED_RECORDS]
    blocks.append(
        Paragraph(
            f"The results name {len(records)} record(s) {what}, shown here by keyed "
            "pseudonym only. Identifiers and record text are never printed; per-record "
            "detail stays in records.csv on the audit workstation.",
            TextStyle.SMALL,
        )
    )
    cells = [(Code(as_text(r.get("ref"), "(no reference)")), role_label(r.get("role"))) for r in listed]
    rows = []
    for start in range(0, len(cells), REFS_PER_ROW):
        chunk = cells[start : start + REFS_PER_ROW]
        chunk += [("", "")] * (REFS_PER_ROW - len(chunk))
        rows.append(tuple(cell for pair in chunk for cell in pair))
    blocks.append(
        Table(
            header=("Reference", "Cohort") * REFS_PER_ROW,
            rows=tuple(rows),
            widths=tuple(w for _ in range(REFS_PER_ROW) for w in (0.15, 1 / REFS_PER_ROW - 0.15)),
        )
    )
    if len(records) > MAX_LISTED_RECORDS:
        blocks.append(
            Paragraph(
                f"… and {len(records) - MAX_LISTED_RECORDS} more not listed here.", TextStyle.SMALL
            )
        )
    return blocks
