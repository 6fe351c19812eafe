"""How long will this audit take? A quick calibration before the user presses Start.

Loads the model and cohorts as the run would, times the shared scoring pass on a sample
of records and one decoding batch, and extrapolates by token and prompt counts. It is an
estimate for planning a coffee break, not a measurement: the report never uses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.plan import AuditPlan
from audit_core.progress import CancelToken, Progress, ProgressCallback, ignore_progress

SAMPLE_RECORDS = 48
# Per membership probe, beyond the shared pass: the bootstrap intervals and the ROC.
_PER_MEMBERSHIP_PROBE = 0.3


@dataclass(frozen=True, slots=True)
class Estimate:
    seconds: float
    records: int
    tokens: int
    sampled_records: int


def estimate_run(plan: AuditPlan, *, on_progress: ProgressCallback = ignore_progress,
                 cancel: CancelToken | None = None, sample: int = SAMPLE_RECORDS) -> Estimate:
    from audit_core.data.loading import load_cohort
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id
    from audit_core.runner import resolve_probes
    from audit_core.scoring.token_scores import score_tokens

    progress = Progress(on_progress, cancel)
    clock = time.perf_counter()
    selected = resolve_probes(plan)
    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    model = OnnxCausalLM(info, plan.model.threads)
    tokenizer = load_tokenizer(info.folder)
    progress.advance(0.2, "reading the cohorts")
    token_ids = {}
    for role, path in ((Role.MEMBERS, plan.data.members), (Role.NON_MEMBERS, plan.data.non_members)):
        cohort = load_cohort(path, role, plan.data.columns)
        token_ids[role] = encode_all(tokenizer, list(cohort.sequences))
    setup = time.perf_counter() - clock
    all_ids = token_ids[Role.MEMBERS] + token_ids[Role.NON_MEMBERS]
    total_tokens = int(sum(len(x) for x in all_ids))
    seconds = setup

    progress.advance(0.4, "timing the scoring pass")
    if any(p.needs.token_scores for p, _ in selected):
        picked = [all_ids[i] for i in np.linspace(0, len(all_ids) - 1, min(sample, len(all_ids))).astype(int)]
        score_tokens(model, picked[:2], batch_size=2, pad_id=pad_token_id(tokenizer), progress=Progress())
        start = time.perf_counter()
        score_tokens(model, picked, batch_size=plan.model.batch_size, pad_id=pad_token_id(tokenizer),
                     progress=Progress(cancel=cancel))
        per_token = (time.perf_counter() - start) / max(1, sum(len(x) for x in picked))
        seconds += per_token * total_tokens
        seconds += _PER_MEMBERSHIP_PROBE * sum(p.family == "membership" for p, _ in selected)

    progress.advance(0.7, "timing decoding")
    for probe, config in selected:
        if not probe.needs.generation:
            continue
        prefix, steps = getattr(config, "prefix_tokens", 0), getattr(config, "suffix_tokens", 0)
        eligible = [x for x in all_ids if len(x) >= prefix + steps]
        if not eligible or not prefix or not steps:
            continue
        batch = min(len(eligible), getattr(config, "batch_size", 16), 32)
        prompts = np.stack([x[:prefix] for x in eligible[:batch]])
        start = time.perf_counter()
        model.greedy(prompts, steps)
        seconds += (time.perf_counter() - start) / batch * len(eligible)
    progress.advance(1.0, "estimated")
    return Estimate(seconds=seconds, records=len(all_ids), tokens=total_tokens,
                    sampled_records=min(sample, len(all_ids)))
