"""Memorization localisation, after the probes: which spans of the records most at risk the
model scores far above a non-member baseline (passes/token_contrast.py says how).

Which records: the members the strongest membership attack of this run (highest AUC) scores
highest, as many non-members it scores highest (the same attack's false alarms, so that a
model that memorized nothing shows members and non-members alike), and every record a probe
extracted. Without a membership attack that scored every record, a seeded sample of each
cohort. Only those records are scored again (and, without a reference model, a seeded sample
of the other non-members for the token baseline), so the step costs a few hundred records'
forward passes whatever the cohorts' size. Its outcome is one checkpoint unit.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from audit_core.data.cohort import Role
from audit_core.kinds.base import Prepared
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import pad_token_id
from audit_core.passes.token_contrast import TokenBaseline, calibrated_threshold, find_spans
from audit_core.passes.token_scores import score_tokens
from audit_core.plan.span_settings import MemorizedSpansSettings
from audit_core.results.memorized_spans import MemorizedSpans
from audit_core.results.result import ProbeResult
from audit_core.run.span_categories import LABELS, code_category, text_categories
from audit_core.work.progress import Progress

AT_RISK, EXTRACTED = "at_risk", "extracted"


def localise(prepared: Prepared, results: Sequence[ProbeResult], settings: MemorizedSpansSettings,
             *, seed: int, batch_size: int, kind: str, progress: Progress) -> MemorizedSpans:
    """`kind`: the records' kind (plan data.columns.kind): "text" reads identifiers."""
    tokenizer = prepared.tokenizer
    assert tokenizer is not None  # the runner localises language models only
    model = cast(OnnxCausalLM, prepared.model)
    ranking, by = _ranking(results)
    rng = np.random.default_rng([seed, zlib.crc32(b"memorized_spans")])
    chosen = _chosen(prepared, results, ranking, settings.records, rng)
    pad = pad_token_id(tokenizer)
    events = prepared.token_events if model.side_inputs else None

    def scores_of(scorer: Any, picks: list[tuple[Role, int]], part: Progress) -> Any:
        return score_tokens(scorer, [prepared.token_ids[r][i] for r, i in picks], batch_size=batch_size,
                            pad_id=pad, progress=part,
                            events=[events[r][i] for r, i in picks] if events is not None else None)

    picks = [(role, index) for role, index, _ in chosen]
    taken = {i for role, i in picks if role is Role.NON_MEMBERS}
    pool = [i for i in range(len(prepared.token_ids[Role.NON_MEMBERS])) if i not in taken]
    sample = sorted(rng.choice(pool, size=min(settings.baseline_records, len(pool)), replace=False).tolist()) \
        if pool else []
    held_out = [(Role.NON_MEMBERS, i) for i in sample]
    reference_model = prepared.reference_model
    parts = 4 if reference_model is not None else 2
    target = scores_of(model, picks, progress.slice(0.0, 1 / parts))
    unseen = scores_of(model, held_out, progress.slice(1 / parts, 2 / parts))
    if reference_model is not None:
        baselines = list(scores_of(reference_model, picks, progress.slice(0.5, 0.75)).logprobs)
        unseen_reference = scores_of(reference_model, held_out, progress.slice(0.75, 1.0))
        null = np.concatenate([a - b for a, b in zip(unseen.logprobs, unseen_reference.logprobs, strict=True)]
                              or [np.zeros(0)])
        baseline = "reference model"
    else:
        table = TokenBaseline.build(unseen.targets, unseen.logprobs)
        baselines = [table.of(t) for t in target.targets]
        null = table.held_out(unseen.targets, unseen.logprobs)
        baseline = "non-member token baseline"
    threshold = calibrated_threshold(null, settings.min_contrast, settings.false_highlight)
    records = []
    for k, (role, index, reasons) in enumerate(chosen):
        contrast = target.logprobs[k] - baselines[k]
        ids = prepared.token_ids[role][index]
        categories, offsets = _categories(prepared, role, index, ids, kind)
        records.append(_record(role, index, reasons, len(ids), contrast, threshold, settings, categories, offsets))
    progress.advance(1.0, "done")
    summary = _summary(records, by, baseline, len(sample), threshold, settings)
    return MemorizedSpans(summary=summary, records=tuple(records))


def _ranking(results: Sequence[ProbeResult]) -> tuple[dict[str, np.ndarray] | None, str | None]:
    """The scores of this run's strongest membership attack (highest AUC), and its id."""
    best: tuple[float, ProbeResult] | None = None
    for r in results:
        auc = r.metrics.get("auc") if r.family == "membership" else None
        if r.scores and isinstance(auc, (int, float)) and math.isfinite(auc) and (best is None or auc > best[0]):
            best = (float(auc), r)
    return (best[1].scores, best[1].id) if best is not None else (None, None)


def _chosen(prepared: Prepared, results: Sequence[ProbeResult], ranking: dict[str, np.ndarray] | None,
            n: int, rng: np.random.Generator) -> list[tuple[Role, int, list[str]]]:
    picked: dict[tuple[Role, int], list[str]] = {}
    for role in Role:
        size = len(prepared.token_ids[role])
        if ranking is not None and role.value in ranking:
            values = np.asarray(ranking[role.value], dtype=np.float64)
            order = [int(i) for i in np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")
                     if np.isfinite(values[i])]
        else:
            order = sorted(rng.permutation(size).tolist())
        for i in order[:n]:
            picked.setdefault((role, i), []).append(AT_RISK)
    for r in results:
        for e in r.extracted:  # before with_refs: (role, index)
            key = (Role(e["role"]), int(e["index"]))
            if EXTRACTED not in picked.setdefault(key, []):
                picked[key].append(EXTRACTED)
    return [(role, i, reasons) for (role, i), reasons in picked.items()]


def _categories(prepared: Prepared, role: Role, index: int, ids: np.ndarray,
                kind: str) -> tuple[list[str], list[tuple[int, int]] | None]:
    """Each token's category, and its characters in the record (None when the tokenizer's
    encoding of the text is not the ids scored: no position can then be shown)."""
    tokenizer = prepared.tokenizer
    assert tokenizer is not None
    text = prepared.cohorts[role].sequences[index]
    encoding = tokenizer.encode(text, add_special_tokens=True)
    offsets = [(int(o[0]), int(o[1])) for o in encoding.offsets] if list(encoding.ids) == list(np.asarray(ids).tolist()) else None
    if kind == "text":
        categories = text_categories(text, offsets) if offsets is not None else ["unaligned"] * len(ids)
    else:
        categories = [code_category(tokenizer.id_to_token(int(t)) or "") for t in np.asarray(ids).tolist()]
    return categories, offsets


def _record(role: Role, index: int, reasons: list[str], length: int, contrast: np.ndarray,
            threshold: float, settings: MemorizedSpansSettings, categories: list[str],
            offsets: list[tuple[int, int]] | None) -> dict[str, Any]:
    spans = []
    for start, end in find_spans(contrast, threshold, settings.min_tokens, settings.max_gap):
        # contrast[i] is the record's token i + 1 (the first token has no prediction)
        first, last = start + 1, end + 1
        values = contrast[start:end]
        span: dict[str, Any] = {
            "tokens": [first, last], "contrast": [round(float(v), 4) for v in values],
            "memorized_tokens": int((values >= threshold).sum()),
            "categories": dict(Counter(categories[t] for t in range(first, last)
                                       if contrast[t - 1] >= threshold))}
        if offsets is not None:
            chars = [offsets[t] for t in range(first, last) if offsets[t][1] > offsets[t][0]]
            if chars:
                span["chars"] = [min(c[0] for c in chars), max(c[1] for c in chars)]
        spans.append(span)
    in_category = Counter(categories[1:])
    return {"role": role.value, "index": index, "reasons": reasons, "tokens": length,
            "spans": spans, "tokens_by_category": dict(in_category)}


def _summary(records: list[dict[str, Any]], by: str | None, baseline: str, baseline_records: int,
             threshold: float, settings: MemorizedSpansSettings) -> dict[str, Any]:
    """Counts only: per category and cohort, the tokens the localised records hold, how many
    were memorized, and in how many spans; then the totals."""
    cells: dict[str, dict[str, Counter[str]]] = {}
    totals = {role.value: Counter[str]() for role in Role}
    for record in records:
        role = record["role"]
        total = totals[role]
        total["records"] += 1
        total["tokens"] += record["tokens"] - 1
        total["records_with_spans"] += bool(record["spans"])
        for category, count in record["tokens_by_category"].items():
            cells.setdefault(category, {r.value: Counter() for r in Role})[role]["tokens"] += count
        for span in record["spans"]:
            total["spans"] += 1
            total["memorized_tokens"] += span["memorized_tokens"]
            for category, count in span["categories"].items():
                cell = cells.setdefault(category, {r.value: Counter() for r in Role})[role]
                cell["memorized_tokens"] += count
                cell["spans"] += 1
    fields = ("tokens", "memorized_tokens", "spans")
    return {
        "selected_by": by, "baseline": baseline, "baseline_records": baseline_records,
        "threshold": round(threshold, 4),
        "settings": {"records": settings.records, "min_contrast": settings.min_contrast,
                     "false_highlight": settings.false_highlight,
                     "min_tokens": settings.min_tokens, "max_gap": settings.max_gap},
        "totals": {role: {k: int(c[k]) for k in ("records", "records_with_spans", "tokens",
                                                 "memorized_tokens", "spans")}
                   for role, c in totals.items()},
        "categories": [{"category": name, **({"label": LABELS[name]} if name in LABELS else {}),
                        **{role: {k: int(c[k]) for k in fields} for role, c in cells[name].items()}}
                       for name in sorted(cells)]}
