"""Where the model and the cohorts come from: the training facts the owner declares
(marked as declared, never verified), the decoding used by the probes, how membership was
established, and the model-free split-validity check when the audit has one
(compliance.md 2.4, 6.4, 6.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family

from .elements import Align, Badge, Block, Heading, Paragraph, Table, TextStyle
from .metrics import format_metric
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
        if probe.get("family") != Family.EXTRACTION:
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
    columns: Mapping[str, Any] = {}
    splits: dict[str, str] = {}
    for dataset in map(as_mapping, as_list(results.get("datasets"))):
        columns = as_mapping(dataset.get("columns")) or columns
        if dataset.get("format") == "meds":  # a MEDS dataset folder: the roles are its splits
            splits[as_text(dataset.get("role"))] = ", ".join(
                str(s) for s in as_list(as_mapping(dataset.get("columns")).get("splits")))
    subgroups = [str(s) for s in as_list(columns.get("subgroups"))]
    if splits:
        text = (f"Membership was established by the model owner: the members are the subjects of "
                f"the MEDS dataset's split {splits.get('members', '')}, which the model was "
                f"trained on, the non-members those of the split {splits.get('non_members', '')}, "
                "from the same population, which it was not. The tool checks that no subject is in "
                "two splits; it cannot check that the splits are what the owner says. Records are "
                "referred to in this report only by keyed pseudonym.")
        if subgroups:
            text += f" Subgroups read from static codes: {', '.join(subgroups)}."
        return [Heading("How membership was established", 3), Paragraph(text, TextStyle.BODY)]
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


def split_verdict(split: Mapping[str, Any]) -> str:
    """pass / fail / unknown: the engine's verdict, or its `reliable` flag."""
    if split.get("verdict") is not None:
        return verdict_value(split.get("verdict"))
    if split.get("reliable") is True:
        return "pass"
    if split.get("reliable") is False:
        return "fail"
    return "unknown"


def split_summary(split: Mapping[str, Any]) -> str:
    headline = split.get("headline")
    if isinstance(headline, Mapping):
        headline = headline.get("text")
    return as_text(headline or split.get("explanation") or split.get("text"),
                   "A classifier that never sees the model tried to tell members from non-members.")


def split_validity_blocks(results: Mapping[str, Any]) -> list[Block]:
    split = as_mapping(results.get("split_validity"))
    heading = Heading("Split validity (model-free check)", 3)
    if not split:
        return [heading, Paragraph(
            "This audit has no model-free split-validity check: nothing here shows that members "
            "and non-members are not trivially different (length, vocabulary, dates). Read the "
            "membership results with that caveat.", TextStyle.NOTE)]
    verdict = split_verdict(split)
    label = {"pass": "VALID", "fail": "INVALID"}.get(verdict)
    badge = Badge(verdict, label) if label else verdict_badge(verdict, split.get("verdict"))
    blocks: list[Block] = [heading, Table(header=(), rows=((badge, split_summary(split)),),
                                          widths=(0.2, 0.8), align=(Align.CENTER, Align.LEFT))]
    rows = []
    if "auc" in split:
        rows.append(("All features together: AUC (95% CI)", format_metric("auc", split.get("auc"), split.get("auc_ci"))))
    features = [as_mapping(c) for c in as_list(split.get("feature_aucs") or split.get("checks"))]
    for feature in features:
        rows.append((f"{humanize(as_text(feature.get('feature') or feature.get('name')))}: AUC",
                     format_metric("auc", feature.get("auc"), feature.get("auc_ci"))))
    if is_number(split.get("threshold")):
        rows.append(("Invalid above AUC", format_general(split.get("threshold"))))
    if split.get("method"):
        rows.append(("Method", as_text(split.get("method"))))
    if rows:
        blocks.append(Table(header=("Check", "Value"), rows=tuple(rows), widths=(0.5, 0.5),
                            align=(Align.LEFT, Align.RIGHT)))
    blocks.append(Paragraph(
        "A membership result is interpretable only if a model-free classifier cannot tell the "
        "cohorts apart (AUC near 0.5); above the threshold the split is invalid and membership "
        "verdicts cannot be credited to the model (Duan et al. 2024; Meeus et al. 2024).", TextStyle.NOTE))
    return blocks
