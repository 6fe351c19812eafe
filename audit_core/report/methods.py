"""Methods (compliance.md 6.7): per probe, the attack and its signal, its strength class,
its parameters, how its intervals were computed, and the seed; then the policies that
apply to all of them (primary endpoints, multiple testing, threshold selection).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Block, BulletList, Heading, Section, Table
from .families import strength_of
from .values import as_list, as_mapping, as_text, format_general

INTERVALS = {
    "membership": "AUC: bootstrap, 1,000 resamples, percentile; TPR: Clopper–Pearson exact; "
                  "epsilon: one-sided Clopper–Pearson bounds on TPR and FPR",
    "extraction": "Rates: Clopper–Pearson exact; members vs non-members: one-sided Fisher "
                  "exact test; AUC: bootstrap",
}
SIGNALS = {
    "loss": "Mean token log-likelihood of the record",
    "zlib": "Log-likelihood relative to the record's zlib-compressed size",
    "min_k": "Mean log-probability of the least likely k% of tokens",
    "min_k_plus_plus": "Min-K% over log-probabilities standardised by the model's own next-token distribution",
    "extraction": "Greedy continuation of the record's prefix compared with its true suffix",
    "rmia": "Likelihood ratio of the record under the target and a reference model, compared "
            "with population records",
    "lira": "Target confidence against a reference model that never saw the record (offline LiRA)",
}


def held_out(results: Mapping[str, Any]) -> bool:
    return any("held_out_tpr" in as_mapping(as_mapping(p).get("metrics")) for p in as_list(results.get("probes")))


def _calibration(results: Mapping[str, Any]) -> str:
    if held_out(results):
        return ("The decision threshold for the primary FPR is set on a calibration half of the "
                "non-members and TPR and FPR are judged on the other half (both ways, pooled), so "
                "the reported FPR is not tuned on the data it is judged on.")
    return ("The decision threshold is placed on the same non-members the FPR is reported on (no "
            "separate calibration split), so FPR at very low rates is optimistic for the model; "
            "the smallest resolvable FPR is printed per probe.")


def methods_section(results: Mapping[str, Any], number: int) -> Section:
    seed = as_text(as_mapping(results.get("audit")).get("seed"), "not recorded")
    rows = []
    for probe in map(as_mapping, as_list(results.get("probes"))):
        probe_id = as_text(probe.get("id"))
        settings = as_mapping(probe.get("settings"))
        parameters = ", ".join(f"{k} = {format_general(v)}" for k, v in settings.items()) or "none"
        rows.append((
            as_text(probe.get("title"), probe_id),
            f"{SIGNALS.get(probe_id, as_text(probe.get('question')))} ({as_text(probe.get('citation'), 'no citation')})",
            strength_of(probe),
            parameters,
            INTERVALS.get(as_text(probe.get("family"), ""), "as stated in the probe's section"),
        ))
    blocks: list[Block] = [
        Table(header=("Probe", "Attack and signal", "Strength", "Parameters", "Intervals"),
              rows=tuple(rows), widths=(0.17, 0.27, 0.15, 0.14, 0.27)),
        Heading("Policies common to every probe", 3),
        BulletList((
            "Primary endpoints are fixed in the plan before the run: for membership, the TPR "
            "at the primary FPR and the epsilon lower bound; for extraction, the members' "
            "exact-reproduction rate against non-members'.",
            "Every figure has a 95% interval; n is printed next to it.",
            "The epsilon lower bound is ln((TPR_low − δ) / FPR_high) with δ = 0 and one-sided "
            "97.5% Clopper–Pearson bounds (Jagielski et al. 2020): it can refute a privacy "
            "claim, never prove one.",
            _calibration(results),
            "Subgroup flags, where present, use Benjamini–Hochberg q-values across subgroups.",
            f"Every random choice (bootstrap) is seeded from the audit seed: {seed}.",
        )),
    ]
    return Section(key="methods", title=f"{number}. Methods", blocks=tuple(blocks))
