"""Confidence membership inference on a tabular classifier: the true class's probability.

Song and Mittal, "Systematic Evaluation of Privacy Risks of Machine Learning Models",
USENIX Security 2021 (the metric-based confidence attack; Yeom et al., IEEE CSF 2018).
An overfit model is surer of the right answer on the patients it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families import Family
from audit_core.passes.tabular_signals import confidence
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.tabular_attack import TABULAR_KINDS, assess_signal


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfidenceConfig:
    """No settings: it reads the classifier's probabilities and the label column."""


class Confidence:
    id = "confidence"
    title = "Confidence membership inference (tabular)"
    family = Family.MEMBERSHIP
    question = ("Is the risk model surer of the true outcome for the patients it was trained "
                "on than for other patients?")
    citation = "Song and Mittal, USENIX Security 2021"
    config_type = ConfidenceConfig
    needs = Needs(model_kinds=TABULAR_KINDS)
    weight = 1.0

    def run(self, config: ConfidenceConfig, ctx: ProbeContext) -> ProbeOutcome:
        return assess_signal(ctx, confidence, "The probability of the true class")
