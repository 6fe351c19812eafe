"""From per-patient sensitive-category signals to T2's metrics, tables and verdict.

A cell is one category at one tier. Within a cell, members and non-members are judged
separately (AUROC and AUPRC of the signal against the label, with 95% bootstrap
intervals), then against each other: the AUROC gap (members minus non-members) with a
bootstrap interval, whose lower bound at alpha split over the cells (Bonferroni) decides.
Flagged patients (the category after the prompt, signal at or above the flag level in
any cell) are counted per cohort; their excess among members is tested one-sided
(Fisher). The pseudonymous list of flagged patients goes out through `extracted`, which
the runner maps to keyed pseudonyms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from audit_core.clinical.code_sets import CodeSet
from audit_core.clinical.record_layout import Tier
from audit_core.data.cohort import Role
from audit_core.figures import (
    format_auc,
    format_count,
    format_gap,
    format_gap_interval,
    format_general,
    format_p_value,
    format_percent,
    format_share,
)
from audit_core.probes.base import Headline, ProbeContext, ProbeOutcome
from audit_core.stats.intervals import fisher_greater
from audit_core.stats.precision_recall import average_precision
from audit_core.stats.roc import auc
from audit_core.verdicts import AttributeThresholds, Verdict

_RESAMPLES = 500
CATEGORY_PREFIX = "category:"  # curves[f"category:{name}:{label}"]: one table per category, a row per tier


@dataclass(frozen=True)
class CategoryTier:
    category: CodeSet
    tier: Tier
    rows: dict[Role, np.ndarray]  # record indices scored at this tier
    labels: dict[Role, np.ndarray]  # 1 after the prompt, 0 absent, NaN only inside the prompt
    signals: dict[Role, np.ndarray]


def assess(ctx: ProbeContext, cells: list[CategoryTier], present: Sequence[CodeSet], base_rate: np.ndarray,
           *, sizes: dict[Role, int], dropped: list[str]) -> ProbeOutcome:
    t: AttributeThresholds = ctx.thresholds
    stats = [_cell_stats(cell, t, ctx.rng) for cell in cells]
    resolved = [s for s in stats if s["resolved"]]
    level = t.alpha / max(len(resolved), 1)
    for s in resolved:
        s["gap_bound"] = float(np.quantile(s.pop("_gaps"), level)) if len(s["_gaps"]) else None
    for s in stats:
        s.pop("_gaps", None)

    flagged = {role: sorted({int(i) for cell in cells for i, y, v in
                             zip(cell.rows[role], cell.labels[role], cell.signals[role])
                             if y == 1 and v >= t.flag_signal}) for role in Role}
    scored = {role: len({int(i) for cell in cells for i in cell.rows[role]}) for role in Role}
    f_m, f_n = len(flagged[Role.MEMBERS]), len(flagged[Role.NON_MEMBERS])
    n_m, n_n = scored[Role.MEMBERS], scored[Role.NON_MEMBERS]
    p_flag = fisher_greater(f_m, n_m, f_n, n_n) if n_m and n_n else None
    excess = f_m - (f_n * n_m / n_n if n_n else 0.0)

    fail_cells = [s for s in resolved if s["gap_bound"] is not None and s["gap_bound"] >= t.fail_auc_gap]
    warn_cells = [s for s in resolved if s["gap_bound"] is not None and s["gap_bound"] > 0]
    flag_signal = p_flag is not None and p_flag < t.alpha and f_m > 0
    findings = _findings(stats, cells, present, base_rate, flagged, scored, p_flag, t, dropped)
    if flag_signal and excess >= t.fail_min_flagged or fail_cells:
        verdict = Verdict.FAIL
    elif flag_signal or warn_cells:
        verdict = Verdict.WARN
    elif resolved or (n_m and n_n and f_m == 0):
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
        findings.append(f"No category had {format_count(t.min_positives)} carriers after the prompt in both cohorts "
                        "and no member was flagged: the probe could not judge.")

    best = max(resolved, key=lambda s: s["gap"], default=None)
    metrics: dict[str, object] = {
        "n_members": n_m, "n_non_members": n_n, "cells_resolved": len(resolved),
        "flagged_members": f_m, "flagged_non_members": f_n, "flagged_p_value": p_flag,
        "max_auroc_gap": best["gap"] if best else None,
        "max_auroc_gap_ci": [best["gap_low"], best["gap_high"]] if best else None,
    }
    for s in resolved:
        key = f"auroc_gap_{s['name']}_{s['tier']}"
        metrics[key], metrics[f"{key}_ci"] = s["gap"], [s["gap_low"], s["gap_high"]]
    headline = Headline(
        label="Largest member minus non-member AUROC gap",
        value=best["gap"] if best else None,
        text=(f"{format_gap(best['gap'])} ({best['label']}, {best['tier_label'].lower()}); "
              if best else "no category could be compared; ")
             + f"{format_count(f_m)} members and {format_count(f_n)} non-members flagged for review")
    return ProbeOutcome(verdict=verdict, headline=headline, metrics=metrics, findings=tuple(findings),
                        scores=_record_scores(cells, sizes), curves=_tables(stats, cells, present, base_rate),
                        extracted=tuple((role, i) for role in Role for i in flagged[role]))


def _cell_stats(cell: CategoryTier, t: AttributeThresholds, rng: np.random.Generator) -> dict:
    out: dict = {"name": cell.category.name, "label": cell.category.label, "tier": cell.tier.name,
                 "tier_label": cell.tier.label, "known_tokens": cell.tier.known_tokens or 0}
    data = {}
    for role, key in ((Role.MEMBERS, "members"), (Role.NON_MEMBERS, "non_members")):
        y, s = cell.labels[role], cell.signals[role]
        out[f"flagged_{key}"] = int(((y == 1) & (s >= t.flag_signal)).sum())
        keep = np.isfinite(y)
        y, s = y[keep].astype(bool), s[keep]
        data[role] = (y, s)
        out[f"n_{key}"], out[f"positives_{key}"] = len(y), int(y.sum())
        out[f"prevalence_{key}"] = float(y.mean()) if len(y) else None
        enough = y.sum() >= t.min_positives and (~y).sum() >= t.min_positives
        out[f"auroc_{key}"] = auc(s[y], s[~y]) if enough else None
        out[f"auprc_{key}"] = average_precision(s, y) if enough else None
        if enough:
            boots = _boot(y, s, rng)
            out[f"auroc_{key}_low"], out[f"auroc_{key}_high"] = _interval(boots[:, 0])
            out[f"auprc_{key}_low"], out[f"auprc_{key}_high"] = _interval(boots[:, 1])
            out[f"_boot_{key}"] = boots[:, 0]
    out["resolved"] = out["auroc_members"] is not None and out["auroc_non_members"] is not None
    if out["resolved"]:
        gaps = out.pop("_boot_members") - out.pop("_boot_non_members")
        gaps = gaps[np.isfinite(gaps)]
        out["gap"] = out["auroc_members"] - out["auroc_non_members"]
        out["gap_low"], out["gap_high"] = _interval(gaps)
        out["_gaps"] = gaps
    out.pop("_boot_members", None)
    out.pop("_boot_non_members", None)
    return out


def _boot(y: np.ndarray, s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(resamples, 2): AUROC and AUPRC of patient resamples (NaN when one class is missing)."""
    out = np.full((_RESAMPLES, 2), np.nan)
    for b in range(_RESAMPLES):
        pick = rng.integers(0, len(y), len(y))
        yb, sb = y[pick], s[pick]
        if yb.any() and not yb.all():
            out[b] = auc(sb[yb], sb[~yb]), average_precision(sb, yb)
    return out


def _interval(values: np.ndarray) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None, None
    low, high = np.quantile(finite, [0.025, 0.975])
    return float(low), float(high)


def _findings(stats: list[dict], cells: list[CategoryTier], present: Sequence[CodeSet], base_rate: np.ndarray,
              flagged: dict[Role, list[int]], scored: dict[Role, int], p_flag: float | None,
              t: AttributeThresholds, dropped: list[str]) -> list[str]:
    lines = []
    for k, code_set in enumerate(present):
        mine = [s for s in stats if s["name"] == code_set.name]
        judged = [s for s in mine if s["resolved"]]
        carriers = max((s["positives_members"] + s["positives_non_members"] for s in mine), default=0)
        if judged:
            s = max(judged, key=lambda s: abs(s["gap"]))
            lines.append(f"{code_set.label}: at {s['tier_label'].lower()}, AUROC "
                         f"{format_auc(s['auroc_members'])} for members and "
                         f"{format_auc(s['auroc_non_members'])} for non-members (gap "
                         f"{format_gap(s['gap'])}, 95% CI {format_gap_interval((s['gap_low'], s['gap_high']))}); "
                         f"unprompted base rate {format_percent(base_rate[k])}.")
        else:
            lines.append(f"{code_set.label}: too few carriers after the prompt to compare "
                         f"(at most {format_count(carriers)} across both cohorts at any tier); unprompted "
                         f"base rate {format_percent(base_rate[k])}.")
    f_m, f_n = len(flagged[Role.MEMBERS]), len(flagged[Role.NON_MEMBERS])
    lines.append(f"{format_share(f_m, scored[Role.MEMBERS])} members and "
                 f"{format_share(f_n, scored[Role.NON_MEMBERS])} non-members had a sensitive category "
                 f"of theirs come up with a signal of at least {format_general(t.flag_signal)} after "
                 "it was removed from the prompt"
                 + (f" (one-sided Fisher p = {format_p_value(p_flag)})." if p_flag is not None else "."))
    if dropped:
        lines.append(f"Not tested (no code of the category in the model's vocabulary): {', '.join(dropped)}.")
    return lines


def _record_scores(cells: list[CategoryTier], sizes: dict[Role, int]) -> dict[Role, np.ndarray]:
    """Per record: the strongest signal for a category it carries after the prompt (NaN: none)."""
    out = {role: np.full(sizes[role], np.nan) for role in Role}
    for cell in cells:
        for role in Role:
            hit = cell.labels[role] == 1
            for i, v in zip(cell.rows[role][hit], cell.signals[role][hit]):
                out[role][i] = v if np.isnan(out[role][i]) else max(out[role][i], v)
    return out


_TABLE_COLUMNS = ("known_tokens", "n_members", "positives_members", "auroc_members", "auroc_members_low",
                  "auroc_members_high", "auprc_members", "auprc_members_low", "auprc_members_high",
                  "prevalence_members", "n_non_members", "positives_non_members", "auroc_non_members",
                  "auroc_non_members_low", "auroc_non_members_high", "auprc_non_members",
                  "auprc_non_members_low", "auprc_non_members_high", "prevalence_non_members",
                  "gap", "gap_low", "gap_high", "gap_bound", "flagged_members", "flagged_non_members",
                  "base_rate")


def _tables(stats: list[dict], cells: list[CategoryTier], present: Sequence[CodeSet],
            base_rate: np.ndarray) -> dict[str, dict[str, list[float | None]]]:
    tables = {}
    for k, code_set in enumerate(present):
        rows = [(s, c) for s, c in zip(stats, cells) if s["name"] == code_set.name]
        columns: dict[str, list[float | None]] = {name: [] for name in _TABLE_COLUMNS}
        for s, _cell in rows:
            for name in _TABLE_COLUMNS:
                value = s.get(name)
                if name == "base_rate":
                    value = float(base_rate[k])
                columns[name].append(None if value is None else float(value))
        tables[f"{CATEGORY_PREFIX}{code_set.name}:{code_set.label}"] = columns
    return tables
