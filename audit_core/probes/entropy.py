"""Entropy membership inference on a tabular classifier: how certain the prediction is.

Song and Mittal, "Systematic Evaluation of Privacy Risks of Machine Learning Models",
USENIX Security 2021 (the prediction-entropy attack; Salem et al., NDSS 2019). It needs
no label: a model's predictions on its training records have lower entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families import Family
from audit_core.passes.tabular_signals import negative_entropy
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.tabular_attack import TABULAR_KINDS, assess_signal


@dataclass(frozen=True, slots=True, kw_only=True)
class EntropyConfig:
    """No settings: it reads the classifier's probabilities."""


class Entropy:
    id = "entropy"
    title = "Prediction-entropy membership inference (tabular)"
    family = Family.MEMBERSHIP
    question = ("Are the risk model's predictions more certain (lower entropy) for training "
                "patients than for other patients, whatever the outcome?")
    citation = "Song and Mittal, USENIX Security 2021"
    config_type = EntropyConfig
    needs = Needs(model_kinds=TABULAR_KINDS)
    weight = 1.0

    def run(self, config: EntropyConfig, ctx: ProbeContext) -> ProbeOutcome:
        return assess_signal(ctx, negative_entropy, "The (negated) prediction entropy")
