"""How much decoding each generating probe of a causal language model does, counted from
its settings and the cohorts' sizes, for the time estimate (kinds/estimates.py).

The estimate used to time the scoring pass and extraction's greedy decoding only; the
clinical probes (T1 trajectory, T2 sensitive attributes, re-identification, T5
perturbation, T6 vulnerable subgroups) sample `samples` continuations of `horizon` tokens
for up to `max_records` patients per cohort and attacker-knowledge tier, which is most of
the demo's time (issue 16: the estimate said 25-37 s, the run took 89-125 s). Each probe's
work is counted here as decoded rows x steps and the rows a model call decodes together;
estimates.py turns that into seconds with a decode step timed on the audited model.

Since issue 21 a probe that declares its requests is decoded in the run's generation step
and priced from those requests (kinds/generation_estimate.py); these formulas count what
is decoded inside a probe's own run: a probe that does not declare, and a second stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.clinical.record_layout import parse_tiers
from audit_core.probes.elicitation_prompts import TIERS

# The share of a probe's counted decoding done after the generation step, in a second
# stage that depends on the first (T5 perturbs the patients its screen flagged: about a
# third of its prompts on the demo, 361 of 1,111 requests).
ON_THE_SPOT_SHARE = {"perturbation": 0.35}
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
