"""Reference-model likelihood ratio: offline LiRA against one reference model.

Carlini, Chien, Nasr, Song, Terzis and Tramèr, "Membership Inference Attacks From First
Principles", IEEE S&P 2022. LiRA compares the target model's logit-scaled confidence on
a record, phi = log(p / (1 - p)) averaged over its tokens, with what models that never
saw the record give it. Offline, with OUT models only, the score is the one-sided
Gaussian test (phi_target - mu_out) / sigma_out. Here one reference model (same
tokenizer, trained without the members: a public base model or one trained on other
patients) gives mu_out(x) = phi_reference(x), and the spread of the target-reference gap
over the non-members gives the global sigma_out that the paper recommends with few
reference models. A record that is merely easy (common codes) is easy for both models and
cancels out; what remains is what the target learned about that record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import REFERENCE_CALIBRATED, assess_membership

# log(1 - p) for p within 1e-12 of 1 is floored: one token then adds at most ~27.6 to phi.
_ONE_MINUS_P_FLOOR = 1e-12


def mean_logit_confidence(logprobs: np.ndarray) -> float:
    """Mean over tokens of log(p / (1 - p)), computed from log p without cancellation."""
    one_minus = np.maximum(-np.expm1(logprobs), _ONE_MINUS_P_FLOOR)
    return float(np.mean(logprobs - np.log(one_minus)))


@dataclass(frozen=True, slots=True, kw_only=True)
class LiraConfig:
    """Offline LiRA has no settings of its own: it reads both models' shared passes."""


class Lira:
    id = "lira"
    title = "Reference-model likelihood ratio (offline LiRA)"
    family = Family.MEMBERSHIP
    question = ("Is a training patient's record more likely under the audited model than "
                "under a reference model that never saw it, more so than a non-member's?")
    citation = "Carlini et al., IEEE S&P 2022"
    config_type = LiraConfig
    needs = Needs(token_scores=True, reference=True)
    weight = 1.0

    def reduce(self, config: LiraConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        if reference is None:  # resolve_probes refuses LiRA without a reference model
            raise ValueError("offline LiRA needs the reference model's scores")
        return np.array([mean_logit_confidence(t) - mean_logit_confidence(r)
                         for t, r in zip(target.logprobs, reference.logprobs)])

    def run(self, config: LiraConfig, ctx: ProbeContext) -> ProbeOutcome:
        gaps = ctx.reduced
        out = gaps[Role.NON_MEMBERS]
        spread = float(out.std()) or 1.0
        scores = {role: (gap - float(out.mean())) / spread for role, gap in gaps.items()}
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx,
                                 "The target-vs-reference confidence ratio (offline LiRA)",
                                 REFERENCE_CALIBRATED)
