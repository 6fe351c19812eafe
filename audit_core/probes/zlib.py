"""zlib-calibrated membership inference: likelihood relative to compressibility.

Carlini et al., "Extracting Training Data from Large Language Models", USENIX Security
2021. A repetitive record is likely under any model; dividing the model's loss by the
record's zlib entropy removes that, leaving what the model learned about this record.
"""

from __future__ import annotations

import zlib as zlib_codec
from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.chunked_scoring import mean_logprobs
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import assess_membership


@dataclass(frozen=True, slots=True, kw_only=True)
class ZlibConfig:
    """zlib has no settings of its own: it reads the shared scoring pass."""


class Zlib:
    id = "zlib"
    title = "zlib-ratio membership inference"
    family = Family.MEMBERSHIP
    question = ("Is a record more likely under the model than its compressibility explains, "
                "more so for training patients?")
    citation = "Carlini et al., USENIX Security 2021"
    config_type = ZlibConfig
    needs = Needs(token_scores=True)
    weight = 1.0

    def reduce(self, config: ZlibConfig, target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        return mean_logprobs(target)

    def run(self, config: ZlibConfig, ctx: ProbeContext) -> ProbeOutcome:
        scores = {}
        for step, role in enumerate(Role):
            ctx.progress.advance(step / 2, "zlib entropy")
            losses = -ctx.reduced[role]
            entropy = np.array([len(zlib_codec.compress(s.encode("utf-8")))
                                for s in ctx.cohorts[role].sequences], dtype=np.float64)
            # Carlini's ratio is loss / zlib entropy, low for members; negate so higher = member.
            scores[role] = -losses / entropy
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS],
                                 ctx, "The zlib-calibrated loss")
