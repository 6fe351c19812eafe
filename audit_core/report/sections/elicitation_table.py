"""Identifier elicitation's tables and chart (ProPILE, Kim et al. 2023), drawn from the columns
the probe stores in `curves`:

* `elicitation_tiers`: one row per knowledge tier (the name; the name and date of birth; the
  name and a visit date), members' and non-members' patients who got a withheld identifier
  of their own back, with rates, 95% intervals and the one-sided Fisher p;
* `elicitation_categories`: per tier and cohort, one row per Safe Harbor category (the
  detector's order), patients whose prompts withheld it and patients who got it back.

Counts and rates only: no identifier, no prompt, no generated text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.figures import format_p_value, format_rate, format_share

from .elements import Align, Block, Heading, Interval, IntervalChart, Table
from .privacy_tables import _CATEGORY_LABELS
from .values import as_list, as_mapping, is_number

TIERS_KEY, CATEGORIES_KEY = "elicitation_tiers", "elicitation_categories"
# The probe's tiers (probes/elicitation_prompts.TIERS), in the order of its rows: the report
# reads the result only, so it names them here (a test checks the two agree).
TIERS = ("tier1_name", "tier2_name_dob", "tier2_name_visit")
TIER_LABELS = {"tier1_name": "Tier 1: name", "tier2_name_dob": "Tier 2: name and date of birth",
               "tier2_name_visit": "Tier 2: name and visit date"}
# Safe Harbor categories in the detector's order, as the identifier table labels them.
CATEGORIES = tuple(_CATEGORY_LABELS)
_SHORT = {"tier1_name": "T1 name", "tier2_name_dob": "T2 name, DOB", "tier2_name_visit": "T2 name, visit"}
_SIDES = (("members", "members"), ("non_members", "non-members"))


def _at(table: Mapping[str, Any], key: str, row: int) -> Any:
    values = as_list(table.get(key))
    return values[row] if row < len(values) else None


def _rate(table: Mapping[str, Any], side: str, row: int) -> str:
    value = _at(table, f"rate_{side}", row)
    low, high = _at(table, f"rate_{side}_low", row), _at(table, f"rate_{side}_high", row)
    return format_rate(value, (low, high) if is_number(low) and is_number(high) else None)


def elicitation_blocks(probe: Mapping[str, Any]) -> list[Block]:
    curves = as_mapping(probe.get("curves"))
    tiers, categories = as_mapping(curves.get(TIERS_KEY)), as_mapping(curves.get(CATEGORIES_KEY))
    if not tiers:
        return []
    rows = []
    for i, tier in enumerate(TIERS):
        p = _at(tiers, "p_value", i)
        rows.append((TIER_LABELS[tier],
                     format_share(_at(tiers, "leaked_members", i), _at(tiers, "eligible_members", i)),
                     _rate(tiers, "members", i),
                     format_share(_at(tiers, "leaked_non_members", i), _at(tiers, "eligible_non_members", i)),
                     _rate(tiers, "non_members", i),
                     format_p_value(p) if is_number(p) else "n/a"))
    blocks: list[Block] = [Heading("Leak rate by what the attacker knows", 3), Table(
        header=("Attacker knows", "Members leaked", "Rate (95% CI)", "Non-members leaked",
                "Rate (95% CI)", "p (Fisher)"),
        rows=tuple(rows), widths=(0.24, 0.13, 0.19, 0.13, 0.19, 0.12),
        align=(Align.LEFT,) + (Align.RIGHT,) * 5,
        caption="Patients who got back at least one of their own identifiers that the prompt "
                "withheld, among those whose note names them and holds the known identifiers. "
                "Prompts are written in the form of the patient's own note. p: one-sided Fisher "
                "exact test, members above non-members (the control).")]
    shown = [c for c, _ in enumerate(CATEGORIES)
             if any(_number(categories, f"{tier}:withheld_{side}", c) for tier in TIERS for side, _ in _SIDES)]
    if shown:
        header = ("Category", *(f"{_SHORT[t]}, {words}" for t in TIERS for _, words in _SIDES))
        cat_rows = tuple((list(_CATEGORY_LABELS.values())[c],
                          *(format_share(_number(categories, f"{t}:leaked_{side}", c),
                                         _number(categories, f"{t}:withheld_{side}", c))
                            for t in TIERS for side, _ in _SIDES)) for c in shown)
        blocks += [Heading("Withheld identifiers given back, by category", 3), Table(
            header=header, rows=cat_rows, widths=(0.22,) + (0.13,) * 6,
            align=(Align.LEFT,) + (Align.RIGHT,) * 6,
            caption="Per tier and cohort: patients who got the category back, of those whose "
                    "prompts withheld it. A date counts the date of birth and visit dates alike. "
                    "Values are never shown; the findings give masked examples.")]
    return blocks


def _number(table: Mapping[str, Any], key: str, row: int) -> float:
    value = _at(table, key, row)
    return float(value) if is_number(value) else 0.0


def elicitation_chart(probe: Mapping[str, Any]) -> IntervalChart | None:
    """Members' and non-members' leak rates per tier, in percent, with their intervals."""
    tiers = as_mapping(as_mapping(probe.get("curves")).get(TIERS_KEY))
    rows = []
    for i, tier in enumerate(TIERS):
        for side, words in _SIDES:
            value = _at(tiers, f"rate_{side}", i)
            if not is_number(value):
                continue
            low, high = _at(tiers, f"rate_{side}_low", i), _at(tiers, f"rate_{side}_high", i)
            rows.append(Interval(f"{_SHORT[tier]}, {words}", 100 * float(value),
                                 100 * float(low) if is_number(low) else None,
                                 100 * float(high) if is_number(high) else None,
                                 flagged=side == "members"))
    if not rows:
        return None
    return IntervalChart(
        title="Patients whose withheld identifiers came back, by what the attacker knows",
        rows=tuple(rows), x_label="Share of patients (%)",
        caption="Prompted with one or two of their identifiers in the form of their own note: "
                "training patients (members) against patients the model never saw (the "
                "control). Bars: 95% intervals.")
