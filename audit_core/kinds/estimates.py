"""How long an audit of each model kind will take (run/estimate.py picks one by kinds.KINDS).

A causal language model is loaded as the run loads it and its tokens and prompts are
counted. With a workstation calibration (`mnemoscope bench`, run/calibration.py) the
calibrated tokens per second are scaled by the model's size (FLOPs per token grow with
the parameter count) and nothing runs; without one, or for a model smaller than the
calibration's reference (whose rates cannot be scaled down: decoding_cost.calibration_prices),
the shared scoring pass is timed on a sample of records, and one decoding batch, and
extrapolated. An int8 plan is timed with
the int8 rates the calibration measured (a calibration made before those were measured
is not used for it: the sample is timed instead). An export without a KV cache recomputes
the whole sequence at every decoding step; kinds/decoding_cost.py adds what that costs.

Tabular classifiers and encoders are timed on their own work, with no calibration
(`bench` measures causal language models only). A tabular audit costs seconds: the model,
the files, the split check and the class probabilities are simply done here as the run
does them (which also runs the run's own checks of the columns against the model, so a
bad mapping is refused before Start), and each probe adds its bootstrap. An encoder's
files and split check are done as the run does them; it embeds a sample of records, and a
masked-LM head scores a few records' masked copies, each extrapolated to the whole
cohorts (pseudo-likelihood by masked copies, its real cost).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.loading import load_cohorts
from audit_core.data.split_validity import check_split
from audit_core.families import Family
from audit_core.generation.kept_answers import kept_at_once
from audit_core.generation.streams import side_by_side_time, stream_count
from audit_core.kinds import statistics_cost
from audit_core.kinds.base import Estimate
from audit_core.kinds.decoding_cost import (
    PLAN,
    STEP_TIMING_TOP_P,
    RecomputeCost,
    calibration_prices,
    plan_work,
    rates_for,
    size_scale,
    typical_length,
)
from audit_core.kinds.encoder import PSEUDO, feedable
from audit_core.kinds.generation_estimate import declared_requests, schedule_of
from audit_core.kinds.generation_work import ON_THE_SPOT_SHARE, Decoding, decoding_of
from audit_core.kinds.memory_need import fitting_need
from audit_core.kinds.tabular import open_reference
from audit_core.kinds.tabular_inputs import read_tabular_inputs, require_columns, require_width
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.onnx_encoder import OnnxEncoder
from audit_core.models.onnx_tabular import OnnxTabularClassifier
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id
from audit_core.passes.encoder_outputs import mask_token_id
from audit_core.passes.encoder_pass import PSEUDO_ROWS_PER_RECORD
from audit_core.passes.precision_agreement import AGREEMENT_SAMPLE
from audit_core.passes.token_scores import score_tokens
from audit_core.plan.parsing import AuditPlan
from audit_core.plan.span_settings import LOCALISATION_LABEL, MEMORIZED_SPANS, MemorizedSpansSettings
from audit_core.probes.base import Probe
from audit_core.probes.generating import GENERATION_LABEL, generation_weight
from audit_core.probes.selection import resolve_probes, resolve_thresholds
from audit_core.work.progress import Progress

# Per probe of a tabular or encoder audit, beyond the shared pass: the bootstrap
# intervals, the ROC, the subgroups.
PER_PROBE_SECONDS = 0.3
# The phases of a language-model estimate (Estimate.phases), named as the run's progress
# messages name them (runner.py: the pass's label, then each probe's id), so that the Run
# step can refine the estimate phase by phase (run/remaining.py).
SETUP, SCORING, WRITING = "setup", "shared scoring pass", "writing"
# The sample's scoring is padded (records of every length spread over the cohorts, in the
# plan's batches) where the pass batches records by length: the pass took 0.51-0.73 of
# the sample's time per token, extrapolated.
SCORING_SAMPLE_FACTOR = 0.6
# The decode-step timing (_decode_cost): prompt length, steps and the two batch sizes.
DECODE_TIMING_PROMPT = 20
DECODE_TIMING_STEPS = 6
DECODE_TIMING_ROWS = (16, 128)
DECODE_TIMING_REPEATS = 3
PSEUDO_SAMPLE_RECORDS = 8  # each makes one masked copy per inner token: a few suffice


def estimate_causal_lm(plan: AuditPlan, kind: str, progress: Progress, sample: int,
                       calibration: dict[str, Any] | None) -> Estimate:
    """Loads the model and cohorts as the run would and counts tokens, then adds up the
    run's phases (`Estimate.phases`): the shared scoring pass (tokens x a per-token time),
    each probe's own work (generation_work.py: decoded rows x steps, in model calls), the
    split check and the outputs. With a workstation calibration the per-token times come
    from it, scaled by the model's size, and nothing runs; without one (or one that does not
    price this model: an int8 plan with a calibration made before int8 was measured, a model
    smaller than its reference) the scoring pass is timed on a sample of records and a
    decode step at two batch sizes."""
    clock = time.perf_counter()
    selected = resolve_probes(plan)
    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    # Loaded as the run loads it (that time is part of the run's), int8 copy included.
    model = OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                         precision=plan.model.precision, inputs=plan.model.inputs,
                         token_types=plan.model.token_types)
    tokenizer = load_tokenizer(info.folder)
    progress.advance(0.2, "reading the cohorts")
    token_ids = {}
    cohorts = load_cohorts(plan.data)
    for role, cohort in cohorts.items():  # two files, or a MEDS folder's splits
        token_ids[role] = encode_all(tokenizer, list(cohort.sequences))
    all_ids = token_ids[Role.MEMBERS] + token_ids[Role.NON_MEMBERS]
    total_tokens = int(sum(len(x) for x in all_ids))
    records = len(all_ids)
    phases = {SETUP: time.perf_counter() - clock + statistics_cost.SPLIT.at(records)}
    if not calibration_prices(calibration, info.parameters, plan.model.precision):
        calibration = None  # no rates for this precision or a model this small: timed below
    if calibration:
        phases[SCORING] = calibrated_seconds(
            calibration, info.parameters, all_ids, reference=plan.model.reference is not None,
            precision=plan.model.precision) if any(p.needs.token_scores for p, _ in selected) else 0.0
        cost = calibrated_decode_cost(calibration, info.parameters, plan.model.precision)
        source, sampled = "calibration", 0
    else:
        progress.advance(0.4, "timing the scoring pass")
        phases[SCORING] = _timed_scoring(plan, model, tokenizer, selected, all_ids, sample, progress)
        progress.advance(0.7, "timing decoding")
        cost = _decode_cost(model, all_ids, progress)
        source, sampled = "sample", min(sample, len(all_ids))
    lengths = [np.array([len(x) for x in token_ids[role]], dtype=np.int64) for role in Role]
    # The generation step: every request the probes will declare, in the schedule's batches.
    declared = declared_requests(plan, selected, model, cohorts, token_ids, tokenizer, info)
    merged = schedule_of(model, declared, selected, typical_length(lengths, model.context_length))
    # The answers the generation step keeps at once (generation/kept_answers.py): a token's
    # id and, for a watched request, its mass (16 bytes counted for every token). Before the
    # step's time: where two decoding streams would not fit, the run decodes in one.
    kept = kept_at_once([16 * tokens for tokens in merged.tokens.values()]) if declared else 0
    memory = fitting_need(plan, model, cohorts, token_ids, selected, kept_bytes=kept)
    step = {}
    if declared:  # the run has a generation step only when a probe declares requests
        step[GENERATION_LABEL] = cost.seconds(Decoding(merged.row_steps, 1), calls=merged.calls) + \
            cost.seconds(Decoding(merged.greedy_row_steps, 1, greedy=True), calls=merged.greedy_calls)
        if stream_count(model, merged.batches) > 1:  # the cost above is one session's
            step[GENERATION_LABEL] *= side_by_side_time(info.parameters)
        step[GENERATION_LABEL] += statistics_cost.DECLARING.at(records)
    # An export without a KV cache recomputes the whole sequence at every step: what that
    # adds beyond the decode cost counted here (kinds/decoding_cost.py). The calibration's
    # rate is a KV step's; the timed step above ran the plain graph at its short prompt.
    recompute = None if model.kv_cache else RecomputeCost(
        plan_work(selected, declared, lengths, model.context_length), rates_for(model, calibration), PLAN)
    counted = None if calibration else DECODE_TIMING_PROMPT + DECODE_TIMING_STEPS / 2
    if recompute is not None and declared:
        step[GENERATION_LABEL] += recompute.extra_seconds(in_step=True, counted_length=counted)
    # In the run's order: the probes that decode nothing, the generation step, the others.
    for probe, config in sorted(selected, key=lambda pc: generation_weight(pc[0]) > 0):
        if generation_weight(probe) > 0:
            phases.update(step)
            step = {}
        seconds = statistics_cost.MEMBERSHIP_PROBE.at(records) if probe.family == Family.MEMBERSHIP else 0.0
        if probe.id in statistics_cost.STATISTICS:
            seconds += statistics_cost.STATISTICS[probe.id].at(records)
        decoding = decoding_of(probe.id, config, lengths, model.context_length)
        if decoding is not None and probe.id not in declared:  # decodes in its own run
            seconds += cost.seconds(decoding)
        elif probe.id in ON_THE_SPOT_SHARE and decoding is not None:  # a second stage (T5's variants)
            seconds += ON_THE_SPOT_SHARE[probe.id] * cost.seconds(decoding)
        if recompute is not None:
            seconds += recompute.extra_seconds(probe.id, in_step=False, counted_length=counted)
        phases[probe.id] = seconds
    phases.update(step)
    spans = resolve_thresholds(plan).get(MEMORIZED_SPANS)
    if isinstance(spans, MemorizedSpansSettings) and spans.records > 0:  # run/localisation_step.py
        # Its records scored again by the model and by the baseline (a model's share, priced
        # as the pass), and its spans read token by token (the statistics' share).
        localised = min(records, 2 * spans.records)
        phases[LOCALISATION_LABEL] = statistics_cost.LOCALISING.at(records) + \
            2 * phases[SCORING] * localised / max(records, 1)
    phases[WRITING] = statistics_cost.WRITING.at(records)
    progress.advance(1.0, "estimated")
    return Estimate(seconds=sum(phases.values()), records=records, tokens=total_tokens,
                    sampled_records=sampled, source=source, phases=tuple(phases.items()),
                    memory=memory)


@dataclass(frozen=True, slots=True)
class DecodeCost:
    """Seconds per model call and per decoded row, sampling and greedy (a call decodes
    `rows` sequences one step: about per_call + rows x per_row on a CPU)."""

    per_call: float
    per_row: float
    greedy_per_call: float
    greedy_per_row: float

    def seconds(self, work: Decoding, calls: float | None = None) -> float:
        """`calls`: the model calls when counted (the schedule's batches), else the work's."""
        calls = work.calls if calls is None else calls
        if work.greedy:
            return calls * self.greedy_per_call + work.row_steps * self.greedy_per_row
        return calls * self.per_call + work.row_steps * self.per_row


def calibrated_decode_cost(calibration: dict[str, Any], parameters: int, precision: str) -> DecodeCost:
    """The decode cost from the calibration's greedy timings, scaled by the model's size.
    With batches of 16 and 128 timed (calibrations since issue 21) the two give a per-call
    and a per-row cost (the schedule decodes up to 256 rows a call); an older calibration's
    batch of 16 alone is all per row (it overestimates big batches)."""
    rates = (calibration["int8"] if precision == "int8" else calibration)["generation"]
    scale = size_scale(calibration, parameters)
    t16 = 16 / rates["batch_16_tokens_per_s"]
    if "batch_128_tokens_per_s" not in rates:
        per_row = scale * t16 / 16
        return DecodeCost(0.0, per_row, 0.0, per_row)
    t128 = 128 / rates["batch_128_tokens_per_s"]
    per_row = max(0.0, (t128 - t16) / 112)
    per_call = max(0.0, t16 - 16 * per_row)
    return DecodeCost(per_call, scale * per_row, per_call, scale * per_row)


def _timed_scoring(plan: AuditPlan, model: OnnxCausalLM, tokenizer: Any,
                   selected: list[tuple[Probe, object]], all_ids: list[np.ndarray], sample: int,
                   progress: Progress) -> float:
    """The shared pass timed on `sample` records spread over the cohorts, per token."""
    if not any(p.needs.token_scores for p, _ in selected) or not all_ids:
        return 0.0
    picked = [all_ids[i] for i in np.linspace(0, len(all_ids) - 1, min(sample, len(all_ids))).astype(int)]
    score_tokens(model, picked[:2], batch_size=2, pad_id=pad_token_id(tokenizer), progress=Progress())
    start = time.perf_counter()
    score_tokens(model, picked, batch_size=plan.model.batch_size, pad_id=pad_token_id(tokenizer),
                 progress=progress.silent())
    per_token = (time.perf_counter() - start) / max(1, sum(len(x) for x in picked))
    # The run scores every record again with the reference model when there is one.
    return (SCORING_SAMPLE_FACTOR * per_token * sum(len(x) for x in all_ids)
            * (2 if plan.model.reference else 1))


def _decode_cost(model: OnnxCausalLM, all_ids: list[np.ndarray], progress: Progress) -> DecodeCost:
    """A few decode steps of the audited model at two batch sizes, sampling and greedy: the
    difference gives the per-row cost, the rest the per-call cost (prefill included, as in
    the probes' short horizons)."""
    steps = DECODE_TIMING_STEPS
    length = max(1, min(DECODE_TIMING_PROMPT, model.context_length - steps - 1))
    records = [x[:length] for x in all_ids if len(x) >= length][:max(DECODE_TIMING_ROWS) // 4] \
        or [np.ones(length, dtype=np.int64)]
    prompts = np.stack([records[i % len(records)] for i in range(max(DECODE_TIMING_ROWS) // 4)])
    rng = np.random.default_rng(0)

    def timed(run: Callable[[int], object], rows: int) -> float:
        progress.check()
        start = time.perf_counter()
        run(rows)
        return (time.perf_counter() - start) / steps

    def sample(rows: int) -> object:  # 4 samples per prompt and top-p, as T1, T2, T5 and T6 draw
        return model.sample(prompts[:rows // 4], steps, n=4, rng=rng, batch_size=rows, top_p=STEP_TIMING_TOP_P)

    def greedy(rows: int) -> object:
        return model.greedy(np.resize(prompts, (rows, length)), steps)

    sample(4), greedy(4)  # the first calls of a session pay for its allocations
    fitted = []
    low, high = DECODE_TIMING_ROWS
    for run in (sample, greedy):
        # Interleaved repeats, the median of each: one timing of a fraction of a second on
        # a shared machine can double (measured: the trajectory's share 42 s, then 82 s).
        pairs = [(timed(run, low), timed(run, high)) for _ in range(DECODE_TIMING_REPEATS)]
        t_low = float(np.median([a for a, _ in pairs]))
        t_high = float(np.median([b for _, b in pairs]))
        per_row = max(0.0, (t_high - t_low) / (high - low))
        fitted += [max(0.0, t_low - low * per_row), per_row]
    return DecodeCost(*fitted)


def estimate_tabular(plan: AuditPlan, kind: str, progress: Progress, sample: int,
                     calibration: dict[str, Any] | None) -> Estimate:
    return _timed(_tabular, plan, kind, progress)


def estimate_encoder(plan: AuditPlan, kind: str, progress: Progress, sample: int,
                     calibration: dict[str, Any] | None) -> Estimate:
    return _timed(partial(_encoder, sample=sample), plan, kind, progress)


def _timed(count: Callable[[AuditPlan, str, Progress], tuple[float, int, int, int]], plan: AuditPlan,
           kind: str, progress: Progress) -> Estimate:
    """A tabular or encoder count: the reading done here, plus what `count` extrapolates."""
    clock = time.perf_counter()
    seconds, records, tokens, sampled = count(plan, kind, progress)
    progress.advance(1.0, "estimated")
    return Estimate(seconds=time.perf_counter() - clock + seconds, records=records,
                    tokens=tokens, sampled_records=sampled)


def calibrated_seconds(calibration: dict[str, Any], parameters: int, all_ids: list[np.ndarray],
                       *, reference: bool, precision: str = "fp32") -> float:
    """The shared scoring pass's time from the calibration, scaled by the model's size.

    A forward pass costs about 2 FLOPs per parameter per token, so tokens per second
    fall in proportion to the parameter count (a model smaller than the reference is
    timed instead: decoding_cost.calibration_prices). `precision` "int8" takes the int8
    rates (`calibration["int8"]`), plus the fp32 and int8 scoring of the sample that
    measures their rank agreement.
    """
    rates = calibration["int8"] if precision == "int8" else calibration
    scale = size_scale(calibration, parameters)
    seconds = 0.0
    if precision == "int8" and all_ids:  # models/precision.py: runtime_facts
        sample = sum(len(x) for x in all_ids) / len(all_ids) * min(AGREEMENT_SAMPLE, len(all_ids))
        seconds += sample * scale * (1 / calibration["scoring_tokens_per_s"] + 1 / rates["scoring_tokens_per_s"])
    tokens = sum(len(x) for x in all_ids)
    return seconds + tokens * scale / rates["scoring_tokens_per_s"] * (2 if reference else 1)


def _tabular(plan: AuditPlan, kind: str, progress: Progress) -> tuple[float, int, int, int]:
    selected = resolve_probes(plan, kind)
    columns = plan.data.columns
    require_columns(columns)
    progress.advance(0.1, "reading the model")
    info = inspect_model(plan.model.path)
    model = OnnxTabularClassifier(info, plan.model.threads)
    require_width(columns, model.width, info.name)
    classifiers = [model] + ([open_reference(plan, model)[0]] if plan.model.reference else [])
    progress.advance(0.3, "reading the cohorts")
    cohorts, records, _labels = read_tabular_inputs(plan, model)
    rows = np.vstack([records[role].features for role in Role])
    progress.advance(0.5, "timing the split check and the class probabilities")
    _split_check(plan, cohorts, "tabular",
                 columns={name: rows[:, j] for j, name in enumerate(columns.features)})
    for classifier in classifiers:
        classifier.probabilities(rows)
    return PER_PROBE_SECONDS * len(selected), len(rows), 0, len(rows)


def _split_check(plan: AuditPlan, cohorts: dict[Role, Cohort], kind: str,
                 columns: dict[str, np.ndarray] | None = None) -> None:
    """The run's model-free split check, run as the run runs it: its cost grows with the
    records (and a tabular file's columns), and on small cohorts it is most of the audit."""
    thresholds = resolve_thresholds(plan)["split_validity"]
    check_split(cohorts, kind, max_auc=thresholds.max_auc, folds=thresholds.folds,
                rng=np.random.default_rng([plan.audit.seed, zlib.crc32(b"split_validity")]),
                columns=columns)


def _encoder(plan: AuditPlan, kind: str, progress: Progress, *,
             sample: int) -> tuple[float, int, int, int]:
    selected = resolve_probes(plan, kind)
    progress.advance(0.1, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    model = OnnxEncoder(info, plan.model.threads)
    tokenizer = load_tokenizer(info.folder)
    mask_id = mask_token_id(tokenizer)
    selected = feedable(selected, model, mask_id, explicit=plan.probes is not None)
    progress.advance(0.3, "reading the cohorts")
    cohorts = load_cohorts(plan.data)
    ids: list[np.ndarray] = []
    for role in Role:
        ids += encode_all(tokenizer, list(cohorts[role].sequences))
    progress.advance(0.4, "timing the split check")
    _split_check(plan, cohorts, plan.data.columns.kind)
    context = model.context_length
    ids = [x[:context] if context else x for x in ids]  # an encoder reads one window
    picked = [ids[i] for i in np.linspace(0, len(ids) - 1, min(sample, len(ids))).astype(int)]
    seconds = PER_PROBE_SECONDS * len(selected)
    progress.advance(0.5, "timing the shared pass")
    batch = plan.model.batch_size
    if model.has_embeddings and any(p.id != PSEUDO for p, _ in selected):
        start = time.perf_counter()
        model.embeddings(picked, batch, progress.slice(0.5, 0.7))
        seconds += (time.perf_counter() - start) / len(picked) * len(ids)
    if any(p.id == PSEUDO for p, _ in selected):
        few = [x for x in picked if len(x) >= 3][:PSEUDO_SAMPLE_RECORDS]
        if few:
            assert mask_id is not None  # `feedable` leaves the pseudo-likelihood out without one
            start = time.perf_counter()
            model.pseudo_log_likelihood(few, mask_id, max(1, batch) * PSEUDO_ROWS_PER_RECORD,
                                        progress.slice(0.7, 0.9))
            copies = sum(max(0, len(x) - 2) for x in few)
            seconds += (time.perf_counter() - start) / max(1, copies) * sum(
                max(0, len(x) - 2) for x in ids)
    return seconds, len(ids), int(sum(len(x) for x in ids)), len(picked)
