"""Reference-calibrated prediction entropy on a tabular classifier.

Song and Mittal, USENIX Security 2021 (the entropy signal), calibrated per record against
a reference classifier trained without the members as in offline LiRA (Carlini et al.,
IEEE S&P 2022): a record whose outcome is simply obvious is certain under both models.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families import Family
from audit_core.passes.tabular_signals import negative_entropy
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.tabular_attack import TABULAR_KINDS, assess_signal


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibratedEntropyConfig:
    """No settings: it reads both classifiers' probabilities."""


class CalibratedEntropy:
    id = "calibrated_entropy"
    title = "Reference-calibrated prediction entropy (tabular)"
    family = Family.MEMBERSHIP
    question = ("Is the risk model more certain about a training patient than a reference "
                "model that never saw the patient, more so than for non-members?")
    citation = "Song and Mittal, USENIX Security 2021; Carlini et al., IEEE S&P 2022"
    config_type = CalibratedEntropyConfig
    needs = Needs(reference=True, model_kinds=TABULAR_KINDS)
    weight = 1.0

    def run(self, config: CalibratedEntropyConfig, ctx: ProbeContext) -> ProbeOutcome:
        return assess_signal(ctx, negative_entropy,
                             "The target-vs-reference prediction entropy", calibrated=True)
