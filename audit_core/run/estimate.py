"""How long will this audit take? A quick calibration before the user presses Start.

Loads the model and cohorts as the run would and counts tokens and prompts. With a
workstation calibration (`mnemoscope bench`, bench/calibration.py) it scales the
calibrated tokens per second by the model's size (FLOPs per token grow with the
parameter count) and runs nothing; without one it times the shared scoring pass on a
sample of records and one decoding batch, and extrapolates. An int8 plan is timed with
the int8 rates the calibration measured (a calibration made before those were measured
is not used for it: the sample is timed instead). Tabular classifiers and encoders are
timed on their own path (other_kind_estimate.py), with no calibration. It is an estimate for planning a coffee
break, not a measurement: the report never uses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.plan.parsing import AuditPlan
from audit_core.run.progress import CancelToken, Progress, ProgressCallback, ignore_progress

SAMPLE_RECORDS = 48
# Per membership probe, beyond the shared pass: the bootstrap intervals and the ROC.
_PER_MEMBERSHIP_PROBE = 0.3


@dataclass(frozen=True, slots=True)
class Estimate:
    seconds: float
    records: int
    tokens: int
    sampled_records: int
    source: str = "sample"  # "calibration": from `mnemoscope bench`; "sample": timed here


def estimate_run(plan: AuditPlan, *, on_progress: ProgressCallback = ignore_progress,
                 cancel: CancelToken | None = None, sample: int = SAMPLE_RECORDS,
                 calibration: dict | None | bool = None) -> Estimate:
    """`calibration`: None reads the stored one (bench/calibration.py), False ignores it."""
    from audit_core.data.loading import load_cohort
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id
    from audit_core.plan.probe_selection import resolve_probes
    from audit_core.passes.token_scores import score_tokens

    progress = Progress(on_progress, cancel)
    clock = time.perf_counter()
    kind = _other_kind(plan)
    if kind is not None:  # a tabular classifier or an encoder: its own audit path, its own costs
        from audit_core.kinds.estimates import estimate_other_kind

        seconds, records, tokens, sampled = estimate_other_kind(plan, kind, progress, sample)
        progress.advance(1.0, "estimated")
        return Estimate(seconds=time.perf_counter() - clock + seconds, records=records,
                        tokens=tokens, sampled_records=sampled)
    selected = resolve_probes(plan)
    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    # Loaded as the run loads it (that time is part of the run's), int8 copy included.
    model = OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                         precision=plan.model.precision)
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
    if calibration is None:
        from audit_core.tools.bench.calibration import load_calibration

        calibration = load_calibration()
    if calibration and plan.model.precision == "int8" and "int8" not in calibration:
        calibration = False  # made before bench measured int8: the sample is timed below
    if calibration:
        seconds += _calibrated_seconds(calibration, info.parameters, selected, all_ids,
                                       reference=plan.model.reference is not None,
                                       precision=plan.model.precision)
        progress.advance(1.0, "estimated")
        return Estimate(seconds=seconds, records=len(all_ids), tokens=total_tokens,
                        sampled_records=0, source="calibration")

    progress.advance(0.4, "timing the scoring pass")
    if any(p.needs.token_scores for p, _ in selected):
        picked = [all_ids[i] for i in np.linspace(0, len(all_ids) - 1, min(sample, len(all_ids))).astype(int)]
        score_tokens(model, picked[:2], batch_size=2, pad_id=pad_token_id(tokenizer), progress=Progress())
        start = time.perf_counter()
        score_tokens(model, picked, batch_size=plan.model.batch_size, pad_id=pad_token_id(tokenizer),
                     progress=Progress(cancel=cancel))
        per_token = (time.perf_counter() - start) / max(1, sum(len(x) for x in picked))
        seconds += per_token * total_tokens
        seconds += _PER_MEMBERSHIP_PROBE * sum(p.family == Family.MEMBERSHIP for p, _ in selected)

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


def _other_kind(plan: AuditPlan) -> str | None:
    """The model's kind when it is not a causal language model (None for one, or for a
    model whose kind cannot be read: loading it below then says what is wrong)."""
    from audit_core.models.inspection import CAUSAL_LM, UNKNOWN, model_kind

    kind = model_kind(plan.model.path)
    return None if kind in (CAUSAL_LM, UNKNOWN) else kind


def _calibrated_seconds(calibration: dict, parameters: int, selected, all_ids,
                        *, reference: bool, precision: str = "fp32") -> float:
    """Scoring and decoding time from the calibration, scaled by the model's size.

    A forward pass costs about 2 FLOPs per parameter per token, so tokens per second
    fall in proportion to the parameter count; below the reference size per-call
    overhead dominates, so smaller models are not credited with more than the
    reference's speed. `precision` "int8" takes the int8 rates (`calibration["int8"]`),
    plus the fp32 and int8 scoring of the sample that measures their rank agreement.
    """
    from audit_core.models.precision import AGREEMENT_SAMPLE

    rates = calibration["int8"] if precision == "int8" else calibration
    scale = max(1.0, parameters / max(1, calibration["reference"]["parameters"]))
    seconds = 0.0
    if precision == "int8" and all_ids:  # models/precision.py: runtime_facts
        sample = sum(len(x) for x in all_ids) / len(all_ids) * min(AGREEMENT_SAMPLE, len(all_ids))
        seconds += sample * scale * (1 / calibration["scoring_tokens_per_s"] + 1 / rates["scoring_tokens_per_s"])
    if any(p.needs.token_scores for p, _ in selected):
        tokens = sum(len(x) for x in all_ids)
        seconds += tokens * scale / rates["scoring_tokens_per_s"] * (2 if reference else 1)
        seconds += _PER_MEMBERSHIP_PROBE * sum(p.family == Family.MEMBERSHIP for p, _ in selected)
    rate = rates["generation"]["batch_16_tokens_per_s"] / scale
    for probe, config in selected:
        if not probe.needs.generation:
            continue
        prefix, steps = getattr(config, "prefix_tokens", 0), getattr(config, "suffix_tokens", 0)
        eligible = sum(1 for x in all_ids if len(x) >= prefix + steps) if prefix and steps else 0
        seconds += eligible * steps / rate
    return seconds


def describe_duration(seconds: float) -> str:
    """Rounded for planning: "40 s", "12 min", "3 h 20 min"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"
