"""Reference-calibrated confidence on a tabular classifier (offline LiRA, one reference).

Carlini, Chien, Nasr, Song, Terzis and Tramèr, "Membership Inference Attacks From First
Principles", IEEE S&P 2022: the true class's logit-scaled confidence log(p / (1 - p))
under the audited model against the same under a reference classifier trained without
the members, standardised by the spread of the gap over the non-members.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families import Family
from audit_core.passes.tabular_signals import logit_confidence
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.tabular_attack import TABULAR_KINDS, assess_signal


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibratedConfidenceConfig:
    """No settings: it reads both classifiers' probabilities and the label column."""


class CalibratedConfidence:
    id = "calibrated_confidence"
    title = "Reference-calibrated confidence (tabular, offline LiRA)"
    family = Family.MEMBERSHIP
    question = ("Is the risk model surer of the true outcome for a training patient than a "
                "reference model that never saw the patient, more so than for non-members?")
    citation = "Carlini et al., IEEE S&P 2022"
    config_type = CalibratedConfidenceConfig
    needs = Needs(reference=True, model_kinds=TABULAR_KINDS)
    weight = 1.0

    def run(self, config: CalibratedConfidenceConfig, ctx: ProbeContext) -> ProbeOutcome:
        return assess_signal(ctx, logit_confidence,
                             "The target-vs-reference logit confidence (offline LiRA)",
                             calibrated=True)
