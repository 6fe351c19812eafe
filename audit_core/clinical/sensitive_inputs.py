"""What the sensitive-code probes (T3, T5, T6) read from a cohort: prompts with the
sensitive codes left out, and which patients carry each sensitive category.

A prompt is the start token plus the record's first `prompt_codes` tokens
(`clinical.record_layout`), with every token of a sensitive category removed ("we
remove direct sensitive codes from prompts", Tonekaboni et al. 2025), exactly as the
sensitive-attributes probe (T2) builds it. Two labels per category and record:

* `labels`: the category occurs anywhere in the record (the patient has it; T3's label);
* `after`: T2's label, the category after the prompt window (see `_after_label`).

On clinical notes (data.columns.kind = "text") the categories are sensitive conditions
named in the text (`clinical.sensitive_notes`, the lexicon of `clinical.sensitive_terms`,
edited by the same `code_sets` setting) and the signal is read from decoded continuations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from audit_core.clinical.category_lookup import CategoryLookup
from audit_core.clinical.code_sets import code_set_token_ids, parse_code_sets
from audit_core.clinical.record_layout import Tier, build_layout
from audit_core.clinical.sensitive_notes import mention_signals_from, notes_inputs, records_are_text
from audit_core.clinical.sensitive_signal import MASS, Without, signals_from
from audit_core.clinical.sensitive_terms import check_sensitive_spec
from audit_core.data.cohort import Role
from audit_core.errors import PlanError
from audit_core.generation import Generated, Request, Watch
from audit_core.models.tokenizer_loading import load_tokenizer, pad_token_id

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@dataclass(frozen=True, slots=True)
class SensitiveInputs:
    categories: dict[str, np.ndarray]  # category -> its token ids in the model's vocabulary
    names: dict[str, str]  # category -> the report's name for it
    prompts: dict[Role, list[np.ndarray]]
    eligible: dict[Role, np.ndarray]  # the record goes on after the prompt (T2 can be scored)
    labels: dict[Role, dict[str, np.ndarray]]  # category anywhere in the record
    after: dict[Role, dict[str, np.ndarray]]  # T2's label: 1, 0, or NaN (see _after_label)
    pad_id: int
    tokenizer: object
    prompt_codes: int
    stop_ids: tuple[int, ...]
    term_sets: tuple = ()  # notes: the lexicon's categories (clinical.sensitive_terms), in order

    @property
    def sensitive_ids(self) -> np.ndarray:
        if not self.categories:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(list(self.categories.values())))


def tokenizer_of(ctx) -> Tokenizer:
    """The audited model's tokenizer (the conformance suite's context has none: read it)."""
    if ctx.tokenizer is not None:
        return ctx.tokenizer
    return load_tokenizer(ctx.model.info.folder)


def check_prompt_fits(probe_id: str, config: Any, context_length: int) -> None:
    """Plan check of the probes that prompt with `prompt_tokens` codes (plus BOS) and read
    `horizon` tokens after them: the code sets parse and the whole fits the context."""
    check_sensitive_spec(config.code_sets, f"probes.{probe_id}.code_sets")
    if config.prompt_tokens + 1 + config.horizon > context_length:
        raise PlanError(f"'probes.{probe_id}': prompt_tokens + 1 + horizon = "
                        f"{config.prompt_tokens + 1 + config.horizon} exceeds the model's "
                        f"context of {context_length} tokens")


def sensitive_inputs(ctx, prompt_codes: int, code_sets: str, where: str) -> SensitiveInputs:
    """`code_sets` edits the built-in sets (`clinical.code_sets`); `where` names the plan key."""
    tokenizer = tokenizer_of(ctx)
    if records_are_text(ctx):
        notes = notes_inputs(ctx, tokenizer, prompt_codes, code_sets, where)
        return SensitiveInputs(notes.categories, notes.names, notes.prompts, notes.eligible,
                               notes.labels, notes.after, pad_token_id(tokenizer), tokenizer,
                               prompt_codes, notes.stop_ids, notes.term_sets)
    vocabulary = tokenizer.get_vocab(with_added_tokens=True)
    sets = parse_code_sets(code_sets, where)
    categories = {c: ids for c, ids in code_set_token_ids(vocabulary, sets).items() if len(ids)}
    names = {s.name: s.label for s in sets}
    layout = build_layout(vocabulary)
    tier = Tier(str(prompt_codes), prompt_codes)
    every = (np.unique(np.concatenate(list(categories.values())))
             if categories else np.zeros(0, dtype=np.int64))
    prompts, eligible, labels, after = {}, {}, {}, {}
    names_of = list(categories)
    lookup = CategoryLookup([categories[c] for c in names_of])
    strip = Without(every)
    for role in Role:
        records = ctx.token_ids[role]
        lengths = [layout.prompt_length(ids, tier) for ids in records]
        eligible[role] = np.array([n is not None for n in lengths], dtype=bool)
        # A record too short for the tier is prompted with all it has (T3 still reads it).
        cut = [n if n is not None else max(1, len(ids) - 1) for n, ids in zip(lengths, records)]
        prompts[role] = [strip(ids[:n]) for ids, n in zip(records, cut)]
        anywhere = np.array([lookup.any_in(ids) for ids in records]).reshape(len(records), len(names_of))
        later = np.array([_after_labels(lookup, ids, n, ok) for ids, n, ok
                          in zip(records, cut, eligible[role])]).reshape(len(records), len(names_of))
        labels[role] = {c: anywhere[:, k] for k, c in enumerate(names_of)}
        after[role] = {c: later[:, k] for k, c in enumerate(names_of)}
    return SensitiveInputs(categories, names, prompts, eligible, labels, after,
                           pad_token_id(tokenizer), tokenizer, prompt_codes,
                           tuple(sorted(layout.stop_ids)))


def _after_labels(lookup: CategoryLookup, ids: np.ndarray, cut: int, eligible: bool) -> np.ndarray:
    """T2's label per category: 1 after the prompt, 0 nowhere in the record, NaN when the
    category occurs only inside the prompt window (removed there: counting it negative
    would call a correct inference a false alarm) or the record ends with the prompt."""
    if not eligible:
        return np.full(lookup.table.shape[1], np.nan)
    later, window = lookup.any_in(ids[cut:]), lookup.any_in(ids[1:cut])
    return np.where(later, 1.0, np.where(window, np.nan, 0.0))


def carrier_masks(inputs: SensitiveInputs) -> dict[str, Mapping[Role, np.ndarray]]:
    """Per category, which members and non-members carry it (anywhere in the record)."""
    return {c: {r: inputs.labels[r][c] for r in Role} for c in inputs.categories}


def signal_requests_of(inputs: SensitiveInputs, prompts: list[np.ndarray], seeds: list[tuple[int, ...]], *,
                       horizon: int, samples: int, temperature: float, top_p: float,
                       events=None) -> list[Request]:
    """The requests of T2's signal for `prompts` (one seed each): the categories watched on
    codes, the continuations decoded on notes."""
    if not inputs.categories or not prompts:
        return []
    watch = None if inputs.term_sets else Watch.of(list(inputs.categories.values()))
    if watch is None:
        events = None
    return [Request(prompt=p, steps=horizon, n=samples, temperature=temperature, top_p=top_p,
                    stops=inputs.stop_ids, watch=watch, seed=seed,
                    events=None if events is None else events[i])
            for i, (p, seed) in enumerate(zip(prompts, seeds, strict=True))]


def signals_of(inputs: SensitiveInputs, answers: list[Generated], count: int) -> np.ndarray:
    """(count, categories) T2 signals from the answers to `signal_requests_of` (`count`
    prompts: no answers when there are no categories)."""
    if not answers:
        return np.zeros((count, len(inputs.categories)))
    if inputs.term_sets:  # notes: the share of continuations that name the category
        return mention_signals_from(inputs.tokenizer, answers, inputs.term_sets)
    return signals_from(answers, Watch.of(list(inputs.categories.values())), MASS)
