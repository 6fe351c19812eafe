"""CAMIA: context-aware membership inference from how the loss evolves along a record.

Chang, Shamsabadi, Katevas, Haddadi and Shokri, "Context-Aware Membership Inference Attacks
against Pre-trained Large Language Models", EMNLP 2025. Instead of one mean loss per
record, CAMIA reads the per-token loss trace: the mean loss and its token-diversity
calibration, the share of tokens below loss cut-offs, the slope of the loss over the
prefix, how often a token beats its prefix's mean, and the trace's Lempel-Ziv complexity
(camia_signals.py); and, with one more forward pass, how much the loss drops when the
record is read a second time (in-context copying helps a record the model has not already
memorized far more). Each signal becomes a p-value against the non-members (leave-one-out
for a non-member itself) and Edgington's method combines them into one score.

The trace signals come from the shared pass (`reduce`: one row of signals per record).
The repetition signal costs a pass over doubled records; it is bounded by `max_records`
per cohort, and a record longer than half the model's context is not doubled (the second
copy would not be read with the first in view): such a record, and one outside the
sample, is scored on the trace signals alone (Edgington's combination over the signals
it has, so it is not ranked by a sum of fewer terms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.models.tokenizer_loading import pad_token_id
from audit_core.passes.token_scores import TokenScores, score_tokens
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.camia_signals import (
    TRACE_SIGNALS,
    edgington,
    population_p_values,
    trace_signals,
)
from audit_core.probes.clinical_context import sampled_rows
from audit_core.probes.membership_assessment import REFERENCE_FREE, assess_membership
from audit_core.settings import param

# A combined p-value of 0 (every signal beyond every non-member) stays a finite score.
_P_FLOOR = 1e-300


@dataclass(frozen=True, slots=True, kw_only=True)
class CamiaConfig:
    prefix_tokens: int = param(200, label="Tokens the trajectory signals read", min=2,
                               max=1_000_000, unit="tokens",
                               help="Slope, cut-off shares and complexity are read over each "
                                    "record's first tokens, where context is short and a "
                                    "model predicts from memory.",
                               anchor="Chang et al. 2025 reference code: a cut-off of 200 tokens")
    max_records: int = param(200, label="Records doubled per cohort (repetition signal)", min=0,
                             max=10_000_000,
                             help="A seeded sample of each cohort is read twice in one "
                                  "sequence (one extra forward pass each); 0 leaves the "
                                  "repetition signal out.")
    batch_size: int = param(32, label="Doubled records per batch", min=1, max=65_536)


class Camia:
    id = "camia"
    title = "CAMIA context-aware membership inference"
    family = Family.MEMBERSHIP
    question = ("Does the model's uncertainty fall along a training patient's record the way "
                "it does for a record it has memorized, more than along a non-member's?")
    citation = "Chang et al., EMNLP 2025"
    config_type = CamiaConfig
    needs = Needs(token_scores=True)
    weight = 2.0

    def reduce(self, config: CamiaConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        """One row of trace signals per record (records x TRACE_SIGNALS): the p-values need
        the whole non-member population, so they are made in `run`."""
        rows = [trace_signals(lp, ids, config.prefix_tokens)
                for lp, ids in zip(target.logprobs, _targets(target))]
        return np.array(rows).reshape(len(rows), len(TRACE_SIGNALS))

    def run(self, config: CamiaConfig, ctx: ProbeContext) -> ProbeOutcome:
        signals = {role: np.asarray(ctx.reduced[role], dtype=np.float64).reshape(
            len(ctx.token_ids[role]), -1) for role in Role}
        ctx.progress.advance(0.0, "reading each record twice")
        repeated = _repetition_signal(config, ctx)
        if repeated is not None:
            signals = {role: np.column_stack([signals[role], repeated[role]]) for role in Role}
        ctx.progress.advance(0.9, "combining the signals")
        columns = [population_p_values(signals[Role.MEMBERS][:, j], signals[Role.NON_MEMBERS][:, j])
                   for j in range(signals[Role.MEMBERS].shape[1])]
        scores = {role: -np.log(np.maximum(edgington(np.column_stack([c[i] for c in columns])),
                                           _P_FLOOR))
                  for i, role in enumerate(Role)}
        outcome = assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx,
                                    "CAMIA's combined loss-trajectory signals", REFERENCE_FREE)
        doubled = {role: int(np.isfinite(repeated[role]).sum()) if repeated is not None else 0
                   for role in Role}
        outcome.metrics.update({"signals": len(columns), "repetition_members": doubled[Role.MEMBERS],
                                "repetition_non_members": doubled[Role.NON_MEMBERS]})
        return outcome


def _targets(scores: TokenScores) -> tuple[np.ndarray, ...]:
    """The predicted ids; a pass without them (an old checkpoint's) is read as all distinct,
    which leaves the diversity calibration neutral."""
    if scores.targets:
        return scores.targets
    return tuple(np.arange(len(lp)) for lp in scores.logprobs)


def _repetition_signal(config: CamiaConfig, ctx: ProbeContext) -> dict[Role, np.ndarray] | None:
    """Per record: mean log p of its first reading minus that of its second (NaN where not
    doubled). Reading a record again lets any model copy it from context; a memorized
    record has little left to gain, so a smaller gain (a higher value) is member-like.
    None when the signal is left out (max_records 0, a model fed side inputs per token,
    whose doubled events this probe does not build, or no record short enough)."""
    model = ctx.causal_lm()
    if config.max_records <= 0 or getattr(model, "side_inputs", None) or ctx.tokenizer is None:
        return None
    half = model.context_length // 2
    pad = pad_token_id(ctx.tokenizer)
    out: dict[Role, np.ndarray] = {}
    for step, role in enumerate(Role):
        ids = ctx.token_ids[role]
        fits = np.array([i for i in range(len(ids)) if len(ids[i]) <= half], dtype=np.int64)
        rows = fits[sampled_rows(len(fits), config.max_records, ctx.rng)]
        values = np.full(len(ids), np.nan)
        if len(rows):
            doubled = [np.concatenate([ids[i], ids[i]]) for i in rows]
            scored = score_tokens(model, doubled, batch_size=config.batch_size, pad_id=pad,
                                  progress=ctx.progress.slice(0.9 * step / 2, 0.9 * (step + 1) / 2))
            for i, lp in zip(rows, scored.logprobs):
                length = len(ids[i])
                # Positions 1..L-1 are the first reading; L+1..2L-1 the same tokens read again.
                values[i] = float(lp[:length - 1].mean() - lp[length:].mean())
        out[role] = values
    if not any(np.isfinite(v).any() for v in out.values()):
        return None
    return out
