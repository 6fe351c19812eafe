"""Identifier elicitation: does knowing a little about a patient get the model to write the rest?

After ProPILE (Kim et al., "ProPILE: Probing Privacy Leakage in Large Language Models",
NeurIPS 2023): an attacker who knows N-1 of a person's identifiers writes them into a prompt
and asks the model for the N-th. Here the attacker knows one or two of a patient's
identifiers (tier 1: the name; tier 2: the name and the date of birth, or the name and a
visit date, the routine metadata from which a 2026 study recovered verbatim notes) and
writes them the way the hospital's notes do, ending with the cue of one withheld identifier
(`elicitation_prompts`). The model continues, greedy by default (ProPILE's exact-match
setting) or with a few samples (its extraction likelihood over k samples).

A leak is a withheld identifier of that very patient in the continuation, detected and
normalised as identifier leakage does (`audit_core.identifiers`). Members (patients the
model was trained on) are compared with non-members (the control: a model that never saw a
patient writes their MRN only by chance): leak rates per tier with exact intervals, per
withheld category, and a one-sided Fisher test whose verdict follows the identifiers family.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
from tokenizers import Tokenizer

from audit_core.data.cohort import Role
from audit_core.errors import PlanError
from audit_core.families import Family
from audit_core.identifiers.index import namespaced
from audit_core.identifiers.masking import masked
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.elicitation_assessment import Attempt, assess
from audit_core.probes.elicitation_prompts import TIERS, NoteIdentifiers, read_note, tier_prompts
from audit_core.probes.identifier_leakage import new_identifiers, not_applicable
from audit_core.probes.sampled_records import continuation_requests, sample_continuations, stop_ids
from audit_core.settings import param

_EXAMPLES_PER_CATEGORY = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ElicitationConfig:
    max_records: int = param(200, label="Patients examined per cohort (at most)", min=1,
                             max=10_000_000,
                             help="A seeded draw of the records whose note names the patient; "
                                  "each gets one prompt per withheld identifier and tier.")
    new_tokens: int = param(32, label="Generated tokens after the known identifiers", min=1, max=100_000,
                            help="After the open query (the known identifiers alone), which reads "
                                 "on through the note's next identifiers.")
    query_tokens: int = param(12, label="Generated tokens after a withheld identifier's cue",
                              min=1, max=100_000,
                              help="The queried identifier follows its cue at once (an MRN, a "
                                   "phone number): a short continuation is enough.")
    cue_chars: int = param(40, label="Note words kept before each identifier (characters)",
                           min=0, max=10_000,
                           help="The cue of each identifier in the prompt (\"MRN\", \"DOB\"), "
                                "taken from the patient's own note, within its clause.")
    temperature: float = param(0.0, label="Sampling temperature", min=0.0, max=5.0,
                               help="0 is greedy decoding (one continuation per prompt).",
                               anchor="Kim et al. 2023 (ProPILE): exact match under greedy decoding")
    samples_per_prompt: int = param(1, label="Samples per prompt (temperature above 0)", min=1,
                                    max=1000,
                                    anchor="Kim et al. 2023 (ProPILE): extraction likelihood over "
                                           "k sampled continuations")
    top_p: float = param(0.95, label="Nucleus (top-p) mass", min=0.01, max=1.0)
    batch_size: int = param(64, label="Sequences per batch", min=1, max=4096)


class Elicitation:
    id = "elicitation"
    title = "Identifier elicitation from known identifiers"
    family = Family.IDENTIFIERS
    question = ("Can someone who knows a patient's name, and perhaps their date of birth or a "
                "visit date, get the model to write the patient's other identifiers, more often "
                "for its training patients than for patients it never saw?")
    citation = "Kim et al., NeurIPS 2023 (ProPILE)"
    config_type = ElicitationConfig
    needs = Needs(generation=True, text_records=True)
    weight = 8.0

    def validate(self, config: ElicitationConfig, context_length: int) -> None:
        for name in ("new_tokens", "query_tokens"):
            if getattr(config, name) >= context_length:
                raise PlanError(f"'probes.elicitation': {name} = {getattr(config, name)} leaves no "
                                f"room for a prompt in the model's context of {context_length} tokens")

    def run(self, config: ElicitationConfig, ctx: ProbeContext) -> ProbeOutcome:
        if ctx.columns is not None and ctx.columns.kind != "text":
            return not_applicable(ctx, "Identifier elicitation")
        model, tokenizer = ctx.causal_lm(), ctx.text_tokenizer()
        stops = stop_ids(tokenizer)
        ctx.progress.advance(0.0, "building prompts from known identifiers")
        asked = _Asked()
        for role in Role:
            texts = ctx.cohorts[role].sequences
            for row in ctx.rng.permutation(len(texts)):
                if len(asked.examined[role]) >= config.max_records:
                    break
                asked.add(config, role, int(row), read_note(texts[row]), tokenizer, stops,
                          model.context_length)
        greedy = config.temperature == 0.0
        examples: dict[str, list[str]] = defaultdict(list)
        # The open queries read on through the note; a cue's identifier comes at once.
        for kind, jobs, steps, (lo, hi) in (("open", asked.open, config.new_tokens, (0.0, 0.45)),
                                            ("query", asked.query, config.query_tokens, (0.45, 0.95))):
            requests = continuation_requests(
                [ids for _, ids in jobs], [ctx.request_seed(kind, j) for j in range(len(jobs))],
                steps=steps, n=1 if greedy else config.samples_per_prompt,
                temperature=config.temperature, top_p=config.top_p, stops=stops)
            drawn = sample_continuations(ctx, requests, ctx.progress.slice(lo, hi),
                                         "eliciting identifiers from known ones") if jobs else []
            for (index, prompt), samples in zip(jobs, drawn):
                attempt = asked.attempts[index]
                for sample in samples:
                    attempt.generations += 1
                    for d in new_identifiers(tokenizer, prompt, sample):
                        key = namespaced(d)
                        if key not in attempt.withheld:
                            continue
                        attempt.leaked.add(key)
                        category = attempt.withheld[key]
                        if attempt.role is Role.MEMBERS and len(examples[category]) < _EXAMPLES_PER_CATEGORY:
                            examples[category].append(masked(category, d.value))
        ctx.progress.advance(1.0, "counting elicited identifiers")
        outcome = assess(ctx, asked.attempts, asked.examined, examples,
                         prompts=len(asked.open) + len(asked.query), too_long=asked.too_long)
        # The identifiers family's default class is unprompted sampling; this attack prompts,
        # greedily unless the plan sets a temperature (the Methods table says which).
        return replace(outcome, attack_strength="generation" if greedy else "prompted_sampling")


@dataclass
class _Asked:
    """The patients examined and the prompts of each tier: the open query of each attempt
    and the queries that end with a withheld identifier's cue, as (attempt, prompt ids)."""

    examined: dict[Role, list[int]] = field(default_factory=lambda: {role: [] for role in Role})
    attempts: list[Attempt] = field(default_factory=list)
    open: list[tuple[int, np.ndarray]] = field(default_factory=list)
    query: list[tuple[int, np.ndarray]] = field(default_factory=list)
    too_long: int = 0  # prompts that leave no room for the continuation in the context

    def add(self, config: ElicitationConfig, role: Role, row: int, note: NoteIdentifiers,
            tokenizer: Tokenizer, stops: list[int], context_length: int) -> None:
        if note.name is None:
            return
        self.examined[role].append(row)
        for tier in TIERS:
            prompts = tier_prompts(note, tier, config.cue_chars)
            if prompts is None:
                continue
            index, asked = len(self.attempts), 0
            for i, text in enumerate(prompts.prompts):
                ids, steps = _encode(tokenizer, text, stops), config.new_tokens if i == 0 else config.query_tokens
                if len(ids) + steps > context_length:
                    self.too_long += 1
                    continue
                (self.open if i == 0 else self.query).append((index, ids))
                asked += 1
            if asked:
                self.attempts.append(Attempt(role, row, tier, prompts.withheld))


def _encode(tokenizer: Tokenizer, text: str, stops: list[int]) -> np.ndarray:
    """The prompt as the model reads a record's start: with its start token, without the
    end token the tokenizer closes every encoding with."""
    ids = list(tokenizer.encode(text, add_special_tokens=True).ids)
    while ids and ids[-1] in stops:
        ids.pop()
    return np.asarray(ids, dtype=np.int64)
