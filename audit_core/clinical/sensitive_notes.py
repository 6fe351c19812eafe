"""The sensitive-category tests' inputs on clinical notes: which notes name a sensitive
condition (`clinical.sensitive_terms`), prompts with those mentions removed, and how often
the model's continuations name it.

Where a code record holds a sensitive code, a note holds a wording ("opioid use disorder",
"heroin"): a mention is found in the note's text (whole words, `TermSet.spans`) and mapped
to the tokens the model reads through the tokenizer's offsets, so that a prompt can leave
the whole mention out (every token of it, as T2 removes sensitive codes) and the labels say
whether the note names the category after the prompt, only inside it, or nowhere.

The signal is the share of sampled continuations whose text names the category (decoded
with the tokenizer, matched with the lexicon): Tonekaboni et al. 2025's p-hat. The code
tests' default "mass" signal reads the probability of one token per step; a wording is
several tokens under most tokenizers, and its probability at every step would take one
forward pass per step and wording, where decoding the draws already made is free. More
samples give a finer signal (4 samples: 0, 1/4, ... 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.clinical.record_layout import Tier, build_layout
from audit_core.clinical.sensitive_terms import TermSet, parse_sensitive_terms
from audit_core.data.cohort import Role
from audit_core.generation import Generated
from audit_core.models.tokenizer_loading import unknown_token_id

Spans = dict[str, list[tuple[int, int]]]  # category -> (first token, end token) of each mention


def records_are_text(ctx: Any) -> bool:
    """The audited records are free text (data.columns.kind = "text"); a context without the
    plan's columns (the conformance suite's) holds code records."""
    columns = getattr(ctx, "columns", None)
    return columns is not None and columns.kind == "text"


def present_term_sets(tokenizer: Any, term_sets: Sequence[TermSet]) -> tuple[list[TermSet], list[str]]:
    """(the categories the model can write, the labels of those it cannot): a category is
    dropped when every wording needs a token the vocabulary lacks (a word-level tokenizer
    writes an unseen word as its unknown token, never the word)."""
    unk = unknown_token_id(tokenizer)
    present: list[TermSet] = []
    dropped: list[TermSet] = []
    for term_set in term_sets:
        writable = any(unk not in tokenizer.encode(w, add_special_tokens=False).ids
                       for w in term_set.wordings)
        (present if writable else dropped).append(term_set)
    return present, [t.label for t in dropped]


def mention_spans(tokenizer: Any, texts: Sequence[str], token_ids: Sequence[np.ndarray],
                  term_sets: Sequence[TermSet]) -> list[Spans]:
    """Per record, each category's mentions as token spans of the record's ids (the ones the
    model reads: the tokenizer's encoding of the text, special tokens included)."""
    out: list[Spans] = []
    for text, ids in zip(texts, token_ids):
        offsets = np.asarray(tokenizer.encode(text).offsets, dtype=np.int64).reshape(-1, 2)[:len(ids)]
        starts, ends = offsets[:, 0], offsets[:, 1]
        real = ends > starts  # special tokens have empty offsets
        spans: Spans = {}
        for term_set in term_sets:
            found = []
            for a, b in term_set.spans(text):
                inside = np.flatnonzero(real & (starts < b) & (ends > a))
                if len(inside):
                    found.append((int(inside[0]), int(inside[-1]) + 1))
            spans[term_set.name] = found
        out.append(spans)
    return out


def after_label(spans: list[tuple[int, int]], cut: int) -> float:
    """T2's label on a note: 1 when a mention starts after the prompt, NaN when the note names
    the category only inside the prompt (removed there), 0 when it never does."""
    if any(first >= cut for first, _ in spans):
        return 1.0
    return float("nan") if spans else 0.0


def prompt_without_mentions(ids: np.ndarray, cut: int, spans: Spans) -> np.ndarray:
    """The first `cut` tokens with every token of every mention left out (the start token stays)."""
    keep = np.ones(cut, dtype=bool)
    for found in spans.values():
        for first, end in found:
            keep[max(first, 1):min(end, cut)] = False
    return ids[:cut][keep]


@dataclass(frozen=True, slots=True)
class NotesInputs:
    """The fields of `clinical.sensitive_inputs.SensitiveInputs` for notes, in its order."""

    categories: dict[str, np.ndarray]  # no token ids: a wording is matched in text
    names: dict[str, str]
    prompts: dict[Role, list[np.ndarray]]
    eligible: dict[Role, np.ndarray]
    labels: dict[Role, dict[str, np.ndarray]]
    after: dict[Role, dict[str, np.ndarray]]
    stop_ids: tuple[int, ...]
    term_sets: tuple[TermSet, ...]


def notes_inputs(ctx: Any, tokenizer: Any, prompt_tokens: int, spec: str, where: str) -> NotesInputs:
    """Prompts of the note's first `prompt_tokens` tokens, mentions removed, and the labels of
    every category the model can write (`spec` edits the lexicon; `where` names its key)."""
    term_sets, _dropped = present_term_sets(tokenizer, parse_sensitive_terms(spec, where))
    layout = build_layout(tokenizer.get_vocab(with_added_tokens=True))
    tier = Tier(str(prompt_tokens), prompt_tokens)
    prompts, eligible, labels, after = {}, {}, {}, {}
    for role in Role:
        records = ctx.token_ids[role]
        spans = mention_spans(tokenizer, ctx.cohorts[role].sequences, records, term_sets)
        lengths = [layout.prompt_length(ids, tier) for ids in records]
        eligible[role] = np.array([n is not None for n in lengths], dtype=bool)
        cut = [n if n is not None else max(1, len(ids) - 1) for n, ids in zip(lengths, records)]
        prompts[role] = [prompt_without_mentions(ids, n, s) for ids, n, s in zip(records, cut, spans)]
        labels[role] = {t.name: np.array([bool(s[t.name]) for s in spans], dtype=bool) for t in term_sets}
        after[role] = {t.name: np.array([after_label(s[t.name], n) if ok else np.nan
                                         for s, n, ok in zip(spans, cut, eligible[role])])
                       for t in term_sets}
    return NotesInputs({t.name: np.zeros(0, dtype=np.int64) for t in term_sets},
                       {t.name: t.label for t in term_sets}, prompts, eligible, labels, after,
                       tuple(sorted(layout.stop_ids)), tuple(term_sets))


def mention_signals_from(tokenizer: Any, answers: Sequence[Generated],
                         term_sets: Sequence[TermSet]) -> np.ndarray:
    """(len(answers), len(term_sets)): the share of each answer's sampled continuations
    whose decoded text names the category."""
    out = np.zeros((len(answers), len(term_sets)))
    if not len(answers) or not term_sets:
        return out
    for row, answer in enumerate(answers):
        texts = tokenizer.decode_batch([[int(t) for t in c] for c in answer.continuations()],
                                       skip_special_tokens=True)
        out[row] = np.array([[t.mentioned(text) for t in term_sets] for text in texts],
                            dtype=np.float64).mean(axis=0)
    return out
