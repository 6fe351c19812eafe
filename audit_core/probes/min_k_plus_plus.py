"""Min-K%++ membership inference: is each true token a mode of the model's distribution?

Zhang et al., "Min-K%++: Improved Baseline for Detecting Pre-Training Data from Large
Language Models", ICLR 2025. Each token's log-probability is standardised by the mean
and spread of log-probabilities under the model's own next-token distribution, then the
lowest k% are averaged. Training makes true tokens local maxima.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import assess_membership, mean_of_lowest
from audit_core.settings import param

# A near-deterministic prediction has sigma ~ 0; the floor keeps the ratio finite.
_SIGMA_FLOOR = 1e-6


@dataclass(frozen=True, slots=True, kw_only=True)
class MinKPlusPlusConfig:
    k: float = param(0.2, label="Share of lowest standardised tokens (k)", min=0.01, max=1.0,
                     help="Mean standardised log-probability over this share of each "
                          "record's tokens; 0.2 as in the paper.")


class MinKPlusPlus:
    id = "min_k_plus_plus"
    title = "Min-K%++ membership inference"
    family = Family.MEMBERSHIP
    question = ("Are training patients' codes local peaks of the model's predictions, more "
                "than non-members' codes are?")
    citation = "Zhang et al., ICLR 2025"
    config_type = MinKPlusPlusConfig
    needs = Needs(token_scores=True)
    weight = 1.0

    def reduce(self, config: MinKPlusPlusConfig, target: TokenScores,
               reference: TokenScores | None) -> np.ndarray:
        return np.array([mean_of_lowest((lp - mu) / np.maximum(sd, _SIGMA_FLOOR), config.k)
                         for lp, mu, sd in zip(target.logprobs, target.means, target.stds)])

    def run(self, config: MinKPlusPlusConfig, ctx: ProbeContext) -> ProbeOutcome:
        scores = ctx.reduced
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS],
                                 ctx, f"Min-{config.k:.0%}++")
