"""RMIA: membership by pairwise likelihood ratios against a population sample.

Zarifzadeh, Liu and Shokri, "Low-Cost High-Power Membership Inference Attacks", ICML
2024. For a record x and population records z, LR(x, z) = [Pr(x|target) / Pr(x)] /
[Pr(z|target) / Pr(z)], where Pr(.) is the probability averaged over reference models;
the score is the share of the population that x dominates, Pr_z[LR(x, z) >= gamma].

Adapted to language models per token: each next-token prediction is one
classification, so Pr(x|target) is the geometric mean of the record's token
probabilities, and with a single reference model trained without the members (offline)
each token's Pr is the paper's linear correction 1/2 [(1 + a) p_reference + (1 - a)].
The population is the non-members (each non-member is compared with the others). Without
a reference model Pr(x) = 1 and the score is the record's likelihood rank among the
non-members: it ranks like LOSS, and its value reads directly as "more likely than this
share of the population".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.chunked_scoring import mean_logprobs
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import (
    REFERENCE_CALIBRATED,
    REFERENCE_FREE,
    assess_membership,
)
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class RmiaConfig:
    gamma: float = param(1.0, label="Dominance factor (gamma)", min=1.0, max=100.0,
                         help="x dominates z when LR(x, z) is at least gamma; 1 counts every "
                              "population record that x beats.")
    offline_a: float = param(0.3, label="Offline correction (a)", min=0.0, max=1.0,
                             help="Pr(token) = 1/2 [(1 + a) p_reference + (1 - a)] with a "
                                  "reference model; 1 uses the reference as is.",
                             anchor="Zarifzadeh et al. 2024, offline RMIA; 0.3 as in public "
                                    "implementations")


class Rmia:
    id = "rmia"
    title = "RMIA population likelihood ratio"
    family = Family.MEMBERSHIP
    question = ("Does a training patient's record beat more of the non-member population "
                "on likelihood (relative to a reference model, when one is given) than a "
                "non-member's does?")
    citation = "Zarifzadeh, Liu and Shokri, ICML 2024"
    config_type = RmiaConfig
    needs = Needs(token_scores=True)
    weight = 1.0

    def reduce(self, config: RmiaConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        """Each record's log likelihood ratio (mean over tokens) against the reference
        model, or its mean log-likelihood without one."""
        if reference is None:
            return mean_logprobs(target)
        a = config.offline_a
        return np.array([float(np.mean(t - np.log(0.5 * ((1 + a) * np.exp(r) + (1 - a)))))
                         for t, r in zip(target.logprobs, reference.logprobs)])

    def run(self, config: RmiaConfig, ctx: ProbeContext) -> ProbeOutcome:
        calibrated = ctx.reference_scored
        ratio = ctx.reduced
        ctx.progress.advance(0.0, "ranking against the population")
        population = np.sort(ratio[Role.NON_MEMBERS])
        shift = np.log(config.gamma)
        n0 = len(population)
        # Share of z with log ratio(x) - log ratio(z) >= log gamma.
        beaten_m = np.searchsorted(population, ratio[Role.MEMBERS] - shift, side="right")
        beaten_n = np.searchsorted(population, ratio[Role.NON_MEMBERS] - shift, side="right")
        beaten_n = beaten_n - (shift <= 0)  # a non-member does not count itself
        scores = {Role.MEMBERS: beaten_m / n0,
                  Role.NON_MEMBERS: beaten_n / max(n0 - 1, 1)}
        strength = REFERENCE_CALIBRATED if calibrated else REFERENCE_FREE
        attack = ("RMIA against a reference model" if calibrated
                  else "The population likelihood rank (RMIA without a reference model)")
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx, attack,
                                 strength)
