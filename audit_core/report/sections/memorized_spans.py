"""The report's table of memorized tokens by category: counts only, never a record's text.

Built from results.json's "memorized_spans" (run/memorized_spans.py): for the records most
at risk and as many non-members, how many tokens of each identifier category (notes) or code
category (code records) the model scores far above its baseline, and in how many spans. The
spans themselves stay in memorized_spans.json on the workstation, shown in the desktop app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.figures import format_count, format_decimal, format_percent, format_share

from .elements import Align, Block, Paragraph, Section, Table, TextStyle
from .privacy_tables import _CATEGORY_LABELS as IDENTIFIER_LABELS
from .values import as_list, as_mapping, as_text, humanize

_ROLES = ("members", "non_members")


def has_memorized_spans(results: Mapping[str, Any]) -> bool:
    return bool(as_mapping(results.get("memorized_spans")).get("totals"))


def memorized_spans_section(results: Mapping[str, Any], number: int) -> Section:
    summary = as_mapping(results.get("memorized_spans"))
    settings = as_mapping(summary.get("settings"))
    totals = {role: as_mapping(as_mapping(summary.get("totals")).get(role)) for role in _ROLES}
    by = as_text(summary.get("selected_by"), "")
    chosen = (f"the {format_count(settings.get('records'))} members the strongest membership attack "
              f"({by}) scores highest and the {format_count(settings.get('records'))} non-members it "
              "scores highest" if by else
              f"a seeded sample of {format_count(settings.get('records'))} records of each cohort "
              "(no membership attack scored every record)")
    baseline = ("the reference model's log-probability of the same token"
                if summary.get("baseline") == "reference model" else
                "the mean log-probability the model gives the same token among "
                f"{format_count(summary.get('baseline_records'))} non-members it was not shown")
    blocks: list[Block] = [
        Paragraph(f"Which tokens of the records most at risk the model scores far above a baseline: "
                  f"{chosen}, plus every extracted record. A token counts as memorized when its "
                  f"log-probability exceeds {baseline} by at least "
                  f"{format_decimal(summary.get('threshold'), 2)} nats (the threshold is raised until "
                  f"no more than {format_percent(settings.get('false_highlight'))} "
                  "of held-out non-members' tokens reach it); a span is a run of such tokens, "
                  f"gaps of up to {format_count(settings.get('max_gap'))} tokens merged. A model "
                  "that memorized nothing shows members and non-members alike."),
        _table(summary, totals),
        Paragraph("The spans themselves (record ids and token positions, no text) are in "
                  "memorized_spans.json beside records.csv, which stays on the workstation; the "
                  "desktop app shows them over each record's text.", TextStyle.SMALL),
    ]
    return Section(key="memorized-spans", title=f"{number}. Which tokens are memorized",
                   blocks=tuple(blocks), new_page=False, keep_together=True)


def _cell(cell: Mapping[str, Any]) -> str:
    return (f"{format_share(cell.get('memorized_tokens'), cell.get('tokens'))} tokens, "
            f"{format_count(cell.get('spans'))} spans")


def _table(summary: Mapping[str, Any], totals: Mapping[str, Mapping[str, Any]]) -> Table:
    rows: list[tuple[str, ...]] = []
    for entry in (as_mapping(c) for c in as_list(summary.get("categories"))):
        cells = [as_mapping(entry.get(role)) for role in _ROLES]
        if not any(c.get("tokens") for c in cells):
            continue
        name = as_text(entry.get("category"))
        label = as_text(entry.get("label"), "") or IDENTIFIER_LABELS.get(name) or humanize(name)
        rows.append((label, *(_cell(c) for c in cells)))
    rows.append(("All tokens", *(_cell(totals[role]) for role in _ROLES)))
    return Table(header=("Category", "Members most at risk", "Non-members scored highest"),
                 rows=tuple(rows), widths=(0.3, 0.35, 0.35),
                 align=(Align.LEFT, Align.RIGHT, Align.RIGHT),
                 caption="Memorized tokens by category, and the spans they fall in", dense=True)
