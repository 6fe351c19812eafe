"""Reference-calibrated modified entropy on a tabular classifier.

Song and Mittal, USENIX Security 2021 (the modified-entropy signal), calibrated per record
against a reference classifier trained without the members as in offline LiRA (Carlini
et al., IEEE S&P 2022).
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families import Family
from audit_core.passes.tabular_signals import negative_modified_entropy
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.tabular_attack import TABULAR_KINDS, assess_signal


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibratedModifiedEntropyConfig:
    """No settings: it reads both classifiers' probabilities and the label column."""


class CalibratedModifiedEntropy:
    id = "calibrated_modified_entropy"
    title = "Reference-calibrated modified entropy (tabular)"
    family = Family.MEMBERSHIP
    question = ("Is the risk model confident and right about a training patient more than a "
                "reference model that never saw the patient, more so than for non-members?")
    citation = "Song and Mittal, USENIX Security 2021; Carlini et al., IEEE S&P 2022"
    config_type = CalibratedModifiedEntropyConfig
    needs = Needs(reference=True, model_kinds=TABULAR_KINDS)
    weight = 1.0

    def run(self, config: CalibratedModifiedEntropyConfig, ctx: ProbeContext) -> ProbeOutcome:
        return assess_signal(ctx, negative_modified_entropy,
                             "The target-vs-reference modified entropy", calibrated=True)
