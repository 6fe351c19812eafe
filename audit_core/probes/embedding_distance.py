"""Embedding-distance membership inference on an encoder: members sit closer to members.

Song and Raghunathan, "Information Leakage in Embedding Models", ACM CCS 2020: embeddings
of training data are measurably tighter than those of unseen data, enough to infer
membership from similarities alone. Here the signal is a record's mean cosine similarity
to its k nearest members, with the leave-one-out construction of `encoders.distance`
that keeps members and non-members on equal footing.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.encoder_outputs import ENCODER_KINDS
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import assess_membership
from audit_core.settings import param
from audit_core.stats.neighbour_similarity import neighbour_similarity


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddingDistanceConfig:
    neighbours: int = param(
        5, label="Nearest members averaged (k)", min=1, max=100,
        help="A record's score is its mean cosine similarity to this many most similar members.",
        anchor="Song and Raghunathan 2020 (k-nearest-neighbour similarity)")


class EmbeddingDistance:
    id = "embedding_distance"
    title = "Embedding-distance membership inference (encoder)"
    family = Family.MEMBERSHIP
    question = ("Do the embeddings of training patients lie closer to other training patients "
                "than the embeddings of patients the encoder never saw?")
    citation = "Song and Raghunathan, ACM CCS 2020"
    config_type = EmbeddingDistanceConfig
    needs = Needs(model_kinds=ENCODER_KINDS)
    weight = 1.0

    def run(self, config: EmbeddingDistanceConfig, ctx: ProbeContext) -> ProbeOutcome:
        ctx.progress.advance(0.0, "neighbour similarity")
        embeddings = ctx.encoder_outputs().embeddings
        members, non_members = neighbour_similarity(
            embeddings[Role.MEMBERS], embeddings[Role.NON_MEMBERS], config.neighbours, ctx.rng)
        ctx.progress.advance(0.3, "membership statistics")
        return assess_membership(members, non_members, ctx,
                                 f"The mean cosine similarity to the {config.neighbours} nearest "
                                 "members (leave-one-out)")
