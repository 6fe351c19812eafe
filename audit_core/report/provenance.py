"""Where the model and the cohorts come from: the training facts the owner declares
(marked as declared, never verified), the decoding used by the probes, how membership was
established, and the model-free split-validity check when the audit has one
(compliance.md 2.4, 6.4, 6.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Align, Badge, Block, Heading, Paragraph, Table, TextStyle
from .metrics import format_metric, metric_label
from .values import as_list, as_mapping, as_text, format_general, humanize, is_number
from .verdicts import verdict_badge, verdict_value

DECLARED = "declared, not verified"


def declared_blocks(model: Mapping[str, Any]) -> list[Block]:
    declared = as_mapping(model.get("declared"))
    heading = Heading("Training facts declared by the owner", 3)
    if not declared:
        return [heading, Paragraph(
            "The owner declared no training facts (data, epochs, deduplication, differential "
            "privacy). Nothing about how the model was trained is known to this audit.", TextStyle.NOTE)]
    rows = tuple((humanize(str(k)), _declared_value(v), Badge("inconclusive", "DECLARED")) for k, v in declared.items())
    return [heading, Table(header=("Fact", "As declared", "Status"), rows=rows, widths=(0.26, 0.56, 0.18),
                           align=(Align.LEFT, Align.LEFT, Align.CENTER),
                           caption=f"Every fact in this table is {DECLARED} by the tool.")]


def _declared_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{humanize(str(k))}: {format_general(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(format_general(v) for v in value)
    return format_general(value)


def decoding_blocks(results: Mapping[str, Any]) -> list[Block]:
    rows = []
    for probe in map(as_mapping, as_list(results.get("probes"))):
        if probe.get("family") != "extraction":
            continue
        settings = as_mapping(probe.get("settings"))
        text = "greedy (most likely token at each step, no sampling)"
        if settings:
            text += "; " + ", ".join(f"{humanize(k).lower()} {format_general(v)}" for k, v in settings.items())
        rows.append((as_text(probe.get("title")), text))
    if not rows:
        return []
    return [Heading("Decoding used by the probes", 3),
            Table(header=("Probe", "Decoding"), rows=tuple(rows), widths=(0.34, 0.66))]


def membership_blocks(results: Mapping[str, Any]) -> list[Block]:
    columns = {}
    for dataset in map(as_mapping, as_list(results.get("datasets"))):
        columns = as_mapping(dataset.get("columns")) or columns
    subgroups = [str(s) for s in as_list(columns.get("subgroups"))]
    text = (
        "Membership was established by the model owner: the members file holds records the "
        "model was trained on, the non-members file records from the same population that it "
        "was not. The tool checks that no id appears in both files; it cannot check that the "
        "split is what the owner says. Records are referred to in this report only by keyed "
        "pseudonym."
    )
    if subgroups:
        text += f" Subgroup columns read: {', '.join(subgroups)}."
    return [Heading("How membership was established", 3), Paragraph(text, TextStyle.BODY)]


def split_validity_blocks(results: Mapping[str, Any]) -> list[Block]:
    split = as_mapping(results.get("split_validity"))
    heading = Heading("Split validity (model-free check)", 3)
    if not split:
        return [heading, Paragraph(
            "This audit has no model-free split-validity check: nothing here shows that members "
            "and non-members are not trivially different (length, vocabulary, dates). Read the "
            "membership results with that caveat.", TextStyle.NOTE)]
    blocks: list[Block] = [heading]
    verdict = verdict_value(split.get("verdict"))
    summary = as_text(split.get("headline") or split.get("text") or split.get("rationale"),
                      "A classifier that never sees the model tried to tell members from non-members.")
    if isinstance(split.get("headline"), Mapping):
        summary = as_text(as_mapping(split.get("headline")).get("text"), summary)
    blocks.append(Table(header=(), rows=((verdict_badge(verdict, split.get("verdict")), summary),),
                        widths=(0.2, 0.8), align=(Align.CENTER, Align.LEFT)))
    metrics = as_mapping(split.get("metrics")) or {
        k: v for k, v in split.items() if is_number(v) or (isinstance(v, list) and k.endswith("_ci"))}
    rows = tuple((metric_label(k), format_metric(k, v, metrics.get(k + "_ci")))
                 for k, v in metrics.items() if not k.endswith("_ci"))
    if rows:
        blocks.append(Table(header=("Check", "Value (95% CI)"), rows=rows, widths=(0.6, 0.4),
                            align=(Align.LEFT, Align.RIGHT)))
    checks = [as_mapping(c) for c in as_list(split.get("checks"))]
    if checks:
        blocks.append(Table(
            header=("Feature", "AUC (95% CI)", "Verdict"),
            rows=tuple((as_text(c.get("name") or c.get("feature")),
                        format_metric("auc", c.get("auc"), c.get("auc_ci")),
                        verdict_badge(verdict_value(c.get("verdict")), c.get("verdict"))) for c in checks),
            widths=(0.5, 0.3, 0.2), align=(Align.LEFT, Align.RIGHT, Align.CENTER)))
    blocks.append(Paragraph(
        "A membership result is interpretable only if a model-free classifier cannot tell the "
        "cohorts apart (AUC near 0.5); above 0.6 the split is invalid and membership verdicts "
        "are INCONCLUSIVE (compliance reference 2.4).", TextStyle.NOTE))
    return blocks
