"""The probe families, one module each, gathered in one registry.

A family is what a probe's verdict is about (membership, extraction, ...). Its module
holds everything the rest of the code needs to know about it: the thresholds the plan's
[thresholds.<family>] table fills, the report's wording and methods text, the desktop
app's plain sentences, and the controls `mnemoscope validate` audits. Readers look a
family up here (`FAMILIES`, `spec_of`) instead of keeping their own tables of names.

A new family: a module here building a `FamilySpec`, a member of `Family` (spec.py),
and one import and entry below. One explicit tuple, no package scanning: a frozen app
loses the metadata scanning needs.

Kept out of audit_core.probes on purpose: the report reads results only and must not
import probes, and importing any module under audit_core.probes loads every probe.
"""

from __future__ import annotations

from typing import TypeAlias

from audit_core.families import (
    attribute,
    canaries,
    embedding,
    extraction,
    identifiers,
    membership,
    perturbation,
    reidentification,
    subgroups,
    trajectory,
)
from audit_core.families.attribute import AttributeThresholds
from audit_core.families.canaries import CanaryThresholds
from audit_core.families.embedding import EmbeddingThresholds
from audit_core.families.extraction import ExtractionThresholds
from audit_core.families.identifiers import IdentifierThresholds
from audit_core.families.membership import MembershipThresholds
from audit_core.families.perturbation import PerturbationThresholds
from audit_core.families.reidentification import ReidentificationThresholds
from audit_core.families.spec import Family, FamilySpec
from audit_core.families.subgroups import SubgroupThresholds
from audit_core.families.trajectory import TrajectoryThresholds

__all__ = ["FAMILIES", "Family", "FamilySpec", "Thresholds", "spec_of"]

# In `Family`'s order: the order a reader weighs the risks (spec.py).
FAMILIES: dict[Family, FamilySpec] = {spec.family: spec for spec in (
    membership.SPEC, extraction.SPEC, identifiers.SPEC, reidentification.SPEC, attribute.SPEC,
    embedding.SPEC, trajectory.SPEC, perturbation.SPEC, subgroups.SPEC, canaries.SPEC)}

# What a probe's `ctx.thresholds` holds: one family's thresholds dataclass.
Thresholds: TypeAlias = (MembershipThresholds | ExtractionThresholds | IdentifierThresholds
                         | ReidentificationThresholds | AttributeThresholds | EmbeddingThresholds
                         | TrajectoryThresholds | PerturbationThresholds | SubgroupThresholds
                         | CanaryThresholds)


def spec_of(family: object) -> FamilySpec | None:
    """The spec of a family named in a result or plan; None for a name no module registers
    (a result written by another version: readers fall back on generic wording)."""
    # Compared by value (a Family equals its string); read at each call, so that whatever
    # the registry holds is found.
    return next((spec for name, spec in FAMILIES.items() if name == family), None)
