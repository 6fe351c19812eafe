"""Sensitive attributes (T2 of Tonekaboni et al., "An Investigation of Memorization Risk
in Healthcare Foundation Models", NeurIPS 2025).

Per attacker-knowledge tier (demographics only, the first 10, 20, 50 codes) every code of
every sensitive category (clinical.code_sets: HIV and other STIs, alcohol, opioids,
sedatives, stimulants, other substances, mental health, reproductive health; editable in
the plan) is removed from the patient's prompt; the model samples continuations, and
the signal is how strongly they bring up each category (clinical.sensitive_signal: the
probability mass along the samples by default, or the share of samples that contain the
category). The label is the category in the patient's record after the prompt. A
patient whose category occurs only inside the prompt window (and was removed) is left
out for that category: labelling them negative would count a correct inference as a
false alarm.

AUROC and AUPRC per category and tier, for members and for non-members separately,
and the gap between them with a bootstrap interval: a model that learned clinical
patterns infers sensitive codes from context for everyone (the reviewers' objection to
T2), so only the member/non-member contrast speaks to memorization. Patients whose
category comes up with at least the flag signal are listed (by pseudonym) for clinical
review, and their excess among members over non-members is tested. The base rate of
each category in unprompted generations is the population baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from audit_core.clinical.carrier_disclosure import carriers_of
from audit_core.clinical.category_lookup import CategoryLookup
from audit_core.clinical.code_sets import CodeSet, code_set_token_ids, parse_code_sets
from audit_core.clinical.event_times import prompt_length, record_events
from audit_core.clinical.record_layout import (
    DEFAULT_DEMOGRAPHIC_PREFIXES,
    NOTHING,
    RecordLayout,
    Tier,
    build_layout,
    parse_tiers,
    start_prompt,
)
from audit_core.clinical.sensitive_notes import records_are_text
from audit_core.clinical.sensitive_signal import (
    MASS,
    SIGNAL_TOPIC,
    SIGNALS,
    Without,
    signal_requests,
    signals_from,
)
from audit_core.clinical.sensitive_terms import check_sensitive_spec
from audit_core.data.cohort import Role
from audit_core.errors import PlanError
from audit_core.families import Family
from audit_core.families.attribute import AttributeThresholds
from audit_core.generation import Request, Watch
from audit_core.probes.attribute_assessment import CategoryTier, assess
from audit_core.probes.attribute_notes import run_on_notes
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.carrier_assessment import NAMED_HELP, carrier_disclosure, examined, with_carriers
from audit_core.probes.clinical_context import vocabulary_of
from audit_core.settings import param

_KEY = "probes.sensitive_attributes"


@dataclass(frozen=True, slots=True, kw_only=True)
class SensitiveAttributesConfig:
    tiers: str = param("demographics,10,20,50", label="Attacker-knowledge tiers",
                       help="Comma-separated: demographics and numbers of known codes from the "
                            "start of the record (sensitive codes are removed from each prompt).")
    code_sets: str = param("", label="Sensitive code sets (edits)",
                           help="Empty: the built-in categories. 'name=prefix,prefix;...' replaces "
                                "or adds a category by ICD-10 prefixes (icd9:042 for ICD-9); 'name=' drops one.")
    signal: str = param(MASS, label="Signal",
                        help="mass: the chance the category comes up along each sampled "
                             "continuation; samples: the share of samples that contain it.")
    samples: int = param(4, label="Continuations sampled per patient and tier", min=1, max=1000)
    horizon: int = param(24, label="Continuation length (tokens)", min=1, max=100_000)
    temperature: float = param(1.0, label="Sampling temperature", min=0.0, max=10.0)
    top_p: float = param(0.95, label="Nucleus (top-p) mass", min=0.01, max=1.0,
                         anchor="Tonekaboni et al. 2025: top-p 0.95")
    max_records: int = param(100, label="Patients without a sensitive code sampled per cohort",
                             min=0, max=10_000_000, help=NAMED_HELP)
    baseline_samples: int = param(40, label="Unprompted generations (base rate)", min=1, max=100_000)
    demographic_prefixes: str = param(DEFAULT_DEMOGRAPHIC_PREFIXES, label="Demographic token prefixes",
                                      help="Leading tokens starting with one of these "
                                           "(comma-separated) form the demographics prompt.")
    batch_size: int = param(256, label="Sequences per decoding batch", min=1, max=65_536)


class SensitiveAttributes:
    id = "sensitive_attributes"
    title = "Sensitive attributes (T2)"
    family = Family.ATTRIBUTE
    question = ("With every sensitive code removed from the prompt, does the model still reveal a "
                "patient's HIV, substance-use, mental-health or reproductive codes, more for "
                "training patients than for others?")
    citation = "Tonekaboni et al., NeurIPS 2025 (T2)"
    config_type = SensitiveAttributesConfig
    needs = Needs(generation=True)
    weight = 16.0

    def validate(self, config: SensitiveAttributesConfig, context_length: int) -> None:
        parse_tiers(config.tiers, f"{_KEY}.tiers")
        check_sensitive_spec(config.code_sets, f"{_KEY}.code_sets")
        if config.signal not in SIGNALS:
            raise PlanError(f"'{_KEY}.signal' must be one of {', '.join(SIGNALS)} (got '{config.signal}')")
        if config.horizon >= context_length:
            raise PlanError(f"'{_KEY}.horizon' ({config.horizon}) must be below the model's context "
                            f"of {context_length} tokens")

    def generation(self, config: SensitiveAttributesConfig, ctx: ProbeContext) -> list[Request]:
        """Every continuation `run` samples: the unprompted base rate and each tier's prompts."""
        if records_are_text(ctx):
            return []  # notes decode their own way (probes.attribute_notes)
        work = _work(config, ctx)
        return [*work.base_requests, *(r for cell in work.cells for r in cell.requests)]

    def run(self, config: SensitiveAttributesConfig, ctx: ProbeContext) -> ProbeOutcome:
        model = ctx.causal_lm()
        self.validate(config, model.context_length)
        if records_are_text(ctx):  # clinical notes: conditions named in words (probes.attribute_notes)
            return run_on_notes(config, ctx)
        work = _work(config, ctx)
        present, records, rows, layout, ids_by_set, sets = (work.present, work.records, work.rows,
                                                            work.layout, work.ids_by_set, work.sets)
        vocabulary = work.vocabulary
        ctx.progress.advance(0.0, "unprompted base rate")
        base_rate = np.zeros(len(present))
        if work.base_requests:
            base_rate = signals_from(ctx.generate(work.base_requests), work.watch, config.signal)[0]
        cells: list[CategoryTier] = []
        steps = max(len(work.tiers) * 2, 1)
        for t, tier in enumerate(work.tiers):
            per_role = {}
            for r, role in enumerate(Role):
                ctx.progress.advance(0.05 + 0.9 * (t * 2 + r) / steps, f"sampling {tier.label.lower()}")
                cell = work.cells[t * 2 + r]
                signals = (signals_from(ctx.generate(cell.requests), work.watch, config.signal)
                           if cell.requests else np.zeros((len(cell.scored), len(present))))
                per_role[role] = (np.asarray(cell.scored, dtype=np.int64),
                                  np.asarray(cell.labels, dtype=np.float64).reshape(len(cell.scored),
                                                                                     len(present)),
                                  signals)
            for k, code_set in enumerate(present):
                cells.append(CategoryTier(
                    category=code_set, tier=tier,
                    rows={role: per_role[role][0] for role in Role},
                    labels={role: per_role[role][1][:, k] for role in Role},
                    signals={role: per_role[role][2][:, k] for role in Role}))
        limits = ctx.thresholds_of(AttributeThresholds)
        outcome = assess(limits, ctx.rng, cells, present, base_rate, sizes={r: len(records[r]) for r in Role},
                         dropped=[s.label for s in sets if not len(ids_by_set[s.name])])
        ctx.progress.advance(0.96, "disclosure of every carrier")
        figures = carrier_disclosure(ctx, layout, {s.name: ids_by_set[s.name] for s in present}, rows,
                                     top_rank=limits.carrier_top_rank, batch_size=config.batch_size)
        return with_carriers(outcome, figures, labels={s.name: s.label for s in present},
                             code_names={i: token for token, i in vocabulary.items()},
                             top_rank=limits.carrier_top_rank, test="T2", alpha=limits.alpha,
                             fail_min=limits.fail_min_flagged)


@dataclass(frozen=True, slots=True)
class _Cell:
    """One tier and cohort: the patients scored, their labels and their requests."""

    scored: list[int]
    labels: list[list[float]]
    requests: list[Request]


@dataclass(frozen=True, slots=True)
class _Work:
    vocabulary: dict[str, int]
    layout: RecordLayout
    sets: Sequence[CodeSet]
    ids_by_set: dict[str, np.ndarray]
    present: list[CodeSet]
    watch: Watch
    tiers: list[Tier]
    records: Mapping[Role, Sequence[np.ndarray]]
    rows: dict[Role, np.ndarray]
    base_requests: list[Request]
    cells: list[_Cell]  # tier by tier, members then non-members


def _work(config: SensitiveAttributesConfig, ctx: ProbeContext) -> _Work:
    """The prompts, labels and requests of every tier and cohort (what `generation`
    declares and `run` asks for: built once each way, the same)."""
    model = ctx.causal_lm()
    vocabulary = vocabulary_of(ctx)
    layout = build_layout(vocabulary, demographic_prefixes=config.demographic_prefixes, where=_KEY)
    sets = parse_code_sets(config.code_sets, f"{_KEY}.code_sets")
    ids_by_set = code_set_token_ids(vocabulary, sets)
    present = [s for s in sets if len(ids_by_set[s.name])]
    watch = Watch.of([ids_by_set[s.name] for s in present])
    lookup = CategoryLookup(watch.sets)
    every = np.unique(np.concatenate(watch.sets)) if watch.sets else np.zeros(0, dtype=np.int64)
    strip = Without(every)
    tiers = [t for t in parse_tiers(config.tiers, f"{_KEY}.tiers") if t.name != NOTHING]
    horizon = min(config.horizon, model.context_length - 1)
    records = ctx.token_ids
    rows = examined(ctx, {role: carriers_of(records[role], every) for role in Role}, config.max_records)
    requests = partial(signal_requests, watch=watch, horizon=horizon, temperature=config.temperature,
                       top_p=config.top_p, stop_ids=sorted(layout.stop_ids))
    base: list[Request] = []
    if present and len(records[Role.MEMBERS]):
        base = requests([start_prompt(layout, records[Role.MEMBERS][0])], seeds=[ctx.request_seed("unprompted")],
                        samples=config.baseline_samples)
    cells = []
    for tier in tiers:
        for role in Role:
            scored, prompts, labels = [], [], []
            events = record_events(ctx.token_events, role)
            for i in rows[role]:
                ids = records[role][i]
                cut = prompt_length(layout, ids, tier, None if events is None else events[i])
                if cut is None:
                    continue
                later, window = lookup.any_in(ids[cut:]), lookup.any_in(ids[1:cut])
                scored.append(int(i))
                prompts.append(strip(ids[:cut]))
                # 1: after the prompt; 0: nowhere in the record; NaN: only inside the prompt.
                labels.append(np.where(later, 1.0, np.where(window, np.nan, 0.0)).tolist())
            seeds = [ctx.prompt_seed(SIGNAL_TOPIC, p) for p in prompts]
            asked = (requests(prompts, seeds=seeds,
                              samples=config.samples) if present else [])
            cells.append(_Cell(scored, labels, asked))
    return _Work(vocabulary, layout, sets, ids_by_set, present, watch, tiers, records, rows, base, cells)
