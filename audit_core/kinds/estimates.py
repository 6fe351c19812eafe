"""How long an audit of each model kind will take (run/estimate.py picks one by kinds.KINDS).

A causal language model is loaded as the run loads it and its tokens and prompts are
counted. With a workstation calibration (`mnemoscope bench`, run/calibration.py) the
calibrated tokens per second are scaled by the model's size (FLOPs per token grow with
the parameter count) and nothing runs; without one the shared scoring pass is timed on a
sample of records, and one decoding batch, and extrapolated. An int8 plan is timed with
the int8 rates the calibration measured (a calibration made before those were measured
is not used for it: the sample is timed instead).

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
from functools import partial
from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.loading import load_cohort
from audit_core.data.split_validity import check_split
from audit_core.families import Family
from audit_core.kinds.base import Estimate
from audit_core.kinds.encoder import PSEUDO, feedable
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
from audit_core.plan.probe_selection import resolve_probes, resolve_thresholds
from audit_core.probes.base import Probe
from audit_core.work.progress import Progress

# Per (membership, for language models) probe, beyond the shared pass: the bootstrap
# intervals, the ROC, the subgroups.
PER_PROBE_SECONDS = 0.3
PSEUDO_SAMPLE_RECORDS = 8  # each makes one masked copy per inner token: a few suffice


def estimate_causal_lm(plan: AuditPlan, kind: str, progress: Progress, sample: int,
                       calibration: dict[str, Any] | None) -> Estimate:
    """Loads the model and cohorts as the run would and counts tokens and prompts. With a
    workstation calibration it scales the calibrated tokens per second by the model's size
    and runs nothing; without one (or an int8 plan with a calibration made before int8 was
    measured) it times the scoring pass on a sample of records and one decoding batch."""
    clock = time.perf_counter()
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
    if calibration and plan.model.precision == "int8" and "int8" not in calibration:
        calibration = None  # made before bench measured int8: the sample is timed below
    if calibration:
        seconds += calibrated_seconds(calibration, info.parameters, selected, all_ids,
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
                     progress=progress.silent())
        per_token = (time.perf_counter() - start) / max(1, sum(len(x) for x in picked))
        seconds += per_token * total_tokens
        seconds += PER_PROBE_SECONDS * sum(p.family == Family.MEMBERSHIP for p, _ in selected)

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


def calibrated_seconds(calibration: dict[str, Any], parameters: int,
                       selected: list[tuple[Probe, object]], all_ids: list[np.ndarray],
                       *, reference: bool, precision: str = "fp32") -> float:
    """Scoring and decoding time from the calibration, scaled by the model's size.

    A forward pass costs about 2 FLOPs per parameter per token, so tokens per second
    fall in proportion to the parameter count; below the reference size per-call
    overhead dominates, so smaller models are not credited with more than the
    reference's speed. `precision` "int8" takes the int8 rates (`calibration["int8"]`),
    plus the fp32 and int8 scoring of the sample that measures their rank agreement.
    """
    rates = calibration["int8"] if precision == "int8" else calibration
    scale = max(1.0, parameters / max(1, calibration["reference"]["parameters"]))
    seconds = 0.0
    if precision == "int8" and all_ids:  # models/precision.py: runtime_facts
        sample = sum(len(x) for x in all_ids) / len(all_ids) * min(AGREEMENT_SAMPLE, len(all_ids))
        seconds += sample * scale * (1 / calibration["scoring_tokens_per_s"] + 1 / rates["scoring_tokens_per_s"])
    if any(p.needs.token_scores for p, _ in selected):
        tokens = sum(len(x) for x in all_ids)
        seconds += tokens * scale / rates["scoring_tokens_per_s"] * (2 if reference else 1)
        seconds += PER_PROBE_SECONDS * sum(p.family == Family.MEMBERSHIP for p, _ in selected)
    rate = rates["generation"]["batch_16_tokens_per_s"] / scale
    for probe, config in selected:
        if not probe.needs.generation:
            continue
        prefix, steps = getattr(config, "prefix_tokens", 0), getattr(config, "suffix_tokens", 0)
        eligible = sum(1 for x in all_ids if len(x) >= prefix + steps) if prefix and steps else 0
        seconds += eligible * steps / rate
    return seconds


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
    cohorts = {role: load_cohort(path, role, plan.data.columns) for role, path in
               ((Role.MEMBERS, plan.data.members), (Role.NON_MEMBERS, plan.data.non_members))}
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
