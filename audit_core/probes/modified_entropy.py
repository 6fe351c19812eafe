"""Modified-entropy membership inference on a tabular classifier.

Song and Mittal, "Systematic Evaluation of Privacy Risks of Machine Learning Models",
USENIX Security 2021: Mentr(p, y) = -(1 - p_y) log p_y - sum_{i != y} p_i log(1 - p_i).
Unlike entropy it uses the label, so a confident wrong answer counts against membership;
the paper found it the strongest of the metric attacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families import Family
from audit_core.passes.tabular_signals import negative_modified_entropy
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.tabular_attack import TABULAR_KINDS, assess_signal


@dataclass(frozen=True, slots=True, kw_only=True)
class ModifiedEntropyConfig:
    """No settings: it reads the classifier's probabilities and the label column."""


class ModifiedEntropy:
    id = "modified_entropy"
    title = "Modified-entropy membership inference (tabular)"
    family = Family.MEMBERSHIP
    question = ("Is the risk model both confident and right more often for training patients "
                "than for other patients (modified entropy)?")
    citation = "Song and Mittal, USENIX Security 2021"
    config_type = ModifiedEntropyConfig
    needs = Needs(model_kinds=TABULAR_KINDS)
    weight = 1.0

    def run(self, config: ModifiedEntropyConfig, ctx: ProbeContext) -> ProbeOutcome:
        return assess_signal(ctx, negative_modified_entropy, "The (negated) modified entropy")
