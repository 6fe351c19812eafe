"""Sensitive attributes (T2) on clinical notes: the same question, asked of conditions the
note names in words instead of codes.

Per attacker-knowledge tier (the note's first 10, 20, 50 tokens: prose has no demographic
tokens, so the "demographics" tier does not apply and is left out, as "nothing" is) every
mention of a sensitive condition (`clinical.sensitive_terms`, edited by the probe's
`code_sets` setting) is removed from the prompt; the model samples continuations and the
signal is the share of them that name the category (`clinical.sensitive_notes` says why not
the probability mass). The label is "the note names the category after the prompt" (NaN
when it does so only inside the prompt, as for codes). The assessment, tables and verdict
are the code test's (`probes.attribute_assessment`), so a report reads the same.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np

from audit_core.clinical.code_sets import CodeSet
from audit_core.clinical.record_layout import build_layout, parse_tiers, start_prompt
from audit_core.clinical.sensitive_notes import (
    after_label,
    mention_signals_from,
    mention_spans,
    present_term_sets,
    prompt_without_mentions,
)
from audit_core.clinical.sensitive_signal import SIGNAL_TOPIC, signal_requests
from audit_core.clinical.sensitive_terms import parse_sensitive_terms
from audit_core.data.cohort import Role
from audit_core.families.attribute import AttributeThresholds
from audit_core.probes.attribute_assessment import CategoryTier, assess
from audit_core.probes.base import ProbeContext, ProbeOutcome
from audit_core.probes.clinical_context import sampled_rows

_KEY = "probes.sensitive_attributes"


def run_on_notes(config, ctx: ProbeContext) -> ProbeOutcome:
    """T2 on free-text records; `config` is the probe's SensitiveAttributesConfig."""
    model = ctx.causal_lm()
    tokenizer = ctx.text_tokenizer()
    present, dropped = present_term_sets(
        tokenizer, parse_sensitive_terms(config.code_sets, f"{_KEY}.code_sets"))
    layout = build_layout(tokenizer.get_vocab(with_added_tokens=True))
    tiers = [t for t in parse_tiers(config.tiers, f"{_KEY}.tiers") if t.known_tokens is not None]
    horizon = min(config.horizon, model.context_length - 1)
    records = ctx.token_ids
    rows = {role: sampled_rows(len(records[role]), config.max_records, ctx.rng) for role in Role}
    spans = {role: mention_spans(tokenizer, ctx.cohorts[role].sequences, records[role], present)
             for role in Role}
    requests = partial(signal_requests, watch=None, horizon=horizon,
                       temperature=config.temperature, top_p=config.top_p,
                       stop_ids=sorted(layout.stop_ids))

    def signals_of(prompts: list[np.ndarray], seeds: list[tuple[int, ...]], samples: int) -> np.ndarray:
        answers = ctx.generate(requests(prompts, seeds=seeds, samples=samples))
        return mention_signals_from(tokenizer, answers, present)

    ctx.progress.advance(0.0, "unprompted base rate")
    base_rate = np.zeros(len(present))
    if present and len(records[Role.MEMBERS]):
        start = start_prompt(layout, records[Role.MEMBERS][0])
        base_rate = signals_of([start], [ctx.request_seed("unprompted")], config.baseline_samples)[0]
    cells: list[CategoryTier] = []
    steps = max(len(tiers) * 2, 1)
    for t, tier in enumerate(tiers):
        per_role = {}
        for r, role in enumerate(Role):
            ctx.progress.advance(0.05 + 0.9 * (t * 2 + r) / steps, f"sampling {tier.label.lower()}")
            scored, prompts, labels = [], [], []
            for i in rows[role]:
                ids = records[role][i]
                cut = layout.prompt_length(ids, tier)
                if cut is None or cut + horizon > model.context_length:
                    continue  # too short to continue, or prompt and continuation overflow the context
                scored.append(int(i))
                prompts.append(prompt_without_mentions(ids, cut, spans[role][i]))
                labels.append([after_label(spans[role][i][s.name], cut) for s in present])
            seeds = [ctx.prompt_seed(SIGNAL_TOPIC, p) for p in prompts]
            signals = (signals_of(prompts, seeds, config.samples)
                       if prompts and present else np.zeros((len(prompts), len(present))))
            per_role[role] = (np.asarray(scored, dtype=np.int64),
                              np.asarray(labels, dtype=np.float64).reshape(len(scored), len(present)),
                              signals)
        for k, term_set in enumerate(present):
            cells.append(CategoryTier(
                # The assessment reads a category's name and label; a wording list has no prefixes.
                category=CodeSet(term_set.name, term_set.label, (), term_set.source), tier=tier,
                rows={role: per_role[role][0] for role in Role},
                labels={role: per_role[role][1][:, k] for role in Role},
                signals={role: per_role[role][2][:, k] for role in Role}))
    outcome = assess(ctx.thresholds_of(AttributeThresholds), ctx.rng, cells,
                     [CodeSet(s.name, s.label, (), s.source) for s in present], base_rate,
                     sizes={r: len(records[r]) for r in Role}, dropped=[])
    notes = [f"Free-text records: the categories are conditions the note names (the built-in "
             f"lexicon{', as edited in the plan' if config.code_sets.strip() else ''}); the signal is "
             f"the share of {config.samples} sampled continuations that name the category."]
    if dropped:
        notes.append(f"Not tested (no wording of the category can be written with the model's "
                     f"vocabulary): {', '.join(dropped)}.")
    return dataclasses.replace(outcome, findings=(*outcome.findings, *notes))
