"""How much decoding each generating probe of a causal language model does, counted from
its settings and the cohorts' sizes, for the time estimate (kinds/estimates.py).

The estimate used to time the scoring pass and extraction's greedy decoding only; the
clinical probes (T1 trajectory, T2 sensitive attributes, re-identification, T5
perturbation, T6 vulnerable subgroups) sample `samples` continuations of `horizon` tokens
for up to `max_records` patients per cohort and attacker-knowledge tier, which is most of
the demo's time (issue 16: the estimate said 25-37 s, the run took 89-125 s). Each probe's
work is counted here as decoded rows x steps and the rows a model call decodes together;
estimates.py turns that into seconds with a decode step timed on the audited model.

`OVERHEAD` is what a count cannot see, per probe: prompts grouped by length (a batch
shares one prompt length, so tiers with ragged prompts make smaller calls), the prefill,
nucleus sampling and the watched-set masses in numpy, the distances and the bootstrap.
Each is the ratio of the probe's measured time to its counted decoding time on the demo
(the estimate bench, tools/bench/estimate.py, 2-core VM, 2026-12-07, five runs under load
4-12; docs/speed.md), rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.clinical.record_layout import parse_tiers
from audit_core.probes.elicitation_prompts import TIERS

# Measured time / counted decoding time on the demo (see the module docstring); a probe
# not listed has no extra cost beyond its decoding.
OVERHEAD = {
    # Measured at load 4-7 and at load 9-12 the ratios differ (in brackets): the machine's
    # other work slows long sampling loops more than the short timed step. The factor is
    # between the two, nearer the quieter machine's.
    "extraction": 0.85,  # greedy decoding of equal-length prompts (0.7-1.0)
    "trajectory": 0.75,  # (0.6-1.1)
    "sensitive_attributes": 1.1,  # ragged prompts per tier, watched-set masses (0.65-2.0)
    "reidentification": 0.8,  # batches run to their longest record, text decoding (0.4-1.7)
    "perturbation": 1.0,  # many short signal calls, one per patient and variant (0.6-1.85)
    # Mostly not decoding: bootstrap disparities (1,000 resamples) per stratum (2.6-8.8).
    "vulnerable_subgroups": 3.8,
}
# T5 runs its signal on each examined patient's prompt and its variants (age and time
# steps, the sex swap, identifier removals): about this many prompts per patient on the
# demo's records (prompt_variants.py; counted on the demo's cohorts).
PERTURBATION_PROMPTS_PER_CASE = 12
# Elicitation asks one open query and one per withheld identifier for each patient and
# knowledge tier: about this many per patient and tier on the notes control (3,045 prompts
# for 120 patients and 3 tiers; a note with fewer identifiers asks fewer).
ELICITATION_PROMPTS_PER_TIER = 8.5


@dataclass(frozen=True, slots=True)
class Decoding:
    """`row_steps` tokens decoded in all (sequences x steps), `rows_per_call` sequences per
    model call; `greedy`: argmax (extraction) rather than nucleus sampling."""

    row_steps: float
    rows_per_call: int
    greedy: bool = False

    @property
    def calls(self) -> float:
        return self.row_steps / max(1, self.rows_per_call)


def decoding_of(probe_id: str, config: Any, lengths: Sequence[np.ndarray],
                context_length: int) -> Decoding | None:
    """The decoding `probe_id` does with `config` on cohorts whose records have `lengths`
    tokens (one array per cohort, members first); None for a probe that decodes nothing."""
    count = _COUNTS.get(probe_id)
    return count(config, lengths, context_length) if count is not None else None


def _rows(config: Any, lengths: Sequence[np.ndarray]) -> int:
    """Patients examined over both cohorts (`max_records` per cohort; 0 means all)."""
    cap = int(getattr(config, "max_records", 0) or 0)
    return sum(min(cap, len(x)) if cap else len(x) for x in lengths)


def _per_call(config: Any, samples: int, prompts: float) -> int:
    """Rows per call: whole prompts' samples fill a batch (sampled_records.py, sample())."""
    batch = max(1, int(config.batch_size))
    return max(1, min(int(prompts * samples), max(samples, batch // samples * samples)))


def _extraction(config: Any, lengths: Sequence[np.ndarray], context_length: int) -> Decoding:
    need = config.prefix_tokens + config.suffix_tokens
    eligible = sum(int((x >= need).sum()) for x in lengths)
    return Decoding(eligible * config.suffix_tokens, max(1, min(eligible, config.batch_size)),
                    greedy=True)


def _tiered(tiers_key: str) -> Any:
    """T1 and T2: every tier samples `samples` continuations per examined patient, plus the
    unprompted baseline pool."""
    def count(config: Any, lengths: Sequence[np.ndarray], context_length: int) -> Decoding:
        tiers = len(parse_tiers(config.tiers, tiers_key))
        horizon = min(config.horizon, context_length - 1)
        prompts = tiers * _rows(config, lengths)
        rows = prompts * config.samples + config.baseline_samples
        return Decoding(rows * horizon, _per_call(config, config.samples, prompts))
    return count


def _reidentification(config: Any, lengths: Sequence[np.ndarray], context_length: int) -> Decoding:
    # A batch runs until its last record stops (or max_tokens): the longest record bounds it.
    longest = max((int(x.max()) for x in lengths if len(x)), default=config.max_tokens)
    steps = min(config.max_tokens, context_length - 1, max(longest, 1))
    return Decoding(config.generated * steps, max(1, min(config.generated, config.batch_size)))


def _perturbation(config: Any, lengths: Sequence[np.ndarray], context_length: int) -> Decoding:
    screened = _rows(config, lengths) + len(lengths) * config.top_membership
    cases = sum(min(len(x), config.max_flagged + config.top_membership) for x in lengths)
    prompts = screened + cases * PERTURBATION_PROMPTS_PER_CASE
    return Decoding(prompts * config.samples * config.horizon,
                    _per_call(config, config.samples, screened))


def _vulnerable(config: Any, lengths: Sequence[np.ndarray], context_length: int) -> Decoding:
    prompts = _rows(config, lengths)
    return Decoding(prompts * config.samples * config.horizon,
                    _per_call(config, config.samples, prompts))


def _elicitation(config: Any, lengths: Sequence[np.ndarray], context_length: int) -> Decoding:
    greedy = config.temperature == 0
    samples = 1 if greedy else config.samples_per_prompt
    attempts = _rows(config, lengths) * len(TIERS)  # one open query each, the rest after a cue
    queries = attempts * (ELICITATION_PROMPTS_PER_TIER - 1)
    steps = attempts * config.new_tokens + queries * config.query_tokens
    return Decoding(steps * samples, _per_call(config, samples, attempts + queries), greedy=greedy)


_COUNTS = {
    "extraction": _extraction,
    "trajectory": _tiered("probes.trajectory.tiers"),
    "sensitive_attributes": _tiered("probes.sensitive_attributes.tiers"),
    "reidentification": _reidentification,
    "perturbation": _perturbation,
    "vulnerable_subgroups": _vulnerable,
    "elicitation": _elicitation,
}
