"""From per-patient sensitive-category signals to T2's metrics, tables and verdict.

A cell is one category at one tier. Within a cell, members and non-members are judged
separately (AUROC and AUPRC of the signal against the label, with 95% bootstrap
intervals), then against each other: the AUROC gap (members minus non-members) with a
bootstrap interval. The gap intervals are simultaneous over the cells that could be
assessed (Bonferroni: each at 1 - alpha / cells), and the verdict reads exactly the
interval the report prints: a lower bound above 0 is a WARN, at or above the FAIL gap a
FAIL. A cell with too few carriers in either cohort is not assessed, and a category with
no assessed cell is reported as not assessed, never as evidence of safety; with no
assessed cell the probe is INCONCLUSIVE unless the flagged patients alone decide.
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
from audit_core.families.attribute import AttributeThresholds
from audit_core.probes.attribute_wording import attribute_findings, attribute_headline
from audit_core.probes.base import ProbeOutcome
from audit_core.results.verdicts import Verdict
from audit_core.stats.bootstrap_curves import RankedAuc, RankedPrecision, counts_of, draw_picks
from audit_core.stats.intervals import CONFIDENCE, fisher_greater
from audit_core.stats.precision_recall import average_precision
from audit_core.stats.roc import auc

# The simultaneous gap interval reads the alpha / (2 x cells) tails of the bootstrap: at
# 9 cells and alpha 0.05 that is 0.28%, about 1 draw in 500 and 6 in 2,000.
_RESAMPLES = 2000
CATEGORY_PREFIX = "category:"  # curves[f"category:{name}:{label}"]: one table per category, a row per tier


@dataclass(frozen=True)
class CategoryTier:
    category: CodeSet
    tier: Tier
    rows: dict[Role, np.ndarray]  # record indices scored at this tier
    labels: dict[Role, np.ndarray]  # 1 after the prompt, 0 absent, NaN only inside the prompt
    signals: dict[Role, np.ndarray]


def simultaneous_confidence(alpha: float, cells: int) -> float:
    """Each cell's two-sided confidence so that all `cells` intervals hold together with
    probability at least 1 - alpha (Bonferroni)."""
    return 1.0 - alpha / max(cells, 1)


def assess(t: AttributeThresholds, rng: np.random.Generator, cells: list[CategoryTier],
           present: Sequence[CodeSet], base_rate: np.ndarray, *, sizes: dict[Role, int],
           dropped: list[str]) -> ProbeOutcome:
    """The verdict from every (category, tier) cell: reads only the family's thresholds and the
    probe's random generator (for the bootstrap)."""
    stats = [_cell_stats(cell, t, rng) for cell in cells]
    confidence = simultaneous_confidence(t.alpha, sum(s["resolved"] for s in stats))
    for s in stats:
        gaps = s.pop("_gaps", None)
        if s["resolved"]:
            s["gap_low"], s["gap_high"] = _interval(gaps, confidence)
        s["assessed"] = s["resolved"] and s.get("gap_low") is not None
    assessed = [s for s in stats if s["assessed"]]

    flagged = {role: sorted({int(i) for cell in cells for i, y, v in
                             zip(cell.rows[role], cell.labels[role], cell.signals[role])
                             if y == 1 and v >= t.flag_signal}) for role in Role}
    scored = {role: len({int(i) for cell in cells for i in cell.rows[role]}) for role in Role}
    f_m, f_n = len(flagged[Role.MEMBERS]), len(flagged[Role.NON_MEMBERS])
    n_m, n_n = scored[Role.MEMBERS], scored[Role.NON_MEMBERS]
    p_flag = fisher_greater(f_m, n_m, f_n, n_n) if n_m and n_n else None
    excess = f_m - (f_n * n_m / n_n if n_n else 0.0)

    # The verdict reads the printed (simultaneous) interval, nothing narrower or wider.
    fail_cells = [s for s in assessed if s["gap_low"] >= t.fail_auc_gap]
    warn_cells = [s for s in assessed if s["gap_low"] > 0]
    flag_signal = p_flag is not None and p_flag < t.alpha and f_m > 0
    if flag_signal and excess >= t.fail_min_flagged or fail_cells:
        verdict = Verdict.FAIL
    elif flag_signal or warn_cells:
        verdict = Verdict.WARN
    elif assessed:
        verdict = Verdict.PASS
    else:  # nothing assessed is not evidence of safety
        verdict = Verdict.INCONCLUSIVE

    # Strongest evidence of risk: the highest lower bound, not the largest point estimate.
    strongest = max(assessed, key=lambda s: (s["gap_low"], s["gap"]), default=None)
    allowed = max(assessed, key=lambda s: s["gap_high"], default=None)
    judged = {s["name"] for s in assessed}
    metrics: dict[str, object] = {
        "n_members": n_m, "n_non_members": n_n,
        "categories_tested": len(present), "categories_assessed": len(judged),
        "categories_not_assessed": len(present) - len(judged),
        "cells_assessed": len(assessed), "gap_confidence_per_cell": confidence if assessed else None,
        "cells_gap_above_zero": len(warn_cells),
        "flagged_members": f_m, "flagged_non_members": f_n, "flagged_p_value": p_flag,
        "strongest_auroc_gap": strongest["gap"] if strongest else None,
        "strongest_auroc_gap_ci": [strongest["gap_low"], strongest["gap_high"]] if strongest else None,
        "largest_auroc_gap_allowed": allowed["gap_high"] if allowed else None,
    }
    for s in assessed:
        key = f"auroc_gap_{s['name']}_{s['tier']}"
        metrics[key], metrics[f"{key}_ci"] = s["gap"], [s["gap_low"], s["gap_high"]]
    findings = attribute_findings(stats, present, base_rate, flagged=(f_m, f_n), scored=(n_m, n_n),
                                  p_flag=p_flag, t=t, dropped=dropped, confidence=confidence)
    headline = attribute_headline(strongest, categories=(len(judged), len(present)),
                                  flagged=(f_m, f_n), p_flag=p_flag)
    return ProbeOutcome(verdict=verdict, headline=headline, metrics=metrics, findings=tuple(findings),
                        scores=_record_scores(cells, sizes), curves=_tables(stats, cells, present, base_rate),
                        extracted=tuple((role, i) for role in Role for i in flagged[role]))


def _cell_stats(cell: CategoryTier, t: AttributeThresholds, rng: np.random.Generator) -> dict:
    out: dict = {"name": cell.category.name, "label": cell.category.label, "tier": cell.tier.name,
                 "tier_label": cell.tier.label, "known_tokens": cell.tier.known_tokens or 0}
    for role, key in ((Role.MEMBERS, "members"), (Role.NON_MEMBERS, "non_members")):
        y, s = cell.labels[role], cell.signals[role]
        out[f"flagged_{key}"] = int(((y == 1) & (s >= t.flag_signal)).sum())
        keep = np.isfinite(y)
        y, s = y[keep].astype(bool), s[keep]
        out[f"n_{key}"], out[f"positives_{key}"] = len(y), int(y.sum())
        out[f"prevalence_{key}"] = float(y.mean()) if len(y) else None
        enough = y.sum() >= t.min_positives and (~y).sum() >= t.min_positives
        out[f"auroc_{key}"] = auc(s[y], s[~y]) if enough else None
        out[f"auprc_{key}"] = average_precision(s, y) if enough else None
        if enough:
            boots = _boot(y, s, rng)
            out[f"auroc_{key}_low"], out[f"auroc_{key}_high"] = _interval(boots[:, 0], CONFIDENCE)
            out[f"auprc_{key}_low"], out[f"auprc_{key}_high"] = _interval(boots[:, 1], CONFIDENCE)
            out[f"_boot_{key}"] = boots[:, 0]
    out["resolved"] = out["auroc_members"] is not None and out["auroc_non_members"] is not None
    if out["resolved"]:
        gaps = out.pop("_boot_members") - out.pop("_boot_non_members")
        out["gap"] = out["auroc_members"] - out["auroc_non_members"]
        out["_gaps"] = gaps[np.isfinite(gaps)]
    out.pop("_boot_members", None)
    out.pop("_boot_non_members", None)
    return out


def _boot(y: np.ndarray, s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(resamples, 2): AUROC and AUPRC of patient resamples (NaN when one class is missing).

    Whole blocks of resamples at once (stats.bootstrap_curves), from the same draws as one
    `rng.integers(0, n, n)` per resample."""
    out = np.full((_RESAMPLES, 2), np.nan)
    auroc = RankedAuc(s[y], s[~y])
    finite = bool(np.isfinite(s).all())
    auprc = RankedPrecision(s, y) if finite else None
    done = 0
    for picks in draw_picks(rng, [len(y)], _RESAMPLES, auroc.width + (auprc.width if auprc else 0)):
        counts = counts_of(picks, len(y))
        rows = slice(done, done + len(picks))
        out[rows, 0] = auroc(np.compress(y, counts, axis=1), np.compress(~y, counts, axis=1))
        out[rows, 1] = (auprc(counts) if auprc is not None else  # ties of non-finite scores: per resample
                        [average_precision(s[pick], y[pick]) for pick in picks])
        done += len(picks)
    out[np.isnan(out[:, 0])] = np.nan  # one class missing: neither figure (AUROC is NaN exactly then)
    return out


def _interval(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """Two-sided percentile interval of the finite draws."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None, None
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


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
                  "gap", "gap_low", "gap_high", "flagged_members", "flagged_non_members",
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
