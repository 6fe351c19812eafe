"""The small-cell rule as the subgroup tables print it (CMS cell-size policy, compliance.md
6.9: cells of 1 to 10 are not shown).

The engine hides a count below the probe's `min_cell`, and one more count of the same
column and cohort when the small one could otherwise be recovered by subtraction from the
cohort total; `hidden_counts` names each hidden count and why. Each count is printed for
what it is: "<11" only for a small one, "≥11" for one withheld, any other as itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.results.disclosure import MIN_CELL
from audit_core.results.figures import (
    MISSING,
    format_count,
    format_small_cell,
    format_withheld_cell,
    is_number,
)

from .values import as_mapping

NOT_SHOWN = "not shown"  # hidden by results that do not say why (written before hidden_counts)


def min_cell(probe: Mapping[str, Any]) -> int:
    value = as_mapping(probe.get("thresholds")).get("min_cell")
    return int(value) if is_number(value) and value >= 1 else MIN_CELL


def is_suppressed(group: Mapping[str, Any], smallest: int = MIN_CELL) -> bool:
    if group.get("suppressed") is True:
        return True
    counts = [group.get("n_members"), group.get("n_non_members")]
    return any(is_number(c) and c < smallest for c in counts)


def cell_count(group: Mapping[str, Any], name: str, smallest: int) -> str:
    """One count of a stratum, labelled truthfully: the engine's reason when it hid it, the
    suppression mark for a small count it did not hide (older results), else the count."""
    reason = as_mapping(group.get("hidden_counts")).get(name)
    value = group.get(name)
    if reason == "small" or (is_number(value) and value < smallest):
        return format_small_cell(smallest)
    if reason == "complement":
        return format_withheld_cell(smallest)
    # Hidden without a reason (results written before the engine gave one): not claimed small.
    if not is_number(value):
        return NOT_SHOWN if is_suppressed(group, smallest) else MISSING
    return format_count(value)


def counts(group: Mapping[str, Any], smallest: int = MIN_CELL) -> str:
    """A stratum's "members / non-members", each count labelled by `cell_count`."""
    members, non = (cell_count(group, key, smallest) for key in ("n_members", "n_non_members"))
    return NOT_SHOWN if members == non == NOT_SHOWN else f"{members} / {non}"


def rule(smallest: int = MIN_CELL) -> str:
    """The small-cell rule in one sentence, for the one place a section states it."""
    return (f"Small-cell rule (CMS cell-size policy): a count below {format_count(smallest)} reads "
            f"{format_small_cell(smallest)}; one more count of the same column reads "
            f"{format_withheld_cell(smallest)} (at least {format_count(smallest)}, withheld) where "
            "the small one could otherwise be recovered by subtraction from the cohort total; a "
            "subgroup with a hidden count shows no figure (suppressed).")
