"""Sensitive attributes in hidden states (T3 of Tonekaboni et al. 2025): can a classifier
on the model's internal state read off a sensitive diagnosis, better for training patients?"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.families.spec import Family, FamilySpec, Methods, Wording
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddingThresholds:
    """T3, the embedding probe: members' probe AUROC minus non-members'."""

    alpha: float = param(
        0.05, label="False discovery rate across sensitive categories", min=1e-6, max=0.5,
        help="A category's member/non-member gap counts when its Benjamini-Hochberg q-value "
             "is at most this.",
        anchor="conventional 5% level, Benjamini-Hochberg across categories")
    fail_gap_lower: float = param(
        0.10, label="FAIL when the AUROC gap's lower 95% bound exceeds", min=0.0, max=0.5,
        anchor="Hosmer and Lemeshow 2013: 0.1 of AUROC is one band of discrimination "
               "(0.7 acceptable, 0.8 excellent)")


SPEC = FamilySpec(
    family=Family.EMBEDDING,
    thresholds=EmbeddingThresholds,
    wording=Wording(
        name="Sensitive attributes in hidden states",
        nist="Attribute (property) inference from model internals",
        edpb="Attribute inference",
        patient=(
            "Someone holding the model's internal state for a patient's record can read off a "
            "sensitive diagnosis the prompt left out, more easily for training patients than "
            "for patients the model never saw."
        ),
        mitigations=(
            "Do not release hidden states or embeddings; expose only the outputs the use needs.",
            "Retrain with differential privacy.",
            "Remove or generalise sensitive codes in the training data where not needed.",
        ),
        risk="Sensitive diagnoses revealed",
        found="Sensitive diagnoses show in the model's internal state, more for training patients.",
        actions=("hidden", "dp", "generalise"),
    ),
    methods=Methods(strength="hidden_state_probe"),
    plain={},
    known_answers=(),  # no committed control exports hidden states yet
)
