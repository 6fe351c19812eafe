"""Tables of the EHR foundation-model probes (Tonekaboni et al. 2025), drawn from the
columns they store in `curves`:

* trajectory reconstruction (T1), `curves["tiers"]`: one row per attacker-knowledge tier,
  the members' and non-members' mean distance to their true future, the gap with its
  interval, the two population baselines, and exact reproduction of the next codes;
* sensitive attributes (T2), `curves["category:<name>:<label>"]`: one table per
  category, a row per tier, AUROC and AUPRC for members and non-members, the gap with
  the simultaneous interval its verdict reads, and the patients flagged for review. A
  category with too few carriers is listed as not assessed, with its counts.

Aggregates only: no code, no record, no identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family
from audit_core.results.figures import (
    MISSING,
    format_count,
    format_count_pair,
    format_decimal,
    format_estimate,
    format_gap,
    format_general,
    format_percent,
)

from .elements import Align, Block, Heading, Paragraph, Table, TextStyle
from .values import as_list, as_mapping, is_number

DASH = MISSING
_CATEGORY_PREFIX = "category:"


def _tier_name(known: Any) -> str:
    if not is_number(known):
        return DASH
    value = int(known)
    return {-1: "Start token", 0: "Demographics"}.get(value, f"First {value} codes")


def _num(value: Any, digits: int = 3) -> str:
    return format_decimal(value, digits)


def _count(value: Any) -> str:
    return format_count(value)


def _with_ci(value: Any, low: Any, high: Any) -> str:
    # Two decimals, not AUC's usual three: nine columns share the page width.
    return format_estimate(value, (low, high), 2)


def _column(table: Mapping[str, Any], key: str, row: int) -> Any:
    values = as_list(table.get(key))
    return values[row] if row < len(values) else None


def _row(table: Mapping[str, Any], row: int):
    """A reader of one row of a column table: row(key) -> value or None."""
    return lambda key: _column(table, key, row)


def clinical_blocks(probe: Mapping[str, Any]) -> list[Block]:
    curves = as_mapping(probe.get("curves"))
    blocks: list[Block] = []
    tiers = as_mapping(curves.get("tiers"))
    if tiers and probe.get("family") == Family.TRAJECTORY:
        blocks += _trajectory_blocks(tiers)
    categories = [(key, as_mapping(value)) for key, value in curves.items()
                  if str(key).startswith(_CATEGORY_PREFIX)]
    if categories:
        blocks += _attribute_blocks(categories, probe)
    return blocks


def _gap_cell(value: Any, low: Any, high: Any) -> str:
    return format_gap(value, (low, high))


def _pair(first: Any, second: Any) -> str:
    return format_count_pair(first, second)


def _trajectory_blocks(table: Mapping[str, Any]) -> list[Block]:
    rows = []
    for i in range(len(as_list(table.get("known_tokens")))):
        c = _row(table, i)
        rows.append((_tier_name(c("known_tokens")), _pair(c("n_members"), c("n_non_members")),
                     _num(c("distance_members")), _num(c("distance_non_members")),
                     _gap_cell(c("gap"), c("gap_low"), c("gap_high")),
                     _num(c("frequency_baseline")), _num(c("unprompted_baseline")),
                     f"{_num(c('recall_members'), 2)} / {_num(c('recall_non_members'), 2)}",
                     _pair(c("exact_members"), c("exact_non_members"))))
    return [Heading("Reconstruction by attacker knowledge", 3), Table(
        header=("Attacker knows", "Patients (M / N)", "Distance, M", "Distance, N",
                "Gap M − N (95% CI)", "Baseline, code frequencies", "Baseline, unprompted",
                "Code recall (M / N)", "Exact (M / N)"),
        rows=tuple(rows), widths=(0.14, 0.1, 0.09, 0.09, 0.17, 0.11, 0.11, 0.1, 0.09),
        align=(Align.LEFT,) + (Align.RIGHT,) * 8,
        caption="Mean time-aware earth mover's distance between each patient's sampled and true "
                "continuation (0 = identical; lower = closer), for members (M) and non-members (N). "
                "A negative gap means members' futures were reconstructed more closely; the baselines "
                "give the distance population statistics alone achieve. Exact: patients with at least "
                "one sample that reproduced their next codes verbatim.")]


def _attribute_blocks(categories: list[tuple[str, Mapping[str, Any]]], probe: Mapping[str, Any]) -> list[Block]:
    rows, untested = [], []
    for key, table in categories:
        label = str(key)[len(_CATEGORY_PREFIX):].split(":", 1)[-1]
        shown = 0
        for i in range(len(as_list(table.get("known_tokens")))):
            c = _row(table, i)
            flagged = (c("flagged_members") or 0) + (c("flagged_non_members") or 0)
            if not (is_number(c("auroc_members")) or is_number(c("auroc_non_members")) or flagged):
                continue  # nothing to show at this tier: too few carriers, nobody flagged
            rows.append((
                label if shown == 0 else "", _tier_name(c("known_tokens")),
                _pair(c("positives_members"), c("positives_non_members")),
                _with_ci(c("auroc_members"), c("auroc_members_low"), c("auroc_members_high")),
                _with_ci(c("auroc_non_members"), c("auroc_non_members_low"), c("auroc_non_members_high")),
                _with_ci(c("auprc_members"), c("auprc_members_low"), c("auprc_members_high")),
                _with_ci(c("auprc_non_members"), c("auprc_non_members_low"), c("auprc_non_members_high")),
                _gap_cell(c("gap"), c("gap_low"), c("gap_high")) if is_number(c("gap")) else NOT_ASSESSED,
                _pair(c("flagged_members"), c("flagged_non_members"))))
            shown += 1
        if not any(is_number(v) for v in as_list(table.get("gap"))):
            untested.append(f"{label} (at most {_most(table, 'positives_members')} / "
                            f"{_most(table, 'positives_non_members')} carriers)")
    metrics = as_mapping(probe.get("metrics"))
    thresholds = as_mapping(probe.get("thresholds"))
    blocks: list[Block] = [Heading("Sensitive categories by attacker knowledge", 3)]
    if rows:
        blocks.append(Table(
            header=("Category", "Attacker knows", "Carriers (M / N)", "AUROC, M", "AUROC, N",
                    "AUPRC, M", "AUPRC, N", "AUROC gap M − N (simultaneous 95% CI)", "Flagged (M / N)"),
            rows=tuple(rows), widths=(0.14, 0.12, 0.08, 0.105, 0.105, 0.105, 0.105, 0.16, 0.08),
            align=(Align.LEFT, Align.LEFT) + (Align.RIGHT,) * 7,
            caption="AUROC and AUPRC (95% CI) of the signal against the category appearing after the "
                    "prompt, for members (M) and non-members (N) separately. Carriers: patients with "
                    "the category after the prompt (AUROC needs a few in each cohort; a dash: too few). "
                    + _gap_rule(metrics, thresholds)
                    + " Flagged: carriers whose category came up with at least the flag signal."))
    if untested:
        need = thresholds.get("min_positives")
        reason = (f"fewer than {_count(need)} patients with and without the category after the prompt "
                  "in each cohort at every tier" if is_number(need) else "too few carriers at every tier")
        blocks.append(Paragraph(f"Not assessed ({reason}; M / N: members / non-members): "
                                + "; ".join(untested) + ". A category not assessed is not evidence "
                                "either way: the verdict does not cover it.", TextStyle.SMALL))
    return blocks


NOT_ASSESSED = "not assessed"


def _most(table: Mapping[str, Any], key: str) -> str:
    values = [v for v in as_list(table.get(key)) if is_number(v)]
    return _count(max(values)) if values else DASH


def _gap_rule(metrics: Mapping[str, Any], thresholds: Mapping[str, Any]) -> str:
    """How the gap column sets the verdict, with the figures of this run."""
    cells, each = metrics.get("cells_assessed"), metrics.get("gap_confidence_per_cell")
    if not (is_number(cells) and is_number(each)):
        return "Gap intervals as recorded by the engine."
    fail = thresholds.get("fail_auc_gap")
    return (f"Gap intervals are simultaneous over the {_count(cells)} category × tier cells assessed "
            f"(Bonferroni: each at {format_percent(each, 2)}), the intervals the verdict reads: one above 0 "
            "is a WARN" + (f", one whose lower bound reaches {format_general(fail)} a FAIL" if is_number(fail)
                          else "") + "; not assessed: too few carriers for an AUROC in a cohort.")
