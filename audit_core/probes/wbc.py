"""WBC: window-based comparison of the audited model's and the reference's losses.

Chen, Du, Zhang, Kundu, Fleming, Ribeiro and Li, "Window-based Membership Inference Attacks
Against Fine-tuned Large Language Models" (WBC), arXiv 2601.02751, 2026. A fine-tuned
model's advantage on a training record is local (a span it learned), and a mean over the
whole record dilutes it. WBC slides windows of several sizes over the record, counts the
share of windows where the reference model's summed loss exceeds the audited model's, and
averages that share over the window sizes (the authors' code, github.com/Stry233/WBC,
attacks/wbc.py; window sizes from its example configuration). A binary vote per window
ignores how much a window differs, so one outlying token cannot carry a record. The
reference is ideally the public base model the audited model was fine-tuned from
(`[model] reference_role = "base"`).
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

WINDOW_SIZES = (2, 3, 4, 6, 9, 13, 18, 25, 32, 40)  # the authors' example configuration


@dataclass(frozen=True, slots=True, kw_only=True)
class WbcConfig:
    largest_window: int = param(40, label="Largest window (tokens)", min=1, max=4096,
                                help="Window sizes 2, 3, 4, 6, 9, 13, 18, 25, 32, 40 up to this "
                                     "one; a record shorter than a window is one window.",
                                anchor="Chen et al. 2026, WBC code: context_window_lengths")


def window_score(target: np.ndarray, reference: np.ndarray, sizes: tuple[int, ...]) -> float:
    """Mean over window sizes of the share of windows where the reference's loss is larger."""
    n = min(len(target), len(reference))
    if n == 0:
        return 0.0
    # loss = -log p: reference loss > target loss  <=>  target log p > reference log p.
    gap = np.concatenate(([0.0], np.cumsum(target[:n] - reference[:n])))
    shares = []
    for size in sizes:
        w = min(size, n)
        shares.append(float(np.mean(gap[w:] - gap[:-w] > 0)))
    return float(np.mean(shares))


class Wbc:
    id = "wbc"
    title = "Window-based comparison with the reference (WBC)"
    family = Family.MEMBERSHIP
    question = ("Over short stretches of a training patient's record, is the model more often "
                "surer than its reference model is, more so than over a non-member's?")
    citation = "Chen et al., arXiv 2601.02751, 2026"
    config_type = WbcConfig
    needs = Needs(token_scores=True, reference=True)
    weight = 1.0

    def reduce(self, config: WbcConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        if reference is None:  # resolve_probes refuses WBC without a reference model
            raise ValueError("WBC needs the reference model's scores")
        sizes = tuple(s for s in WINDOW_SIZES if s <= config.largest_window) or (config.largest_window,)
        return np.array([window_score(t, r, sizes) for t, r in zip(target.logprobs, reference.logprobs)])

    def run(self, config: WbcConfig, ctx: ProbeContext) -> ProbeOutcome:
        scores = ctx.reduced
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx,
                                 "The window-by-window loss comparison (WBC)", REFERENCE_CALIBRATED)
