"""Min-K% Prob membership inference: the mean of a record's least likely tokens.

Shi et al., "Detecting Pretraining Data from Large Language Models", ICLR 2024. A
record the model never saw tends to hold a few outlier tokens of very low probability.
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


@dataclass(frozen=True, slots=True, kw_only=True)
class MinKConfig:
    k: float = param(0.2, label="Share of lowest-probability tokens (k)", min=0.01, max=1.0,
                     help="Mean log-probability over this share of each record's least "
                          "likely tokens; 0.2 is the paper's default.")


class MinK:
    id = "min_k"
    title = "Min-K% Prob membership inference"
    family = Family.MEMBERSHIP
    question = ("Do training patients' records lack the outlier low-probability tokens "
                "that unseen records show?")
    citation = "Shi et al., ICLR 2024"
    config_type = MinKConfig
    needs = Needs(token_scores=True)
    weight = 1.0

    def reduce(self, config: MinKConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        return np.array([mean_of_lowest(lp, config.k) for lp in target.logprobs])

    def run(self, config: MinKConfig, ctx: ProbeContext) -> ProbeOutcome:
        scores = ctx.reduced
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS],
                                 ctx, f"Min-{config.k:.0%} Prob")
