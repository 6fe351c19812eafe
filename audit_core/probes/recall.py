"""ReCaLL membership inference: how much a non-member prefix lowers a record's likelihood.

Xie, Wang, Huang, Zhang, Ge, Pei, Gong and Dhingra, "ReCaLL: Membership Inference via
Relative Conditional Log-Likelihoods", EMNLP 2024. The score is LL(x | P) / LL(x), the
record's mean token log-likelihood after a prefix P of non-member records over its own
(both negative): a record the model was trained on loses more of its likelihood when the
model is first shown unrelated text, so its ratio is larger. The prefix is made of a few
non-members drawn with the probe's seeded generator; they are left out of the scored
non-members, so no record is scored conditioned on itself (probes/prefix_conditioning.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.chunked_scoring import mean_logprobs
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.prefix_conditioning import (
    assess_scored,
    batch_size_param,
    conditional_loglik,
    draw_rows,
    make_prefix,
    max_records_param,
    prefix_tokens_param,
    relative,
    scored_rows,
    shots_param,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecallConfig:
    shots: int = shots_param()
    prefix_tokens: int = prefix_tokens_param()
    max_records: int = max_records_param()
    batch_size: int = batch_size_param()


class Recall:
    id = "recall"
    title = "ReCaLL relative conditional likelihood"
    family = Family.MEMBERSHIP
    question = ("Does showing the model other patients' records first lower a training "
                "patient's likelihood more than a non-member's?")
    citation = "Xie et al., EMNLP 2024"
    config_type = RecallConfig
    needs = Needs(token_scores=True)
    weight = 2.0

    def reduce(self, config: RecallConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        """LL(x): each record's mean token log-likelihood, read without a prefix."""
        return mean_logprobs(target)

    def run(self, config: RecallConfig, ctx: ProbeContext) -> ProbeOutcome:
        ctx.progress.advance(0.0, "choosing the non-member prefix")
        sizes = {role: len(ctx.token_ids[role]) for role in Role}
        shots = draw_rows(ctx.rng, sizes[Role.NON_MEMBERS], min(config.shots, sizes[Role.NON_MEMBERS] // 2))
        prefix = make_prefix(ctx, Role.NON_MEMBERS, shots, config.prefix_tokens)
        rows = {Role.MEMBERS: scored_rows(ctx.rng, sizes[Role.MEMBERS], np.zeros(0, dtype=np.int64),
                                          config.max_records),
                Role.NON_MEMBERS: scored_rows(ctx.rng, sizes[Role.NON_MEMBERS], shots, config.max_records)}
        values = {}
        for step, role in enumerate(Role):
            conditional = conditional_loglik(ctx, prefix, role, rows[role], config.batch_size,
                                             ctx.progress.slice(0.45 * step, 0.45 * (step + 1)))
            values[role] = relative(conditional, ctx.reduced[role][rows[role]])
        return assess_scored(ctx, values, rows, "ReCaLL (likelihood after a non-member prefix over "
                             "the likelihood alone)", [prefix], ctx.progress.slice(0.9, 1.0))
