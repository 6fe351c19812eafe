"""Template text in the report: the extraction and identifier figures net of template text
beside the raw ones (issue 17), from the `template_*` metrics the two probes store.

Template text is what a large share of the members' records AND of the non-members' share
(a note's header, section titles, the clinic's phone number): a model writes it for any
patient, so it says nothing about memorization. The verdicts read the figures net of it;
code records seldom have any, and then one sentence says so and the raw figures stand.
Pure: from the result alone, every number formatted by the shared figure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.figures import format_count, format_percent, format_share, is_number

from .elements import Align, Block, Heading, Paragraph, Table
from .metrics import CI_SUFFIX, format_metric
from .values import as_mapping

PREFIX = "template_"
NET = "template_excluded_"

# (label, metric, denominator metric or None) per probe: the rows of the raw / net table.
_ROWS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "extraction": (
        ("Members extracted", "extracted_members", "eligible_members"),
        ("Non-members extracted", "extracted_non_members", "eligible_non_members"),
        ("Extraction rate, members", "extraction_rate_members", None),
        ("Continuation tokens reproduced, members", "token_match_members", None),
        ("Continuation tokens reproduced, non-members", "token_match_non_members", None),
        ("One-sided Fisher p (exact matches)", "p_value", None),
    ),
    "identifier_leakage": (
        ("Members given back their own identifiers", "members_own_identifiers_leaked", "eligible_members"),
        ("Non-members given back their own (control)", "non_members_own_identifiers_hit",
         "eligible_non_members"),
        ("Members' own direct identifiers written", "members_own_direct_identifiers", None),
        ("Generations with a member's direct identifier", "generations_with_member_direct_identifier",
         "generations"),
        ("Generations with a non-member's direct identifier",
         "generations_with_non_member_direct_identifier", "generations"),
        ("Identifiers of a training patient", "leaked_identifiers", None),
        ("One-sided Fisher p (own identifiers)", "own_identifiers_p_value", None),
    ),
}


def has_template_figures(probe: Mapping[str, Any]) -> bool:
    return "template_found" in as_mapping(probe.get("metrics"))


def without_template(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics but the template ones, which template_blocks prints."""
    return {k: v for k, v in metrics.items() if not k.startswith(PREFIX)}


def template_sentence(probe: Mapping[str, Any]) -> str | None:
    """What template text is, whether any was found, and which figures the verdict reads."""
    metrics = as_mapping(probe.get("metrics"))
    if "template_found" not in metrics:
        return None
    settings = as_mapping(probe.get("settings"))
    share = format_percent(settings.get("template_share")) if is_number(settings.get("template_share")) else "a share"
    if probe.get("id") == "identifier_leakage":
        what = (f"Template text is what at least {share} of the members' notes and of the "
                "non-members' share alike: an identifier value written that often (a clinic's phone "
                "number in every header) belongs to no patient in particular.")
        if not metrics.get("template_found"):
            return what + " No identifier value is that common here: the figures net of template are the raw ones."
        return (what + f" Such values here: {format_count(metrics.get('template_identifier_values'))}, "
                f"written {format_count(metrics.get('template_identifiers_detected'))} times in generated "
                "text; the verdict reads the figures without them.")
    run = settings.get("template_ngram")
    tokens = f"{format_count(run)} tokens" if is_number(run) else "tokens"
    what = (f"Template text is a run of {tokens} that at least {share} of the members' records and "
            "of the non-members' share alike (a note's header, section titles; in code records, the "
            "same opening codes): a model writes it "
            "for any patient, so it is neither credited nor blamed for it.")
    if not metrics.get("template_found"):
        return what + " None was found: the figures net of template are the raw ones."
    return (what + f" It is {format_percent(metrics.get('template_token_share_members'))} of the "
            f"members' tokens and {format_percent(metrics.get('template_token_share_non_members'))} of "
            "the non-members'. A record counts as extracted net of template when its reproduced "
            "continuation holds enough tokens that are not template; the verdict reads those figures.")


def template_blocks(probe: Mapping[str, Any]) -> list[Block]:
    """The sentence, and the raw and net figures side by side when there was template text."""
    sentence = template_sentence(probe)
    if sentence is None:
        return []
    metrics = as_mapping(probe.get("metrics"))
    blocks: list[Block] = [Heading("Template text", 3), Paragraph(sentence)]
    rows = _ROWS.get(str(probe.get("id")), ())
    if metrics.get("template_found") and rows:
        blocks.append(Table(
            header=("Figure", "Raw", "Net of template"),
            rows=tuple((label, _figure(metrics, name, whole), _figure(metrics, NET + name, whole))
                       for label, name, whole in rows if name in metrics),
            widths=(0.46, 0.27, 0.27), align=(Align.LEFT, Align.RIGHT, Align.RIGHT),
            caption="Raw: every token or identifier counted. Net of template: template text left "
                    "out; the verdict reads this column."))
    return blocks


def net_of_template(probe: Mapping[str, Any]) -> str | None:
    """One line beside the raw headline, when template text changed the figures: the members
    and non-members extracted (or given back their identifiers) net of template."""
    metrics = as_mapping(probe.get("metrics"))
    if not metrics.get("template_found"):
        return None
    rows = _ROWS.get(str(probe.get("id")), ())
    if len(rows) < 2:
        return None
    (_, members, m_whole), (_, non_members, n_whole) = rows[0], rows[1]
    if not (is_number(metrics.get(NET + members)) and is_number(metrics.get(NET + non_members))):
        return None
    return (f"Net of template text: {_figure(metrics, NET + members, m_whole)} members vs "
            f"{_figure(metrics, NET + non_members, n_whole)} non-members "
            "(the verdict reads these).")


def _figure(metrics: Mapping[str, Any], name: str, whole: str | None) -> str:
    value = metrics.get(name)
    if not is_number(value):
        return "—"
    if whole is not None:
        return format_share(value, metrics.get(whole))
    return format_metric(name, value, metrics.get(name + CI_SUFFIX))
