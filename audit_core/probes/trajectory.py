"""Trajectory reconstruction (T1 of Tonekaboni et al., "An Investigation of Memorization
Risk in Healthcare Foundation Models", NeurIPS 2025).

For each attacker-knowledge tier (start token only, demographics only, the first 10, 20
and 50 codes) and each sampled patient, the model samples `samples` continuations of
`horizon` tokens from the patient's prompt; each is compared with the patient's true
continuation, aligned after the prompt, by the time-aware earth mover's distance over
the model's own input embeddings (ICD-10 hierarchy distance when the embedding matrix
cannot be identified), code-set precision and recall, and whether the first `m` codes
are reproduced exactly.

Closeness alone is not memorization: a model that learned routine care reconstructs
every patient's routine codes. The finding is the contrast with non-members from the
same population, per tier, as the members' minus the non-members' mean distance with a
bootstrap interval, read next to two population baselines (sequences drawn from the
members' code frequencies, and the model's unprompted generations). Unlike the original
code, both baselines and the prompted runs share one distance, and the generated and
true continuations are aligned after the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from audit_core.clinical.embeddings import code_distance, read_input_embeddings
from audit_core.clinical.event_times import record_events
from audit_core.clinical.record_layout import (
    DEFAULT_DEMOGRAPHIC_PREFIXES,
    DEFAULT_TIERS,
    RecordLayout,
    Tier,
    build_layout,
    parse_tiers,
    start_prompt,
)
from audit_core.clinical.trajectories import (
    Baselines,
    TierScores,
    frequency_sequences,
    score_tier,
    tier_prompts,
    tier_requests,
)
from audit_core.data.cohort import Role
from audit_core.errors import PlanError
from audit_core.families import Family
from audit_core.generation import Request
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.clinical_context import sampled_rows, vocabulary_of
from audit_core.probes.trajectory_assessment import assess
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class TrajectoryConfig:
    tiers: str = param(DEFAULT_TIERS, label="Attacker-knowledge tiers",
                       help="Comma-separated: nothing (start token only), demographics, and "
                            "numbers of known codes from the start of the record.")
    samples: int = param(5, label="Continuations sampled per patient and tier", min=1, max=1000,
                         help="The paper sampled 100; a few suffice for a mean distance.")
    horizon: int = param(24, label="Continuation length (tokens)", min=1, max=100_000,
                         help="Tokens sampled and compared after each prompt (cut to the "
                              "model's context).")
    temperature: float = param(1.0, label="Sampling temperature", min=0.0, max=10.0,
                               help="1 samples the model's distribution; 0 is greedy decoding.")
    top_p: float = param(0.95, label="Nucleus (top-p) mass", min=0.01, max=1.0,
                         anchor="Tonekaboni et al. 2025: top-p 0.95")
    exact_codes: int = param(5, label="Codes that must match exactly", min=1, max=1000,
                             help="Exact-match rate: a sample reproduces the true next this "
                                  "many codes.")
    max_records: int = param(100, label="Patients sampled per cohort", min=0, max=10_000_000,
                             help="A seeded random subset of each cohort (0: every record).")
    baseline_samples: int = param(20, label="Population baseline sequences", min=1, max=10_000,
                                  help="Sequences drawn from the members' code frequencies, and "
                                       "unprompted generations, each patient is compared with.")
    demographic_prefixes: str = param(DEFAULT_DEMOGRAPHIC_PREFIXES, label="Demographic token prefixes",
                                      help="Leading tokens starting with one of these "
                                           "(comma-separated) form the demographics prompt.")
    time_tokens: str = param("", label="Time tokens (token=years, ...)",
                             help="Empty: GAP_<n><D|W|M|Y> tokens give the time between visits. "
                                  "On event data (MEDS) the true continuation's times are the "
                                  "events' timestamps; a generated code's time comes from the "
                                  "time tokens when the vocabulary has them, else it is the time "
                                  "of the last prompt token.")
    distance: str = param("auto", label="Code distance",
                          help="auto: the model's input embeddings when found in the ONNX "
                               "graph, else the ICD-10 hierarchy; hierarchy: always the latter.")
    batch_size: int = param(256, label="Sequences per decoding batch", min=1, max=65_536)


class Trajectory:
    id = "trajectory"
    title = "Trajectory reconstruction (T1)"
    family = Family.TRAJECTORY
    question = ("Given what an attacker may know of a patient (nothing, demographics, the first "
                "codes), does the model's sampled future come closer to a training patient's "
                "real future than to a non-member's?")
    citation = "Tonekaboni et al., NeurIPS 2025 (T1)"
    config_type = TrajectoryConfig
    needs = Needs(generation=True, code_records=True)
    weight = 20.0

    def validate(self, config: TrajectoryConfig, context_length: int) -> None:
        parse_tiers(config.tiers, "probes.trajectory.tiers")
        if config.distance not in ("auto", "hierarchy"):
            raise PlanError("'probes.trajectory.distance' must be auto or hierarchy "
                            f"(got '{config.distance}')")
        if config.horizon >= context_length:
            raise PlanError(f"'probes.trajectory.horizon' ({config.horizon}) must be below the "
                            f"model's context of {context_length} tokens")

    def generation(self, config: TrajectoryConfig, ctx: ProbeContext) -> list[Request]:
        """The unprompted pool and every tier's continuations."""
        plan = _plan(config, ctx)
        return [plan.pool, *(r for tier in plan.tiers for role in Role
                             for r in tier_requests(plan.layout, ctx.token_ids[role],
                                                    plan.lengths[tier.name][role], tier,
                                                    partial(ctx.prompt_seed, "trajectory"),
                                                    samples=config.samples, horizon=plan.horizon,
                                                    temperature=config.temperature, top_p=config.top_p))]

    def run(self, config: TrajectoryConfig, ctx: ProbeContext) -> ProbeOutcome:
        model = ctx.causal_lm()
        self.validate(config, model.context_length)
        plan = _plan(config, ctx)
        layout, tiers, rows, horizon = plan.layout, plan.tiers, plan.rows, plan.horizon
        embeddings = (read_input_embeddings(model.info.path, model.vocab_size)
                      if config.distance == "auto" else None)
        distance = code_distance(plan.vocabulary, embeddings)
        records = ctx.token_ids
        ctx.progress.advance(0.0, "population baselines")
        members = [records[Role.MEMBERS][i] for i in rows[Role.MEMBERS]]
        pool = ctx.generate([plan.pool])[0]
        baselines = Baselines(
            frequency=[layout.codes_and_times(s) for s in
                       frequency_sequences(layout, members, config.baseline_samples, horizon, ctx.rng)],
            unprompted=[layout.codes_and_times(s) for s in pool.tokens])
        results: dict[str, dict[Role, TierScores]] = {}
        steps = len(tiers) * 2
        for t, tier in enumerate(tiers):
            results[tier.name] = {}
            for r, role in enumerate(Role):
                done = (t * 2 + r) / steps

                def advance(f: float, d: float = done, what: str = f"sampling {tier.label.lower()}") -> None:
                    ctx.progress.advance(0.05 + 0.9 * (d + f / steps), what)
                usable = np.asarray(list(plan.lengths[tier.name][role]), dtype=np.int64)
                results[tier.name][role] = score_tier(
                    ctx.generate, layout, distance, records[role], usable, tier, baselines,
                    samples=config.samples, horizon=horizon, temperature=config.temperature,
                    top_p=config.top_p, exact_codes=config.exact_codes,
                    seed_of=partial(ctx.prompt_seed, "trajectory"),
                    on_chunk=advance, events=record_events(ctx.token_events, role))
        return assess(config, ctx, tiers, results, distance.method, horizon)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What `generation` declares and `run` reads: the same records, prompts and pool."""

    vocabulary: dict[str, int]
    layout: RecordLayout
    tiers: list[Tier]
    rows: dict[Role, np.ndarray]
    horizon: int
    pool: Request
    lengths: dict[str, dict[Role, dict[int, int]]]  # tier -> cohort -> record -> prompt length


def _plan(config: TrajectoryConfig, ctx: ProbeContext) -> _Plan:
    model = ctx.causal_lm()
    vocabulary = vocabulary_of(ctx)
    tiers = parse_tiers(config.tiers, "probes.trajectory.tiers")
    layout = build_layout(vocabulary, demographic_prefixes=config.demographic_prefixes,
                          time_tokens=config.time_tokens, where="probes.trajectory")
    rows = {role: sampled_rows(len(ctx.token_ids[role]), config.max_records, ctx.rng) for role in Role}
    records = ctx.token_ids
    horizon = min(config.horizon, model.context_length - 1)
    start = start_prompt(layout, records[Role.MEMBERS][0]) if len(rows[Role.MEMBERS]) else np.array([0])
    pool = Request(prompt=start, steps=horizon, n=config.baseline_samples, temperature=config.temperature,
                   top_p=config.top_p, stops=tuple(sorted(layout.stop_ids)), seed=ctx.request_seed("unprompted"))
    lengths: dict[str, dict[Role, dict[int, int]]] = {}
    for tier in tiers:
        lengths[tier.name] = {}
        for role in Role:
            events = record_events(ctx.token_events, role)
            # A prompt must leave room for the horizon in the model's context.
            measured = tier_prompts(layout, records[role], rows[role], tier, events)
            lengths[tier.name][role] = {i: n for i, n in measured.items() if n + horizon <= model.context_length}
    return _Plan(vocabulary, layout, list(tiers), rows, horizon, pool, lengths)
