"""Con-ReCall membership inference: a member prefix against a non-member prefix.

Wang, Wang, Hooi, Cai, Peng and Chang, "Con-ReCall: Detecting Pre-training Data in LLMs via
Contrastive Decoding", COLING 2025. The score is
(LL(x | P_non-member) - gamma * LL(x | P_member)) / LL(x): a member prefix barely moves a
training record's likelihood while a non-member prefix lowers it, and the contrast of the
two amplifies that asymmetry over ReCaLL's one prefix. The auditor holds the members, so
member prefixes are available; the records used in either prefix (drawn with the probe's
seeded generator) are left out of their cohort's scoring (probes/prefix_conditioning.py).
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
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class ConRecallConfig:
    gamma: float = param(0.5, label="Weight of the member prefix (gamma)", min=0.0, max=10.0,
                         help="Score = (LL(x|non-member prefix) - gamma LL(x|member prefix)) / "
                              "LL(x); 0 is ReCaLL.",
                         anchor="Wang et al. 2025 sweep gamma over 0.1-1.0; 0.5 is its middle")
    shots: int = shots_param()
    prefix_tokens: int = prefix_tokens_param()
    max_records: int = max_records_param()
    batch_size: int = batch_size_param()


class ConRecall:
    id = "con_recall"
    title = "Con-ReCall contrastive conditional likelihood"
    family = Family.MEMBERSHIP
    question = ("Does a training patient's record keep its likelihood after other training "
                "records but lose it after non-members' records, more than a non-member's does?")
    citation = "Wang et al., COLING 2025"
    config_type = ConRecallConfig
    needs = Needs(token_scores=True)
    weight = 3.0

    def reduce(self, config: ConRecallConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        """LL(x): each record's mean token log-likelihood, read without a prefix."""
        return mean_logprobs(target)

    def run(self, config: ConRecallConfig, ctx: ProbeContext) -> ProbeOutcome:
        ctx.progress.advance(0.0, "choosing the member and non-member prefixes")
        sizes = {role: len(ctx.token_ids[role]) for role in Role}
        shots = {role: draw_rows(ctx.rng, sizes[role], min(config.shots, sizes[role] // 2))
                 for role in Role}
        prefixes = {role: make_prefix(ctx, role, shots[role], config.prefix_tokens) for role in Role}
        rows = {role: scored_rows(ctx.rng, sizes[role], shots[role], config.max_records) for role in Role}
        values = {}
        step = 0
        for role in Role:
            conditional = {}
            for source in Role:  # the record after each prefix
                part = ctx.progress.slice(0.225 * step, 0.225 * (step + 1))
                conditional[source] = conditional_loglik(ctx, prefixes[source], role, rows[role],
                                                         config.batch_size, part)
                step += 1
            contrast = conditional[Role.NON_MEMBERS] - config.gamma * conditional[Role.MEMBERS]
            values[role] = relative(contrast, ctx.reduced[role][rows[role]])
        return assess_scored(ctx, values, rows, "Con-ReCall (non-member against member prefix, "
                             "over the likelihood alone)", list(prefixes.values()),
                             ctx.progress.slice(0.9, 1.0))
