"""InfoRMIA: RMIA's likelihood ratio as information in bits, per token and per record.

Tao and Shokri, "(Token-Level) InfoRMIA: Stronger Membership Inference and Memorization
Assessment for LLMs", arXiv 2510.05582 (ICLR 2026). RMIA (probes/rmia.py) scores a record x
by the share of population records z it dominates on LR = Pr(x | target) / Pr(x); InfoRMIA
replaces that count by a continuous statistic in bits,

    log2 [Pr(x | target) / Pr(x)] + D_KL(Pr(z) || Pr(z | target)),

the information the model holds about x, less what it holds about a typical population
record (the KL term, estimated over the population: the non-members). The count is bounded
by the population's size (it cannot resolve an FPR below 1/|Z|); the bits are not.

Per token, as rmia.py: each next-token prediction is one classification, Pr(x_t | target)
the token's probability, Pr(x_t) the reference model's with RMIA's offline correction
1/2 [(1 + a) p_reference + (1 - a)], or 1 without a reference model (then the bits rank
records as LOSS does: reference-free). A token's contribution, `token_contributions`, is
its log2 ratio plus the population's KL per token: the token-level signal of which tokens
the model learned from this record beyond the population (the paper's "which tokens are
memorized"). The record's score is its tokens' mean contribution, in bits per token.

With one target and one reference model the ranking equals RMIA's continuous log ratio (the
KL term is the same for every record); what InfoRMIA adds here is the unbounded score and
the per-token reading.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import (
    REFERENCE_CALIBRATED,
    REFERENCE_FREE,
    assess_membership,
)
from audit_core.results.figures import format_general, format_share
from audit_core.settings import param

_LN2 = float(np.log(2.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class InformiaConfig:
    offline_a: float = param(0.3, label="Offline correction (a)", min=0.0, max=1.0,
                             help="Pr(token) = 1/2 [(1 + a) p_reference + (1 - a)] with a "
                                  "reference model; 1 uses the reference as is.",
                             anchor="Zarifzadeh et al. 2024, offline RMIA (as probes.rmia)")


def token_contributions(target_logprobs: np.ndarray, reference_logprobs: np.ndarray | None = None,
                        *, population_kl_bits: float = 0.0, offline_a: float = 0.3) -> np.ndarray:
    """Each token's InfoRMIA contribution in bits, for one record: log2 Pr(x_t | target) /
    Pr(x_t) plus the population's KL per token (`population_kl_bits`, the probe's metric of
    that name; 0 gives the raw log ratio). Positions as TokenScores' (tokens after the
    first). Higher: the model learned more about this token than a population token."""
    target = np.asarray(target_logprobs, dtype=np.float64)
    if reference_logprobs is None:
        ratio = target
    else:
        a = offline_a
        reference = np.exp(np.asarray(reference_logprobs, dtype=np.float64))
        ratio = target - np.log(0.5 * ((1 + a) * reference + (1 - a)))
    return ratio / _LN2 + population_kl_bits


class Informia:
    id = "informia"
    title = "InfoRMIA information gain"
    family = Family.MEMBERSHIP
    question = ("Does the model hold more information (in bits) about a training patient's "
                "record than about a typical record of the population, more so than for a "
                "non-member's?")
    citation = "Tao and Shokri, ICLR 2026"
    config_type = InformiaConfig
    needs = Needs(token_scores=True)
    weight = 1.0

    def reduce(self, config: InformiaConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        """Each record's mean raw contribution (bits per token, before the population term)."""
        references = reference.logprobs if reference is not None else [None] * len(target.logprobs)
        return np.array([float(np.mean(token_contributions(t, r, offline_a=config.offline_a)))
                         for t, r in zip(target.logprobs, references)])

    def run(self, config: InformiaConfig, ctx: ProbeContext) -> ProbeOutcome:
        ctx.progress.advance(0.0, "information against the population")
        raw = ctx.reduced
        # D_KL(Pr(z) || Pr(z | target)) = -E_z[log2 LR(z)], over the non-members (per token).
        kl = -float(np.mean(raw[Role.NON_MEMBERS])) if len(raw[Role.NON_MEMBERS]) else 0.0
        scores = {role: values + kl for role, values in raw.items()}
        calibrated = ctx.reference_scored
        outcome = assess_membership(
            scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx,
            "InfoRMIA against a reference model" if calibrated
            else "InfoRMIA without a reference model (the likelihood in bits)",
            REFERENCE_CALIBRATED if calibrated else REFERENCE_FREE)
        members_above = int(np.sum(scores[Role.MEMBERS] > 0))
        note = (f"The population term (KL per token) is {format_general(kl)} bits; "
                f"{format_share(members_above, len(scores[Role.MEMBERS]))} members carry more information "
                "per token than the population's average.")
        # Both figures of the finding are in the results (the report prints no other number).
        return replace(outcome, metrics={**outcome.metrics, "population_kl_bits": kl,
                                         "members_above_population": members_above},
                       findings=(*outcome.findings, note))
