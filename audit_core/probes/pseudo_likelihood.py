"""Pseudo-likelihood membership inference on an encoder with a masked-LM head.

Salazar, Liang, Nguyen and Kirchhoff, "Masked Language Model Scoring", ACL 2020: the
pseudo-log-likelihood of a record is the sum over its positions of log p(token | rest)
with that position masked. Mireshghallah et al., "Quantifying Privacy Risks of Masked
Language Models Using Membership Inference Attacks", EMNLP 2022, use it as the LOSS of a
masked LM: training records get a higher pseudo-likelihood. Scored per record as the
mean over its inner positions, every position masked in turn, copies batched together.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import assess_membership


@dataclass(frozen=True, slots=True, kw_only=True)
class PseudoLikelihoodConfig:
    """No settings: it reads the shared masked-LM pass."""


class PseudoLikelihood:
    id = "pseudo_likelihood"
    title = "Pseudo-likelihood membership inference (masked LM)"
    family = Family.MEMBERSHIP
    question = ("Does the encoder's masked-LM head find a training patient's record more "
                "predictable, position by position, than a non-member's?")
    citation = "Salazar et al., ACL 2020; Mireshghallah et al., EMNLP 2022"
    config_type = PseudoLikelihoodConfig
    needs = Needs(model_kinds=("masked_lm",))
    weight = 1.0

    def run(self, config: PseudoLikelihoodConfig, ctx: ProbeContext) -> ProbeOutcome:
        ctx.progress.advance(0.0, "pseudo-likelihood")
        scores = ctx.encoder_outputs().pseudo_log_likelihood
        ctx.progress.advance(0.3, "membership statistics")
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx,
                                 "The mean pseudo-log-likelihood (each position masked in turn)")
