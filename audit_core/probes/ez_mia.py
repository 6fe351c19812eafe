"""EZ-MIA: probability shifts at the audited model's error positions, against the reference.

Ilic, Stanojevic and Cvejoski, "Powerful Training-Free Membership Inference Against
Autoregressive Language Models" (EZ-MIA), arXiv 2601.12104, 2026. Memorization shows most
where the fine-tuned model's top prediction is wrong: at those "error positions" fine-tuning
still raised the true token's probability for a training record, relative to the pretrained
model it started from. The Error Zone score of a record is, over its error positions, the
sum of the upward shifts log p_target - log p_reference divided by the sum of the downward
ones (the authors' code, github.com/JetBrains-Research/ez-mia, mia/ez_score.py: the first
prediction left out, at least two error positions). Two forward passes, no training: the
reference is ideally the public base model the audited model was fine-tuned from
(`[model] reference_role = "base"`).

Read from the shared pass: an error position is one where the true token's log p is below
the model's top log p (TokenScores.tops). The ratio is kept as a log ratio (same order):
a record whose error positions all moved up (or all down) has one empty sum, which the
authors' code scores 0, the least member-like; here an empty sum is floored at `_EMPTY`,
so all-upward is the most member-like and all-downward the least. A record with too few
error positions gives no evidence either way (log ratio 0) rather than the authors' 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import REFERENCE_CALIBRATED, assess_membership
from audit_core.settings import param

# Floor of an empty side of the ratio (nats): far below any one token's shift in float64
# scoring, so it orders records without ever outweighing a real shift.
_EMPTY = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class EzMiaConfig:
    min_error_tokens: int = param(2, label="Fewest error positions", min=1, max=1000,
                                  help="A record with fewer positions where the model's top "
                                       "prediction is wrong gives no evidence (log ratio 0).",
                                  anchor="Ilic et al. 2026, ez-mia code: min_tokens = 2")
    skip_first: bool = param(True, label="Leave out the first prediction",
                             help="The first predicted token (right after the start token) has "
                                  "no record context; the authors leave it out.",
                             anchor="Ilic et al. 2026, ez-mia code: ignore_bos = True")


def error_zone_score(target: np.ndarray, top: np.ndarray, reference: np.ndarray,
                     config: EzMiaConfig) -> float:
    """log(sum of upward shifts / sum of downward shifts) over one record's error positions."""
    start = 1 if config.skip_first else 0
    errors = target[start:] < top[start:]
    if int(errors.sum()) < config.min_error_tokens:
        return 0.0
    shifts = target[start:][errors] - reference[start:][errors]
    up = float(shifts[shifts > 0].sum())
    down = float(-shifts[shifts < 0].sum())
    return float(np.log(max(up, _EMPTY)) - np.log(max(down, _EMPTY)))


class EzMia:
    id = "ez_mia"
    title = "Error-zone shifts against the reference (EZ-MIA)"
    family = Family.MEMBERSHIP
    question = ("Where the model guesses a training patient's next code wrong, did it still "
                "move toward the true code more than its reference model does, more so than "
                "for a non-member?")
    citation = "Ilic, Stanojevic and Cvejoski, arXiv 2601.12104, 2026"
    config_type = EzMiaConfig
    needs = Needs(token_scores=True, reference=True)
    weight = 1.0

    def reduce(self, config: EzMiaConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        if reference is None:  # resolve_probes refuses EZ-MIA without a reference model
            raise ValueError("EZ-MIA needs the reference model's scores")
        if len(target.tops) != len(target.logprobs):
            raise ValueError("EZ-MIA needs each position's top log-probability, which a checkpoint "
                             "written by an older version lacks: rerun without --resume")
        return np.array([error_zone_score(t, top, r, config)
                         for t, top, r in zip(target.logprobs, target.tops, reference.logprobs)])

    def run(self, config: EzMiaConfig, ctx: ProbeContext) -> ProbeOutcome:
        scores = ctx.reduced
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx,
                                 "The error-zone shift ratio against the reference (EZ-MIA)",
                                 REFERENCE_CALIBRATED)
