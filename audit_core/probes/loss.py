"""LOSS membership inference: the model's mean log-likelihood of a record.

Yeom, Giacomelli, Fredrikson and Jha, "Privacy Risk in Machine Learning: Analyzing the
Connection to Overfitting", IEEE CSF 2018. Training records tend to get a lower loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.chunked_scoring import mean_logprobs
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import assess_membership


@dataclass(frozen=True, slots=True, kw_only=True)
class LossConfig:
    """LOSS has no settings of its own: it reads the shared scoring pass."""


class Loss:
    id = "loss"
    title = "LOSS membership inference"
    family = Family.MEMBERSHIP
    question = ("Can an attacker tell a training patient from a non-member by how likely "
                "the model finds the record?")
    citation = "Yeom et al., IEEE CSF 2018"
    config_type = LossConfig
    needs = Needs(token_scores=True)
    weight = 1.0

    def reduce(self, config: LossConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        return mean_logprobs(target)

    def run(self, config: LossConfig, ctx: ProbeContext) -> ProbeOutcome:
        scores = ctx.reduced
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS],
                                 ctx, "The mean token log-likelihood")
